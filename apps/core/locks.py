"""Session-level advisory locks: one worker at a time on a piece of work, across processes and hosts.

A session lock (not a transaction's) is held across the transactions of the work it guards, and the
server drops it by itself when the holder's connection ends, a worker killed with -9 included, so no lock
outlives its holder. SQLite (the embedded mode: one process, tasks inline) has no such locks and needs
none: there, the caller always holds it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection


@contextmanager
def session_lock(space: int, key: int) -> Iterator[bool]:
    """Whether this process holds the lock ``(space, key)`` for the block: taken without waiting (False
    when another session holds it), released as the block ends."""
    if connection.vendor != "postgresql":
        yield True
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [space, key])
        (mine,) = cursor.fetchone()
    try:
        yield mine
    finally:
        if mine:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [space, key])

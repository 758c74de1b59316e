"""Where uploaded intake files wait for their Celery task: in the "uploads" storage (apps/core/storage.py),
which every web and worker host reads, under ``intake/<run id>/``."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from pathlib import Path

from apps.core.storage import keep, safe_name, uploads

__all__ = ["MAX_UPLOAD_BYTES", "discard", "read", "shown_name", "spool"]

MAX_UPLOAD_BYTES = 200 * 1024 * 1024


def spool(run_id: int, name: str, chunks: Iterable[bytes]) -> str:
    """Keep an upload for the run's task and return its name in the storage (the uploader's name kept
    after a random prefix). With the database storage it is written in the caller's transaction: a run
    that is not committed leaves no file."""
    return keep(f"intake/{run_id}/{secrets.token_hex(4)}__{safe_name(name)}", chunks)


def shown_name(stored: str) -> str:
    """The name the uploader gave the file: its last part, without the random prefix."""
    return Path(stored).name.split("__", 1)[-1]


def read(stored: str) -> bytes:
    """The upload's bytes (a name written by :func:`spool`)."""
    with uploads().open(stored, "rb") as handle:
        return handle.read()


def discard(stored: list[str]) -> None:
    """Remove uploads whose run is over (one already removed is fine: a redelivered task calls it too)."""
    storage = uploads()
    for name in stored:
        storage.delete(name)

"""Liveness and readiness, for load balancers and orchestrators.

``/healthz`` answers while the process can answer at all: it touches nothing else, so a database restart
does not get every web process killed by its supervisor. ``/readyz`` says whether this process can do
its work now: the database, Redis (channel layer and cache) and the Celery broker each answer within a
short timeout. A load balancer sends traffic only to ready processes; each part is named, with how long
it took, and nothing about the data.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from django.conf import settings
from django.db import connection

#: A check that has not answered in this long counts as down: readiness must answer fast.
TIMEOUT_SECONDS = 2.0


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _redis() -> None:
    import redis

    client = redis.Redis.from_url(
        settings.REDIS_URL, socket_connect_timeout=TIMEOUT_SECONDS, socket_timeout=TIMEOUT_SECONDS
    )
    try:
        client.ping()
    finally:
        client.close()


def _broker() -> None:
    from ratc_ops.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=TIMEOUT_SECONDS)


#: Set when this process has been told to stop (``apps.core.serve``): not ready, so the load balancer sends
#: new requests elsewhere while the ones in hand finish.
DRAINING = threading.Event()


def _serving() -> None:
    if DRAINING.is_set():
        raise RuntimeError("stopping: finishing the requests in hand")


def checks() -> dict[str, Callable[[], None]]:
    """What this installation depends on: the embedded mode has no Redis and an in-memory broker."""
    parts: dict[str, Callable[[], None]] = {"database": _database}
    if DRAINING.is_set():
        parts["serving"] = _serving
    if settings.REDIS_URL:
        parts["redis"] = _redis
    if not settings.CELERY_TASK_ALWAYS_EAGER and not settings.CELERY_BROKER_URL.startswith("memory://"):
        parts["broker"] = _broker
    return parts


def readiness() -> tuple[bool, dict[str, dict[str, object]]]:
    """``(ready, {part: {"ok": bool, "ms": float}})``; a failure's reason stays in the log."""
    import logging

    results: dict[str, dict[str, object]] = {}
    for name, check in checks().items():
        start = time.perf_counter()
        try:
            check()
            ok = True
        except Exception:  # any failure of a dependency means "not ready", never a 500
            logging.getLogger("apps.core.health").warning(
                "Readiness: %s is not reachable", name, exc_info=True
            )
            ok = False
        results[name] = {"ok": ok, "ms": round((time.perf_counter() - start) * 1000, 1)}
    return all(r["ok"] for r in results.values()), results

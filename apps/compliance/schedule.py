"""Masking and deletion on schedule in every mode, not only where Celery beat runs.

A deployment has a broker, workers and beat: ``CELERY_BEAT_SCHEDULE`` runs ``apply_retention_task``
nightly. The embedded mode (``make demo``: no broker, tasks inline) has no beat, so the server process
runs retention itself: :func:`start_in_server` (called from the app's ``ready``) starts a daemon thread in
Daphne (or the ``runserver`` child) that calls :func:`tick` every ``RETENTION_EVERY_MINUTES``, the way the
floor simulator runs inside the server (``apps.simulator.runner``). :func:`tick` runs retention only
when the last run is older than that period, read from ``RetentionRun`` in the database, so a restart,
a second server or beat itself does not make it run more often; retention is idempotent anyway.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone

from apps.compliance.models import RetentionRun
from apps.compliance.services import apply_retention

log = logging.getLogger("apps.compliance.schedule")

#: The first run waits this long after start, so that serving comes first.
FIRST_DELAY_SECONDS = 30.0

_started = threading.Event()
_stop = threading.Event()


def period() -> timedelta:
    return timedelta(minutes=settings.RETENTION_EVERY_MINUTES)


def retention_due(now=None) -> bool:
    last = RetentionRun.objects.order_by("-started_at").values_list("started_at", flat=True).first()
    return last is None or (now or timezone.now()) - last >= period()


def tick(now=None) -> RetentionRun | None:
    """Apply retention when it is due; the run, or None when it was not due."""
    if not retention_due(now):
        return None
    run = apply_retention(now)
    log.info("Retention applied in-process: %s masked, %s deleted", run.masked, run.deleted)
    return run


def run_periodically(
    stop: threading.Event,
    *,
    every_seconds: float,
    first_delay: float = FIRST_DELAY_SECONDS,
    after_tick: Callable[[], None] = lambda: None,
) -> int:
    """Call :func:`tick` until ``stop`` is set; returns how many ticks were made."""
    ticks = 0
    if stop.wait(first_delay):
        return ticks
    while not stop.is_set():
        try:
            tick()
        except Exception:  # a failed run is retried next period; the server keeps serving
            log.exception("In-process retention failed")
        finally:
            after_tick()
        ticks += 1
        stop.wait(every_seconds)
    return ticks


def embedded() -> bool:
    """No broker, so no beat: the mode in which the server must schedule retention itself."""
    return bool(settings.CELERY_TASK_ALWAYS_EAGER) and settings.RETENTION_EVERY_MINUTES > 0


def _server_process() -> bool:
    """Daphne (``make demo``) or the serving child of ``runserver``; never a command, a worker or tests."""
    # By the command line, not by what is imported: test runs import Daphne too (channels' testing).
    program = Path(sys.argv[0]).name if sys.argv else ""
    if program == "daphne" or sys.argv[0].endswith(os.path.join("daphne", "__main__.py")):
        return True
    return "runserver" in sys.argv and os.environ.get("RUN_MAIN") == "true"


def start_in_server() -> bool:
    """Start the in-process scheduler in an embedded server process; False when it does not apply."""
    if _started.is_set():
        return True
    if not (embedded() and _server_process()):
        return False
    _started.set()
    # Each tick closes its database connection: the thread lives as long as the server.
    thread = threading.Thread(
        target=run_periodically,
        args=(_stop,),
        kwargs={"every_seconds": period().total_seconds(), "after_tick": close_old_connections},
        name="ratc-retention",
        daemon=True,
    )
    thread.start()
    log.info("Retention runs in this server process every %s minutes", settings.RETENTION_EVERY_MINUTES)
    return True


def stop_in_server() -> None:
    _stop.set()

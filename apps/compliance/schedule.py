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
import threading
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone

from apps.compliance.models import RetentionRun
from apps.compliance.services import apply_retention
from apps.core import periodic

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
    every_seconds: float | None = None,
    first_delay: float = FIRST_DELAY_SECONDS,
    after_tick: Callable[[], object] = lambda: None,
) -> int:
    """Call :func:`tick` every ``every_seconds`` (default: :func:`period`) until ``stop`` is set; returns how
    many ticks were made. The server's thread passes ``close_old_connections`` as ``after_tick``: it lives
    as long as the server, and each tick must give its database connection back."""
    every = period if every_seconds is None else (lambda: timedelta(seconds=every_seconds))
    return periodic.run_every(
        stop, lambda: tick(), every, first_delay=first_delay, what="retention", after=after_tick
    )  # fmt: skip


def embedded() -> bool:
    """No broker, so no beat: the mode in which the server must schedule retention itself."""
    return periodic.embedded() and settings.RETENTION_EVERY_MINUTES > 0


def start_in_server() -> bool:
    """Start the in-process scheduler in an embedded server process; False when it does not apply."""
    if settings.RETENTION_EVERY_MINUTES <= 0:
        return _started.is_set()
    return periodic.start_thread(
        _started, lambda: run_periodically(_stop, after_tick=close_old_connections), name="ratc-retention",
        message=f"Retention runs in this server process every {settings.RETENTION_EVERY_MINUTES} minutes",
    )  # fmt: skip


def stop_in_server() -> None:
    _stop.set()

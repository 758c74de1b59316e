"""Missed targets and idle claims on schedule in the embedded mode, as beat does where there is a broker.

A deployment's beat runs ``targeting.mark_missed_targets`` every ``BEAT_ENTRY`` period. The embedded mode
(``make demo``: no broker, tasks inline, no beat) has none, so the server process runs the same task on
the same period in a daemon thread, the way report figures (``apps.reports.schedule``) and retention
(``apps.compliance.schedule``) run there. The task is safe to run twice at once: each move is a
conditional update, so a second server only finds nothing left to do.
"""

from __future__ import annotations

import threading
from datetime import timedelta

from django.conf import settings
from django.db import close_old_connections

from apps.core import periodic

#: The first run waits this long after start, so that serving comes first.
FIRST_DELAY_SECONDS = 20.0
BEAT_ENTRY = "mark-missed-targets"

_started = threading.Event()
_stop = threading.Event()


def period() -> timedelta:
    """Beat's entry, so both modes keep one pace (5 minutes unless a deployment says otherwise)."""
    entry = (getattr(settings, "CELERY_BEAT_SCHEDULE", None) or {}).get(BEAT_ENTRY) or {}
    return timedelta(seconds=float(entry.get("schedule", 300.0)))


def tick() -> int:
    """Mark released targets missed and expire idle claims, inline; how many targets were marked."""
    from apps.targeting.tasks import mark_missed_targets

    return mark_missed_targets()


def embedded() -> bool:
    return periodic.embedded()


def run_periodically(stop: threading.Event, *, first_delay: float = FIRST_DELAY_SECONDS) -> int:
    """Call :func:`tick` every period until ``stop`` is set; returns how many ticks were made."""
    return periodic.run_every(
        stop, lambda: tick(), period, first_delay=first_delay, what="missed-target marking",
        after=lambda: close_old_connections(),
    )  # fmt: skip


def start_in_server() -> bool:
    """Start the in-process schedule in an embedded server process; False when it does not apply."""
    return periodic.start_thread(
        _started, lambda: run_periodically(_stop), name="ratc-missed-targets",
        message=f"Missed targets and idle claims are handled in this server process every {period()}",
    )  # fmt: skip


def stop_in_server() -> None:
    _stop.set()

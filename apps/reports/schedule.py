"""Report figures follow the floor within a minute, without anyone pressing "Refresh".

Targets and examinations are rewritten in the target summary after every workflow commit
(:func:`apps.reports.stats.target_changed`). Arrival and release figures come from the daily summary,
which is rebuilt for the recent days every :func:`period` (a minute): by Celery beat's
``reports-refresh-recent`` where there is a broker, and, in the embedded mode (``make demo``: no broker,
tasks inline, no beat), by this module in the server process, the way retention runs there
(:mod:`apps.compliance.schedule`). :func:`tick` refreshes only when the last refresh covering today is
older than the period, read from ``StatRefresh`` in the database, so a restart, a second server or a
simulator asking too do not make it run more often.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone

from apps.core import periodic
from apps.reports.models import StatRefresh

#: The first refresh waits this long after start, so that serving comes first.
FIRST_DELAY_SECONDS = 10.0
BEAT_ENTRY = "reports-refresh-recent"

_started = threading.Event()
_stop = threading.Event()


def period() -> timedelta:
    """How often the recent days are recounted: beat's entry, so both modes keep one pace."""
    return timedelta(seconds=float(settings.CELERY_BEAT_SCHEDULE[BEAT_ENTRY]["schedule"]))


def refresh_due(now: datetime | None = None) -> bool:
    """Whether no refresh covering today finished within the last period."""
    now = now or timezone.now()
    today = now.astimezone(UTC).date()
    return not StatRefresh.objects.filter(
        finished_at__gt=now - period(), first_day__lte=today, last_day__gte=today
    ).exists()


def tick(now: datetime | None = None) -> int | None:
    """Recount the recent days when due; the rows written, or None when it was not due."""
    from apps.reports.tasks import refresh_daily_stats_task

    if not refresh_due(now):
        return None
    return refresh_daily_stats_task()  # inline, as beat's task would run on a worker


def embedded() -> bool:
    return periodic.embedded()


def run_periodically(stop: threading.Event, *, first_delay: float = FIRST_DELAY_SECONDS) -> int:
    """Call :func:`tick` every period until ``stop`` is set; returns how many ticks were made."""
    return periodic.run_every(
        stop, lambda: tick(), period, first_delay=first_delay, what="report refresh",
        after=lambda: close_old_connections(),
    )  # fmt: skip


def start_in_server() -> bool:
    """Start the in-process refresh in an embedded server process; False when it does not apply."""
    return periodic.start_thread(
        _started, lambda: run_periodically(_stop), name="ratc-report-figures",
        message=f"Report figures are recounted in this server process every {period()}",
    )  # fmt: skip


def stop_in_server() -> None:
    _stop.set()

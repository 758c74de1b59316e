"""Recompute the figures every hour where there is a broker (beat); the page offers a recompute too.

The entry is added to ``app.conf.beat_schedule`` when this module is imported (Celery's autodiscovery
imports it in every worker and beat process).
"""

from __future__ import annotations

from celery import shared_task

from ratc_ops.celery import app

BEAT_SCHEDULE = {
    "quality-refresh": {"task": "quality.refresh", "schedule": 3600.0},
}
app.conf.beat_schedule = {**(app.conf.beat_schedule or {}), **BEAT_SCHEDULE}


@shared_task(name="quality.refresh")
def refresh_quality() -> int:
    """System work: recompute the stored weeks of every measured source."""
    from apps.quality.measure import refresh

    return refresh()

"""Recompute the figures every hour (the job ``quality-refresh`` in ``apps.core.schedule``, run by beat or
by the embedded server); the page offers a recompute too.
"""

from __future__ import annotations

from celery import shared_task


@shared_task(name="quality.refresh")
def refresh_quality() -> int:
    """System work: recompute the stored weeks of every measured source."""
    from apps.quality.measure import refresh

    return refresh()

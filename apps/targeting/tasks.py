"""Periodic work of the targeting workflow."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from apps.targeting.models import Target, TargetState

#: A target still waiting this long after its conveyance arrived was released unexamined.
MISSED_AFTER = timedelta(hours=3)


@shared_task(name="targeting.mark_missed_targets")
def mark_missed_targets() -> int:
    """Mark approved or dispatched targets whose conveyance arrived more than ``MISSED_AFTER`` ago as missed.

    Each goes through ``services.mark_missed`` (conditional update, history, events); one moved by a
    person meanwhile is simply skipped. Returns how many were marked. Schedule it every few minutes
    with Celery beat (``CELERY_BEAT_SCHEDULE``).
    """
    from apps.targeting.services import StaleChange, mark_missed

    cutoff = timezone.now() - MISSED_AFTER
    late = Target.objects.filter(
        state__in=[TargetState.APPROVED, TargetState.DISPATCHED], arrival_at__lt=cutoff
    ).only("pk", "state", "version", "port_id", "owner_agency_id")
    count = 0
    for target in late.iterator(chunk_size=500):
        try:
            mark_missed(actor=None, target=target, reason="Conveyance released before examination")
            count += 1
        except StaleChange:
            continue
    return count

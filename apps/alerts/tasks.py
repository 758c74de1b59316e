"""Celery tasks of the alert exchange: push to one partner after an export, and the periodic round
(push and poll every active partner whose back-off has passed), which beat runs every few minutes."""

from __future__ import annotations

from celery import shared_task

from apps.alerts import client
from apps.alerts.models import Partner


@shared_task(name="alerts.push_partner", acks_late=True, ignore_result=True)
def push_partner(partner_id: int) -> int:
    """Push what waits for the partner; a failure is recorded and retried by ``exchange`` when due."""
    partner = Partner.objects.filter(pk=partner_id).first()
    return client.push(partner) if partner is not None else 0


@shared_task(name="alerts.exchange", ignore_result=True)
def exchange() -> int:
    """Push to and poll every partner that is due; how many were tried."""
    due = client.due_partners()
    for partner in Partner.objects.filter(pk__in=due):
        client.exchange(partner)
    return len(due)

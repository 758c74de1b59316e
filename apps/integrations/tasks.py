"""Celery tasks of the webhooks: post one delivery, and re-queue the deliveries whose task was lost.

``deliver_webhook`` is safe to run twice (``acks_late`` redelivers a task whose worker died): it claims the
row with a conditional UPDATE before posting (``services.attempt_delivery``), so a second run finds the
delivery held, done or not yet due and posts nothing. The retry is an explicit schedule (the back-off is
stored as ``next_attempt_at`` and the task queued with that countdown), so that the sweeper can pick up a
retry whose queued message was lost.
"""

from __future__ import annotations

from celery import shared_task

from apps.integrations import services


@shared_task(name="integrations.deliver_webhook", acks_late=True, ignore_result=True)
def deliver_webhook(delivery_id: int) -> str:
    """One attempt at the delivery; queues the next one after the back-off when it failed. Returns the
    delivery's status after the attempt ("" when there was nothing to do)."""
    outcome = services.attempt_delivery(delivery_id)
    if outcome.retry_in is not None:
        deliver_webhook.apply_async((delivery_id,), countdown=outcome.retry_in)
    return outcome.status


@shared_task(name="integrations.retry_due_webhooks", ignore_result=True)
def retry_due_webhooks() -> int:
    """Queue again every pending delivery whose retry is overdue and that no worker holds (beat, every
    minute); how many were queued."""
    due = services.due_deliveries()
    for delivery_id in due:
        deliver_webhook.delay(delivery_id)
    return len(due)

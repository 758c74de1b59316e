"""Scheduled compliance work: retention runs nightly (Celery beat)."""

from celery import shared_task

from apps.compliance.services import apply_retention


@shared_task
def apply_retention_task() -> int:
    return apply_retention().pk

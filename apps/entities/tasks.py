"""Celery task of entity resolution: linking the batches intake stored, after its commits."""

from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError

__all__ = ["link_backlog_task"]


@shared_task(
    name="entities.link_backlog",
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=2,
    retry_backoff_max=60,
    max_retries=20,
)
def link_backlog_task() -> int:
    """Link the queued batches (``services.link_backlog``); safe to run any number of times at once: the
    backlog is the work, and one worker at a time links it. Returns the batches this run linked."""
    from apps.entities.services import link_backlog

    return link_backlog()

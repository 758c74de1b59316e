"""Celery tasks of the core: the hourly purge of expired idempotency keys (and the answers they hold)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="core.purge_idempotency_keys")
def purge_idempotency_keys() -> int:
    from apps.core.idempotency import purge_expired

    return purge_expired()

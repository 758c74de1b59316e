"""The registry's jobs in django-celery-beat's tables, where beat (and the embedded mode) reads them.

django-celery-beat's own scheduler rewrites every configured entry into its row each time beat starts, so
a time changed in the admin would silently come back at the next restart. Here a registered job's row is
written once, when it is missing; from then on the row is the administrator's (period, crontab, enabled).
Deleting the row in the admin brings the registry's default back at the next start.

Exactly one beat sends: with Redis, a beat sends only while it holds a lease there (renewed every few
seconds, lost :data:`LEASE_SECONDS` after its holder stops renewing). A second beat started by mistake, or
kept as a standby on another host, waits; it takes over within the lease when the first is gone.
"""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any

from django.conf import settings
from django_celery_beat.schedulers import DatabaseScheduler, ModelEntry

from apps.core.schedule import Job, jobs

log = logging.getLogger("apps.core.beat")

#: How long a beat's lease lasts without renewal: a standby takes over this long after the holder stopped.
LEASE_SECONDS = 30.0
#: How often the lease is renewed (and a standby looks for a free one).
RENEW_SECONDS = 5.0

# Extend the lease only if it is still ours: a holder that stalled past its lease must not take it back
# from the beat that has since taken over.
_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""


def sync_tables(registered: tuple[Job, ...] | None = None) -> list[str]:
    """Write the row of each registered job that has none; the names written."""
    from django_celery_beat.models import PeriodicTask

    from ratc_ops.celery import app

    registered = jobs() if registered is None else registered
    have = set(
        PeriodicTask.objects.filter(name__in=[j.name for j in registered]).values_list("name", flat=True)
    )
    written = []
    for job in registered:
        if job.name in have:
            continue
        entry = {**job.beat_entry(), "enabled": job.enabled, "description": job.description}
        ModelEntry.from_entry(job.name, app=app, **entry)
        written.append(job.name)
    return written


class RegistryScheduler(DatabaseScheduler):
    """django-celery-beat's scheduler, its rows written from the registry and then left to the admin."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Each send is written to its row at once (not every three minutes): a beat taking over the lease
        # reads there what the previous one sent, and does not send it again.
        kwargs.setdefault("sync_every_tasks", 1)
        super().__init__(*args, **kwargs)

    def setup_schedule(self) -> None:
        written = sync_tables()
        if written:
            log.info("Periodic jobs written to the database: %s", ", ".join(written))
        registered = {j.name for j in jobs()}
        stray = sorted(set(self.app.conf.beat_schedule or {}) - registered)
        if stray:  # an entry added beside the registry (tests/core/test_schedule.py forbids it)
            log.error("Beat entries outside apps.core.schedule are not run: %s", ", ".join(stray))
        self.install_default_entries(self.schedule)

    #: Set per instance; a beat without Redis (a broker of another kind) always sends.
    _owner: str = ""
    _leading: bool = False
    _checked_at: float = float("-inf")

    def _lease_key(self) -> str:
        return f"{settings.REDIS_PREFIX}:beat-lease"

    def leads(self) -> bool:
        """Whether this beat holds the lease (taking it when free, renewing it when its own)."""
        if not settings.REDIS_URL:
            return True
        now = time.monotonic()
        if now - self._checked_at < RENEW_SECONDS / 5:
            return self._leading
        self._checked_at = now
        self._owner = self._owner or uuid.uuid4().hex
        was = self._leading
        try:
            import redis

            client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
            try:
                ms = int(LEASE_SECONDS * 1000)
                key = self._lease_key()
                self._leading = bool(client.set(key, self._owner, nx=True, px=ms)) or bool(
                    client.eval(_RENEW, 1, key, self._owner, ms)
                )
            finally:
                client.close()
        except Exception:  # Redis (the broker) is away: nothing could be sent anyway
            log.warning("Beat cannot reach Redis for its lease; not sending", exc_info=True)
            self._leading = False
        if self._leading and not was:
            log.info("This beat holds the lease and sends the periodic jobs")
            # Another beat may have run jobs meanwhile: read their last runs from the database again,
            # and rebuild the heap from those rows (not from entries read before).
            self._initial_read = True
            self._heap = None
        elif was and not self._leading:
            log.warning("This beat lost its lease; another beat sends the periodic jobs")
        return self._leading

    def tick(self, *args: Any, **kwargs: Any) -> float:
        if not self.leads():
            return RENEW_SECONDS  # a standby: look again shortly
        return min(super().tick(*args, **kwargs), RENEW_SECONDS)

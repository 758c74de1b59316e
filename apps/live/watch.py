"""Per-process housekeeping for live sockets: session re-checks, lost-message audits, shared checks.

One ``Watchdog`` runs per event loop (one per Daphne process) and every ``RECHECK_SECONDS``:

- re-checks the session behind every socket in two queries for the whole process (not one per socket):
  a session that was ended, expired, or belongs to a disabled account or one whose password changed
  closes its sockets (so a logout elsewhere, a lapsed shift or a disabled account is cut off within
  a few seconds even if the ``user_logged_out`` message was lost);
- reads the current sequence number of every group its sockets listen to, in one round trip, and lets
  each socket compare: a number that stays ahead of what arrived means a message was lost (the layer
  dropped it, Redis restarted), a number that went backwards means the counters were reset; either
  way the socket tells its browser to re-fetch its board;
- renews group memberships now and then (the Redis layer forgets them after a day; a board on a wall
  stays open for weeks).

``shared_check`` lets the sockets of one process that resync together, with the same visibility
(agency, role, ports) and board, share one database query instead of each asking the same question
(per event, the ``Hub`` asks once per class of sockets itself).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
import weakref
from collections.abc import Callable, Iterable
from importlib import import_module
from typing import TYPE_CHECKING, Any

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from apps.core.events import current_sequences

if TYPE_CHECKING:
    from apps.live.consumers.base import LiveConsumer

log = logging.getLogger(__name__)

#: Seconds between re-checks of sessions and sequences (logout closes sockets within about this).
RECHECK_SECONDS: float = float(getattr(settings, "RATC_LIVE_RECHECK_SECONDS", 2.0))
#: Seconds between renewals of group memberships.
RENEW_GROUPS_SECONDS: float = 600.0
#: Seconds a shared per-event check result is reused.
SHARED_CHECK_SECONDS: float = 5.0


def session_fingerprint(session_key: str | None) -> str:
    """A short hash naming a session in control messages, so session keys never travel through Redis."""
    return hashlib.sha256((session_key or "").encode()).hexdigest()[:24]


def _hash_ok(user: Any, stored: str | None) -> bool:
    if stored is None:
        return False
    if constant_time_compare(stored, user.get_session_auth_hash()):
        return True
    fallback_hash = getattr(user, "_get_session_auth_hash", None)
    if fallback_hash is None:
        return False
    return any(
        constant_time_compare(stored, fallback_hash(secret=secret))
        for secret in getattr(settings, "SECRET_KEY_FALLBACKS", [])
    )


#: ``(session_key, user_id)`` → ``(stored session data, password hash)`` last found signed in. The same
#: stored text and the same password give the same answer, so the next check skips the signature,
#: the JSON and the HMAC (a thousand sockets re-checked every two seconds would otherwise hold the
#: database thread for tens of milliseconds, delaying every event behind it).
_verified: dict[tuple[str | None, int], tuple[str, str]] = {}


def live_sessions(pairs: Iterable[tuple[str | None, int]]) -> set[tuple[str | None, int]]:
    """The ``(session_key, user_id)`` pairs that are still signed in: session alive and unexpired, for
    that user, with the current password, on an active account that still has a membership."""
    global _verified
    pairs = set(pairs)
    user_ids = {uid for _, uid in pairs}
    users = {
        u.pk: u
        for u in get_user_model()
        .objects.filter(pk__in=user_ids, is_active=True, membership__isnull=False)
        .only("pk", "password")
    }
    keys = [key for key, _ in pairs if key]
    engine = import_module(settings.SESSION_ENGINE)
    raw: dict[str, str] = {}
    sessions: dict[str, dict[str, Any]] = {}
    # Django's table, read in bulk (apps.accounts.sessions is Django's database store, same table).
    if settings.SESSION_ENGINE in {"django.contrib.sessions.backends.db", "apps.accounts.sessions"}:
        from django.contrib.sessions.models import Session

        rows = Session.objects.filter(session_key__in=keys, expire_date__gt=timezone.now())
        raw = dict(rows.values_list("session_key", "session_data"))
    else:  # cache, cached_db, file, signed cookies: one load each (checks expiry)
        for session_key in keys:
            data = engine.SessionStore(session_key).load()
            if data:
                sessions[session_key] = data
    alive: set[tuple[str | None, int]] = set()
    verified: dict[tuple[str | None, int], tuple[str, str]] = {}
    store = engine.SessionStore()
    for key, uid in pairs:
        user = users.get(uid)
        if user is None:
            continue
        if key in raw:
            seen = (raw[key], user.password)
            if _verified.get((key, uid)) == seen:
                alive.add((key, uid))
                verified[(key, uid)] = seen
                continue
            data = store.decode(raw[key])
        else:
            seen = None
            data = sessions.get(key or "")
        if not data or str(data.get(SESSION_KEY)) != str(uid):
            continue
        if _hash_ok(user, data.get(HASH_SESSION_KEY)):
            alive.add((key, uid))
            if seen is not None:
                verified[(key, uid)] = seen
    _verified = verified
    return alive


class Watchdog:
    """The housekeeping task of one event loop; sockets register on connect and leave on disconnect."""

    _by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Watchdog] = weakref.WeakKeyDictionary()

    def __init__(self) -> None:
        self.consumers: set[LiveConsumer] = set()
        self.task: asyncio.Task | None = None
        self.renewed_at = time.monotonic()

    @classmethod
    def current(cls) -> Watchdog:
        loop = asyncio.get_running_loop()
        dog = cls._by_loop.get(loop)
        if dog is None:
            dog = cls._by_loop[loop] = cls()
        return dog

    def register(self, consumer: LiveConsumer) -> None:
        self.consumers.add(consumer)
        if self.task is None or self.task.done():
            self.task = asyncio.get_running_loop().create_task(self.run())

    def unregister(self, consumer: LiveConsumer) -> None:
        self.consumers.discard(consumer)

    async def run(self) -> None:
        while self.consumers:
            await asyncio.sleep(RECHECK_SECONDS)
            try:
                await self.tick()
            except Exception:  # a database or Redis outage must not end the watch; next tick retries
                log.exception("live watchdog tick failed")

    async def tick(self) -> None:
        consumers = [c for c in self.consumers if c.user_id is not None]
        if not consumers:
            return
        alive = await database_sync_to_async(live_sessions)({(c.session_key, c.user_id) for c in consumers})
        for consumer in consumers:
            if (consumer.session_key, consumer.user_id) not in alive:
                await consumer.end(4401)
        consumers = [c for c in consumers if c in self.consumers and not c.ended]
        groups = sorted({g for c in consumers for g in c.last_seen})
        if groups:
            seqs = await sync_to_async(current_sequences, thread_sensitive=False)(groups)
            for consumer in consumers:
                await consumer.audit_sequences(seqs)
        if time.monotonic() - self.renewed_at > RENEW_GROUPS_SECONDS:
            self.renewed_at = time.monotonic()
            for consumer in consumers:
                await consumer.renew_groups()
            from apps.live.hub import Hub

            await Hub.current().renew()


_shared: dict[tuple, tuple[float, asyncio.Future]] = {}


async def shared_check(key: tuple | None, check: Callable[[], Any]) -> Any:
    """Run the synchronous ``check`` in the database thread once per ``key`` within a few seconds.

    ``key`` must name everything the answer depends on (the event, the viewer's visibility, the
    board's filter); ``None`` runs the check unshared.
    """
    if key is None:
        return await database_sync_to_async(check)()
    loop = asyncio.get_running_loop()
    now = time.monotonic()
    entry = _shared.get(key)
    if entry is not None and entry[0] > now and entry[1].get_loop() is loop:
        return await asyncio.shield(entry[1])
    if len(_shared) > 5000:
        for stale in [k for k, (until, _) in _shared.items() if until <= now]:
            _shared.pop(stale, None)
    future: asyncio.Future = loop.create_future()
    _shared[key] = (now + SHARED_CHECK_SECONDS, future)
    try:
        result = await database_sync_to_async(check)()
    except asyncio.CancelledError:
        _shared.pop(key, None)
        future.cancel()
        raise
    except Exception as error:
        _shared.pop(key, None)
        future.set_exception(error)
        future.exception()  # retrieved: no "never retrieved" warning when nobody else waited
        raise
    future.set_result(result)
    return result


def clear_shared_checks() -> None:
    """Forget shared results (tests call this between cases)."""
    _shared.clear()

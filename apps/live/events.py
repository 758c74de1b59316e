"""Publishing live events: only from services, only after the transaction commits, from this module.

Groups are named ``<resource>-<id>`` (``user-12``, ``agency-3``, ``port-NLRTM``, ``target-7``). An event
carries a type and ids to re-fetch, never data the recipient may not see: the consumer checks access
per event before it forwards anything.

Sequence numbers. Every message sent to a group carries ``group`` and ``seq``, a per-group counter
taken when the message is sent (after commit). The counter lives in the default cache: Redis ``INCR``
when ``REDIS_URL`` is set (the same Redis as the channel layer, so every Daphne process and every
Celery worker shares one counter per group), an in-process counter otherwise (exactly as wide as the
in-memory channel layer). A consumer that sees a group's sequence jump, or go backwards (Redis was
restarted and the counters began again), tells its browser to re-fetch the whole board. The counter is
not a database row on purpose: a hot row per group would serialise every commit on the floor.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from typing import Any

from asgiref.sync import SyncToAsync, async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.core.cache import cache
from django.db import transaction

log = logging.getLogger(__name__)

#: Cache key prefix of the per-group sequence counters.
SEQ_PREFIX = "live:seq:"
#: Every event type a service may publish, with the payload keys it carries (besides group and seq).
EVENT_TYPES: dict[str, frozenset[str]] = {
    "target.created": frozenset({"target", "state", "version"}),
    "target.changed": frozenset({"target", "state", "version"}),
    "instruction.dispatched": frozenset({"target", "instruction", "state", "version"}),
    "presence.changed": frozenset({"target"}),
    "examination.corrected": frozenset({"target", "result", "version"}),
}


def group_name(resource: str, ident: Any) -> str:
    """``group_name("port", "GBFXT")`` → ``"port-GBFXT"``: the one spelling of a group's name."""
    return f"{resource}-{ident}"


def _redis_client() -> tuple[Any, Any] | None:
    """The Redis client behind the default cache and the cache itself, when the cache is Redis."""
    from django.core.cache import caches
    from django.core.cache.backends.redis import RedisCache

    backend = caches["default"]
    if not isinstance(backend, RedisCache):
        return None
    # Django keeps integers as plain Redis integers, so INCR reads and writes the value ``cache.get``
    # sees: one round trip instead of add + exists + incr. (``_cache`` is the backend's own client
    # wrapper, the same since the backend came in Django 4.0.)
    return backend._cache.get_client(write=True), backend


def next_sequence(group: str) -> int:
    """Raise and return the group's sequence number (atomic in Redis; per process without it)."""
    key = SEQ_PREFIX + group
    found = _redis_client()
    if found is not None:
        client, backend = found
        return int(client.incr(backend.make_and_validate_key(key)))
    for _ in range(3):
        cache.add(key, 0, timeout=None)
        try:
            return int(cache.incr(key))
        except ValueError:  # the key vanished between add and incr (a flush or a restart): add again
            continue
    log.warning("could not raise the live sequence of %s", group)
    return 0


def current_sequences(groups: list[str]) -> dict[str, int]:
    """The last sequence number sent to each group (0 for a group never sent to, or after a reset)."""
    found = cache.get_many([SEQ_PREFIX + g for g in groups])
    return {g: int(found.get(SEQ_PREFIX + g) or 0) for g in groups}


_sender: tuple[int, asyncio.AbstractEventLoop] | None = None
_sender_lock = threading.Lock()


def _sender_loop() -> asyncio.AbstractEventLoop:
    """One event loop per process, on a thread of its own, for sends from code that no server's event
    loop drives (Celery workers, management commands, plain threads). ``async_to_sync`` would make a
    loop, and a Redis connection, for every send: about ten times the cost, paid per event."""
    global _sender
    with _sender_lock:
        # A forked child (a Celery worker) inherits the parent's loop but not its thread: make its own.
        if _sender is None or _sender[0] != os.getpid() or _sender[1].is_closed():
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="live-sender", daemon=True).start()
            _sender = (os.getpid(), loop)
        return _sender[1]


def _group_send(layer: Any, group: str, message: dict[str, Any]) -> None:
    """``group_send`` from synchronous code.

    Under the ASGI server (a view run by ``sync_to_async``) ``async_to_sync`` sends on the server's own
    loop; elsewhere a Redis layer is sent to through the process's sender loop. The in-memory layer's
    queues belong to the loop that made them, so it keeps ``async_to_sync``. When this thread itself runs
    an event loop (a service called from async code, a test driving a browser), the send runs on a
    short-lived thread of its own.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        worker = threading.Thread(target=lambda: async_to_sync(layer.group_send)(group, message), daemon=True)
        worker.start()
        worker.join(timeout=5)
        return
    local = SyncToAsync.threadlocal
    served = (
        getattr(local, "main_event_loop", None) is not None
        and getattr(local, "main_event_loop_pid", None) == os.getpid()
    )
    if served or isinstance(layer, InMemoryChannelLayer):
        async_to_sync(layer.group_send)(group, message)
        return
    asyncio.run_coroutine_threadsafe(layer.group_send(group, message), _sender_loop()).result(timeout=5)


def send_now(group: str, event_type: str, **payload: Any) -> None:
    """Number and send one event to ``group`` at once (for what no transaction guards, like presence)."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        message = {
            "type": "live.event",
            "event": event_type,
            **payload,
            "group": group,
            "seq": next_sequence(group),
        }
        _group_send(layer, group, message)
    except Exception:  # the change is committed; screens heal by their resync when Redis is back
        log.exception("could not send %s to %s", event_type, group)


def publish_on_commit(group: str, event_type: str, **payload: Any) -> None:
    """Send ``{"type": "live.event", "event": event_type, "group", "seq", ...}`` to ``group`` after commit.

    A rolled-back change sends nothing, so no screen ever shows a state that was never stored. The
    sequence number is taken at sending time, so numbers follow the order in which changes committed.
    """
    transaction.on_commit(lambda: send_now(group, event_type, **payload))


def send_control(group: str, kind: str, **payload: Any) -> None:
    """A control message to every consumer in ``group`` (``live.close``, ``live.recheck``), at once.

    Control messages are not numbered: they never reach a browser, they make the consumer act.
    """
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        _group_send(layer, group, {"type": kind, **payload})
    except Exception:  # the watchdog's session re-check closes the sockets anyway
        log.exception("could not send %s to %s", kind, group)


def control_on_commit(group: str, kind: str, **payload: Any) -> None:
    """``send_control`` once the current transaction commits (at once outside a transaction)."""
    transaction.on_commit(lambda: send_control(group, kind, **payload))


async def asend_now(group: str, event_type: str, **payload: Any) -> None:
    """``send_now`` for async code (consumers): the counter is raised off the event loop."""
    from asgiref.sync import sync_to_async

    layer = get_channel_layer()
    if layer is None:
        return
    seq = await sync_to_async(next_sequence, thread_sensitive=False)(group)
    await layer.group_send(
        group, {"type": "live.event", "event": event_type, **payload, "group": group, "seq": seq}
    )

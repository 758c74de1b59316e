"""Publishing live events: only from services, only after the transaction commits, from this module.

It lives in core, below every app, because the services of every layer publish (intake, the risk engine,
the workflow, the ports); the sockets that forward the events (``apps.live``) sit near the top and read
the registry from here.

Groups are named ``<resource>-<id>`` (``user-12``, ``agency-3``, ``port-NLRTM``, ``target-7``), always by
``group_name``; which groups hear about a target is ``apps.targeting.audience``. An event carries a type
and ids to re-fetch, never data the recipient may not see: the consumer checks access per event before
it forwards anything. Every type is registered in ``EVENTS`` with its payload, the sockets that forward
it and what the page then does; publishing an unregistered type raises in DEBUG and in tests.

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
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from weakref import WeakKeyDictionary

from asgiref.sync import SyncToAsync, async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.core.cache import cache
from django.db import transaction

log = logging.getLogger(__name__)

#: Cache key prefix of the per-group sequence counters.
SEQ_PREFIX = "live:seq:"
#: The sockets (``apps.live.consumers``) an event type may reach, by the key the registry uses.
BOARD, PRESENCE, NOTIFICATIONS, RULES = "board", "presence", "notifications", "rules"


@dataclass(frozen=True, slots=True)
class EventType:
    """One live event type: what it carries, where it is sent, who forwards it and what the page does.

    ``sockets`` maps each consumer that forwards the event (``BOARD``: ``BoardConsumer``, ``PRESENCE``:
    ``TargetPresenceConsumer``, ``NOTIFICATIONS``: ``NotificationsConsumer``, ``RULES``:
    ``RulesConsumer``) to the kind its browser is told; the consumers read their lists from here, so a
    type no socket forwards cannot be registered without a test noticing (``tests/live/test_registry.py``).
    """

    payload: frozenset[str]
    sent_to: str
    sockets: Mapping[str, str]
    page: str


#: Every event type a service may publish. Publishing any other type (or other payload keys) raises in
#: DEBUG and in tests (``UnknownEvent``) and is logged elsewhere: a new type is registered here first.
EVENTS: dict[str, EventType] = {
    "target.created": EventType(
        payload=frozenset({"target", "state", "version"}),
        sent_to="the target's audience (apps.targeting.audience)",
        sockets={BOARD: "target.created", PRESENCE: "target.changed"},
        page="boards re-fetch their sections and flash the new card",
    ),
    "target.changed": EventType(
        payload=frozenset({"target", "state", "version"}),
        sent_to="the target's audience; a mentioned person's own group (user-<id>)",
        sockets={BOARD: "target.changed", PRESENCE: "target.changed", NOTIFICATIONS: "target.changed"},
        page="boards re-fetch their sections; the target page re-fetches its panel; the bell its list",
    ),
    "instruction.dispatched": EventType(
        payload=frozenset({"target", "instruction", "state", "version"}),
        sent_to="the target's port (port-<LOCODE>)",
        sockets={BOARD: "target.changed", NOTIFICATIONS: "instruction.dispatched"},
        page="port boards re-fetch; the bell and the tablet's list re-fetch and announce the instruction",
    ),
    "presence.changed": EventType(
        payload=frozenset({"target"}),
        sent_to="the target's audience",
        sockets={BOARD: "presence.changed", PRESENCE: "presence.changed"},
        page="boards re-fetch (the cards show who is on them); the target page re-fetches its people",
    ),
    "examination.recorded": EventType(
        payload=frozenset({"target", "result", "version"}),
        sent_to="the target's audience",
        sockets={BOARD: "target.changed", PRESENCE: "target.changed"},
        page="boards re-fetch (the card moves to results, findings count); the target page its panel",
    ),
    "examination.corrected": EventType(
        payload=frozenset({"target", "result", "version"}),
        sent_to="the target's audience; each follower's own group (user-<id>)",
        sockets={BOARD: "target.changed", PRESENCE: "target.changed", NOTIFICATIONS: "examination.corrected"},
        page="boards re-fetch (findings may change); the target page its panel; followers' bells their list",
    ),
    "rule.changed": EventType(
        payload=frozenset({"rule", "state"}),
        sent_to="the rule's owner agency (agency-<id>)",
        sockets={RULES: "rule.changed"},
        page="the rules list and the rule's page re-fetch (static/js/rules.js)",
    ),
}
#: Each type's payload keys (besides ``group`` and ``seq``): the schema publishers are checked against.
EVENT_TYPES: dict[str, frozenset[str]] = {name: spec.payload for name, spec in EVENTS.items()}


class UnknownEvent(ValueError):
    """An event type that is not in ``EVENTS``, or published with other keys than it registers."""


def forwarded_by(socket: str) -> dict[str, str]:
    """Event type → the kind a ``socket``'s browser is told, for every type that socket forwards."""
    return {name: spec.sockets[socket] for name, spec in EVENTS.items() if socket in spec.sockets}


def _strict() -> bool:
    """Raise on an unregistered event? ``LIVE_STRICT_EVENTS`` when set, else under DEBUG or pytest."""
    from django.conf import settings

    flag = getattr(settings, "LIVE_STRICT_EVENTS", None)
    if flag is not None:
        return bool(flag)
    return bool(settings.DEBUG) or "PYTEST_CURRENT_TEST" in os.environ


def check_registered(event_type: str, payload: dict[str, Any]) -> None:
    """Refuse (in DEBUG and tests) or log (elsewhere) an event that ``EVENTS`` does not describe."""
    spec = EVENTS.get(event_type)
    if spec is not None and spec.payload == set(payload):
        return
    if spec is None:
        problem = f"live event type {event_type!r} is not registered in apps.core.events.EVENTS"
    else:
        problem = f"live event {event_type!r} carries {sorted(payload)}, registered {sorted(spec.payload)}"
    if _strict():
        raise UnknownEvent(problem)
    log.error(problem)


def group_name(resource: str, ident: Any) -> str:
    """``group_name("port", "GBFXT")`` → ``"port-GBFXT"``: the one spelling of a group's name."""
    return f"{resource}-{ident}"


def redis_client() -> tuple[Any, Any] | None:
    """The Redis client behind the default cache and the cache itself, when the cache is Redis."""
    from django.core.cache import caches
    from django.core.cache.backends.redis import RedisCache

    backend = caches["default"]
    if not isinstance(backend, RedisCache):
        return None
    # Django keeps integers as plain Redis integers, so INCR reads and writes the value ``cache.get``
    # sees: one round trip instead of add + exists + incr. (``_cache`` is the backend's own client
    # wrapper, the same since the backend came in Django 4.0.) Its ``get_client`` makes a new
    # ``redis.Redis`` on every call, which redis-py fills with its table of response callbacks (a
    # throttle and a move's events made three or four a request): one per connection pool instead.
    # A client over a pool holds no connection of its own and may be shared by threads.
    wrapper: Any = backend._cache
    pool = wrapper._get_connection_pool(write=True)
    client = _CLIENTS.get(pool)
    if client is None:
        client = _CLIENTS[pool] = wrapper._client(connection_pool=pool)
    return client, backend


#: A ``redis.Redis`` per connection pool of the cache (``redis_client``); gone with its pool.
_CLIENTS: WeakKeyDictionary[Any, Any] = WeakKeyDictionary()


def next_sequence(group: str) -> int:
    """Raise and return the group's sequence number (atomic in Redis; per process without it)."""
    key = SEQ_PREFIX + group
    found = redis_client()
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
    """``group_send`` from synchronous code (``_run_on_layer_loop``)."""
    _run_on_layer_loop(layer, layer.group_send, group, message)


def _run_on_layer_loop(layer: Any, func: Any, *args: Any) -> Any:
    """Await ``func(*args)`` (sends on ``layer``) from synchronous code and return its result.

    Under the ASGI server (a view run by ``sync_to_async``) ``async_to_sync`` runs it on the server's own
    loop; elsewhere a Redis layer is sent to through the process's sender loop. The in-memory layer's
    queues belong to the loop that made them, so it keeps ``async_to_sync``. When this thread itself runs
    an event loop (a service called from async code, a test driving a browser), it runs on a
    short-lived thread of its own.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        box: list[Any] = []
        worker = threading.Thread(target=lambda: box.append(async_to_sync(func)(*args)), daemon=True)
        worker.start()
        worker.join(timeout=5)
        if not box:
            raise TimeoutError(f"{func.__qualname__} did not finish on its own thread")
        return box[0]
    local = SyncToAsync.threadlocal
    served = (
        getattr(local, "main_event_loop", None) is not None
        and getattr(local, "main_event_loop_pid", None) == os.getpid()
    )
    if served or isinstance(layer, InMemoryChannelLayer):
        return async_to_sync(func)(*args)
    return asyncio.run_coroutine_threadsafe(func(*args), _sender_loop()).result(timeout=5)


def send_now(group: str, event_type: str, **payload: Any) -> None:
    """Number and send one event to ``group`` at once (for what no transaction guards, like presence)."""
    check_registered(event_type, payload)
    _send(group, event_type, payload)


def _send(group: str, event_type: str, payload: dict[str, Any]) -> None:
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


def next_sequences(groups: list[str]) -> list[int]:
    """``next_sequence`` of each group, in order: with Redis, every ``INCR`` in one round trip."""
    found = redis_client()
    if found is None:
        return [next_sequence(group) for group in groups]
    client, backend = found
    pipe = client.pipeline(transaction=False)  # each INCR is atomic by itself; one round trip for all
    for group in groups:
        pipe.incr(backend.make_and_validate_key(SEQ_PREFIX + group))
    return [int(n) for n in pipe.execute()]


async def _group_send_all(layer: Any, messages: list[tuple[str, dict[str, Any]]]) -> list[Any]:
    return await asyncio.gather(
        *(layer.group_send(group, message) for group, message in messages), return_exceptions=True
    )


def _send_many(groups: list[str], event_type: str, payload: dict[str, Any]) -> None:
    """``_send`` to each of ``groups``: one round trip for their numbers, one hop to the loop for all sends."""
    layer = get_channel_layer()
    if layer is None or not groups:
        return
    try:
        numbers = next_sequences(groups)
    except Exception:  # the change is committed; screens heal by their resync when Redis is back
        log.exception("could not number %s for %s", event_type, groups)
        return
    messages = [
        (group, {"type": "live.event", "event": event_type, **payload, "group": group, "seq": seq})
        for group, seq in zip(groups, numbers, strict=True)
    ]
    try:
        results = _run_on_layer_loop(layer, _group_send_all, layer, messages)
    except Exception:
        log.exception("could not send %s to %s", event_type, groups)
        return
    for (group, _), result in zip(messages, results, strict=True):
        if isinstance(result, BaseException):
            log.error("could not send %s to %s", event_type, group, exc_info=result)


def publish_many_on_commit(groups: list[str], event_type: str, **payload: Any) -> None:
    """``publish_on_commit`` of one event to each of ``groups`` (a target's audience), as ONE callback.

    Same messages, numbers and rule (nothing sent unless the transaction commits; a rolled-back savepoint
    drops the callback with it), but the groups' numbers are taken in one Redis round trip and the sends
    made in one hop to the event loop, instead of a round trip and a hop per group.
    """
    check_registered(event_type, payload)
    groups = list(groups)
    transaction.on_commit(lambda: _send_many(groups, event_type, payload))


def publish_on_commit(group: str, event_type: str, **payload: Any) -> None:
    """Send ``{"type": "live.event", "event": event_type, "group", "seq", ...}`` to ``group`` after commit.

    A rolled-back change sends nothing, so no screen ever shows a state that was never stored. The
    sequence number is taken at sending time, so numbers follow the order in which changes committed.
    """
    check_registered(event_type, payload)  # here, in the service's call, not later in the commit
    transaction.on_commit(lambda: _send(group, event_type, payload))


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

    check_registered(event_type, payload)
    layer = get_channel_layer()
    if layer is None:
        return
    seq = await sync_to_async(next_sequence, thread_sensitive=False)(group)
    await layer.group_send(
        group, {"type": "live.event", "event": event_type, **payload, "group": group, "seq": seq}
    )

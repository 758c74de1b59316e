"""Websocket consumers: boards, presence on a target, personal notifications (frontline tablets), rules.

Every socket needs a live session of a member (``AuthMiddlewareStack``) and an allowed Origin
(``AllowedHostsOriginValidator``, both in ``ratc_ops/asgi.py``). Access is checked when a socket
subscribes and again for every event, before anything is forwarded. What reaches the browser is only a
kind, ids and this socket's sequence number; the browser re-fetches fragments over HTTP, where scoping
applies again.

Messages to the browser (``seq`` counts 1, 2, 3… per socket; ``hello`` is 0):

==================  ==========================================  =============================================
kind                keys                                        meaning
==================  ==========================================  =============================================
hello               seq, stream                                 subscribed: fetch the whole board now
target.created      seq, target                                 a target appeared: re-fetch
target.changed      seq, target                                 a target changed: re-fetch
target.removed      seq, target                                 you may no longer see it: drop it at once
presence.changed    seq, target                                 someone opened or left it: re-fetch presence
instruction.        seq, target, instruction                    a new examination instruction for your port
dispatched
examination.        seq, target                                 a result you follow was corrected (own group)
corrected
rule.changed        seq, rule                                   a rule you may see changed: re-fetch the rules
resync              seq, reason                                 something may be missing: re-fetch everything
==================  ==========================================  =============================================

Which event types each consumer forwards, and as which kind, is ``apps.core.events.EVENTS`` (the
registry); boards are told ``target.changed`` for an instruction dispatched or a result recorded or
corrected, since each of them redraws the target's card.

Close codes: 4401 not signed in (or signed out), 4403 not allowed, 4404 no such thing (or not visible).
The browser reconnects after any other close, and re-fetches everything on ``hello``.
"""

from __future__ import annotations

import json
import logging
import time
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.contrib.auth import get_user_model

from apps.agencies.operations import can, membership_of
from apps.core.events import (
    BOARD,
    NOTIFICATIONS,
    PRESENCE,
    RULES,
    asend_now,
    current_sequences,
    forwarded_by,
    group_name,
)
from apps.live import presence
from apps.live.boards import Board, BoardRefused, board_targets, groups_for, known_target_ids, resolve_board
from apps.live.hub import Hub
from apps.live.watch import SHARED_CHECK_SECONDS, Watchdog, session_fingerprint, shared_check
from apps.risk.models import Rule
from apps.targeting.audience import audience_of_id
from apps.targeting.models import Instruction, Target
from apps.targeting.routing import port_ids_of

log = logging.getLogger(__name__)

CLOSE_SIGNED_OUT = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_NOT_FOUND = 4404
#: Seconds a group's counter may stay ahead of what arrived before the socket resyncs.
LOST_AFTER_SECONDS = 5.0
#: Event type → the kind each consumer's browser is told (from the registry, ``apps.core.events.EVENTS``).
BOARD_KINDS = forwarded_by(BOARD)
PRESENCE_KINDS = forwarded_by(PRESENCE)
#: The notifications socket: ``instruction.dispatched`` on its ports' groups; on the person's own group
#: (``user-<id>``) a mention (``target.changed``) and a correction of a result followed.
NOTIFICATION_KINDS = forwarded_by(NOTIFICATIONS)
RULE_KINDS = forwarded_by(RULES)


class Refused(Exception):
    """Raised by ``subscribe`` to close the socket with ``code``."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


@lru_cache(maxsize=4096)
def _frame_head(kind: str, items: tuple[tuple[str, Any], ...]) -> str:
    """``{"kind": ..., <payload>`` encoded once per event and shared by every socket told the same."""
    return json.dumps({"kind": kind, **dict(items)})[:-1]


def visibility_key(membership: Any) -> tuple:
    """What ``Target.objects.visible_to`` depends on: two members with the same key see the same targets."""
    return (membership.agency_id, membership.role, tuple(sorted(port_ids_of(membership))))


class LiveConsumer(AsyncJsonWebsocketConsumer):
    """What every live socket shares: the session check, the user group, sequence numbers, resync.

    Subclasses implement ``subscribe`` (in the database thread: check access, set ``stream_groups``)
    and, per event, ``event_class`` (which sockets share the answer), ``check_event`` (the query, run
    once per class by the ``Hub``) and ``apply_event`` (what, if anything, this browser is told).
    """

    user_id: int | None = None
    session_key: str | None = None
    ended = False
    resyncing = False

    async def connect(self) -> None:
        self.stream_groups: list[str] = []
        self.last_seen: dict[str, int] = {}
        self.pending: dict[str, tuple[int, float]] = {}
        self.joined: list[str] = []
        self.seq = 0
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.refuse(CLOSE_SIGNED_OUT)
            return
        self.user = user
        self.user_id = user.pk
        self.session_key = self.scope["session"].session_key
        try:
            await database_sync_to_async(self._subscribe_checked)()
        except Refused as refused:
            await self.refuse(refused.code)
            return
        await self._join([group_name("user", self.user_id), *self.stream_groups])
        # Register first, then read where each stream stands, then let the browser fetch (Zulip's
        # register → fetch → apply): anything numbered after this point reaches the browser as an event.
        self.last_seen = await database_sync_to_async(current_sequences)(self.stream_groups)
        await self.accept()
        Watchdog.current().register(self)
        await self.send_json({"kind": "hello", "seq": 0, "stream": self.stream_name()})

    def _subscribe_checked(self) -> None:
        if membership_of(self.user) is None:
            raise Refused(CLOSE_SIGNED_OUT)
        self.membership = membership_of(self.user)
        self.visibility = visibility_key(self.membership)
        self.subscribe()

    def subscribe(self) -> None:
        """Check access and set ``stream_groups`` (runs in the database thread); raise ``Refused``."""
        raise NotImplementedError

    def stream_name(self) -> str:
        return ""

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        """The browser's keep-alive: ``{"ping": 1}`` is answered ``{"kind": "pong"}`` (not numbered)."""
        if isinstance(content, dict) and content.get("ping") and not self.ended:
            await self.send_json({"kind": "pong"})

    async def refuse(self, code: int) -> None:
        """Accept, then close with ``code``: browsers see the code and know not to retry."""
        self.ended = True
        await self.accept()
        await self.close(code=code)

    async def end(self, code: int) -> None:
        """Close this socket from the server side (signed out, no longer allowed)."""
        if self.ended:
            return
        self.ended = True
        Watchdog.current().unregister(self)
        await self.close(code=code)

    async def disconnect(self, code: int) -> None:
        self.ended = True
        Watchdog.current().unregister(self)
        for group in self.joined:
            try:
                await self._leave(group)
            except Exception:  # Redis gone: the membership expires by itself
                log.debug("leaving %s failed", group)
        self.joined = []

    def _direct(self, group: str) -> bool:
        """The person's own group is joined by the socket itself; stream groups through the hub."""
        return group == group_name("user", self.user_id)

    async def _join(self, groups: list[str]) -> None:
        for group in groups:
            if group in self.joined:
                continue
            if self._direct(group):
                await self.channel_layer.group_add(group, self.channel_name)
            else:
                await Hub.current().subscribe(group, self)
            self.joined.append(group)

    async def _leave(self, group: str) -> None:
        if self._direct(group):
            await self.channel_layer.group_discard(group, self.channel_name)
        else:
            await Hub.current().unsubscribe(group, self)

    async def renew_groups(self) -> None:
        for group in self.joined:
            if self._direct(group):
                await self.channel_layer.group_add(group, self.channel_name)

    async def emit(self, kind: str, **payload: Any) -> None:
        """Send one message to the browser with this socket's next sequence number.

        The JSON is encoded once per distinct message (``_frame_head``) and only this socket's ``seq``
        is appended: a thousand sockets told of one event cost one ``json.dumps``, not a thousand.
        """
        if self.ended:
            return
        self.seq += 1
        head = _frame_head(kind, tuple(payload.items()))
        await self.send(text_data=f'{head}, "seq": {self.seq}}}')

    async def resync(self, reason: str) -> None:
        """Tell the browser to re-fetch everything; a resync asked for while one is being prepared is
        folded into it (the browser's fetch starts after the message, so it covers both causes)."""
        if self.resyncing:
            return
        self.resyncing = True
        try:
            await self.refresh_known()
        finally:
            self.resyncing = False
        await self.emit("resync", reason=reason)

    async def refresh_known(self) -> None:
        """Reload what the board shows (after a resync the browser draws it again)."""

    # ------------------------------------------------------------------ sequence numbers

    def note_sequence(self, group: str | None, seq: int | None) -> bool:
        """Record an event's place in its group's stream; True when events before it were lost."""
        if group not in self.last_seen or not seq:
            return False
        last = self.last_seen[group]
        if seq <= last:  # late (two publishers crossed) or a duplicate: harmless, re-fetch anyway
            return False
        self.last_seen[group] = seq
        self.pending.pop(group, None)
        return seq > last + 1

    async def audit_sequences(self, current: dict[str, int]) -> None:
        """Called by the watchdog with where each group stands: resync on loss or on a counter reset.

        A group whose counter stays ahead of what arrived for ``LOST_AFTER_SECONDS`` lost a message; a
        counter below what arrived was reset (Redis restarted). A busy process delivering late is not
        a loss: the window is wide enough that only real losses resync.
        """
        reason = ""
        now_at = time.monotonic()
        for group, last in list(self.last_seen.items()):
            now = current.get(group, 0)
            if now < last:
                reason = "reset"
                self.last_seen[group] = now
                self.pending.pop(group, None)
            elif now > last:
                seen, since = self.pending.get(group, (0, now_at))
                if seen > last and now_at - since >= LOST_AFTER_SECONDS:
                    reason = reason or "lost"
                    self.last_seen[group] = now
                    self.pending.pop(group, None)
                elif seen <= last:
                    self.pending[group] = (now, now_at)
            else:
                self.pending.pop(group, None)
        if reason:
            await self.resync(reason)

    # ------------------------------------------------------------------ messages from the layer

    async def live_event(self, message: dict[str, Any]) -> None:
        """An event sent to this socket's own channel (its ``user-<id>`` group); stream groups come
        through the process's ``Hub``, which calls the same three steps once per class of sockets."""
        if self.ended:
            return
        if self.note_sequence(message.get("group"), message.get("seq")):
            await self.resync("gap")
            return
        await self.apply_event(message, await self.check_event(message))

    def event_class(self, message: dict[str, Any]) -> tuple:
        """Sockets with equal keys get the same ``check_event`` answer for ``message``: the consumer kind
        and the viewer's visibility (agency, role, ports), plus whatever narrows the subclass's view."""
        return (type(self).__name__, self.visibility)

    async def check_event(self, message: dict[str, Any]) -> Any:
        """What the database says about ``message`` for this socket's class (``None``: not for us)."""
        raise NotImplementedError

    async def apply_event(self, message: dict[str, Any], answer: Any) -> None:
        """Tell the browser what ``answer`` means for this socket (cheap: no query, one write)."""
        raise NotImplementedError

    async def live_close(self, message: dict[str, Any]) -> None:
        """Signed out (this session, or every session when ``session`` is absent) or account disabled."""
        wanted = message.get("session")
        if wanted is None or wanted == session_fingerprint(self.session_key):
            await self.end(CLOSE_SIGNED_OUT)

    async def live_recheck(self, message: dict[str, Any]) -> None:
        """The membership changed: check access again, move to the right groups, redraw everything."""
        if self.ended:
            return
        fresh = await get_user_model().objects.filter(pk=self.user_id).afirst()
        if fresh is None or not fresh.is_active:
            await self.end(CLOSE_SIGNED_OUT)
            return
        self.user = fresh
        old_groups = list(self.stream_groups)
        try:
            await database_sync_to_async(self._subscribe_checked)()
        except Refused as refused:
            await self.end(refused.code)
            return
        for group in set(old_groups) - set(self.stream_groups):
            await self._leave(group)
            self.joined.remove(group)
            self.last_seen.pop(group, None)
        added = [g for g in self.stream_groups if g not in old_groups]
        await self._join(added)
        if added:
            self.last_seen.update(await database_sync_to_async(current_sequences)(added))
        await self.resync("membership")


class BoardConsumer(LiveConsumer):
    """A live board (``ws/boards/<board>/``): floor, queue (query filters), ``port-<LOCODE>``, ``operation-<pk>``.

    Listens to its agency's group (or, for a frontline officer, his ports' groups). For each target
    event it asks ``visible_to(user)`` with the board's filter; a target it showed and may no longer show
    becomes ``target.removed``; a target it never showed and may not see is dropped without a word.
    """

    board: Board

    def subscribe(self) -> None:
        key = self.scope["url_route"]["kwargs"]["board"]
        params = dict(parse_qsl(self.scope.get("query_string", b"").decode("latin-1")))
        try:
            self.board = resolve_board(self.user, key, params)
        except BoardRefused as refused:
            raise Refused(CLOSE_NOT_FOUND if refused.status == 404 else CLOSE_FORBIDDEN) from None
        self.stream_groups = groups_for(self.membership, self.board)
        self.known: set[int] = known_target_ids(self.user, self.board)

    def stream_name(self) -> str:
        return self.board.key

    async def refresh_known(self) -> None:
        # Many sockets resync together (a Redis restart): sockets with the same visibility and board
        # share one query, within ``SHARED_CHECK_SECONDS`` of it.
        bucket = int(time.monotonic() // SHARED_CHECK_SECONDS)
        key = ("known", self.visibility, self.board.filter_key, bucket)
        self.known = set(await shared_check(key, lambda: known_target_ids(self.user, self.board)))

    def event_class(self, message: dict[str, Any]) -> tuple:
        return (type(self).__name__, self.visibility, self.board.filter_key)

    async def check_event(self, message: dict[str, Any]) -> bool | None:
        """May this class of boards show the event's target? ``None`` for events boards ignore."""
        target_id = message.get("target")
        if not isinstance(target_id, int) or message.get("event") not in BOARD_KINDS:
            return None
        user, board = self.user, self.board
        return await database_sync_to_async(
            lambda: board_targets(user, board).filter(pk=target_id).exists()
        )()

    async def apply_event(self, message: dict[str, Any], visible: bool | None) -> None:
        if visible is None:
            return
        event = message["event"]
        target_id = message["target"]
        if not visible:
            if target_id in self.known:
                self.known.discard(target_id)
                await self.emit("target.removed", target=target_id)
            return
        self.known.add(target_id)
        await self.emit(BOARD_KINDS[event], target=target_id)


class TargetPresenceConsumer(LiveConsumer):
    """Presence on one target's page (``ws/targets/<pk>/presence/``): who is looking, who is working.

    The browser sends ``{"mode": "viewing"|"editing"}`` when it opens or starts editing and
    ``{"ping": 1}`` every ``HEARTBEAT_SECONDS``; it is told ``presence.changed`` and ``target.changed``
    (re-fetch), or ``target.removed`` followed by a close when the target is no longer visible.
    """

    def subscribe(self) -> None:
        self.target_id = int(self.scope["url_route"]["kwargs"]["pk"])
        if not Target.objects.visible_to(self.user).filter(pk=self.target_id).exists():
            raise Refused(CLOSE_NOT_FOUND)
        self.stream_groups = [group_name("target", self.target_id)]
        self.mode = "viewing"

    def stream_name(self) -> str:
        return group_name("target", self.target_id)

    async def connect(self) -> None:
        await super().connect()
        if not self.ended:
            await self._announce(
                await database_sync_to_async(presence.join)(
                    self.target_id, self.channel_name, self.user_id, self.mode
                )
            )

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if self.ended or not isinstance(content, dict):
            return
        if content.get("mode") in presence.MODES:
            self.mode = content["mode"]
        changed = await database_sync_to_async(presence.join)(
            self.target_id, self.channel_name, self.user_id, self.mode
        )
        await self._announce(changed)
        await super().receive_json(content)

    async def disconnect(self, code: int) -> None:
        if self.user_id is not None and hasattr(self, "target_id") and not getattr(self, "refused", False):
            try:
                changed = await database_sync_to_async(presence.leave)(self.target_id, self.channel_name)
                await self._announce(changed)
            except Exception:
                log.debug("presence leave failed", exc_info=True)
        await super().disconnect(code)

    async def refuse(self, code: int) -> None:
        self.refused = True
        await super().refuse(code)

    async def _announce(self, changed: bool) -> None:
        if not changed:
            return
        for group in await database_sync_to_async(audience_of_id)(self.target_id):
            await asend_now(group, "presence.changed", target=self.target_id)

    def event_class(self, message: dict[str, Any]) -> tuple:
        return (type(self).__name__, self.visibility, self.target_id)

    async def check_event(self, message: dict[str, Any]) -> bool | None:
        if message.get("target") != self.target_id or message.get("event") not in PRESENCE_KINDS:
            return None
        user, target_id = self.user, self.target_id
        return await database_sync_to_async(
            lambda: Target.objects.visible_to(user).filter(pk=target_id).exists()
        )()

    async def apply_event(self, message: dict[str, Any], visible: bool | None) -> None:
        if visible is None:
            return
        if not visible:
            await self.emit("target.removed", target=self.target_id)
            await self.end(CLOSE_NOT_FOUND)
            return
        await self.emit(PRESENCE_KINDS[message["event"]], target=self.target_id)


class NotificationsConsumer(LiveConsumer):
    """Personal notifications (``ws/notifications/``): mentions, corrections, new instructions for one's ports.

    The person's own group carries mentions (``target.changed``) and corrections of results the person
    follows (``examination.corrected``); port staff and frontline officers also listen to their ports'
    groups for ``instruction.dispatched``. Every event is checked again before it is forwarded: the
    instruction (or target) must be visible to this person now, so a share withdrawn, a move to another
    agency or another port (``live_recheck`` also moves the socket to its new port groups) stops them.
    The browser then re-fetches its list over HTTP (``live:notifications``), where scoping applies again.
    """

    def subscribe(self) -> None:
        from apps.agencies.models import Port

        port_ids = port_ids_of(self.membership)
        locodes = Port.objects.filter(pk__in=port_ids).order_by("locode").values_list("locode", flat=True)
        self.stream_groups = [
            group_name("user", self.user_id),
            *(group_name("port", code) for code in locodes),
        ]

    def stream_name(self) -> str:
        return group_name("user", self.user_id)

    def event_class(self, message: dict[str, Any]) -> tuple:
        if message.get("group") == group_name("user", self.user_id):
            return (type(self).__name__, "user", self.user_id)
        return (type(self).__name__, self.visibility)

    async def check_event(self, message: dict[str, Any]) -> bool | None:
        """Instructions on a port group: may this class see it? Target news: only on one's own group."""
        event = message.get("event")
        target_id = message.get("target")
        if not isinstance(target_id, int):
            return None
        user = self.user
        if event == "instruction.dispatched" and isinstance(message.get("instruction"), int):
            instruction_id = message["instruction"]
            return await database_sync_to_async(
                lambda: Instruction.objects.visible_to(user).filter(pk=instruction_id).exists()
            )()
        if (
            message.get("group") == group_name("user", self.user_id)
            and event in NOTIFICATION_KINDS
            and event != "instruction.dispatched"
        ):
            return await database_sync_to_async(
                lambda: Target.objects.visible_to(user).filter(pk=target_id).exists()
            )()
        return None

    async def apply_event(self, message: dict[str, Any], visible: bool | None) -> None:
        if not visible:
            return
        kind = NOTIFICATION_KINDS[message["event"]]
        if message.get("event") == "instruction.dispatched":
            await self.emit(kind, target=message["target"], instruction=message["instruction"])
        else:
            await self.emit(kind, target=message["target"])


class RulesConsumer(LiveConsumer):
    """The rules pages (``ws/rules/``): a rule of the viewer's agency was written, published or retired.

    Listens to the member's agency group, where ``rule.changed`` is sent (``apps.risk.services``); every
    other event on that group is ignored without a query. Each rule is checked with
    ``Rule.objects.visible_to`` before the browser is told its id; the page then re-fetches its rows.
    """

    def subscribe(self) -> None:
        if not can(self.user, "rule.view"):
            raise Refused(CLOSE_FORBIDDEN)
        self.stream_groups = [group_name("agency", self.membership.agency_id)]

    def stream_name(self) -> str:
        return "rules"

    async def check_event(self, message: dict[str, Any]) -> bool | None:
        rule_id = message.get("rule")
        if message.get("event") not in RULE_KINDS or not isinstance(rule_id, int):
            return None
        user = self.user
        return await database_sync_to_async(
            lambda: Rule.objects.visible_to(user).filter(pk=rule_id).exists()
        )()

    async def apply_event(self, message: dict[str, Any], visible: bool | None) -> None:
        if visible:
            await self.emit(RULE_KINDS[message["event"]], rule=message["rule"])


__all__ = ["BoardConsumer", "NotificationsConsumer", "RulesConsumer", "TargetPresenceConsumer"]

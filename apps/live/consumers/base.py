"""What every live socket shares: the session check, its groups, sending numbered messages, and the
three steps by which an event reaches the browser (``event_class``, ``check_event``, ``apply_event``)."""

from __future__ import annotations

import json
import logging
from functools import lru_cache
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.contrib.auth import get_user_model

from apps.agencies.operations import membership_of
from apps.core.events import current_sequences, group_name
from apps.live.consumers.sequences import SequencedSocket
from apps.live.frames import SCOPE_KEY as DIRECT_WRITER
from apps.live.hub import Hub
from apps.live.watch import Watchdog, session_fingerprint
from apps.targeting.routing import port_ids_of

log = logging.getLogger(__name__)

CLOSE_SIGNED_OUT = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_NOT_FOUND = 4404


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


class LiveConsumer(SequencedSocket, AsyncJsonWebsocketConsumer):
    """What every live socket shares: the session check, the user group, sequence numbers, resync.

    Subclasses implement ``subscribe`` (in the database thread: check access, set ``stream_groups``)
    and, per event, ``event_class`` (which sockets share the answer), ``check_event`` (the query, run
    once per class by the ``Hub``) and ``apply_event`` (what, if anything, this browser is told).
    """

    user_id: int | None = None
    session_key: str | None = None
    ended = False

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
        is appended: a thousand sockets told of one event cost one ``json.dumps``, not a thousand. Under
        Daphne the frame goes straight to the socket (``apps.live.frames``): one system call, not
        Channels, Autobahn and two turns of the event loop per screen.
        """
        if self.ended:
            return
        self.seq += 1
        head = _frame_head(kind, tuple(payload.items()))
        text = f'{head}, "seq": {self.seq}}}'
        writer = self.scope.get(DIRECT_WRITER)
        if writer is None or not writer.write(text):
            await self.send(text_data=text)

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
        fresh = await get_user_model().objects.filter(pk=self.user.pk).afirst()
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

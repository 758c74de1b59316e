"""One listener per process for the stream groups (``agency-3``, ``port-GBFXT``, ``target-7``).

A thousand boards of one agency in one Daphne process would otherwise be a thousand members of
``agency-3``: every event copied a thousand times through Redis (and dropped once a process's queue
passes the layer's capacity), a thousand ``group_add`` calls, a thousand wake-ups in the layer. Instead,
each process's ``Hub`` joins a group once, on behalf of its local sockets, receives one copy of each
event and hands it to them in memory. Groups stay per board, agency, port and user; the hub only
changes how many copies travel, not who is told.

Per event the hub sorts its sockets into classes that must get the same answer (``event_class``: the
consumer kind, the viewer's agency, role and ports, the board's filter), asks the database once per class
(``check_event``), then hands each socket the answer (``apply_event``), which sends a pre-encoded text
frame with the socket's own sequence number. No task and no query per socket: with a thousand boards in
a process, an event costs a few queries and a thousand small writes. Sockets that see a gap in the
group's sequence are resynced together afterwards, off the fan-out's path.

Per-person groups (``user-<id>``: logout, membership changes, mentions) are still joined by each
socket directly. If the layer fails (Redis restarts), the hub rejoins its groups and tells every local
socket to resync.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from typing import TYPE_CHECKING, Any

from channels.layers import get_channel_layer

if TYPE_CHECKING:
    from apps.live.consumers.base import LiveConsumer

log = logging.getLogger(__name__)


class Hub:
    """The process's listener for stream groups; sockets ``subscribe``/``unsubscribe`` by group."""

    _by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Hub] = weakref.WeakKeyDictionary()

    def __init__(self) -> None:
        self.layer = get_channel_layer()
        self.channel: str | None = None
        self.members: dict[str, set[LiveConsumer]] = {}
        self.lock = asyncio.Lock()
        self.task: asyncio.Task | None = None
        self.pending: set[asyncio.Task] = set()

    @classmethod
    def current(cls) -> Hub:
        loop = asyncio.get_running_loop()
        hub = cls._by_loop.get(loop)
        if hub is None or hub.layer is not get_channel_layer():
            hub = cls._by_loop[loop] = cls()
        return hub

    async def subscribe(self, group: str, consumer: LiveConsumer) -> None:
        async with self.lock:
            if self.channel is None:
                self.channel = await self.layer.new_channel()  # same prefix as sockets: one receive loop
            if group not in self.members:
                await self.layer.group_add(group, self.channel)
                self.members[group] = set()
            self.members[group].add(consumer)
            # Started (again) only once it has a member: ``run`` ends when the last socket leaves.
            if self.task is None or self.task.done():
                self.task = asyncio.get_running_loop().create_task(self.run())

    async def unsubscribe(self, group: str, consumer: LiveConsumer) -> None:
        async with self.lock:
            local = self.members.get(group)
            if local is None:
                return
            local.discard(consumer)
            if not local:
                del self.members[group]
                try:
                    await self.layer.group_discard(group, self.channel)
                except Exception:  # Redis gone: the membership expires by itself
                    log.debug("hub group_discard failed for %s", group)

    async def renew(self) -> None:
        """Join every group again (the Redis layer forgets members after ``group_expiry``)."""
        for group in list(self.members):
            await self.layer.group_add(group, self.channel)

    async def run(self) -> None:
        while self.members:
            try:
                message = await self.layer.receive(self.channel)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("live hub lost the channel layer; rejoining", exc_info=True)
                await asyncio.sleep(1.0)
                await self._recover()
                continue
            local = self.members.get(message.get("group", ""))
            if message.get("type") != "live.event" or not local:
                continue
            try:
                await self.fan_out(message, list(local))
            except Exception:  # one bad event must not end the listener of every socket here
                log.exception("live hub could not fan out %s", message.get("event"))

    async def fan_out(self, message: dict[str, Any], local: list[LiveConsumer]) -> None:
        """Deliver one event to this process's sockets: one check per class, then one write per socket.

        One message at a time, in order, so every socket keeps the group's order.
        """
        group, seq = message.get("group"), message.get("seq")
        classes: dict[tuple, list[LiveConsumer]] = {}
        behind: list[LiveConsumer] = []
        for consumer in local:
            if consumer.ended:
                continue
            if consumer.note_sequence(group, seq):
                behind.append(consumer)
            else:
                classes.setdefault(consumer.event_class(message), []).append(consumer)
        if behind:
            self.resync_later(behind, "gap")
        for members in classes.values():
            try:
                answer = await members[0].check_event(message)
            except Exception:  # the database failed: these sockets may have missed something
                log.warning("live event check failed", exc_info=True)
                self.resync_later(members, "error")
                continue
            for consumer in members:
                try:
                    await consumer.apply_event(message, answer)
                except Exception:
                    log.warning("live event delivery failed", exc_info=True)

    def resync_later(self, consumers: list[LiveConsumer], reason: str) -> None:
        """Resync ``consumers`` in a task of its own (their re-reads are shared per class)."""
        task = asyncio.get_running_loop().create_task(resync_all(consumers, reason))
        self.pending.add(task)
        task.add_done_callback(self.pending.discard)

    async def _recover(self) -> None:
        try:
            await self.renew()
        except Exception:
            log.warning("live hub could not rejoin its groups yet", exc_info=True)
            return
        consumers = list({c for local in self.members.values() for c in local})
        await resync_all(consumers, "reconnect")


async def resync_all(consumers: list[LiveConsumer], reason: str) -> None:
    """Tell many sockets to resync: one re-read per class of sockets (``refresh_known`` shares it), then
    one small write each. Browsers spread their re-fetches themselves (``board.js``), so a thousand
    screens told at once do not ask for a thousand boards in the same instant."""
    for consumer in consumers:
        try:
            await consumer.resync(reason)
        except Exception:
            log.warning("live resync failed", exc_info=True)

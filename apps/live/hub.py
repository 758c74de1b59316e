"""One listener per process for the stream groups (``agency-3``, ``port-GBFXT``, ``target-7``).

A thousand boards of one agency in one Daphne process would otherwise be a thousand members of
``agency-3``: every event copied a thousand times through Redis (and dropped once a process's queue
passes the layer's capacity), a thousand ``group_add`` calls, a thousand wake-ups in the layer. Instead,
each process's ``Hub`` joins a group once, on behalf of its local sockets, receives one copy of each
event and hands it to them in memory. Groups stay per board, agency, port and user; the hub only
changes how many copies travel, not who is told: every socket still checks each event for itself
(sharing the answer with sockets of the same visibility, see ``watch.shared_check``).

Per-person groups (``user-<id>``: logout, membership changes, mentions) are still joined by each
socket directly. If the layer fails (Redis restarts), the hub rejoins its groups and tells every local
socket to resync.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from typing import TYPE_CHECKING

from channels.layers import get_channel_layer

if TYPE_CHECKING:
    from apps.live.consumers import LiveConsumer

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
            local = list(self.members.get(message.get("group", ""), ()))
            if message.get("type") != "live.event" or not local:
                continue
            # Concurrently across sockets, but one message at a time, so each socket keeps the order.
            results = await asyncio.gather(*(c.live_event(message) for c in local), return_exceptions=True)
            for result in results:
                if isinstance(result, Exception):
                    log.warning("live event handler failed: %r", result)

    async def _recover(self) -> None:
        try:
            await self.renew()
        except Exception:
            log.warning("live hub could not rejoin its groups yet", exc_info=True)
            return
        consumers = {c for local in self.members.values() for c in local}
        await asyncio.gather(*(c.resync("reconnect") for c in consumers), return_exceptions=True)

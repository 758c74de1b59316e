"""Presence on one target's page: who is looking at it, who is working on it."""

from __future__ import annotations

import logging
from typing import Any

from channels.db import database_sync_to_async

from apps.core.events import PRESENCE, asend_now, forwarded_by, group_name
from apps.live import presence
from apps.live.consumers.base import CLOSE_NOT_FOUND, LiveConsumer, Refused
from apps.targeting.audience import audience_of_id
from apps.targeting.models import Target

log = logging.getLogger(__name__)

PRESENCE_KINDS = forwarded_by(PRESENCE)


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

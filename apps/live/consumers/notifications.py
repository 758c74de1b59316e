"""Personal notifications (the frontline tablets): mentions, corrections, new instructions for one's ports."""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async

from apps.core.events import NOTIFICATIONS, forwarded_by, group_name
from apps.live.consumers.base import LiveConsumer
from apps.targeting.models import Instruction, Target
from apps.targeting.routing import port_ids_of

#: The notifications socket: ``instruction.dispatched`` on its ports' groups; on the person's own group
#: (``user-<id>``) a mention (``target.changed``) and a correction of a result followed.
NOTIFICATION_KINDS = forwarded_by(NOTIFICATIONS)


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

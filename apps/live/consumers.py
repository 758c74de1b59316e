"""Websocket consumers. Connections need a signed-in member; the Origin is checked in asgi.py."""

from __future__ import annotations

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from apps.agencies.operations import membership_of
from apps.live.events import group_name


class NotificationsConsumer(AsyncJsonWebsocketConsumer):
    """Personal notifications for one signed-in person (mentions, instructions for their ports)."""

    async def connect(self) -> None:
        user = self.scope.get("user")
        membership = await database_sync_to_async(membership_of)(user)
        if membership is None:
            await self.close(code=4401)
            return
        self.groups_joined = [group_name("user", user.pk)]
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()
        await self.send_json({"event": "hello", "agency": membership.agency.code, "role": membership.role})

    async def disconnect(self, code: int) -> None:
        for group in getattr(self, "groups_joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def live_event(self, message: dict) -> None:
        await self.send_json({k: v for k, v in message.items() if k != "type"})

"""The rules pages' socket: a rule of the viewer's agency was written, published or retired."""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async

from apps.agencies.operations import can
from apps.core.events import RULES, forwarded_by, group_name
from apps.live.consumers.base import CLOSE_FORBIDDEN, LiveConsumer, Refused
from apps.risk.models import Rule

RULE_KINDS = forwarded_by(RULES)


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

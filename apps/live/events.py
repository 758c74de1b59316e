"""Publishing live events: only from services, only after the transaction commits, from this module.

Groups are named ``<resource>-<id>`` (``user-12``, ``agency-3``, ``port-NLRTM``, ``board-floor``). An event
carries a type and ids to re-fetch, never data the recipient may not see: the consumer checks access
per event before it forwards anything.
"""

from __future__ import annotations

from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction


def group_name(resource: str, ident: Any) -> str:
    return f"{resource}-{ident}"


def publish_on_commit(group: str, event_type: str, **payload: Any) -> None:
    """Send ``{"type": "live.event", "event": event_type, ...}`` to ``group`` once the transaction commits.

    A rolled-back change sends nothing, so no screen ever shows a state that was never stored.
    """
    message = {"type": "live.event", "event": event_type, **payload}

    def send() -> None:
        layer = get_channel_layer()
        if layer is not None:
            async_to_sync(layer.group_send)(group, message)

    transaction.on_commit(send)

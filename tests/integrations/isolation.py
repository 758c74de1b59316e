"""Webhook routes: each system account reaches its own endpoints and deliveries, another agency's none."""

from __future__ import annotations

from typing import Any

from apps.agencies.roles import Role
from apps.integrations.models import WebhookDelivery, WebhookEndpoint
from tests.factories import member


def _accounts(world: Any) -> tuple[Any, Any]:
    count = WebhookEndpoint.objects.count()
    owner = member(f"pcs.customs{count}", world.customs, Role.SYSTEM, ports=[world.port_a])
    other = member(f"pcs.bio{count}", world.bio, Role.SYSTEM, ports=[world.port_a])
    return owner, other


def _endpoint(world: Any) -> tuple[dict[str, Any], Any, Any]:
    owner, other = _accounts(world)
    endpoint = WebhookEndpoint.objects.create(
        owner=owner, url="https://pcs.example/hooks", events=["instruction.issued"], secret="whsec_AAAA"
    )
    return {"pk": endpoint.pk}, owner, other


def _delivery(world: Any) -> tuple[dict[str, Any], Any, Any]:
    kwargs, owner, other = _endpoint(world)
    delivery = WebhookDelivery.objects.create(
        endpoint_id=kwargs["pk"],
        event_id="msg_x",
        event_type="instruction.issued",
        body="{}",
        status="failed",
    )
    return {"pk": delivery.pk}, owner, other


ACCOUNT_ROUTES = {
    "webhook-detail": _endpoint,
    "webhook-rotate-secret": _endpoint,
    "webhook-delivery-detail": _delivery,
    "webhook-delivery-redeliver": _delivery,
}

"""``{% partner_sightings target %}``: on the target page, the partners' examination outcomes of a target
we sent them, and for a supervisor a way to send it to a partner it is shared with."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse

register = template.Library()


@register.inclusion_tag("alerts/_target_sightings.html", takes_context=True)
def partner_sightings(context: Any, target: Any) -> dict[str, Any]:
    from apps.alerts.models import Partner
    from apps.alerts.services import alert_can
    from apps.alerts.views import target_sightings

    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None:
        return {"sightings": [], "send_to": []}
    send_to: list[Partner] = []
    if alert_can(user, "alert.export"):
        shared = target.shares.values_list("agency_id", flat=True)
        send_to = list(Partner.objects.visible_to(user).filter(active=True, agency_id__in=shared))
    url = f"{reverse('alerts:outbound')}?target={target.reference}"
    return {"sightings": target_sightings(user, target), "send_to": send_to, "send_url": url}

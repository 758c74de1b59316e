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
    from apps.targeting.queries import has_panel

    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None:
        return {"sightings": [], "send_to": []}
    send_to: list[Partner] = []
    # A target read with its panels' flags (``panels_of``) that has no share or no sighting at all asks
    # nothing of either: the card would have been empty anyway.
    if has_panel(target, "shares") and alert_can(user, "alert.export"):
        shared = target.shares.values_list("agency_id", flat=True)
        send_to = list(Partner.objects.visible_to(user).filter(active=True, agency_id__in=shared))
    sightings = target_sightings(user, target) if has_panel(target, "partner_sightings") else []
    url = f"{reverse('alerts:outbound')}?target={target.reference}"
    return {"sightings": sightings, "send_to": send_to, "send_url": url}


@register.inclusion_tag("alerts/_send_entry.html", takes_context=True)
def send_entry_to_partner(context: Any, entry: Any) -> dict[str, Any]:
    """On a watchlist entry's page, for a supervisor of the list's owner agency: the partners the list is
    shared with (the entry is visible to their system account), to send the entry to as a lookout."""
    from apps.agencies.operations import membership_of
    from apps.alerts.models import Partner
    from apps.alerts.services import ENTRY_SUBJECT_KIND, alert_can
    from apps.watchlists.models import WatchlistEntry

    request = context.get("request")
    user = getattr(request, "user", None)
    empty: dict[str, Any] = {"send_to": [], "unshared": [], "entry": entry}
    membership = membership_of(user) if user is not None else None
    if user is None or membership is None or not alert_can(user, "alert.export"):
        return empty
    if entry.watchlist.owner_agency_id != membership.agency_id or not entry.is_live():
        return empty
    if entry.kind not in ENTRY_SUBJECT_KIND:
        return empty
    partners = list(Partner.objects.visible_to(user).filter(active=True).select_related("account"))
    send_to = [
        p for p in partners if WatchlistEntry.objects.visible_to(p.account).filter(pk=entry.pk).exists()
    ]
    unshared = [p.name for p in partners if p not in send_to] if not send_to else []
    return {"send_to": send_to, "unshared": unshared, "entry": entry}

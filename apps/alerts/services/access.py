"""Who may do what with alerts, the objects read for an actor, and the disclosure log every export writes."""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone

from apps.agencies.operations import membership_of
from apps.alerts.models import IncomingAlert, Partner
from apps.compliance.chain import append
from apps.compliance.models import AccessLogEntry, Purpose

log = logging.getLogger("apps.alerts")


#: Who may do what with alerts. Kept here (the roles are the product's; the operations are this app's).
ALERT_OPERATIONS: dict[str, frozenset[str]] = {
    "alert.view": frozenset({"analyst", "supervisor", "liaison", "risk_manager", "auditor"}),
    "alert.act": frozenset({"analyst", "supervisor"}),
    # Watchlists are kept by risk managers and liaison officers (``watchlist.manage``).
    "alert.watchlist": frozenset({"risk_manager", "liaison"}),
    "alert.consent": frozenset({"supervisor"}),
    "alert.export": frozenset({"supervisor"}),
}


def alert_can(actor: User, operation: str) -> bool:
    membership = membership_of(actor)
    return membership is not None and membership.role in ALERT_OPERATIONS[operation]


def check_alert(actor: User, operation: str) -> Any:
    """The actor's membership if its role may do ``operation``; 404 without one, 403 for another role."""
    membership = membership_of(actor)
    if membership is None:
        raise Http404("Not found.")
    if membership.role not in ALERT_OPERATIONS[operation]:
        raise PermissionDenied(f"Your role may not perform {operation}.")
    return membership


def get_partner_for(actor: User, pk: Any) -> Partner:
    check_alert(actor, "alert.view")
    found = Partner.objects.visible_to(actor).filter(pk=pk).first()
    if found is None:
        raise Http404("Not found.")
    return found


def get_incoming_for(actor: User, pk: Any) -> IncomingAlert:
    check_alert(actor, "alert.view")
    found = IncomingAlert.objects.visible_to(actor).select_related("partner").filter(pk=pk).first()
    if found is None:
        raise Http404("Not found.")
    return found


def log_disclosure(
    *, user: Any, summary: str, partner: Partner, object_type: str, object_id: Any,
    purpose: str = Purpose.PARTNER_REQUEST, purpose_text: str = "", data_owner_agency_id: int | None = None,
) -> AccessLogEntry:  # fmt: skip
    """One disclosure to a partner in the access log (the chain of ``apps.compliance``)."""
    membership = membership_of(user)
    return append(
        AccessLogEntry,
        at=timezone.now(),
        user=user,
        agency_id=membership.agency_id,
        action=AccessLogEntry.Action.DISCLOSE,
        purpose=purpose,
        purpose_text=purpose_text[:300],
        object_type=object_type,
        object_id=str(object_id),
        summary=summary[:300],
        disclosed_to=f"{partner.agency.code}: {partner.name}"[:100],
        data_owner_agency_id=data_owner_agency_id,
    )

"""The analyst's actions on an incoming alert: a target, a subject, a watchlist entry, consent, dismissal."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from apps.alerts.models import IncomingAlert
from apps.alerts.services.access import check_alert


def _refuse_action(alert: IncomingAlert) -> None:
    if not alert.may_act:
        raise PermissionDenied(
            f"{alert.partner.name} marked this alert TLP:{alert.tlp.upper()}, for information only: no action "
            "towards the subject without a new agreement. Attach it to a subject instead."
        )
    if alert.consent_required and not alert.consent_note:
        raise PermissionDenied(
            f"{alert.partner.name} asks for its consent before any action: a supervisor records it first."
        )
    if alert.status not in (IncomingAlert.Status.NEW, IncomingAlert.Status.ATTACHED):
        raise PermissionDenied(f"{alert.reference} is already {alert.get_status_display().lower()}.")


def _handled(alert: IncomingAlert, actor: User, status: str, **links: Any) -> IncomingAlert:
    updated = IncomingAlert.objects.filter(pk=alert.pk, modified=alert.modified, status=alert.status).update(
        status=status, handled_by=actor, handled_at=timezone.now(), **links
    )
    if updated != 1:
        raise PermissionDenied(f"{alert.reference} was changed meanwhile: reload it.")
    alert.refresh_from_db()
    return alert


def _subject_for(actor: User, subject_id: Any) -> Any:
    from apps.intake.models import Subject

    subject = (
        Subject.objects.visible_to(actor).filter(pk=subject_id).first() if str(subject_id).isdigit() else None
    )
    if subject is None:
        raise ValidationError({"subject": f"No subject {subject_id} that your agency may see."})
    return subject


def candidate_subjects(actor: User, alert: IncomingAlert, limit: int = 10) -> list[Any]:
    """Current subjects the actor may see that carry an identifier the alert names (container, vessel,
    trader, flight), newest first: what the analyst picks from to turn the alert into a target."""
    from django.db.models import Q

    from apps.intake.models import Subject

    props = alert.properties
    q = Q(pk__in=[])
    for container in props.get("containers") or []:
        q |= Q(facts__containers__icontains=str(container)) | Q(facts__container_number=str(container))
    if props.get("vessel_imo"):
        q |= Q(facts__vessel_imo=str(props["vessel_imo"])) | Q(facts__imo=str(props["vessel_imo"]))
    if props.get("trader_id"):
        q |= Q(facts__importer_id=str(props["trader_id"])) | Q(facts__trader_id=str(props["trader_id"]))
    if props.get("flight"):
        q |= Q(facts__flight=str(props["flight"]))
    rows = Subject.objects.visible_to(actor).filter(q, status=Subject.Status.CURRENT).select_related("port")
    return list(rows.order_by("-received_at")[:limit])


def turn_into_target(
    *, actor: User, alert: IncomingAlert, subject_id: Any, priority: int | None = None, reason: str = ""
) -> Any:
    """Nominate the subject the alert is about, through the targeting service, as an analyst would."""
    from apps.targeting.services import nominate

    check_alert(actor, "alert.act")
    _refuse_action(alert)
    subject = _subject_for(actor, subject_id)
    text = f"Alert {alert.reference} from {alert.partner.name}: {alert.description or alert.name}"
    with transaction.atomic():
        target, _created = nominate(
            actor=actor, subject=subject, risk_area=alert.risk_area,
            reasons=[{"kind": "person", "text": text[:500]}],
            priority=priority if priority is not None else int(alert.properties.get("priority") or 50),
            reason=reason or f"From partner alert {alert.reference}",
        )  # fmt: skip
        _handled(
            alert, actor, IncomingAlert.Status.TARGETED, target=target, subject=subject, note=reason.strip()
        )
    return target


def attach_to_subject(*, actor: User, alert: IncomingAlert, subject_id: Any) -> IncomingAlert:
    """Keep the alert with a subject (information: allowed whatever the handling)."""
    check_alert(actor, "alert.act")
    if alert.status != IncomingAlert.Status.NEW:
        raise PermissionDenied(f"{alert.reference} is already {alert.get_status_display().lower()}.")
    subject = _subject_for(actor, subject_id)
    return _handled(alert, actor, IncomingAlert.Status.ATTACHED, subject=subject)


def add_to_watchlist(*, actor: User, alert: IncomingAlert, watchlist_id: Any) -> Any:
    """Add what the alert identifies (a traveller, a trader, a vessel, a container) to a watchlist, through
    the watchlists service (which checks that the actor's agency keeps that list)."""
    from apps.watchlists.services import create_entry, get_watchlist_for

    check_alert(actor, "alert.watchlist")
    _refuse_action(alert)
    watchlist = get_watchlist_for(actor, watchlist_id, operation="watchlist.manage")
    props = alert.properties
    data: dict[str, Any] = {
        "id": f"{alert.partner.agency.code}-{alert.reference}",
        "remarks": alert.description,
    }
    if props.get("lookout"):
        # A partner's watchlist entry: the whole lookout, as our watchlists API reads an entry.
        lookout = props["lookout"]
        data.update({k: v for k, v in lookout.items() if k not in ("expires_on", "handling")})
        data["remarks"] = f"{alert.description} ({lookout.get('handling', '')})".strip()
        if lookout.get("expires_on"):
            data["expires_on"] = lookout["expires_on"]
    elif props.get("traveller"):
        person = props["traveller"]
        data.update(kind="person", name=person.get("name", ""), nationalities=[person["nationality"]]
                    if person.get("nationality") else [])  # fmt: skip
        if person.get("date_of_birth"):
            data["date_of_birth"] = person["date_of_birth"]
        if person.get("document_number"):
            data["documents"] = [{"type": "passport", "number": person["document_number"]}]
    elif props.get("vessel_imo"):
        data.update(kind="vessel", name=props.get("vessel_name") or f"IMO {props['vessel_imo']}",
                    imo=[props["vessel_imo"]])  # fmt: skip
    elif props.get("trader_id"):
        data.update(kind="organisation", name=props["trader_id"])
    elif props.get("containers"):
        data.update(kind="container", name=props["containers"][0])
    else:
        raise ValidationError({"watchlist": "This alert names nobody and nothing a watchlist can hold."})
    with transaction.atomic():
        entry = create_entry(actor=actor, watchlist=watchlist, data=data)
        _handled(alert, actor, IncomingAlert.Status.WATCHLISTED, watchlist_entry=entry)
    return entry


def record_consent(*, actor: User, alert: IncomingAlert, note: str) -> IncomingAlert:
    """A supervisor records the partner's consent to act (who agreed, when, by what channel)."""
    check_alert(actor, "alert.consent")
    if not alert.consent_required:
        raise ValidationError({"note": "This alert needs no consent."})
    if len(note.strip()) < 10:
        raise ValidationError({"note": "Say who at the partner agreed, when and how."})
    IncomingAlert.objects.filter(pk=alert.pk).update(
        consent_note=f"{note.strip()} (recorded by {actor.username})"
    )
    alert.refresh_from_db()
    return alert


def dismiss(*, actor: User, alert: IncomingAlert, reason: str) -> IncomingAlert:
    check_alert(actor, "alert.act")
    if not reason.strip():
        raise ValidationError({"reason": "Say why the alert needs no work."})
    if alert.status != IncomingAlert.Status.NEW:
        raise PermissionDenied(f"{alert.reference} is already {alert.get_status_display().lower()}.")
    return _handled(alert, actor, IncomingAlert.Status.DISMISSED, note=reason.strip())

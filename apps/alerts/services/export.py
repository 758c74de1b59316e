"""Export of a target to a partner, as a STIX alert with the markings of its share."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone

from apps.alerts import stix
from apps.alerts.models import OutboundObject, Partner
from apps.alerts.services.access import check_alert, log, log_disclosure
from apps.compliance.masking import PERSONAL_FACTS
from apps.compliance.models import Purpose

#: Subject facts that go into the extension's named properties (the rest of the briefing stays home).
FACT_PROPERTIES = {
    "procedure": "customs_procedure",
    "customs_procedure": "customs_procedure",
    "vessel_imo": "vessel_imo",
    "imo": "vessel_imo",
    "vessel_name": "vessel_name",
    "trader_id": "trader_id",
    "importer_id": "trader_id",
    "hs_code": "hs_code",
    "goods_description": "goods_description",
    "description": "goods_description",
    "origin_country": "origin_country",
    "flight": "flight",
}


def alert_properties(target: Any, partner: Partner) -> tuple[dict[str, Any], bool, str]:
    """What of ``target`` the partner may receive: (extension properties, personal data included, why).

    Read through ``disclose`` as the partner's system account reads a briefing, so that the product's one
    rule decides; a traveller's identity is added only when that rule gives the account personal data.
    """
    from apps.targeting.disclosure import disclose

    seen = disclose(partner.account, target, briefing=True)
    subject = seen.subject
    facts = dict(subject.facts)
    props: dict[str, Any] = {
        "subject_kind": target.subject.kind,
        "risk_area": target.risk_area,
        "requested_action": "examine",
        "port_locode": subject.port,
        "arrival_at": stix._ts(subject.arrival_at) if subject.arrival_at else None,
        "priority": target.display_priority,
        "reference": target.reference,
        "reasons": [r["text"] for r in seen.reasons if r.get("text")],
    }
    for fact, prop in FACT_PROPERTIES.items():
        if facts.get(fact) not in (None, "") and prop not in props:
            props[prop] = str(facts[fact])
    # Container numbers are briefing facts; the trader and vessel ids above are not, so they only leave
    # when the legal basis reaches the partner (``subject.facts`` is then the whole record).
    containers = facts.get("containers") or (
        [facts["container_number"]] if facts.get("container_number") else []
    )
    if isinstance(containers, str):
        containers = [c.strip() for c in containers.replace(";", ",").split(",") if c.strip()]
    props["containers"] = [str(c) for c in containers]
    personal = not subject.masked
    why = "the source's legal basis reaches the partner" if personal else "personal data withheld"
    if personal:
        full = dict(target.subject.facts or {})
        for fact, prop in FACT_PROPERTIES.items():
            if full.get(fact) not in (None, "") and not props.get(prop):
                props[prop] = str(full[fact])
        if target.subject.kind == "traveller":
            props["traveller"] = {
                "name": target.subject.title,
                **{
                    k: str(full[k])
                    for k in ("date_of_birth", "document_number", "nationality")
                    if full.get(k)
                },
            }
    else:
        props = {k: v for k, v in props.items() if k not in PERSONAL_FACTS}
    return props, personal, why


def export_target(
    *, actor: User, target: Any, partner: Partner, reason: str, purpose: str = Purpose.PARTNER_REQUEST
) -> OutboundObject:
    """A supervisor sends ``target`` to ``partner`` as an alert (a new version when sent before).

    Refused unless the target is shared with the partner's agency: the sharing list and its handling code
    decide what may leave, as for any agency. Written to the access log; pushed after the commit.
    """
    from apps.targeting.models import Target, TargetShare

    membership = check_alert(actor, "alert.export")
    # Read afresh: what leaves is decided on the stored record, not on a copy the caller holds.
    target = Target.objects.visible_to(actor).select_related("subject__source").filter(pk=target.pk).first()
    if target is None:
        raise Http404("Not found.")
    if partner.owner_agency_id != membership.agency_id or not partner.active:
        raise Http404("Not found.")
    if not reason.strip():
        raise ValidationError({"reason": "Say why this alert goes to the partner (it is logged)."})
    share = TargetShare.objects.filter(target=target, agency_id=partner.agency_id).first()
    if share is None:
        raise PermissionDenied(
            f"{target.reference} is not shared with {partner.agency.code}: share it first; its handling "
            "code decides what the partner may do."
        )
    props, _personal, why = alert_properties(target, partner)
    sender = stix.identity_for()
    with transaction.atomic():
        previous = _last_sent(partner, OutboundObject.Kind.ALERT, target=target)
        now = timezone.now()
        grouping = stix.alert_grouping(
            stix_id=previous.stix_id if previous else None,
            sender=sender,
            name=f"{target.get_risk_area_display()} alert: {target.subject.get_kind_display().lower()}",
            description=" ".join(props.get("reasons", [])) or "See the customs extension.",
            properties=props,
            markings=stix.handling_markings(share.code),
            created=_created_of(previous) or now,
            modified=now,
        )
        row = OutboundObject.objects.create(
            partner=partner, kind=OutboundObject.Kind.ALERT, stix_id=grouping.id,
            modified=grouping.modified.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), bundle=stix.bundle_of([grouping], sender),
            target=target, summary=f"{target.reference} · {target.get_risk_area_display()}", sent_by=actor,
            reason=reason.strip(),
        )  # fmt: skip
        log_disclosure(
            user=actor, partner=partner, object_type="target", object_id=target.pk, purpose=purpose,
            purpose_text=reason.strip(), data_owner_agency_id=target.subject.owner_agency_id,
            summary=f"Alert {target.reference} sent as {grouping.id} ({share.get_code_display().lower()}); "
            f"fields: {', '.join(sorted(props))}; {why}.",
        )  # fmt: skip
        transaction.on_commit(lambda: _queue_push(partner.pk))
    log.info("alert %s for %s queued to partner %s", grouping.id, target.reference, partner.pk)
    return row


def _last_sent(partner: Partner, kind: str, **item: Any) -> OutboundObject | None:
    """The newest object of ``kind`` already sent to ``partner`` about ``item`` (a target or a watchlist
    entry), locked: a new version keeps its STIX id, and two senders at once make one series."""
    return (
        OutboundObject.objects.select_for_update()
        .filter(partner=partner, kind=kind, **item)
        .order_by("-added_at", "-pk")
        .first()
    )


def _created_of(previous: OutboundObject | None) -> datetime | None:
    if previous is None:
        return None
    for obj in previous.bundle.get("objects", []):
        if obj.get("id") == previous.stix_id:
            return datetime.fromisoformat(obj["created"].replace("Z", "+00:00"))
    return None


def _queue_push(partner_id: int) -> None:
    from apps.alerts.tasks import push_partner

    try:
        push_partner.delay(partner_id)
    except Exception:  # a broker down must not undo the export: beat pushes what is left
        log.exception("could not queue the push to partner %s", partner_id)

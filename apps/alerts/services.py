"""Alert exchange services: export to a partner, import from one, the analyst's actions on an incoming
alert, and the sighting that goes back when an examination follows a partner's alert.

What may leave is decided by the product's own rules, never here a second time:

- the target must be shared with the partner's agency (``TargetShare``): its handling code becomes the
  markings (``stix.handling_markings``);
- the content is what ``apps.targeting.disclosure.disclose`` gives the partner's system account as a
  briefing: facts that help find the goods, reasons in plain words; the subject's fields only where
  ``may_see_personal`` says the source's legal basis reaches the partner's agency and the record is not
  depersonalised (masked data never leaves);
- every disclosure is written to the hash-chained access log (what, to whom, by whom, why).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone

from apps.agencies.operations import membership_of
from apps.alerts import stix
from apps.alerts.models import IncomingAlert, OutboundObject, Partner, PartnerSighting
from apps.compliance.chain import append
from apps.compliance.masking import PERSONAL_FACTS
from apps.compliance.models import AccessLogEntry, Purpose

log = logging.getLogger("apps.alerts")

__all__ = [
    "ALERT_OPERATIONS",
    "ImportResult",
    "add_to_watchlist",
    "alert_can",
    "attach_to_subject",
    "candidate_subjects",
    "check_alert",
    "dismiss",
    "export_entry",
    "export_target",
    "get_incoming_for",
    "get_partner_for",
    "import_bundle",
    "record_consent",
    "send_sighting",
    "turn_into_target",
]

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


# --- export ---------------------------------------------------------------------------------------------

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
        previous = (
            OutboundObject.objects.select_for_update()
            .filter(partner=partner, target=target, kind=OutboundObject.Kind.ALERT)
            .order_by("-added_at", "-pk")
            .first()
        )
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


# --- export of an intelligence item: a watchlist entry (a lookout) ----------------------------------------

#: How a watchlist entry's handling reads abroad: (the target handling code whose markings apply, the
#: requested action). "Notify" and "discreet" ask for no action towards the person (information only);
#: "examine" lets the partner act; "hold" and "deny" act only with our consent (the owner must be called).
ENTRY_HANDLING: dict[str, tuple[str, str]] = {
    "notify": ("see", "notify"),
    "discreet": ("see", "notify"),
    "examine": ("act", "examine"),
    "hold": ("consent", "examine"),
    "deny": ("consent", "examine"),
}
#: The subject a lookout is about, in the extension's vocabulary.
ENTRY_SUBJECT_KIND = {
    "person": "traveller", "phone": "traveller", "email": "traveller", "organisation": "trader",
    "vessel": "conveyance", "aircraft": "conveyance", "vehicle": "conveyance", "container": "consignment",
}  # fmt: skip
#: Entry kinds that are a person (or a person's phone or e-mail): everything in them is personal data.
PERSONAL_ENTRY_KINDS = frozenset({"person", "phone", "email"})


def _birth_date(d: dict[str, Any]) -> str:
    """A stored date of birth as the watchlists API reads it back (``1960``, ``1960-01-12``, ranges)."""
    if d.get("year_to"):
        text = f"{d['year']} to {d['year_to']}"
    else:
        text = "-".join(f"{part:02d}" if i else str(part) for i, part in
                        enumerate(p for p in (d.get("year"), d.get("month"), d.get("day")) if p))  # fmt: skip
    return f"circa {text}" if d.get("approximate") else text


def lookout_properties(entry: Any, partner: Partner) -> tuple[dict[str, Any], str]:
    """What of a watchlist entry the partner receives: (extension properties, what was left out and why).

    Called once the list is known to be shared with the partner's agency (the grant is the owner's record
    that this agency may see the list, its people included: the legal basis of a list's disclosure, as a
    data source's grant is for its records). Never: the list's own remarks (an analyst's free text), the
    payment-card hashes (keyed to this installation: masked data), the entry's hits and what came of them.
    """
    ids = entry.identifiers or {}
    lookout: dict[str, Any] = {
        "kind": entry.kind,
        "name": entry.name,
        "aliases": [
            {k: v for k, v in a.items() if k in ("name", "quality", "alias_type") and v}
            for a in entry.aliases
        ],
        "dates_of_birth": [_birth_date(d) for d in entry.dates_of_birth if d.get("year")],
        "places_of_birth": list(entry.places_of_birth),
        "nationalities": list(entry.nationalities),
        "documents": [
            {
                "type": d.get("doc_type") or "document",
                "number": d["number"],
                **({"country": d["country"]} if d.get("country") else {}),
            }
            for d in entry.documents
            if d.get("number") and not str(d.get("doc_type", "")).upper().startswith("IMO")
        ],
        "addresses": [
            {"text": a["text"], **({"country": a["country"]} if a.get("country") else {})}
            for a in entry.addresses
            if a.get("text")
        ],
        "imo": list(ids.get("imo") or []),
        "containers": list(ids.get("container") or []),
        "phones": list(ids.get("phone") or []),
        "emails": list(ids.get("email") or []),
        "programmes": list(entry.programmes),
        "gender": entry.gender,
        "listed_on": entry.listed_on.isoformat() if entry.listed_on else None,
        "expires_on": entry.expires_on.isoformat() if entry.expires_on else None,
        "handling": entry.get_handling_display(),
    }
    lookout = {k: v for k, v in lookout.items() if v not in (None, "", [], {})}
    _code, action = ENTRY_HANDLING[entry.handling]
    props: dict[str, Any] = {
        "subject_kind": ENTRY_SUBJECT_KIND[entry.kind],
        "risk_area": entry.watchlist.risk_area,
        "requested_action": action,
        "reference": f"{entry.watchlist.name}: {entry.external_id}"[:200],
        "lookout": lookout,
    }
    # The same identifiers in the alert's own properties, which a partner matches its subjects on.
    if lookout.get("containers"):
        props["containers"] = lookout["containers"]
    if lookout.get("imo"):
        props["vessel_imo"] = lookout["imo"][0]
        if entry.kind == "vessel":
            props["vessel_name"] = entry.name
    if entry.kind == "person":
        person: dict[str, Any] = {"name": entry.name}
        if lookout.get("dates_of_birth") and entry.dates_of_birth[0].get("day"):
            person["date_of_birth"] = lookout["dates_of_birth"][0]
        if lookout.get("documents"):
            person["document_number"] = lookout["documents"][0]["number"]
        if entry.nationalities:
            person["nationality"] = entry.nationalities[0]
        props["traveller"] = person
    left_out = ["remarks"] + (["payment-card hashes"] if ids.get("payment_card") else [])
    return props, f"left out: {', '.join(left_out)}"


def export_entry(
    *, actor: User, entry: Any, partner: Partner, reason: str, purpose: str = Purpose.PARTNER_REQUEST
) -> OutboundObject:
    """A supervisor sends a watchlist entry to ``partner`` as an intelligence item (a new version when
    sent before), by the same rules as a target:

    - only an entry of a list our agency owns (another agency's list is not ours to pass on), live
      (active, not expired);
    - only when the list is shared with the partner's agency (the list's sharing, on its page): the entry
      must be visible to the partner's system account, as any agency's sight of a list is decided;
    - the entry's handling code becomes the markings (``ENTRY_HANDLING``); the list's remarks and card
      hashes never leave (``lookout_properties``); a payment-card entry is refused outright;
    - written to the access log (what, to whom, by whom, why); pushed after the commit.
    """
    from apps.watchlists.models import WatchlistEntry

    membership = check_alert(actor, "alert.export")
    entry = WatchlistEntry.objects.visible_to(actor).select_related("watchlist").filter(pk=entry.pk).first()
    if entry is None:
        raise Http404("Not found.")
    if partner.owner_agency_id != membership.agency_id or not partner.active:
        raise Http404("Not found.")
    if entry.watchlist.owner_agency_id != membership.agency_id:
        raise PermissionDenied(
            "This list belongs to another agency: only its owner may send its entries abroad."
        )
    if not reason.strip():
        raise ValidationError({"reason": "Say why this lookout goes to the partner (it is logged)."})
    if not entry.is_live():
        raise ValidationError({"entry": "This entry is inactive or expired: it is no longer in force."})
    if entry.kind not in ENTRY_SUBJECT_KIND:
        raise PermissionDenied(
            f"A {entry.get_kind_display().lower()} entry holds a hash keyed to this installation: "
            "it means nothing abroad and is never sent."
        )
    if not WatchlistEntry.objects.visible_to(partner.account).filter(pk=entry.pk).exists():
        raise PermissionDenied(
            f"The list {entry.watchlist.name} is not shared with {partner.agency.code}: share it first "
            "(the sharing is the owner's decision that this administration may see the list)."
        )
    from apps.targeting.models import RiskArea

    if entry.watchlist.risk_area not in RiskArea.values:
        raise ValidationError({"risk_area": f"The list's risk area {entry.watchlist.risk_area!r} is not one "
                               "a partner reads: set one of the risk areas on the list."})  # fmt: skip
    props, left_out = lookout_properties(entry, partner)
    code, _action = ENTRY_HANDLING[entry.handling]
    sender = stix.identity_for()
    kind_label = entry.get_kind_display().lower()
    with transaction.atomic():
        previous = (
            OutboundObject.objects.select_for_update()
            .filter(partner=partner, watchlist_entry=entry, kind=OutboundObject.Kind.LOOKOUT)
            .order_by("-added_at", "-pk")
            .first()
        )
        now = timezone.now()
        grouping = stix.alert_grouping(
            stix_id=previous.stix_id if previous else None,
            sender=sender,
            name=f"Lookout: {kind_label}",
            description=f"A {kind_label} on our list {entry.watchlist.name}. If found: "
            f"{entry.get_handling_display().lower()}.",
            properties=props,
            markings=stix.handling_markings(code),
            created=_created_of(previous) or now,
            modified=now,
        )
        row = OutboundObject.objects.create(
            partner=partner, kind=OutboundObject.Kind.LOOKOUT, stix_id=grouping.id,
            modified=grouping.modified.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), bundle=stix.bundle_of([grouping], sender),
            watchlist_entry=entry, sent_by=actor, reason=reason.strip(),
            summary=f"Lookout {entry.external_id} ({kind_label}) from {entry.watchlist.name}"[:300],
        )  # fmt: skip
        personal = (
            " (personal data: the list is shared with the partner)"
            if entry.kind in PERSONAL_ENTRY_KINDS
            else ""
        )
        log_disclosure(
            user=actor, partner=partner, object_type="watchlist_entry", object_id=entry.pk, purpose=purpose,
            purpose_text=reason.strip(), data_owner_agency_id=entry.watchlist.owner_agency_id,
            summary=f"Lookout {entry.external_id} of {entry.watchlist.name} sent as {grouping.id} "
            f"({entry.handling}); fields: {', '.join(sorted(props['lookout']))}{personal}; {left_out}.",
        )  # fmt: skip
        transaction.on_commit(lambda: _queue_push(partner.pk))
    log.info("lookout %s for entry %s queued to partner %s", grouping.id, entry.pk, partner.pk)
    return row


# --- import ---------------------------------------------------------------------------------------------


@dataclass
class ImportResult:
    created: list[str]
    updated: list[str]
    unchanged: list[str]
    sightings: list[str]
    skipped: list[str]

    @property
    def stored(self) -> list[str]:
        return self.created + self.updated + self.sightings


def import_bundle(*, partner: Partner, data: Any) -> ImportResult:
    """Store a partner's bundle (or TAXII envelope) as incoming alerts and sightings, all or nothing.

    Idempotent on STIX id + modified: the same version again changes nothing, a newer one updates the
    alert, an older one is ignored. Our own objects (created by this installation, read back from a
    shared collection) are skipped. ``stix.BundleRefused`` names the object and property at fault.
    """
    parsed = stix.parse_bundle(data)
    ours = stix.identity_for().id
    result = ImportResult([], [], [], [], [])
    with transaction.atomic():
        for alert in parsed.alerts:
            if alert.created_by == ours:
                result.skipped.append(alert.stix_id)
                continue
            _store_alert(partner, alert, result)
        for seen in parsed.sightings:
            if seen.created_by == ours:
                result.skipped.append(seen.stix_id)
                continue
            _store_sighting(partner, seen, result)
    return result


def _store_alert(partner: Partner, alert: stix.ParsedAlert, result: ImportResult) -> None:
    props = alert.properties
    fields = {
        "modified": alert.modified, "name": alert.name[:300] or "Alert", "description": alert.description,
        "subject_kind": props["subject_kind"], "risk_area": props["risk_area"],
        "requested_action": props.get("requested_action", "examine"), "properties": props,
        "tlp": alert.handling.tlp, "may_act": alert.handling.may_act, "consent_required": alert.handling.consent,
        "raw": alert.raw,
    }  # fmt: skip
    existing = (
        IncomingAlert.objects.select_for_update().filter(partner=partner, stix_id=alert.stix_id).first()
    )
    if existing is None:
        IncomingAlert.objects.create(partner=partner, stix_id=alert.stix_id, **fields)
        result.created.append(alert.stix_id)
    elif alert.modified > existing.modified:
        for key, value in fields.items():
            setattr(existing, key, value)
        existing.versions += 1
        existing.save()
        result.updated.append(alert.stix_id)
    else:
        result.unchanged.append(alert.stix_id)


def _store_sighting(partner: Partner, seen: stix.ParsedSighting, result: ImportResult) -> None:
    sent = (
        OutboundObject.objects.filter(
            partner=partner, stix_id=seen.sighting_of, kind=OutboundObject.Kind.ALERT
        )
        .order_by("-added_at")
        .first()
    )
    if sent is None:
        raise stix.BundleRefused(seen.stix_id, "sighting_of_ref", f"{seen.sighting_of} is not an alert this centre "
                                 f"sent to {partner.name}")  # fmt: skip
    if PartnerSighting.objects.filter(partner=partner, stix_id=seen.stix_id).exists():
        result.unchanged.append(seen.stix_id)
        return
    PartnerSighting.objects.create(
        partner=partner, outbound=sent, target_id=sent.target_id, stix_id=seen.stix_id, modified=(seen.raw.get(
            "modified") and datetime.fromisoformat(seen.raw["modified"].replace("Z", "+00:00"))) or timezone.now(),
        outcome=str(seen.properties.get("outcome", ""))[:20], finding=bool(seen.properties.get("finding")),
        description=seen.description, properties=seen.properties,
    )  # fmt: skip
    result.sightings.append(seen.stix_id)


# --- the analyst's actions ------------------------------------------------------------------------------


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


# --- the loop closes: a sighting back to the partner --------------------------------------------------


def on_instruction_event(sender: Any = None, *, instruction_id: int, event: str, **kwargs: Any) -> None:
    """Listener of ``apps.targeting.events.instruction_event`` (after commit): a result recorded on a
    target that came from a partner's alert goes back to that partner as a sighting."""
    from apps.targeting.models import Instruction, TargetState

    if event != "instruction.updated":
        return
    target_id = Instruction.objects.filter(pk=instruction_id).values_list("target_id", flat=True).first()
    if target_id is None:
        return
    alert = IncomingAlert.objects.select_related("partner").filter(target_id=target_id).first()
    if alert is None:
        return
    from apps.targeting.models import Target

    if Target.objects.filter(pk=target_id, state=TargetState.RESULT_RECORDED).exists():
        send_sighting(alert=alert)


def send_sighting(*, alert: IncomingAlert) -> OutboundObject | None:
    """The examination's outcome as a sighting of the partner's alert, once per alert.

    Only the outcome, method and kinds of goods go (as the partner's account may read the result card),
    never the officer's notes or names; and only when the alert allowed action (an information-only
    alert leads to no examination, and so to nothing to report).
    """
    from apps.targeting.disclosure import disclose

    partner = alert.partner
    if not alert.may_act or alert.target_id is None or not partner.active:
        return None
    if OutboundObject.objects.filter(incoming=alert, kind=OutboundObject.Kind.SIGHTING).exists():
        return None
    target = alert.target
    assert target is not None  # target_id was checked above
    results = disclose(partner.account, target, briefing=True).results()
    if not results:
        return None
    result = results[-1]
    sender = stix.identity_for()
    seen = stix.sighting(
        of_ref=alert.stix_id,
        sender=sender,
        description=f"Examined: {result.method_label}; {result.outcome_label}.",
        properties={
            "outcome": result.outcome,
            "finding": result.finding,
            "method": result.method,
            "goods": [
                {"kind": g.kind, "description": g.description, "quantity": g.quantity, "unit": g.unit}
                for g in result.goods
            ],
            "reference": target.reference,
        },
        markings=[stix.TLP["amber+strict"]],
        seen_at=result.ended_at,
    )
    user = alert.handled_by
    with transaction.atomic():
        row = OutboundObject.objects.create(
            partner=partner, kind=OutboundObject.Kind.SIGHTING, stix_id=seen.id,
            modified=seen.modified.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), bundle=stix.bundle_of([seen], sender),
            target=target, incoming=alert, summary=f"Outcome of {target.reference}: {result.outcome_label}",
            sent_by=user, reason=f"Examination following alert {alert.reference}",
        )  # fmt: skip
        if user is not None:
            log_disclosure(
                user=user, partner=partner, object_type="target", object_id=target.pk,
                purpose=Purpose.PARTNER_REQUEST, purpose_text=f"Outcome of partner alert {alert.reference}",
                data_owner_agency_id=target.subject.owner_agency_id,
                summary=f"Sighting {seen.id} of {alert.stix_id}: {result.outcome_label}, {result.method_label}; "
                "no notes, no names.",
            )  # fmt: skip
        transaction.on_commit(lambda: _queue_push(partner.pk))
    return row

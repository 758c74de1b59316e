"""Export of an intelligence item: a watchlist entry (a lookout) to a partner."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone

from apps.alerts import stix
from apps.alerts.models import OutboundObject, Partner
from apps.alerts.services.access import check_alert, log, log_disclosure
from apps.alerts.services.export import _created_of, _last_sent, _queue_push
from apps.compliance.models import Purpose

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


def _exportable_entry(*, actor: User, entry: Any, partner: Partner, reason: str) -> Any:
    """The entry as the actor sees it, once every rule for sending it to ``partner`` holds; raises
    Http404, PermissionDenied or ValidationError naming the rule broken."""
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
    return entry


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
    entry = _exportable_entry(actor=actor, entry=entry, partner=partner, reason=reason)
    props, left_out = lookout_properties(entry, partner)
    code, _action = ENTRY_HANDLING[entry.handling]
    sender = stix.identity_for()
    kind_label = entry.get_kind_display().lower()
    with transaction.atomic():
        previous = _last_sent(partner, OutboundObject.Kind.LOOKOUT, watchlist_entry=entry)
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

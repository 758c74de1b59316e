"""Import of a partner's STIX bundle: its alerts and sightings, stored once each."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.alerts import stix
from apps.alerts.models import IncomingAlert, OutboundObject, Partner, PartnerSighting


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

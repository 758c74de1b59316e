"""The alert format: STIX 2.1 bundles, the customs extension, and the handling markings.

An alert is a ``grouping`` (context ``suspicious-activity``) created by the sending administration's
``identity``; what STIX does not name (subject kind, risk area, customs procedure, containers, vessel
IMO, trader id, requested action, a traveller's identity where the law allows) travels in the customs
property extension (:data:`EXTENSION_ID`). An examination's outcome goes back as a ``sighting`` of that
grouping, with the outcome in the same extension. Handling codes travel as TLP 2.0 markings plus two
statement markings of ours (:data:`NO_ACTION`, :data:`CONSENT`). ``docs/alerts.md`` documents all of it
with an example bundle.

This module only builds and reads bundles; what may leave and who receives it is decided by
``apps.alerts.services``.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import stix2
from django.conf import settings

__all__ = [
    "CONSENT",
    "EXTENSION_ID",
    "NO_ACTION",
    "TLP",
    "BundleRefused",
    "Handling",
    "ParsedAlert",
    "ParsedBundle",
    "ParsedSighting",
    "alert_grouping",
    "bundle_of",
    "handling_markings",
    "identity_for",
    "parse_bundle",
    "sighting",
]

#: The customs property extension: one fixed id, the same in every installation (docs/alerts.md).
EXTENSION_ID = "extension-definition--5b0a9c36-6f0e-4b44-9a49-2d2d7c0c1a7e"
#: The product's publisher identity, which the extension definition is created by.
PUBLISHER_ID = "identity--2f3a1c8e-58a6-4c54-9a4e-8d3c6f0b7a21"
#: A namespace for the identity of each installation (uuid5 of its configured name).
_IDENTITY_NS = uuid.UUID("0f4a8c65-3e6c-4d49-9b8f-6a3d2b1c0e77")
#: Fixed creation time of the published objects, so that every installation writes them identically.
PUBLISHED = "2026-01-01T00:00:00.000Z"

#: TLP 2.0 marking definitions (FIRST TLP 2.0 as published for STIX 2.1 by OASIS, predefined ids).
TLP_EXTENSION_ID = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
TLP: dict[str, str] = {
    "clear": "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    "green": "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    "amber": "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    "amber+strict": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    "red": "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}
TLP_BY_ID = {v: k for k, v in TLP.items()}
#: TLP 1.0 as STIX 2.1 predefines it (older tools still write it): read, never written. WHITE is CLEAR.
TLP_1_BY_ID = {
    "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": "clear",
    "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": "green",
    "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": "amber",
    "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": "red",
}

#: Our two handling statements: information only, and the sender's consent before any action.
NO_ACTION = "marking-definition--7c1d9e52-0b5e-4b8a-9d1f-3e6a2c4b8f90"
CONSENT = "marking-definition--a3e4f5b6-1c2d-4e8f-9a0b-5c6d7e8f9a01"
STATEMENTS = {
    NO_ACTION: "RATC handling: for information only. No action towards the subject without a new "
    "agreement of the sending administration.",
    CONSENT: "RATC handling: consent before action. Ask the sending administration before any "
    "action towards the subject.",
}

#: The extension's properties, each with what it means (the schema text and docs/alerts.md list them).
ALERT_PROPERTIES: dict[str, str] = {
    "subject_kind": "consignment | traveller | conveyance | trader",
    "risk_area": "narcotics, weapons, security, revenue, ipr, cites, sps, strategic, currency, "
    "people_smuggling, immigration",
    "requested_action": "examine | notify | information",
    "customs_procedure": "the declared procedure code (e.g. 4000)",
    "containers": "container numbers (ISO 6346)",
    "vessel_imo": "the vessel's IMO number",
    "vessel_name": "the vessel's name",
    "trader_id": "the trader's identification (EORI or national id)",
    "hs_code": "the goods' HS code",
    "goods_description": "the goods as declared",
    "origin_country": "ISO 3166 alpha-2",
    "port_locode": "UN/LOCODE of the port of arrival",
    "arrival_at": "expected arrival (RFC 3339)",
    "flight": "flight number of a traveller",
    "priority": "0-100, as the sender set it",
    "reasons": "the sender's reasons in plain words",
    "reference": "the sender's own reference (target T-000123)",
    "traveller": "{name, date_of_birth, document_number, nationality}: only where the source's legal "
    "basis allows the disclosure",
    "lookout": "a watchlist entry sent as an intelligence item (extension 1.1.0): {kind (person, "
    "organisation, vessel, aircraft, vehicle, container, phone, email), name, aliases [{name, quality, "
    "alias_type}], dates_of_birth [YYYY, YYYY-MM or YYYY-MM-DD], places_of_birth, nationalities, documents "
    "[{type, number, country}], addresses [{text, country}], imo, containers, phones, emails, programmes, "
    "gender, listed_on, expires_on, handling}",
}
SIGHTING_PROPERTIES: dict[str, str] = {
    "outcome": "no_finding | irregularity | seizure | refusal",
    "finding": "true when the examination found something",
    "method": "documents | scan | physical | dog | interview",
    "goods": "[{kind, description, quantity, unit}]",
    "reference": "the receiver's own reference (its target)",
}
#: Properties a bundle may carry in the extension; anything else is refused by name.
KNOWN_PROPERTIES = {"extension_type", *ALERT_PROPERTIES, *SIGHTING_PROPERTIES}
SUBJECT_KINDS = {"consignment", "traveller", "conveyance", "trader"}
#: What a ``lookout`` may hold (anything else is refused by name) and the kinds it may be.
LOOKOUT_KEYS = {"kind", "name", "aliases", "dates_of_birth", "places_of_birth", "nationalities", "documents",
                "addresses", "imo", "containers", "phones", "emails", "programmes", "gender", "listed_on",
                "expires_on", "handling"}  # fmt: skip
LOOKOUT_KINDS = {"person", "organisation", "vessel", "aircraft", "vehicle", "container", "phone", "email"}
#: The extension's version and when it was last changed (1.1.0 added ``lookout``): a partner's tool that
#: keeps objects by id and ``modified`` sees the new version of the definition.
EXTENSION_VERSION = "1.1.0"
EXTENSION_MODIFIED = "2026-12-04T00:00:00.000Z"
REQUESTED_ACTIONS = {"examine", "notify", "information"}


class BundleRefused(ValueError):
    """A bundle that cannot be stored, naming the object and the property at fault."""

    def __init__(self, object_id: str, prop: str, reason: str) -> None:
        self.object_id, self.prop, self.reason = object_id, prop, reason
        super().__init__(f"{object_id or 'bundle'}: {prop}: {reason}")


@dataclass(frozen=True)
class Handling:
    """A handling code as markings say it: who may act, and whether the sender must agree first."""

    tlp: str
    may_act: bool
    consent: bool

    @property
    def label(self) -> str:
        if not self.may_act:
            return f"TLP:{self.tlp.upper()} · information only"
        return f"TLP:{self.tlp.upper()}" + (" · consent before action" if self.consent else "")


def handling_markings(code: str) -> list[str]:
    """The markings for a target's handling code (``apps.targeting.models.HandlingCode`` values).

    "may see" is AMBER+STRICT and information only; "owner consent" AMBER+STRICT with consent before
    action; "may act" AMBER+STRICT (the partner's own administration only); "may pass on" AMBER (the
    partner may pass it to those who need to know).
    """
    return {
        "see": [TLP["amber+strict"], NO_ACTION],
        "consent": [TLP["amber+strict"], CONSENT],
        "act": [TLP["amber+strict"]],
        "pass_on": [TLP["amber"]],
    }[code]


def handling_of(marking_refs: list[str]) -> Handling:
    levels = {**TLP_1_BY_ID, **TLP_BY_ID}
    tlp = next((levels[m] for m in marking_refs if m in levels), "amber+strict")
    # TLP:RED is for the eyes of the named recipients only: nothing may be done with it outside them.
    may_act = NO_ACTION not in marking_refs and tlp != "red"
    return Handling(tlp=tlp, may_act=may_act, consent=CONSENT in marking_refs)


def _ts(moment: datetime | None = None) -> str:
    moment = (moment or datetime.now(UTC)).astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def identity_for(name: str | None = None) -> stix2.Identity:
    """This installation's identity: a stable id from its configured name (``RATC_ALERTS_IDENTITY``)."""
    name = name or settings.RATC_ALERTS_IDENTITY
    return stix2.Identity(
        id=f"identity--{uuid.uuid5(_IDENTITY_NS, name)}",
        name=name,
        identity_class="organization",
        sectors=["government"],
        created=PUBLISHED,
        modified=PUBLISHED,
    )


def published_objects() -> list[Any]:
    """The publisher, the extension definition, the TLP 2.0 and our statement markings: in every bundle,
    so a partner's tool reads each bundle on its own."""
    publisher = stix2.Identity(
        id=PUBLISHER_ID, name="RATC Ops", identity_class="system", created=PUBLISHED, modified=PUBLISHED,
        description="Publisher of the RATC customs alert extension.",
    )  # fmt: skip
    extension = stix2.ExtensionDefinition(
        id=EXTENSION_ID,
        created_by_ref=PUBLISHER_ID,
        created=PUBLISHED,
        modified=EXTENSION_MODIFIED,
        name="RATC customs alert",
        description="Customs fields of an alert between administrations, and the outcome of its examination.",
        schema="Property extension on grouping (alert) and sighting (outcome). Alert properties: "
        + "; ".join(f"{k}: {v}" for k, v in ALERT_PROPERTIES.items())
        + ". Sighting properties: "
        + "; ".join(f"{k}: {v}" for k, v in SIGHTING_PROPERTIES.items())
        + ".",
        version=EXTENSION_VERSION,
        extension_types=["property-extension"],
    )
    markings: list[Any] = [
        stix2.MarkingDefinition(
            id=mid,
            created=PUBLISHED,
            name=f"TLP:{level.upper()}",
            extensions={TLP_EXTENSION_ID: {"extension_type": "property-extension", "tlp_2_0": level}},
        )
        for level, mid in TLP.items()
    ]
    markings += [
        stix2.MarkingDefinition(
            id=mid,
            created=PUBLISHED,
            created_by_ref=PUBLISHER_ID,
            definition_type="statement",
            definition=stix2.StatementMarking(statement=text),
        )
        for mid, text in STATEMENTS.items()
    ]
    return [publisher, extension, *markings]


def alert_grouping(
    *,
    stix_id: str | None,
    sender: stix2.Identity,
    name: str,
    description: str,
    properties: dict[str, Any],
    markings: list[str],
    created: datetime | None = None,
    modified: datetime | None = None,
) -> stix2.Grouping:
    """The alert: a grouping of the sender (and nothing personal outside the extension)."""
    props = {k: v for k, v in properties.items() if v not in (None, "", [], {})}
    return stix2.Grouping(
        id=stix_id or f"grouping--{uuid.uuid4()}",
        created_by_ref=sender.id,
        created=_ts(created),
        modified=_ts(modified or created),
        name=name,
        description=description,
        context="suspicious-activity",
        object_refs=[sender.id],
        object_marking_refs=markings,
        extensions={EXTENSION_ID: {"extension_type": "property-extension", **props}},
    )


def sighting(
    *,
    of_ref: str,
    sender: stix2.Identity,
    description: str,
    properties: dict[str, Any],
    markings: list[str],
    seen_at: datetime,
) -> stix2.Sighting:
    """An examination's outcome, as a sighting of the partner's alert by our administration."""
    props = {k: v for k, v in properties.items() if v not in (None, "", [], {})}
    return stix2.Sighting(
        id=f"sighting--{uuid.uuid4()}",
        created_by_ref=sender.id,
        sighting_of_ref=of_ref,
        where_sighted_refs=[sender.id],
        first_seen=_ts(seen_at),
        last_seen=_ts(seen_at),
        count=1,
        description=description,
        object_marking_refs=markings,
        extensions={EXTENSION_ID: {"extension_type": "property-extension", **props}},
    )


def bundle_of(objects: list[Any], sender: stix2.Identity | None = None) -> dict[str, Any]:
    """A bundle (as JSON-ready dict) holding the published objects, the sender and ``objects``."""
    sender = sender or identity_for()
    bundle = stix2.Bundle(objects=[*published_objects(), sender, *objects])
    return json.loads(bundle.serialize())


# --- reading -------------------------------------------------------------------------------------------


@dataclass
class ParsedAlert:
    stix_id: str
    modified: datetime
    created_by: str
    name: str
    description: str
    properties: dict[str, Any]
    handling: Handling
    raw: dict[str, Any]


@dataclass
class ParsedSighting:
    stix_id: str
    modified: datetime
    created_by: str
    sighting_of: str
    description: str
    properties: dict[str, Any]
    raw: dict[str, Any]


@dataclass
class ParsedBundle:
    alerts: list[ParsedAlert] = field(default_factory=list)
    sightings: list[ParsedSighting] = field(default_factory=list)
    identities: dict[str, str] = field(default_factory=dict)


#: Object types a bundle may hold besides alerts and sightings (they are read, not stored).
CONTEXT_TYPES = {"identity", "marking-definition", "extension-definition"}


def _refuse_unknown_extensions(obj: dict[str, Any]) -> None:
    for key, value in (obj.get("extensions") or {}).items():
        if obj["type"] == "marking-definition" and key == TLP_EXTENSION_ID:
            continue
        if key != EXTENSION_ID:
            raise BundleRefused(obj["id"], f"extensions.{key}", "unknown extension: this centre reads "
                                f"only {EXTENSION_ID} (docs/alerts.md)")  # fmt: skip
        unknown = sorted(set(value) - KNOWN_PROPERTIES)
        if unknown:
            raise BundleRefused(
                obj["id"], f"extensions.{key}.{unknown[0]}", "not a property of the extension"
            )


def _check_lookout(object_id: str, lookout: Any) -> None:
    """A lookout names its kind and a name, and holds only the keys the extension defines."""
    where = f"extensions.{EXTENSION_ID}.lookout"
    if not isinstance(lookout, dict):
        raise BundleRefused(object_id, where, "an object {kind, name, ...}")
    unknown = sorted(set(lookout) - LOOKOUT_KEYS)
    if unknown:
        raise BundleRefused(object_id, f"{where}.{unknown[0]}", "not a property of a lookout")
    if lookout.get("kind") not in LOOKOUT_KINDS:
        raise BundleRefused(object_id, f"{where}.kind", f"one of {', '.join(sorted(LOOKOUT_KINDS))}")
    if not str(lookout.get("name") or "").strip():
        raise BundleRefused(object_id, f"{where}.name", "a lookout names whom or what to look out for")


def parse_bundle(data: bytes | str | dict[str, Any]) -> ParsedBundle:
    """Read a bundle (or a TAXII envelope's objects) strictly: ``BundleRefused`` names what is wrong.

    Every object is parsed by ``stix2`` (types, required properties, timestamps, references), then our
    rules apply: only known object types and extensions, the extension's properties by name, a subject
    kind and risk area from our vocabularies.
    """
    parsed = ParsedBundle()
    for index, obj in enumerate(_bundle_objects(data)):
        stix = _stix_object(index, obj)
        kind = obj["type"]
        if kind == "identity":
            parsed.identities[stix.id] = stix.name
        elif kind == "grouping":
            parsed.alerts.append(_alert(obj, stix))
        elif kind == "sighting":
            ext = dict((obj.get("extensions") or {}).get(EXTENSION_ID) or {})
            ext.pop("extension_type", None)
            parsed.sightings.append(
                ParsedSighting(
                    stix_id=stix.id,
                    modified=stix.modified,
                    created_by=getattr(stix, "created_by_ref", ""),
                    sighting_of=stix.sighting_of_ref,
                    description=getattr(stix, "description", "") or "",
                    properties=ext,
                    raw=obj,
                )
            )
    return parsed


def _bundle_objects(data: bytes | str | dict[str, Any]) -> list[Any]:
    """The objects of a bundle or envelope, after checking the body is one."""
    if isinstance(data, bytes | str):
        try:
            data = json.loads(data)
        except ValueError as exc:
            raise BundleRefused("", "(body)", f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise BundleRefused("", "(body)", "a bundle is a JSON object")
    if data.get("type") not in ("bundle", None) or not isinstance(data.get("objects"), list):
        raise BundleRefused(
            str(data.get("id", "")), "objects", "a bundle (or envelope) with a list of objects"
        )
    return data["objects"]


def _stix_object(index: int, obj: Any) -> Any:
    """One object checked against our rules, then parsed by ``stix2``; ``BundleRefused`` names the fault."""
    if not isinstance(obj, dict) or "id" not in obj or "type" not in obj:
        raise BundleRefused(f"objects[{index}]", "id", "every object has a type and an id")
    kind = obj["type"]
    if kind not in CONTEXT_TYPES | {"grouping", "sighting"}:
        raise BundleRefused(obj["id"], "type", f"{kind} objects are not read by this centre")
    _refuse_unknown_extensions(obj)
    # The library fills in a missing timestamp; STIX 2.1 requires them from the producer.
    required = (
        ("spec_version", "created")
        if kind == "marking-definition"
        else ("spec_version", "created", "modified")
    )
    for prop in required:
        if prop not in obj:
            raise BundleRefused(obj["id"], prop, "required by STIX 2.1")
    try:
        return stix2.parse(obj, allow_custom=False)
    except Exception as exc:  # stix2 raises many types, each naming the property in its text
        prop = getattr(exc, "prop_name", None) or getattr(exc, "properties", None) or "(object)"
        if isinstance(prop, list | tuple | set):
            prop = ", ".join(sorted(map(str, prop)))
        raise BundleRefused(obj["id"], str(prop), str(exc)) from None


def _alert(obj: dict[str, Any], stix: Any) -> ParsedAlert:
    """An alert (a grouping): its customs extension, markings and sender checked."""
    from apps.targeting.models import RiskArea

    ext = dict((obj.get("extensions") or {}).get(EXTENSION_ID) or {})
    if not ext:
        raise BundleRefused(obj["id"], f"extensions.{EXTENSION_ID}", "an alert carries the customs extension")
    ext.pop("extension_type", None)
    if ext.get("subject_kind") not in SUBJECT_KINDS:
        raise BundleRefused(obj["id"], f"extensions.{EXTENSION_ID}.subject_kind",
                            f"one of {', '.join(sorted(SUBJECT_KINDS))}")  # fmt: skip
    if ext.get("risk_area") not in RiskArea.values:
        raise BundleRefused(obj["id"], f"extensions.{EXTENSION_ID}.risk_area",
                            f"one of {', '.join(RiskArea.values)}")  # fmt: skip
    if ext.get("requested_action", "examine") not in REQUESTED_ACTIONS:
        raise BundleRefused(obj["id"], f"extensions.{EXTENSION_ID}.requested_action",
                            f"one of {', '.join(sorted(REQUESTED_ACTIONS))}")  # fmt: skip
    if "lookout" in ext:
        _check_lookout(obj["id"], ext["lookout"])
    # A marking we cannot read may forbid what we would do: refused, never guessed permissive.
    readable = {*TLP_BY_ID, *TLP_1_BY_ID, NO_ACTION, CONSENT}
    for ref in obj.get("object_marking_refs") or []:
        if ref not in readable:
            raise BundleRefused(obj["id"], "object_marking_refs", f"{ref} is not a marking this centre "
                                "reads (TLP 1.0 or 2.0, or the RATC handling statements): it may "
                                "restrict what may be done with the alert")  # fmt: skip
    if "created_by_ref" not in obj:
        raise BundleRefused(obj["id"], "created_by_ref", "an alert names the administration sending it")
    return ParsedAlert(
        stix_id=stix.id,
        modified=stix.modified,
        created_by=stix.created_by_ref,
        name=stix.name or "",
        description=getattr(stix, "description", "") or "",
        properties=ext,
        handling=handling_of(list(obj.get("object_marking_refs") or [])),
        raw=obj,
    )

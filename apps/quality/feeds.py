"""The feeds whose quality is measured, what each must carry and by when: one table, read by the
figures (``apps.quality.measure``), the risk provider (``apps.quality.indicators``) and the request
e-mail, so the page, the rules and the carrier are told the same thing.

A *feed* is a kind of message from one data source: airline API (PAXLST), airline PNR (PNRGOV), cargo
manifests and waybills, customs declarations. Its *carrier* is who sends the data and can fix it: the
operating airline for API and PNR, the carrier named on the manifest, the declarant for a declaration.

Required fields are those the law makes the sender give (API: Directive 2004/82/EC art. 3(2) and the
national API rules; PNR: Directive (EU) 2016/681 Annex I; the entry summary and the declaration: the
Union Customs Code's data requirements), restricted to what intake keeps as facts. A field that live
rules of the subject kind read, and that the feed carries, is required too: a rule cannot fire on what
is missing.

Deadlines: API by the flight's departure (the end of check-in, at the latest), PNR 24 hours before
departure (the first push of the PNR rules is 48 to 24 hours before), a sea manifest 24 hours before
arrival, an air manifest 4 hours before, a road one an hour before, and a declaration lodged before
arrival. Manifest deadlines are counted against arrival because intake does not keep the loading time.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.utils.dateparse import parse_datetime

__all__ = ["FEEDS", "Feed", "carrier_of", "deadline_of", "feed_of", "lateness_hours", "missing_fields"]


@dataclass(frozen=True)
class Feed:
    key: str
    label: str
    subject_kind: str
    #: (fact, what it is) the law asks for, in the order a carrier's form lists them.
    required: tuple[tuple[str, str], ...]
    #: Further facts this feed can carry: a live rule reading one makes it required too.
    carries: frozenset[str] = frozenset()
    carrier_label: str = "Carrier"


FEEDS: dict[str, Feed] = {
    "api": Feed(
        "api",
        "Airline API (PAXLST)",
        "traveller",
        (
            ("surname", "Surname"),
            ("given_names", "Given names"),
            ("date_of_birth", "Date of birth"),
            ("sex", "Sex"),
            ("nationality", "Nationality"),
            ("document_type", "Travel document type"),
            ("document_number", "Travel document number"),
            ("document_country", "Document issuing country"),
            ("document_expiry", "Document expiry date"),
            ("flight_number", "Flight number"),
            ("departure_at", "Scheduled departure"),
            ("origin_airport", "Airport of departure"),
            ("destination_airport", "Airport of arrival"),
        ),
        frozenset({"residence_country", "embarkation", "debarkation", "travel_role"}),
        "Airline",
    ),
    "pnr": Feed(
        "pnr",
        "Airline PNR (PNRGOV)",
        "traveller",
        (
            ("booking_ref", "PNR record locator"),
            ("booking_date", "Date of reservation"),
            ("surname", "Surname"),
            ("given_names", "Given names"),
            ("flight_number", "Flight number"),
            ("departure_at", "Date of travel"),
            ("route_airports", "Itinerary"),
            ("payment_form", "Form of payment"),
            ("contact_details", "Contact details (phone or e-mail)"),
        ),
        frozenset(
            {"seat", "bags_count", "bags_weight_kg", "frequent_flyer", "nationality", "date_of_birth", "sex"}
        ),
        "Airline",
    ),
    "manifest": Feed(
        "manifest",
        "Cargo manifest / air waybill",
        "consignment",
        (
            ("goods_description", "Description of goods"),
            ("hs_code", "Commodity code"),
            ("consignor_name", "Consignor"),
            ("consignee_name", "Consignee"),
            ("origin_country", "Country of origin"),
            ("net_mass_kg", "Mass"),
        ),
        frozenset({"declared_value", "container_count", "loading_location", "consignor_country"}),
        "Carrier",
    ),
    "declaration": Feed(
        "declaration",
        "Customs declaration",
        "consignment",
        (
            ("declarant_id", "Declarant identification"),
            ("importer_id", "Importer identification"),
            ("procedure", "Procedure code"),
            ("hs_code", "Commodity code"),
            ("goods_description", "Description of goods"),
            ("origin_country", "Country of origin"),
            ("declared_value", "Value"),
            ("currency", "Currency"),
            ("net_mass_kg", "Net mass"),
        ),
        frozenset({"dispatch_country", "incoterms", "package_count", "importer_country", "consignor_name"}),
        "Declarant",
    ),
}

#: Source kinds → the feed their consignments belong to (travellers are told apart by message type).
_CONSIGNMENT_FEED = {"cargo_manifest": "manifest", "declaration": "declaration"}
#: Hours before arrival a manifest must be in, by transport mode.
MANIFEST_LEAD_HOURS = {
    "sea": 24.0,
    "air": 4.0,
    "road": 1.0,
    "land": 1.0,
    "rail": 2.0,
    "post": 0.0,
    "postal": 0.0,
}
PNR_LEAD_HOURS = 24.0


def feed_of(source_kind: str, subject_kind: str, facts: Mapping[str, Any]) -> str | None:
    """The feed a primary subject came by, or None when its quality is not measured."""
    if subject_kind == "traveller":
        return "pnr" if facts.get("message_type") == "pnrgov" else "api"
    if subject_kind == "consignment":
        return _CONSIGNMENT_FEED.get(source_kind)
    return None


def carrier_of(feed: str, facts: Mapping[str, Any]) -> str:
    """Who sends the data: the airline, the manifest's carrier, the declarant ("" when not given)."""
    if feed == "declaration":
        value = facts.get("declarant_id")
    else:
        value = facts.get("carrier") or (
            str(facts.get("flight_number") or "")[:2] if feed != "manifest" else ""
        )
    # Kept to what a URL segment carries as is (letters, digits, ".", "_", "-"): the carrier's page is
    # addressed by it, and "-" alone stands for "no carrier named".
    code = re.sub(r"[^A-Z0-9._-]", "", str(value or "").upper())[:40]
    return "" if code == "-" else code


def _present(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, float) and math.isnan(value):
        return False
    if isinstance(value, str):
        return bool(value.strip())
    if isinstance(value, list | tuple | dict):
        return bool(value)
    return True


def required_fields(feed: str, rule_fields: Iterable[str] = ()) -> list[str]:
    """The facts a record of ``feed`` must give: the law's, then what live rules read and it carries."""
    spec = FEEDS[feed]
    names = [name for name, _ in spec.required]
    names += sorted(set(rule_fields) & spec.carries - set(names))
    return names


def field_label(feed: str, name: str) -> str:
    return dict(FEEDS[feed].required).get(name, name.replace("_", " ").capitalize())


def missing_fields(feed: str, facts: Mapping[str, Any], required: Iterable[str] | None = None) -> list[str]:
    """The required facts ``facts`` lacks (empty, absent or null)."""
    missing = []
    for name in required if required is not None else required_fields(feed):
        if name == "contact_details":
            present = bool(facts.get("email_count")) or bool(facts.get("phone_count"))
        else:
            present = _present(facts.get(name))
        if not present:
            missing.append(name)
    return missing


def _moment(value: Any) -> datetime | None:
    moment: datetime | None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str) and value:
        try:
            moment = parse_datetime(value)
        except ValueError:
            return None
    else:
        return None
    if moment is not None and moment.tzinfo is None:
        from datetime import UTC

        moment = moment.replace(tzinfo=UTC)
    return moment


def deadline_of(feed: str, facts: Mapping[str, Any], arrival_at: datetime | None) -> datetime | None:
    """When the record was due at the centre, or None when the record does not say (then untimed)."""
    if feed in {"api", "pnr"}:
        departure = _moment(facts.get("departure_at"))
        if departure is None:
            return None
        return departure - timedelta(hours=PNR_LEAD_HOURS) if feed == "pnr" else departure
    if arrival_at is None:
        return None
    if feed == "manifest":
        mode = str(facts.get("transport_mode") or "").lower()
        return arrival_at - timedelta(hours=MANIFEST_LEAD_HOURS.get(mode, 0.0))
    return arrival_at


def lateness_hours(deadline: datetime | None, received_at: datetime) -> float | None:
    """Hours the record came after its deadline (0 when on time), None when untimed."""
    if deadline is None:
        return None
    return max(0.0, (received_at - deadline).total_seconds() / 3600.0)

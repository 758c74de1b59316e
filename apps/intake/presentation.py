"""How a subject's facts read on its page: labels in plain words, grouped by what an analyst looks for.

``merge_facts`` draws the facts of several records of one person or trader side by side: each value with
the records it came from, two different values of one fact both shown (never one silently picked).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from apps.compliance.masking import MASK
from apps.intake.normalise import fold

LABELS: dict[str, str] = {
    "surname": "Surname", "given_names": "Given names", "date_of_birth": "Date of birth", "age": "Age",
    "sex": "Sex", "nationality": "Nationality", "residence_country": "Country of residence", "travel_role": "Role",
    "document_type": "Document type", "document_number": "Document number", "document_country": "Issued by",
    "document_expiry": "Document expiry", "flight_number": "Flight", "origin_airport": "From",
    "destination_airport": "To", "route_airports": "Route", "departure_at": "Departure", "booking_ref": "Booking",
    "booking_date": "Booked on", "booking_to_departure_hours": "Booked before departure (h)",
    "payment_form": "Payment", "paid_cash": "Paid cash", "bags_count": "Bags", "bags_weight_kg": "Bag weight (kg)", "one_way": "One way",
    "seat": "Seat", "frequent_flyer": "Frequent flyer", "co_traveller_count": "Co-travellers",
    "declaration_id": "Declaration", "mrn": "MRN", "declaration_type": "Type", "declaration_date": "Date",
    "procedure": "Procedure", "office": "Office", "importer_id": "Importer", "declarant_id": "Declarant",
    "seller_id": "Seller", "consignor_id": "Consignor", "courier_id": "Courier", "hs_code": "HS code",
    "hs_codes": "All HS codes", "goods_description": "Goods description", "origin_country": "Origin",
    "dispatch_country": "Dispatched from", "destination_country": "Destination", "route_countries": "Route countries", "transport_mode": "Mode of transport", "flag": "Flag", "importer_country": "Importer country", "importer_previous_declarations": "Importer's earlier declarations", "consignor_country": "Consignor country", "gross_mass_kg": "Gross mass (kg)", "package_count": "Packages", "incoterms": "Delivery terms",
    "tax_rate": "Tax rate (%)", "tax_type": "Tax type", "net_mass_kg": "Mass (kg)", "declared_value": "Value",
    "currency": "Currency", "value_per_kg": "Value per kg", "item_count": "Items", "container_count": "Containers",
    "waybill": "Air waybill", "master_waybill": "Master waybill", "pieces": "Pieces",
    "consignor_name": "Shipper", "consignee_name": "Consignee", "vessel_imo": "IMO", "vessel_name": "Vessel",
    "carrier": "Carrier", "registration": "Registration", "departure_location": "From",
    "arrival_location": "To", "eta": "Expected arrival", "trader_id": "Trader id", "trader_name": "Name",
    "trader_country": "Country", "email_count": "E-mail addresses", "phone_count": "Phone numbers",
    "embarkation": "Boarded at", "debarkation": "Leaves the flight at",
    "phone": "Phone", "email": "E-mail", "container_numbers": "Container numbers",
    "aeo": "AEO", "aeo_status": "AEO status", "aeo_type": "AEO certificate", "aeo_valid_from": "AEO valid from",
    "aeo_valid_to": "AEO valid to", "registered_on": "Registered on", "findings_count": "Findings",
    "penalties_count": "Penalties", "revocations_count": "Revocations", "examinations_count": "Examinations",
}  # fmt: skip

GROUPS: dict[str, list[tuple[str, list[str]]]] = {
    "traveller": [
        ("Person", ["surname", "given_names", "date_of_birth", "age", "sex", "nationality", "residence_country", "role"]),
        ("Travel document", ["document_type", "document_number", "document_country", "document_expiry"]),
        ("Journey", ["flight_number", "origin_airport", "destination_airport", "route_airports", "departure_at", "seat"]),
        ("Booking", ["booking_ref", "booking_date", "booking_to_departure_hours", "payment_form", "paid_cash", "one_way", "bags_count", "bags_weight_kg", "frequent_flyer", "co_traveller_count"]),
        ("Contact", ["phone", "email"]),
    ],
    "consignment": [
        ("Declaration", ["declaration_id", "waybill", "master_waybill", "mrn", "declaration_type", "declaration_date", "procedure", "office"]),
        ("Parties", ["importer_id", "declarant_id", "seller_id", "consignor_id", "courier_id", "importer_country", "importer_previous_declarations", "consignor_name", "consignor_country", "consignee_name"]),
        ("Goods", ["hs_code", "hs_codes", "goods_description", "origin_country", "item_count", "package_count", "pieces", "container_count", "container_numbers", "net_mass_kg", "gross_mass_kg", "declared_value", "currency", "value_per_kg", "tax_rate", "tax_type", "incoterms"]),
        ("Route", ["dispatch_country", "destination_country", "route_countries", "transport_mode"]),
    ],
    "conveyance": [("Conveyance", ["transport_mode", "flag", "vessel_imo", "vessel_name", "carrier", "flight_number", "registration", "departure_location", "arrival_location", "eta"])],
    "trader": [
        ("Trader", ["trader_id", "trader_name", "trader_country", "registered_on", "phone", "email"]),
        ("Authorised economic operator", ["aeo", "aeo_status", "aeo_type", "aeo_valid_from", "aeo_valid_to"]),
        ("Compliance history", ["findings_count", "penalties_count", "revocations_count", "examinations_count"]),
    ],
}  # fmt: skip


#: Facts holding a date or a date and time as ISO text, shown as "07 Sep 1972" / "03 Dec 2026 14:05".
DATE_FACTS = frozenset(
    {"date_of_birth", "document_expiry", "booking_date", "declaration_date", "departure_at", "eta",
     "aeo_valid_from", "aeo_valid_to", "registered_on"}
)  # fmt: skip


def _display(value: Any, name: str = "") -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return " → ".join(str(v) for v in value) if value else ""
    if name in DATE_FACTS and isinstance(value, str) and value != MASK:
        return readable_date(value)
    return "" if value is None else str(value)


def readable_date(text: str) -> str:
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return text
    if len(text) <= 10:  # a date alone
        return when.strftime("%d %b %Y")
    return when.strftime("%d %b %Y %H:%M")


# --- Several records of one person or trader, side by side --------------------------------------------


@dataclass(frozen=True)
class Provenance:
    """Where one record came from, as the page names it beside each of its facts.

    ``number`` is the record's number on the page (its row in the records table); ``sent_at`` is the time
    the message says it was prepared, when it says so, ``received_at`` when the centre stored it.
    """

    number: int
    record_id: int
    source: str
    message: str
    received_at: datetime
    sent_at: datetime | date | None = None
    masked: bool = False

    @property
    def label(self) -> str:
        return f"{self.source} · {self.message}"


@dataclass
class FactValue:
    """One value of one fact and every record that gave it (newest first)."""

    text: str
    masked: bool
    sources: list[Provenance] = field(default_factory=list)


@dataclass
class MergedFact:
    name: str
    label: str
    values: list[FactValue]
    #: Every readable record drawn gives this one value: the page names the records by their numbers
    #: (explained once, in the records table or the card's legend) instead of on every fact.
    everywhere: bool = False

    @property
    def differs(self) -> bool:
        """The records disagree: two or more values that can be read (a masked value is no disagreement)."""
        return sum(not v.masked for v in self.values) > 1


Section = tuple[str, list[MergedFact]]


def _same(text: str) -> str:
    """How two values are compared: case, accents, spacing and punctuation do not make a difference."""
    return fold(text) or text


def merge_facts(
    records: list[tuple[dict[str, Any], Provenance]],
    groups: list[tuple[str, list[str]]],
    *,
    other: str = "",
    leave_out: frozenset[str] = frozenset(),
) -> list[Section]:
    """(heading, facts) for several records' facts, the records given newest first.

    Each fact lists its distinct values, each with the records that gave it; empty values are left out.
    With ``other``, facts named in no group (and not in ``leave_out``) follow under that heading.
    """
    named: list[tuple[str, list[str]]] = list(groups)
    if other:
        grouped = {n for _, names in groups for n in names} | leave_out
        rest: list[str] = []
        for facts, _ in records:
            rest.extend(n for n in facts if n not in grouped and n not in rest)
        named.append((other, rest))
    sections: list[Section] = []
    readable = sum(not p.masked for _, p in records)
    for heading, names in named:
        merged = [fact for name in names if (fact := _merge_one(name, records)) is not None]
        for fact in merged:
            values = [v for v in fact.values if not v.masked]
            fact.everywhere = len(values) == 1 and sum(not p.masked for p in values[0].sources) == readable
        if merged:
            sections.append((heading, merged))
    return sections


def _merge_one(name: str, records: list[tuple[dict[str, Any], Provenance]]) -> MergedFact | None:
    values: dict[str, FactValue] = {}
    for facts, provenance in records:
        text = _display(facts.get(name), name)
        if text == "":
            continue
        masked = text == MASK
        key = MASK if masked else _same(text)
        value = values.setdefault(key, FactValue(text=text, masked=masked))
        if provenance not in value.sources:
            value.sources.append(provenance)
    if not values:
        return None
    label = LABELS.get(name, name.replace("_", " ").capitalize())
    # Readable values first (the newest record's first), a masked value last.
    ordered = sorted(values.values(), key=lambda v: v.masked)
    return MergedFact(name=name, label=label, values=ordered)

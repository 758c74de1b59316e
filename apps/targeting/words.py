"""Facts and codes in words: the one mapping from stored keys and codes to what a person reads.

Subjects carry their facts as a flat dict of machine keys (``booking_to_departure_hours``, ``paid_cash``)
and the floor stores codes (risk area ``ipr``, channel ``red``). Pages show them through the template
filters in ``apps.targeting.templatetags.words`` (``fact_label``, ``fact_value``, ``facts_in_words``,
``code_label``), which read this module; Python renderers (CSV, PDF) may call it directly.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any

__all__ = ["FACT_LABELS", "FactLine", "code_label", "fact_label", "fact_value", "facts_in_words"]

#: Labels of the facts intake stores and rules read (``apps.risk.fields`` holds what each one means).
FACT_LABELS: dict[str, str] = {
    # consignments
    "mrn": "Movement reference (MRN)",
    "declaration_id": "Declaration",
    "declaration_date": "Declared on",
    "declaration_type": "Declaration type",
    "message_type": "Message type",
    "office": "Customs office",
    "procedure": "Procedure",
    "waybill": "Waybill",
    "master_waybill": "Master waybill",
    "hs_code": "HS code",
    "hs_codes": "HS codes",
    "hs6": "HS subheading",
    "hs_chapter": "HS chapter",
    "goods_description": "Goods",
    "description": "Goods",
    "origin_country": "Origin",
    "origin_countries": "Origins",
    "origin_location": "Place of origin",
    "dispatch_country": "Dispatched from",
    "destination_country": "Destination",
    "destination_location": "Place of destination",
    "route_countries": "Route",
    "transport_mode": "Transport",
    "incoterms": "Delivery terms",
    "declared_value": "Declared value",
    "currency": "Currency",
    "value_per_kg": "Value per kg",
    "net_mass_kg": "Net mass",
    "gross_mass_kg": "Gross mass",
    "package_count": "Packages",
    "packages": "Packages",
    "pieces": "Pieces",
    "item_count": "Goods items",
    "container_count": "Containers",
    "container_number": "Container",
    "containers": "Containers",
    "tax_rate": "Duty rate",
    "tax_type": "Tax type",
    "importer_id": "Importer",
    "importer_country": "Importer's country",
    "importer_aeo": "Importer is an AEO",
    "importer_previous_declarations": "Importer's earlier declarations",
    "importer_previous_findings": "Importer's earlier findings",
    "first_time_importer": "First-time importer",
    "declarant_id": "Declarant",
    "consignor_id": "Consignor",
    "consignor_name": "Consignor",
    "consignor_country": "Consignor's country",
    "consignee_name": "Consignee",
    "seller_id": "Seller",
    "courier_id": "Courier",
    "loading_location": "Place of loading",
    "arrival_location": "Place of arrival",
    # conveyances
    "vessel_name": "Vessel",
    "vessel_imo": "IMO number",
    "flag": "Flag",
    "carrier": "Carrier",
    "registration": "Registration",
    "departure_location": "Last departure from",
    "departure_at": "Departure",
    "eta": "Expected arrival",
    "crew_count": "Crew",
    "passenger_count": "Passengers",
    "consignment_count": "Consignments",
    # travellers
    "full_name": "Name",
    "surname": "Surname",
    "given_names": "Given names",
    "date_of_birth": "Date of birth",
    "age": "Age",
    "sex": "Sex",
    "nationality": "Nationality",
    "residence_country": "Country of residence",
    "travel_role": "Travels as",
    "document_type": "Document type",
    "document_number": "Document number",
    "document_country": "Document issued by",
    "document_expiry": "Document expires",
    "document_expires_in_days": "Document expires in",
    "flight": "Flight",
    "flight_number": "Flight",
    "origin_airport": "Journey starts at",
    "embarkation": "Boarded at",
    "debarkation": "Leaves the flight at",
    "destination_airport": "Destination airport",
    "route_airports": "Airports",
    "booking_ref": "Booking",
    "booking_date": "Booked on",
    "booking_to_departure_hours": "Booked before departure",
    "payment_form": "Paid by",
    "paid_cash": "Paid in cash",
    "bags_count": "Checked bags",
    "bags_weight_kg": "Weight of bags",
    "co_traveller_count": "Travelling with",
    "one_way": "One-way",
    "frequent_flyer": "Frequent flyer",
    "seat": "Seat",
    "email_count": "E-mail addresses",
    "phone_count": "Phone numbers",
    # traders
    "trader_id": "Trader",
    "trader_name": "Registered name",
    "trader_country": "Established in",
    "aeo": "Authorised economic operator",
    "registered_on": "Registered on",
    "declarations_count": "Declarations to date",
    "examinations_count": "Examinations to date",
    "findings_count": "Findings to date",
    "finding_rate": "Finding rate",
}

#: Facts shown with a unit, by their exact key (before the suffix rules below).
_UNITS_BY_KEY = {
    "value_per_kg": " per kg",
    "tax_rate": " %",
    "age": " years",
    "co_traveller_count": " others",
}
#: Units by key suffix: ``booking_to_departure_hours`` 12 → "12 h".
_UNITS_BY_SUFFIX = (("_hours", " h"), ("_kg", " kg"), ("_days", " days"), ("_minutes", " min"))
#: Facts that are shares (0 to 1) and read as a percentage.
_PERCENT = frozenset({"finding_rate"})
#: Facts whose values are codes with words of their own.
_VALUE_WORDS: dict[str, dict[str, str]] = {
    "transport_mode": {"sea": "Sea", "air": "Air", "road": "Road", "rail": "Rail", "post": "Post",
                       "mail": "Post", "courier": "Courier"},
    "travel_role": {"passenger": "Passenger", "crew": "Crew", "infant": "Infant"},
    "payment_form": {"cash": "Cash", "card": "Card", "cheque": "Cheque", "invoice": "Invoice", "other": "Other"},
    "sex": {"m": "Male", "f": "Female", "u": "Unknown", "x": "Unspecified"},
}  # fmt: skip

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_MOMENT = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
DASH = "—"


@cache
def _bool_facts() -> frozenset[str]:
    """Facts the rule catalogue types as yes/no (``apps.risk.fields``)."""
    from apps.risk.fields import CATALOGUE

    return frozenset(f.name for fields in CATALOGUE.values() for f in fields if f.type == "bool")


@dataclass(frozen=True, slots=True)
class FactLine:
    """One fact as a person reads it."""

    key: str
    label: str
    text: str


def fact_label(key: Any) -> str:
    """The words for a fact's key: ``paid_cash`` → "Paid in cash"; an unknown key with its underscores
    made spaces ("Some new fact")."""
    key = str(key)
    if key in FACT_LABELS:
        return FACT_LABELS[key]
    words = key.replace("_", " ").strip()
    return words[:1].upper() + words[1:] if words else key


def _number(value: float | int | Decimal) -> str:
    """12 → "12", 12.5 → "12.5", 1234.567 → "1,234.57": no trailing zeros, thousands grouped."""
    if isinstance(value, int):
        return f"{value:,}"
    text = f"{float(value):,.2f}".rstrip("0").rstrip(".")
    return "0" if text in {"-0", ""} else text


def _moment(value: str) -> str:
    try:
        if _ISO_DATE.match(value):
            return dt.date.fromisoformat(value).strftime("%d %b %Y")
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    return moment.strftime("%d %b %Y %H:%M")


def fact_value(value: Any, key: Any = "") -> str:
    """A fact's value in words: Yes/No, "—" for nothing, numbers grouped with their unit ("12 h"),
    lists joined, ISO dates as "27 Feb 2025", known codes as words."""
    key = str(key or "")
    if value is None or value == "" or value == [] or value == {}:
        return DASH
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, int | float | Decimal):
        if isinstance(value, float) and value != value:  # NaN: a missing number
            return DASH
        if key in _bool_facts() and value in (0, 1):  # a yes/no fact as the engine read it (1.0)
            return "Yes" if value else "No"
        if key in _PERCENT:
            return f"{_number(float(value) * 100)} %"
        unit = _UNITS_BY_KEY.get(key) or next((u for s, u in _UNITS_BY_SUFFIX if key.endswith(s)), "")
        return f"{_number(value)}{unit}"
    if isinstance(value, list | tuple):
        return ", ".join(fact_value(v) for v in value if v not in (None, "")) or DASH
    if isinstance(value, dict):
        return "; ".join(f"{fact_label(k)}: {fact_value(v, k)}" for k, v in value.items()) or DASH
    text = str(value)
    words = _VALUE_WORDS.get(key, {}).get(text.strip().lower())
    if words:
        return words
    if _ISO_DATE.match(text) or _ISO_MOMENT.match(text):
        return _moment(text)
    return text


def facts_in_words(facts: Mapping[str, Any] | None, order: Iterable[str] = ()) -> list[FactLine]:
    """The facts worth a line: labelled, in words, empty ones left out; ``order`` first, then the rest."""
    facts = facts or {}
    keys = [k for k in order if k in facts] + [k for k in facts if k not in set(order)]
    lines = []
    for key in keys:
        value = facts[key]
        if value is None or value == "" or value == [] or value == {}:
            continue
        lines.append(FactLine(key=key, label=fact_label(key), text=fact_value(value, key)))
    return lines


def _vocabularies() -> dict[str, dict[str, str]]:
    # Read when first asked (the models' apps are loaded by then), from each code's own choices.
    from apps.agencies.models import ExaminationMethod, Shift
    from apps.intake.models import SubjectKind
    from apps.risk.models import Channel, RuleState
    from apps.targeting.models import HandlingCode, RiskArea, TargetState

    return {
        "risk_area": dict(RiskArea.choices),
        "state": dict(TargetState.choices),
        "subject_kind": dict(SubjectKind.choices),
        "channel": dict(Channel.choices),
        "rule_state": dict(RuleState.choices),
        "method": dict(ExaminationMethod.choices),
        "shift": dict(Shift.choices),
        "handling": dict(HandlingCode.choices),
    }


_VOCABULARIES: dict[str, dict[str, str]] | None = None


def code_label(code: Any, vocabulary: str = "risk_area") -> str:
    """A stored code in words: ``code_label("ipr")`` → "Intellectual property"; an unknown code as it is
    (so a code from a newer list still shows), nothing as "—"."""
    global _VOCABULARIES
    if code is None or code == "":
        return DASH
    if _VOCABULARIES is None:
        _VOCABULARIES = _vocabularies()
    words = _VOCABULARIES.get(vocabulary)
    if words is None:
        raise KeyError(f"unknown vocabulary {vocabulary!r}; one of {', '.join(sorted(_VOCABULARIES))}")
    return words.get(str(code), str(code))

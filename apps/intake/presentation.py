"""How a subject's facts read on its page: labels in plain words, grouped by what an analyst looks for."""

from __future__ import annotations

from typing import Any

from apps.intake.models import Subject

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
    "trader_country": "Country",
}  # fmt: skip

GROUPS: dict[str, list[tuple[str, list[str]]]] = {
    "traveller": [
        ("Person", ["surname", "given_names", "date_of_birth", "age", "sex", "nationality", "residence_country", "role"]),
        ("Travel document", ["document_type", "document_number", "document_country", "document_expiry"]),
        ("Journey", ["flight_number", "origin_airport", "destination_airport", "route_airports", "departure_at", "seat"]),
        ("Booking", ["booking_ref", "booking_date", "booking_to_departure_hours", "payment_form", "paid_cash", "one_way", "bags_count", "bags_weight_kg", "frequent_flyer", "co_traveller_count"]),
    ],
    "consignment": [
        ("Declaration", ["declaration_id", "waybill", "master_waybill", "mrn", "declaration_type", "declaration_date", "procedure", "office"]),
        ("Parties", ["importer_id", "declarant_id", "seller_id", "consignor_id", "courier_id", "importer_country", "importer_previous_declarations", "consignor_name", "consignor_country", "consignee_name"]),
        ("Goods", ["hs_code", "hs_codes", "goods_description", "origin_country", "item_count", "package_count", "pieces", "container_count", "net_mass_kg", "gross_mass_kg", "declared_value", "currency", "value_per_kg", "tax_rate", "tax_type", "incoterms"]),
        ("Route", ["dispatch_country", "destination_country", "route_countries", "transport_mode"]),
    ],
    "conveyance": [("Conveyance", ["transport_mode", "flag", "vessel_imo", "vessel_name", "carrier", "flight_number", "registration", "departure_location", "arrival_location", "eta"])],
    "trader": [("Trader", ["trader_id", "trader_name", "trader_country"])],
}  # fmt: skip


def _display(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return " → ".join(str(v) for v in value) if value else ""
    return "" if value is None else str(value)


def subject_sections(subject: Subject) -> list[tuple[str, list[tuple[str, str]]]]:
    """(heading, [(label, value)]) for the subject page; empty values left out, unknown facts at the end."""
    facts = subject.facts or {}
    sections = []
    shown: set[str] = set()
    for heading, names in GROUPS.get(subject.kind, []):
        rows = [(LABELS.get(n, n), _display(facts.get(n))) for n in names if _display(facts.get(n)) != ""]
        shown.update(names)
        if rows:
            sections.append((heading, rows))
    other = [
        (LABELS.get(k, k.replace("_", " ")), _display(v))
        for k, v in facts.items()
        if k not in shown and _display(v)
    ]
    if other:
        sections.append(("Other facts", other))
    return sections

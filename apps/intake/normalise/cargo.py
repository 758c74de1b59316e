"""Cargo records as subjects: a declaration or an air waybill becomes a consignment, linked to its
traders and its means of transport."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from apps.intake.keys import BadKey, container_key, imo_key
from apps.intake.normalise.drafts import SubjectDraft, _aware, _iso, _num, fold, jsonable, key_hash
from apps.intake.records.cargo import Consignment, Conveyance, Declaration, GoodsItem, Party


def conveyance_draft(c: Conveyance) -> SubjectDraft | None:
    """A vessel by IMO, a flight by carrier + number + date, a vehicle by registration."""
    when = c.eta or c.arrival_at or c.departure_at
    if c.vessel_imo:
        ident, title = (
            f"imo:{c.vessel_imo}",
            f"Vessel {c.vessel_name or ''} IMO {c.vessel_imo}".replace("  ", " "),
        )
    elif c.carrier and c.flight_number:
        day = when.date().isoformat() if when else ""
        ident, title = (
            f"flight:{c.carrier}{c.flight_number}:{day}",
            f"Flight {c.carrier}{c.flight_number} {day}",
        )
    elif c.registration:
        ident, title = f"vehicle:{c.registration}", f"Vehicle {c.registration}"
    elif c.identifier:
        ident, title = f"means:{c.identifier}", f"{c.mode.title()} {c.identifier}"
    else:
        return None
    facts = {
        "transport_mode": c.mode,
        "vessel_imo": vessel_imo(c.vessel_imo),
        "vessel_name": c.vessel_name,
        "carrier": c.carrier,
        "flight_number": f"{c.carrier}{c.flight_number}" if c.flight_number else "",
        "registration": c.registration,
        "departure_location": c.departure_location,
        "arrival_location": c.arrival_location,
        "flag": c.nationality,
        "route_countries": list(c.route_countries),
        "eta": _iso(c.eta or c.arrival_at),
    }
    return SubjectDraft(
        kind="conveyance",
        external_id=ident,
        title=title.strip(),
        facts=facts,
        details=jsonable(c),
        arrival_at=_aware(c.eta or c.arrival_at),
        port_code=c.arrival_location,
    )


def trader_draft(identifier: str, name: str, country: str, role: str) -> SubjectDraft:
    return SubjectDraft(
        kind="trader",
        external_id=f"trader:{identifier}",
        title=f"{name or identifier} ({identifier})" if name else identifier,
        facts={"trader_id": identifier, "trader_name": name, "trader_country": country},
        details={"identifier": identifier, "name": name, "country": country, "first_role": role},
        keys=[key_hash("trader", identifier.upper())],
    )


def container_numbers(*groups: list[Any]) -> list[str]:
    """The container numbers of a consignment in one spelling (ISO 6346 when the number is one), for
    screening against container entries; a number failing its check digit is kept as written (it can
    still be the one a partner reported)."""
    numbers: set[str] = set()
    for group in groups:
        for c in group:
            if not c.number:
                continue
            try:
                numbers.add(container_key(c.number))
            except BadKey:
                numbers.add(fold(c.number).replace(" ", ""))
    return sorted(n for n in numbers if n)


def container_keys(*groups: list[Any]) -> list[str]:
    """Keyed hashes of container numbers: the header search finds a consignment by its container through
    the indexed key table instead of reading every record's details."""
    return [key_hash("container", n) for n in container_numbers(*groups)]


def vessel_imo(value: str) -> str:
    """An IMO number with a good check digit, else the digits as sent (screening compares the former)."""
    try:
        return imo_key(value) if value else ""
    except BadKey:
        return "".join(c for c in value if c.isdigit())


def declaration_drafts(d: Declaration) -> list[SubjectDraft]:
    """A declaration becomes a consignment subject, linked to its traders and its means of transport."""
    goods = d.goods or []
    first = goods[0] if goods else None
    parties = {p.role: p for p in d.parties}
    for item in goods:
        for p in item.parties:
            parties.setdefault(p.role, p)
    mass = d.total_gross_mass_kg or sum(((g.net_mass_kg or g.gross_mass_kg or 0) for g in goods), Decimal(0))
    value = d.invoice_amount or sum(((g.value or 0) for g in goods), Decimal(0))
    conveyance = d.conveyances[0] if d.conveyances else None
    when = d.declared_at or d.declaration_date
    arrival = (conveyance.eta or conveyance.arrival_at) if conveyance else None
    facts = _declaration_facts(d, goods, first, parties, conveyance, mass, value)
    summary = f"HS {facts['hs_code']}" if facts["hs_code"] else "no goods"
    draft = SubjectDraft(
        kind="consignment",
        external_id=f"declaration:{d.business_key or d.reference}",
        title=f"Declaration {d.reference} · {summary}"
        + (f" · {facts['origin_country']}" if facts["origin_country"] else ""),
        facts=facts,
        details=jsonable(d),
        arrival_at=_aware(arrival or when),
        port_code=(conveyance.arrival_location if conveyance else "")
        or d.office_of_import
        or d.office_of_entry,
        label=(d.label.finding, d.label.severity) if d.label else None,
        keys=[key_hash("container", n) for n in facts["container_numbers"]],
    )
    for role, party in parties.items():
        if party.identifier:
            draft.links.append(
                (trader_draft(party.identifier, party.name, party.country, role), "party", role)
            )
    if conveyance is not None and (c := conveyance_draft(conveyance)) is not None:
        draft.links.append((c, "carried_by", "means of transport at arrival"))
    return [draft]


def _declaration_facts(
    d: Declaration, goods: list[GoodsItem], first: GoodsItem | None, parties: dict[str, Party],
    conveyance: Conveyance | None, mass: Decimal | int, value: Decimal | int,
) -> dict[str, Any]:  # fmt: skip
    """The facts of a declaration's consignment, from the declaration and its first goods item."""
    route = list(conveyance.route_countries) if conveyance else []
    facts: dict[str, Any] = {
        "declaration_id": d.reference,
        "mrn": d.mrn,
        "declaration_type": d.declaration_type,
        "declaration_date": _iso(d.declaration_date or (d.declared_at.date() if d.declared_at else None)),
        "procedure": d.procedure or (first.procedure if first else ""),
        "office": d.office_of_import or d.office_of_entry,
        "importer_id": parties["importer"].identifier if "importer" in parties else "",
        "declarant_id": parties["declarant"].identifier if "declarant" in parties else "",
        "seller_id": parties["seller"].identifier if "seller" in parties else "",
        "consignor_id": parties["consignor"].identifier if "consignor" in parties else "",
        "courier_id": parties["courier"].identifier if "courier" in parties else "",
        "hs_code": first.hs_code if first else "",
        "hs6": first.hs6 if first else "",
        "hs_chapter": first.hs_chapter if first else "",
        "hs_codes": [g.hs_code for g in goods if g.hs_code],
        "goods_description": " | ".join(g.description for g in goods if g.description)[:500],
        "origin_country": first.origin_country if first else "",
        "origin_countries": sorted({g.origin_country for g in goods if g.origin_country}),
        "dispatch_country": d.country_of_dispatch,
        "destination_country": d.country_of_destination,
        "route_countries": route,
        "transport_mode": conveyance.mode if conveyance else d.extra.get("mode_code", ""),
        "tax_rate": _num(first.tax_rate) if first else None,
        "tax_type": first.tax_type if first else "",
        "net_mass_kg": _num(mass) if mass is not None else None,
        "gross_mass_kg": _num(d.total_gross_mass_kg),
        "declared_value": _num(value) if value is not None else None,
        "currency": d.currency or (first.currency if first else ""),
        "value_per_kg": round(float(value) / float(mass), 4) if value is not None and mass else None,
        "item_count": d.item_count or len(goods),
        "package_count": d.package_count,
        "importer_country": parties["importer"].country if "importer" in parties else "",
        "consignor_name": parties["consignor"].name if "consignor" in parties else "",
        "consignor_country": parties["consignor"].country if "consignor" in parties else "",
        "consignee_name": parties["consignee"].name if "consignee" in parties else "",
        "incoterms": d.delivery_terms,
        "container_count": len(d.containers) or sum(len(g.containers) for g in goods),
        "container_numbers": container_numbers(d.containers, *(g.containers for g in goods)),
        "vessel_imo": vessel_imo(conveyance.vessel_imo) if conveyance else "",
    }
    for key in ("process_type", "import_type", "import_use", "payment_type", "origin_indicator", "mode_code"):
        if key in d.extra:
            facts[key] = d.extra[key]
    for item_key in ("origin_indicator",):
        if first and item_key in first.extra:
            facts.setdefault(item_key, first.extra[item_key])
    return facts


def consignment_drafts(c: Consignment) -> list[SubjectDraft]:
    """An air waybill (master or house) becomes a consignment subject."""
    goods = c.goods or []
    hs_codes = [g.hs_code for g in goods if g.hs_code]
    flight = c.conveyances[-1] if c.conveyances else None
    mass = c.gross_mass_kg
    value = sum(((g.value or 0) for g in goods), Decimal(0))
    parties = {p.role: p for p in c.parties}
    facts: dict[str, Any] = {
        "waybill": c.document.reference,
        "master_waybill": c.master_reference,
        "document_type": c.document.doc_type,
        "origin_location": c.origin,
        "destination_location": c.destination,
        "pieces": c.pieces,
        "net_mass_kg": _num(mass),
        "declared_value": _num(value) if value else None,
        "value_per_kg": round(float(value) / float(mass), 4) if value and mass else None,
        "hs_code": hs_codes[0] if hs_codes else "",
        "hs6": hs_codes[0][:6] if hs_codes else "",
        "hs_chapter": hs_codes[0][:2] if hs_codes else "",
        "hs_codes": hs_codes,
        "goods_description": (c.description or " | ".join(g.description for g in goods if g.description))[
            :500
        ],
        "origin_country": next((g.origin_country for g in goods if g.origin_country), ""),
        "consignor_name": parties["consignor"].name if "consignor" in parties else "",
        "consignee_name": parties["consignee"].name if "consignee" in parties else "",
        "consignor_country": parties["consignor"].country if "consignor" in parties else "",
        "transport_mode": "air",
        "container_count": len(c.containers),
        "container_numbers": container_numbers(c.containers, *(g.containers for g in goods)),
    }
    draft = SubjectDraft(
        kind="consignment",
        external_id=f"waybill:{c.document.reference}",
        title=f"Air waybill {c.document.reference} · {c.origin}→{c.destination}",
        facts=facts,
        details=jsonable(c),
        arrival_at=_aware((flight.eta or flight.arrival_at) if flight else None),
        port_code=(flight.arrival_location if flight else "") or c.destination,
        keys=[key_hash("container", n) for n in facts["container_numbers"]],
    )
    for role, party in parties.items():
        ident = party.identifier or (fold(party.name) if party.name else "")
        if ident and role in {"consignor", "consignee"}:
            draft.links.append((trader_draft(ident, party.name, party.country, role), "party", role))
    if flight is not None and (conv := conveyance_draft(flight)) is not None:
        draft.links.append((conv, "carried_by", "flight"))
    return [draft]

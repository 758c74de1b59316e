"""From parsed records to subject rows: the one place that decides what a subject's facts are.

Each function turns a record of one kind into ``SubjectDraft`` objects (a consignment and its traders, a
traveller and the flight they are on). ``facts`` are flat, typed values that rules, the model and
reports read by name (the catalogue of names is ``apps.risk.fields``); ``details`` keep the whole record
for the subject page; ``keys`` are keyed hashes of identifiers (document, name + date of birth, trader
id) used to link the same person or trader across sources, and they keep working after masking.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.utils import timezone

from apps.intake.keys import BadKey, container_key, imo_key, phone_key
from apps.intake.keys import email_key as _email_key
from apps.intake.records.cargo import Consignment, Conveyance, Declaration
from apps.intake.records.passenger import Flight, PassengerReport, Traveller
from apps.intake.records.trader import TraderRecord

CASH_WORDS = {"cash", "ca"}


@dataclass(slots=True)
class SubjectDraft:
    """A subject about to be stored, with the subjects it links to (by their drafts)."""

    kind: str
    external_id: str
    title: str
    facts: dict[str, Any]
    details: dict[str, Any]
    arrival_at: datetime | None = None
    port_code: str = ""  # a UN/LOCODE or IATA code, resolved to a Port when stored
    keys: list[str] = field(default_factory=list)
    links: list[tuple[SubjectDraft, str, str]] = field(default_factory=list)  # (other, kind, reason)
    label: tuple[bool, int] | None = None  # (finding, severity) of imported history


@functools.cache
def _key_secret() -> bytes:
    return (getattr(settings, "RATC_KEY_SECRET", "") or settings.SECRET_KEY).encode()


def key_hash(kind: str, value: str) -> str:
    """A keyed hash of an identifier: equal inputs link, and the stored value reveals nothing.

    Keyed BLAKE2b (a MAC by construction, one C call) rather than HMAC-SHA256: intake computes several
    per record, and this is several times cheaper for the same guarantee.
    """
    return _key_hash(_key_secret()[:64], kind, value)


@functools.lru_cache(maxsize=1 << 16)
def _key_hash(secret: bytes, kind: str, value: str) -> str:
    # Cached: a batch names the same traders, ports and carriers over and over (three traders a
    # declaration, a few thousand distinct in 50,000). The secret is part of the key, so a changed
    # secret never returns a hash made with the old one.
    digest = hashlib.blake2b(f"{kind}:{value}".encode(), key=secret, digest_size=16).hexdigest()
    return f"{kind}:{digest}"


def fold(text: str) -> str:
    """Upper case, accents removed, runs of space and punctuation folded: how names are compared."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join("".join(c if c.isalnum() else " " for c in plain.upper()).split())


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def jsonable(value: Any) -> Any:
    """Dataclasses, dates and decimals as JSON values, for ``details``; empty values are left out."""
    kind = type(value)
    if kind in (str, int, float, bool) or value is None:
        return value
    names = _FIELD_NAMES.get(kind)
    if names is None and dataclasses.is_dataclass(value) and not isinstance(value, type):
        names = _FIELD_NAMES[kind] = tuple(f.name for f in dataclasses.fields(value))
    if names is not None:
        out = {}
        # Plain strings and numbers, most fields, are kept without a call: a declaration is some fifty
        # values, and this function was a fifth of the time of storing one.
        for name in names:
            item = getattr(value, name)
            cls = type(item)
            if cls is str:
                if item:
                    out[name] = item
            elif cls is int or cls is float or cls is bool:
                out[name] = item
            elif item is None or item == "" or item == [] or item == {}:
                continue
            else:
                out[name] = jsonable(item)
        return out
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [v if type(v) is str else jsonable(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


def _num(value: Decimal | float | int | None) -> float | None:
    return None if value is None else float(value)


def _aware(value: datetime | date | None) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, datetime):
        value = datetime.combine(value, time(12, 0))
    return value if timezone.is_aware(value) else timezone.make_aware(value, UTC)


def _iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


# --- Cargo ------------------------------------------------------------------------------------------


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
    route = list(conveyance.route_countries) if conveyance else []
    when = d.declared_at or d.declaration_date
    arrival = (conveyance.eta or conveyance.arrival_at) if conveyance else None
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


# --- Passengers -------------------------------------------------------------------------------------


def flight_draft(f: Flight) -> SubjectDraft:
    when = f.scheduled_arrival or f.scheduled_departure
    day = when.date().isoformat() if when else ""
    number = f"{f.carrier}{f.number}"
    return SubjectDraft(
        kind="conveyance",
        external_id=f"flight:{number}:{day}",
        title=f"Flight {number} {f.origin}→{f.destination} {day}".strip(),
        facts={
            "transport_mode": "air",
            "carrier": f.carrier,
            "flight_number": number,
            "departure_location": f.origin,
            "arrival_location": f.destination,
            "departure_at": _iso(f.scheduled_departure),
            "eta": _iso(f.scheduled_arrival),
        },
        details=jsonable(f),
        arrival_at=_aware(f.scheduled_arrival or f.scheduled_departure),
        port_code=f.destination,
    )


def _age(dob: date | None, on: date | None) -> int | None:
    if dob is None:
        return None
    on = on or timezone.now().date()
    return on.year - dob.year - ((on.month, on.day) < (dob.month, dob.day))


def _hours_between(booked: date | None, departure: datetime | None) -> float | None:
    """Hours from booking to departure: a short lead time is a classic courier indicator."""
    if booked is None or departure is None:
        return None
    start = _aware(booked) if timezone.is_aware(departure) else datetime.combine(booked, time(12, 0))
    return round((departure - start).total_seconds() / 3600, 1)


def _traveller_identity(report: PassengerReport, t: Traveller, index: int, inbound: Flight | None) -> str:
    """Who this traveller is across versions: the PNR passenger, or the person on one flight's list."""
    if report.source == "pnrgov":
        return f"pnr:{report.record_locator}:{t.traveller_ref or fold(t.full_name) or index}"
    when = (inbound.scheduled_departure or inbound.scheduled_arrival) if inbound else None
    flight = f"{inbound.carrier}{inbound.number}" if inbound else ""
    person = t.documents[0].number if t.documents and t.documents[0].number else fold(t.full_name)
    return f"api:{flight}:{when.date().isoformat() if when else ''}:{person}"


def traveller_phones(t: Traveller) -> list[str]:
    """A traveller's phone numbers in E.164; a national number is read in the country of residence (else
    of nationality). What cannot be read as a phone number is left out (it stays in the details)."""
    region = next((c for c in (t.country_of_residence, t.nationality) if c and len(c) == 2), None)
    out: list[str] = []
    for raw in t.phones:
        try:
            number = phone_key(raw, region, strict=False)
        except BadKey:
            continue
        if number not in out:
            out.append(number)
    return out


def traveller_emails(t: Traveller) -> list[str]:
    out: list[str] = []
    for raw in t.emails:
        try:
            address = _email_key(raw)
        except BadKey:
            continue
        if address not in out:
            out.append(address)
    return out


def _traveller_details(t: Traveller) -> dict[str, Any]:
    """The record for the subject page, without the card hashes (a card number's unkeyed SHA-256 can be
    found again by trying numbers; the keyed ``payment_card_keys`` cannot)."""
    details = jsonable(t)
    details.pop("payment_card_hashes", None)
    return details


def traveller_drafts(report: PassengerReport) -> list[SubjectDraft]:
    """Each traveller of an API list or PNR becomes a traveller subject, linked to the flight they arrive on
    and to the others on the same booking."""
    flights = report.flights or ([report.reported_flight] if report.reported_flight else [])
    inbound = report.reported_flight or (flights[-1] if flights else None)
    flight_subject = flight_draft(inbound) if inbound and inbound.carrier and inbound.number else None
    drafts: list[SubjectDraft] = []
    by_name: dict[str, SubjectDraft] = {}
    for index, t in enumerate(report.travellers):
        legs = t.itinerary or flights
        arrival_leg = next((leg for leg in reversed(legs) if leg.scheduled_arrival), inbound)
        departure = legs[0].scheduled_departure if legs else None
        booking_date = t.booking_date or report.booking_date
        doc = t.documents[0] if t.documents else None
        bags = t.bags or None
        facts: dict[str, Any] = {
            "surname": t.surname,
            "given_names": t.given_names,
            "full_name": f"{t.given_names} {t.surname}".strip(),
            "date_of_birth": _iso(t.date_of_birth),
            "age": _age(t.date_of_birth, departure.date() if departure else None),
            "sex": t.sex,
            "nationality": t.nationality,
            "residence_country": t.country_of_residence,
            "travel_role": t.role,
            "document_type": doc.doc_type if doc else "",
            "document_number": doc.number if doc else "",
            "document_country": doc.issuing_country if doc else "",
            "document_expiry": _iso(doc.expiry) if doc else None,
            "carrier": inbound.carrier if inbound else "",
            "flight_number": f"{inbound.carrier}{inbound.number}" if inbound else "",
            "origin_airport": legs[0].origin if legs else "",
            "destination_airport": legs[-1].destination if legs else "",
            "route_airports": [leg.origin for leg in legs] + ([legs[-1].destination] if legs else []),
            "embarkation": t.embarkation,
            "debarkation": t.debarkation,
            "departure_at": _iso(departure),
            "booking_ref": t.booking_reference or report.record_locator,
            "booking_date": _iso(booking_date),
            "booking_to_departure_hours": _hours_between(booking_date, departure),
            "payment_form": t.payment_form,
            "paid_cash": (t.payment_form or "").lower() in CASH_WORDS,
            "bags_count": bags.count if bags else (0 if report.source == "pnrgov" else None),
            "bags_weight_kg": bags.weight
            if bags and (bags.weight_unit or "KG").upper() != "LB"
            else (round(bags.weight * 0.4536, 1) if bags and bags.weight is not None else None),
            "one_way": bool(legs) and all(leg.destination != legs[0].origin for leg in legs),
            "seat": t.seat,
            "frequent_flyer": t.frequent_flyer,
            "email_count": len(t.emails),
            "phone_count": len(t.phones),
            # The values themselves, for screening and linking: personal facts, masked with the
            # traveller (apps.compliance.masking.PERSONAL_FACTS names "phone" and "email").
            "phone": traveller_phones(t),
            "email": traveller_emails(t),
            # Keyed hashes of each card's SHA-256: they reveal nothing, masked or not.
            "payment_card_keys": [key_hash("card", h) for h in t.payment_card_hashes],
            "co_traveller_count": len(t.co_travellers),
            "message_type": report.source,
        }
        keys = []
        if doc and doc.number:
            keys.append(key_hash("doc", f"{fold(doc.number).replace(' ', '')}|{doc.issuing_country}"))
        if t.date_of_birth:
            keys.append(
                key_hash("namedob", f"{fold(t.surname)}|{fold(t.given_names)}|{t.date_of_birth.isoformat()}")
            )
        keys += [key_hash("phone", p) for p in facts["phone"]]
        keys += [key_hash("email", e) for e in facts["email"]]
        keys += facts["payment_card_keys"]
        identity = _traveller_identity(report, t, index, inbound)
        draft = SubjectDraft(
            kind="traveller",
            external_id=identity,
            title=f"{t.surname.upper()}, {t.given_names.title()}".strip(", ")
            + (f" ({t.nationality})" if t.nationality else "")
            + (f" on {facts['flight_number']}" if facts["flight_number"] else ""),
            facts=facts,
            details=_traveller_details(t)
            | {
                "message_ref": report.message_ref,
                "record_locator": report.record_locator,
                # When the sender prepared the message: the person page shows it beside each fact.
                "message_sent_at": _iso(report.prepared_at),
            },
            arrival_at=_aware(arrival_leg.scheduled_arrival if arrival_leg else None),
            port_code=(legs[-1].destination if legs else "") or t.debarkation,
            keys=keys,
        )
        if flight_subject is not None:
            draft.links.append((flight_subject, "travels_on", "inbound flight"))
        drafts.append(draft)
        by_name[fold(t.full_name)] = draft
    if report.source == "pnrgov" and len(drafts) > 1:
        # Everyone in one PNR travels together; link each pair once.
        for i, a in enumerate(drafts):
            for b in drafts[i + 1 :]:
                a.links.append((b, "co_traveller", f"same booking {report.record_locator}"))
    return drafts


# --- Trader register ---------------------------------------------------------------------------------


def register_facts(r: TraderRecord, on: date | None = None) -> dict[str, Any]:
    """The facts a register entry gives its trader; ``aeo`` is whether the certificate is live ``on``
    that day (today when not given; the risk engine asks again for each subject's own day)."""
    day = on or timezone.now().date()
    return {
        "trader_id": r.operator_id,
        "trader_name": r.name,
        "trader_country": r.country,
        "registered_on": _iso(r.registered_on),
        "aeo": r.aeo_on(day),
        "aeo_status": r.aeo_status,
        "aeo_type": r.aeo_type,
        "aeo_valid_from": _iso(r.aeo_valid_from),
        "aeo_valid_to": _iso(r.aeo_valid_to),
        "findings_count": r.findings_count,
        "penalties_count": r.penalties_count,
        "revocations_count": r.revocations_count,
        "examinations_count": r.examinations_count,
        "phone": list(r.phones),
        "email": list(r.emails),
    }


def register_drafts(r: TraderRecord) -> list[SubjectDraft]:
    """A register entry becomes the trader subject of its source, ``trader:<operator id>`` as intake names
    the traders of declarations, so the same operator has the same identity everywhere."""
    keys = [key_hash("trader", r.operator_id)]
    keys += [key_hash("phone", p) for p in r.phones] + [key_hash("email", e) for e in r.emails]
    details = jsonable(r)
    details.pop("source_line", None)
    return [
        SubjectDraft(
            kind="trader",
            external_id=f"trader:{r.operator_id}",
            title=f"{r.name} ({r.operator_id})",
            facts=register_facts(r),
            details=details | {"register": True},
            keys=keys,
        )
    ]


def drafts_for(record: Any) -> list[SubjectDraft]:
    """Subject drafts for any parsed record."""
    if isinstance(record, Declaration):
        return declaration_drafts(record)
    if isinstance(record, Consignment):
        return consignment_drafts(record)
    if isinstance(record, PassengerReport):
        return traveller_drafts(record)
    if isinstance(record, TraderRecord):
        return register_drafts(record)
    raise TypeError(f"no normaliser for {type(record).__name__}")

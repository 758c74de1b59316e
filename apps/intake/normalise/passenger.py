"""Passenger records as subjects: each traveller of an API list or PNR, linked to the flight they
arrive on and to the others on the same booking."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from django.utils import timezone

from apps.intake.keys import BadKey, phone_key
from apps.intake.keys import email_key as _email_key
from apps.intake.normalise.drafts import SubjectDraft, _aware, _iso, fold, jsonable, key_hash
from apps.intake.records.passenger import Flight, PassengerReport, Traveller

CASH_WORDS = {"cash", "ca"}


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
    for index, t in enumerate(report.travellers):
        legs = t.itinerary or flights
        arrival_leg = next((leg for leg in reversed(legs) if leg.scheduled_arrival), inbound)
        departure = legs[0].scheduled_departure if legs else None
        booking_date = t.booking_date or report.booking_date
        facts = _traveller_facts(report, t, inbound, legs, departure, booking_date)
        keys = _traveller_keys(t, facts)
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
    if report.source == "pnrgov" and len(drafts) > 1:
        # Everyone in one PNR travels together; link each pair once.
        for i, a in enumerate(drafts):
            for b in drafts[i + 1 :]:
                a.links.append((b, "co_traveller", f"same booking {report.record_locator}"))
    return drafts


def _traveller_facts(
    report: PassengerReport, t: Traveller, inbound: Flight | None, legs: list[Flight],
    departure: datetime | None, booking_date: date | None,
) -> dict[str, Any]:  # fmt: skip
    """The facts of one traveller on their journey (``legs``), as rules, the model and reports read them."""
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
    return facts


def _traveller_keys(t: Traveller, facts: dict[str, Any]) -> list[str]:
    """Keyed hashes that link the traveller across sources: document, name and birth date, phones,
    e-mail addresses and cards."""
    doc = t.documents[0] if t.documents else None
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
    return keys

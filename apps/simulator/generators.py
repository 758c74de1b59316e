"""Message generators: realistic PAXLST, PNRGOV, JSON and CSV declarations for one simulated arrival.

Pure functions of a seed and a time: the same ``(seed, port, n, arrival_at)`` always gives the same bytes,
so the simulator is reproducible and its tick can be replayed safely (intake stores a message once).
Every generated subject that may be examined carries a hidden :class:`Truth` (what an examination would
find); the simulator keeps truths in its own table and nobody on the floor ever sees them.

Planted patterns (what the demo rules, the watchlist and the model are meant to find):

* **courier** — cash-paid, one-way, short-notice bookings on flights from a source airport
  (``world.SOURCE_AIRPORTS``); about 45 % of travellers who fit the profile carry cocaine;
* **fruit** — bananas or coffee from Colombia, Ecuador or Peru declared far below market value per kg;
  about half hide cocaine in the load;
* **trader** — two importers under investigation (``world.WATCHED_IMPORTERS``) who undervalue footwear
  and clothing; most of their declarations understate the value;
* **concealment** — light fresh-produce part-loads from Spain or Morocco through Dover, used as a
  cover load for cannabis;
* **listed** — a person on the UN consolidated list, travelling under a variant spelling of the name;
* **background** — everyone else, with a small base rate of ordinary irregularities that only random
  control finds.
"""

from __future__ import annotations

import csv
import io
import json
import random
import string
import zlib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from apps.core import csvsafe
from apps.simulator import world

__all__ = [
    "ArrivalPlan",
    "Booking",
    "FlightPlan",
    "Payload",
    "Person",
    "Truth",
    "declarations_csv",
    "declarations_json",
    "listed_person",
    "paxlst",
    "plan_arrival",
    "pnrgov",
    "replay_rows",
    "rng_for",
]

EDI_SPECIAL = "?+:'"


def rng_for(seed: int | str, *parts: object) -> random.Random:
    """A random stream named by the seed and ``parts``: the same name gives the same numbers."""
    return random.Random(":".join(str(p) for p in (seed, *parts)))


@dataclass(frozen=True, slots=True)
class Truth:
    """What an examination of the subject would find, known only to the simulator."""

    pattern: str
    violation: bool
    outcome: str = "no_finding"  # no_finding | irregularity | seizure | refusal
    goods_kind: str = ""
    quantity: float = 0.0
    unit: str = ""
    value: float = 0.0  # estimated value of seized goods
    revenue: float = 0.0  # duty evaded (irregularities)
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {f: getattr(self, f) for f in self.__slots__}


@dataclass(slots=True)
class Person:
    """A traveller as the carrier knows them."""

    surname: str
    given: str
    sex: str
    born: date
    nationality: str  # ISO alpha-3
    document: str
    document_expiry: date
    truth: Truth | None = None


@dataclass(slots=True)
class Booking:
    """One PNR: who booked together, when, how they paid, their bags."""

    locator: str
    created: date
    payment: str  # FOP code: CA cash, CC card
    people: list[Person]
    bags: list[int]


@dataclass(slots=True)
class FlightPlan:
    carrier: str
    number: str
    origin: str
    destination: str  # IATA
    departure: datetime
    arrival: datetime


@dataclass(slots=True)
class Payload:
    """One file handed to intake: its name, format and bytes, and the kind of source it feeds."""

    name: str
    fmt: str
    data: bytes
    source_kind: str


@dataclass(slots=True)
class ArrivalPlan:
    """One arrival at a port (a flight, a vessel, a truck, a mail batch) and what is sent about it."""

    port: str
    mode: str
    title: str
    arrival_at: datetime
    lead_minutes: float  # simulated minutes between the data being sent and the arrival
    payloads: list[Payload] = field(default_factory=list)
    truths: dict[str, Truth] = field(default_factory=dict)  # truth key → truth


# --- EDIFACT ------------------------------------------------------------------------------------------


def _edi(text: str) -> str:
    """Escape the service characters of UNA ``:+.? '`` with the release character."""
    return "".join(f"?{c}" if c in EDI_SPECIAL else c for c in text)


def _envelope(kind: str, sender: str, recipient: str, sent: datetime, ref: str, body: list[str]) -> str:
    """UNA/UNB/UNH ... UNT/UNZ around ``body`` (the segments after UNH), counts filled in."""
    stamp = sent.strftime("%y%m%d:%H%M")
    version = "PAXLST:D:05B:UN:IATA" if kind == "PAXLST" else "PNRGOV:13:1:IA"
    message = [f"UNH+{ref}+{version}", *body]
    segments = [
        "UNA:+.? '",
        f"UNB+UNOA:4+{sender}:ZZ+{recipient}:ZZ+{stamp}+{ref}",
        *(s + "'" for s in message),
        f"UNT+{len(message) + 1}+{ref}'",
        f"UNZ+1+{ref}'",
    ]
    segments[1] += "'"
    return "\n".join(segments) + "\n"


def paxlst(flight: FlightPlan, people: list[Person], *, sent: datetime, ref: str) -> str:
    """An API passenger list (PAXLST D05B, BGM 745) for one flight leg."""
    body = [
        "BGM+745",
        f"NAD+MS+++{_edi(flight.carrier)} API DESK",
        "COM+442079460000:TE",
        f"TDT+20+{flight.carrier}{flight.number}+++{flight.carrier}",
        f"LOC+125+{flight.origin}",
        f"DTM+189:{flight.departure:%y%m%d%H%M}:201",
        f"LOC+87+{flight.destination}",
        f"DTM+232:{flight.arrival:%y%m%d%H%M}:201",
    ]
    for p in people:
        body += [
            f"NAD+FL+++{_edi(p.surname)}:{_edi(p.given)}",
            f"ATT+2++{p.sex}",
            f"DTM+329:{p.born:%y%m%d}",
            f"LOC+178+{flight.origin}",
            f"LOC+179+{flight.destination}",
            f"NAT+2+{p.nationality}",
            f"DOC+P:110:111+{p.document}",
            f"DTM+36:{p.document_expiry:%y%m%d}",
            f"LOC+91+{p.nationality}",
        ]
    body.append(f"CNT+42:{len(people)}")
    return _envelope("PAXLST", flight.carrier, "GBAPI", sent, ref, body)


def _ddmmmyy(day: date) -> str:
    return day.strftime("%d%b%y").upper()


def pnrgov(flight: FlightPlan, bookings: list[Booking], *, sent: datetime, ref: str) -> str:
    """A PNRGOV push (version 13.1) for one flight, one SRC group per booking, itinerary inbound only."""
    tvl = (
        f"TVL+{flight.departure:%d%m%y:%H%M}:{flight.arrival:%d%m%y:%H%M}"
        f"+{flight.origin}+{flight.destination}+{flight.carrier}+{flight.number}"
    )
    body = ["MSG+:22", f"ORG+{flight.carrier}:{flight.origin}", tvl, f"EQN+{len(bookings)}"]
    for b in bookings:
        body += [
            "SRC",
            f"RCI+{flight.carrier}:{b.locator}::{b.created:%d%m%y}:1200",
            f"DAT+700:{b.created:%d%m%y}:1200",
        ]
        for i, p in enumerate(b.people, start=1):
            title = "MR" if p.sex == "M" else "MS"
            body += [
                f"TIF+{_edi(p.surname)}+{_edi(p.given)} {title}:A:{i}",
                f"SSR+DOCS:HK:1:{flight.carrier}:::::/P/{p.nationality}/{p.document}/{p.nationality}/"
                f"{_ddmmmyy(p.born)}/{p.sex}/{_ddmmmyy(p.document_expiry)}/{_edi(p.surname)}/{_edi(p.given)}",
                f"TKT+125{zlib.crc32(f'{b.locator}{i}'.encode()) % 10**10:010d}:T:1",
                f"FOP+{b.payment}:3",
            ]
        body += [f"{tvl}:Y", "RPI+1+HK"]
        for i, (p, bags) in enumerate(zip(b.people, b.bags, strict=True), start=1):
            title = "MR" if p.sex == "M" else "MS"
            body += [
                f"TRI++{i}:::1",
                f"TIF+{_edi(p.surname)}+{_edi(p.given)} {title}:A:{i}",
                f"TBD++{bags}:{bags * 21}:700+++{flight.carrier}:{(i * 7919) % 1000000:06d}::{flight.destination}",
            ]
    return _envelope("PNRGOV", flight.carrier, "GBPIU", sent, ref, body)


# --- Declarations -------------------------------------------------------------------------------------


def declarations_json(declarations: list[dict[str, Any]]) -> bytes:
    """The documented JSON intake body: ``{"declarations": [...]}``."""
    return json.dumps({"declarations": declarations}, indent=1, sort_keys=True).encode()


CSV_HEADER = [
    "Declaration ID", "Date", "Office ID", "Process Type", "Import Type", "Import Use", "Payment Type",
    "Mode of Transport", "Declarant ID", "Importer ID", "Seller ID", "Courier ID", "HS6 Code",
    "Country of Departure", "Country of Origin", "Tax Rate", "Tax Type", "Country of Origin Indicator",
    "Net Mass", "Item Price",
]  # fmt: skip


def declarations_csv(rows: list[dict[str, str]]) -> bytes:
    """Rows in the built-in ``declarations-csv`` layout, without the label columns (truth stays hidden)."""
    out = io.StringIO()
    writer = csvsafe.DictWriter(out, fieldnames=CSV_HEADER, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(row)
    return out.getvalue().encode()


def replay_rows(path: Path, *, start: int, count: int) -> list[dict[str, str]]:
    """``count`` rows of a shared declarations CSV from row ``start`` (wrapping round), labels included."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    if not rows:
        return []
    return [rows[(start + i) % len(rows)] for i in range(count)]


# --- People and the watchlist ---------------------------------------------------------------------------


def _person(rng: random.Random, nationality: str, today: date, truth: Truth | None = None) -> Person:
    males, females, surnames = world.NAMES.get(nationality, world.NAMES["GBR"])
    sex = rng.choice("MF")
    age_days = rng.randint(19 * 365, 72 * 365)
    return Person(
        surname=rng.choice(surnames),
        given=rng.choice(males if sex == "M" else females),
        sex=sex,
        born=today - timedelta(days=age_days),
        nationality=nationality,
        document=f"{rng.choice(string.ascii_uppercase)}{rng.randint(10_000_000, 99_999_999)}",
        document_expiry=today + timedelta(days=rng.randint(60, 3600)),
        truth=truth,
    )


#: Spelling variants a carrier, a travel agent or a forger might produce.
_VARIANTS = (
    ("MOHAMMED", "MUHAMMAD"), ("MOHAMMAD", "MUHAMMED"), ("MUHAMMAD", "MOHAMED"), ("AHMED", "AHMAD"),
    ("YUSUF", "YOUSSEF"), ("ABDUL", "ABDOUL"), ("HUSSEIN", "HUSAIN"), ("OU", "U"), ("KH", "H"),
    ("EE", "I"), ("Y", "I"), ("AL-", "AL "), ("-", " "), ("SS", "S"), ("LL", "L"), ("TT", "T"),
)  # fmt: skip


def name_variant(name: str, rng: random.Random) -> str:
    """A plausible other spelling of ``name`` (one or two transliteration changes), never the same."""
    variant = name.upper()
    for old, new in rng.sample(_VARIANTS, len(_VARIANTS)):
        if old in variant:
            variant = variant.replace(old, new, 1)
            if variant != name.upper() and rng.random() < 0.6:
                break
    if variant == name.upper():  # nothing to transliterate: drop a doubled or inner vowel
        for i in range(len(variant) - 2, 0, -1):
            if variant[i] in "AEIOU" and variant[i - 1].isalpha() and variant[i + 1].isalpha():
                return variant[:i] + variant[i + 1 :]
    return variant


_COUNTRY_ISO3 = {
    "Afghanistan": "AFG", "Iraq": "IRQ", "Pakistan": "PAK", "Yemen": "YEM", "Somalia": "SOM",
    "Syrian Arab Republic": "SYR", "Libya": "LBY", "Saudi Arabia": "SAU", "Sudan": "SDN",
    "Egypt": "EGY", "Jordan": "JOR", "Kuwait": "KWT", "Indonesia": "IDN", "Philippines": "PHL",
    "Democratic Republic of the Congo": "COD", "Tunisia": "TUN", "Algeria": "DZA", "Morocco": "MAR",
}  # fmt: skip


def listed_person(path: Path, seed: int | str, today: date) -> tuple[Person, str] | None:
    """A person on the UN list (exact date of birth, known nationality), under a variant of the name.

    Returns the traveller and the listed name, or None when the file is missing or has no such person.
    """
    if not path.exists():
        return None
    candidates: list[tuple[str, str, date, str]] = []
    for _, element in ElementTree.iterparse(path, events=("end",)):  # noqa: S314 (our own shared public data)
        if element.tag != "INDIVIDUAL":
            continue
        first = (element.findtext("FIRST_NAME") or "").strip()
        second = (element.findtext("SECOND_NAME") or "").strip()
        born = None
        for dob in element.findall("INDIVIDUAL_DATE_OF_BIRTH"):
            raw = (dob.findtext("DATE") or "").strip()
            if (dob.findtext("TYPE_OF_DATE") or "").strip() == "EXACT" and len(raw) >= 10:
                try:
                    born = date.fromisoformat(raw[:10])
                except ValueError:
                    born = None
        country = (element.findtext("NATIONALITY/VALUE") or "").strip()
        if first and second and born and country in _COUNTRY_ISO3 and " " not in second:
            candidates.append((first, second, born, _COUNTRY_ISO3[country]))
        element.clear()
    if not candidates:
        return None
    rng = rng_for(seed, "listed")
    first, second, born, nationality = rng.choice(sorted(candidates))
    given = first.split()[0]
    person = Person(
        surname=name_variant(second, rng),
        given=name_variant(given, rng) if rng.random() < 0.5 else given,
        sex="M",
        born=born,
        nationality=nationality,
        document=f"{rng.choice('PNR')}{rng.randint(1_000_000, 9_999_999)}",
        document_expiry=today + timedelta(days=900),
        truth=Truth(
            "listed", True, "refusal", note="Listed person under a variant spelling; refused leave to enter."
        ),
    )
    return person, f"{first} {second}"


# --- Truth helpers -------------------------------------------------------------------------------------


def _background(rng: random.Random, kind: str, value: float = 0.0) -> Truth:
    """An ordinary subject: almost always clean, sometimes a small irregularity."""
    roll = rng.random()
    if kind == "traveller":
        if roll < 0.008:
            return Truth("background", True, "seizure", "tobacco", 3200, "sticks", 1400.0,
                         note="Cigarettes over the allowance in the suitcase.")  # fmt: skip
        if roll < 0.013:
            return Truth("background", True, "seizure", "currency", 14500, "money", 14500.0,
                         note="Undeclared cash over EUR 10,000.")  # fmt: skip
        return Truth("background", False)
    if roll < 0.03:
        return Truth("background", True, "irregularity", revenue=round(max(value, 2000) * 0.12, 2),
                     note="Misclassified goods: duty underpaid.")  # fmt: skip
    if roll < 0.035:
        return Truth("background", True, "seizure", "counterfeit", 40, "pcs", 3600.0,
                     note="Counterfeit branded goods among the load.")  # fmt: skip
    return Truth("background", False)


# --- Planning one arrival ----------------------------------------------------------------------------------


def plan_arrival(
    seed: int | str,
    port: str,
    n: int,
    arrival_at: datetime,
    *,
    listed: Person | None = None,
    replay: list[dict[str, str]] | None = None,
) -> ArrivalPlan:
    """Arrival ``n`` at ``port`` (arriving at ``arrival_at``, UTC) with its messages and truths."""
    rng = rng_for(seed, port, n)
    if port in world.ROUTES:
        return _flight(rng, seed, port, n, arrival_at, listed)
    if port == "GBFXT":
        return _vessel(rng, port, n, arrival_at)
    if port == "GBDVR":
        return _truck(rng, port, n, arrival_at)
    return _mail(rng, port, n, arrival_at, replay)


def _flight(
    rng: random.Random, seed: int | str, port: str, n: int, arrival_at: datetime, listed: Person | None
) -> ArrivalPlan:
    carrier, number, origin = rng.choice(world.ROUTES[port])
    country, _, hours = world.AIRPORTS[origin]
    iata = "LHR" if port == "GBLHR" else "MAN"
    arrival = arrival_at.replace(second=0, microsecond=0, tzinfo=None)
    flight = FlightPlan(carrier, number, origin, iata, arrival - timedelta(hours=hours), arrival)
    today = arrival.date()
    nationalities = world.NATIONALITIES_FROM.get(country, ["GBR"])
    source_route = origin in world.SOURCE_AIRPORTS
    bookings: list[Booking] = []
    for _ in range(rng.randint(5, 9)):
        size = rng.choices([1, 2, 3, 4], weights=[55, 30, 10, 5])[0]
        courier_profile = source_route and size == 1 and rng.random() < 0.35
        if courier_profile:
            created = flight.departure.date() - timedelta(days=rng.choice([0, 1, 1, 2]))
            payment = "CA"
        else:
            created = flight.departure.date() - timedelta(days=rng.randint(4, 120))
            payment = "CA" if rng.random() < 0.04 else "CC"
        people = []
        for _ in range(size):
            nationality = rng.choice(nationalities)
            if courier_profile and rng.random() < 0.45:
                kilos = round(rng.uniform(0.6, 3.5), 2)
                truth = Truth("courier", True, "seizure", "cocaine", kilos, "kg", round(kilos * 32000, 2),
                              note=f"{kilos} kg of cocaine: swallowed pellets and a false-bottomed bag.")  # fmt: skip
            elif courier_profile:
                truth = Truth("courier", False)
            else:
                truth = _background(rng, "traveller")
            people.append(_person(rng, nationality, today, truth))
        locator = "".join(rng.choice(string.ascii_uppercase + string.digits) for _ in range(6))
        bags = [rng.choice([0, 1, 1, 2]) if not courier_profile else rng.choice([0, 1]) for _ in people]
        bookings.append(Booking(locator, created, payment, people, bags))
    if listed is not None:
        locator = "".join(rng.choice(string.ascii_uppercase) for _ in range(6))
        bookings.append(Booking(locator, flight.departure.date() - timedelta(days=3), "CC", [listed], [1]))
    people = [p for b in bookings for p in b.people]
    sent = flight.departure
    ref = f"{port[2:]}{n:06d}"
    stamp = f"{carrier}{number}-{arrival:%Y%m%d%H%M}"
    plan = ArrivalPlan(
        port=port,
        mode="air",
        title=f"Flight {carrier}{number} {origin}→{iata}",
        arrival_at=arrival_at,
        lead_minutes=hours * 60,
        payloads=[
            Payload(
                f"sim-api-{stamp}.edi", "paxlst", paxlst(flight, people, sent=sent, ref=ref).encode(), "api"
            ),
            Payload(
                f"sim-pnr-{stamp}.edi", "pnrgov", pnrgov(flight, bookings, sent=sent, ref=ref).encode(), "pnr"
            ),
        ],
    )
    plan.truths = {f"doc:{p.document}": p.truth for p in people if p.truth is not None}
    if rng.random() < 0.6:
        goods = rng.choice(world.AIR_CARGO_GOODS)
        mass = round(rng.uniform(80, 900), 1)
        value = round(mass * goods.value_per_kg * rng.uniform(0.8, 1.2), 2)
        importer = rng.choice(world.IMPORTERS)
        reference = f"LHR{n:06d}A" if port == "GBLHR" else f"MAN{n:06d}A"
        decl = _declaration(
            rng, reference, arrival_at, importer, country, goods, mass, value,
            conveyance={"mode": "air", "carrier": carrier, "flight_number": number, "departure_location": origin,
                        "arrival_location": iata, "eta": arrival_at.isoformat(), "route_countries": [country, "GB"]},
        )  # fmt: skip
        plan.payloads.append(
            Payload(f"sim-cargo-{stamp}.json", "json", declarations_json([decl]), "declaration")
        )
        plan.truths[f"decl:{reference}"] = _background(rng, "consignment", value)
    return plan


def _declaration(
    rng: random.Random,
    reference: str,
    arrival_at: datetime,
    importer: tuple[str, str],
    country: str,
    goods: world.Goods,
    mass: float,
    value: float,
    *,
    conveyance: dict[str, Any],
    containers: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    units = max(1, round(mass / goods.kg_per_unit))
    declared = arrival_at - timedelta(hours=rng.uniform(2, 20))
    return {
        "reference": reference,
        "type": "IMA",
        "procedure": "4000",
        "declared_at": declared.isoformat(timespec="seconds"),
        "date": declared.date().isoformat(),
        "office_of_entry": conveyance["arrival_location"]
        if len(conveyance["arrival_location"]) == 5
        else "GBLHR",
        "invoice_amount": value,
        "currency": "USD",
        "country_of_dispatch": country,
        "country_of_destination": "GB",
        "parties": [
            {"role": "importer", "id": importer[0], "name": importer[1], "country": "GB"},
            {"role": "declarant", "id": rng.choice(world.DECLARANTS), "country": "GB"},
            {
                "role": "consignor",
                "name": f"{goods.description.split()[-1].title()} Export Co",
                "country": country,
            },
        ],
        "conveyance": conveyance,
        "goods": [
            {
                "sequence": 1,
                "hs_code": goods.hs,
                "description": goods.description,
                "quantity": units,
                "quantity_unit": goods.unit,
                "gross_mass_kg": round(mass * 1.06, 1),
                "net_mass_kg": mass,
                "value": value,
                "currency": "USD",
                "origin_country": country,
            }
        ],
        "containers": containers or [],
        "documents": [
            {
                "type": "bill-of-lading" if conveyance["mode"] == "sea" else "other",
                "reference": f"BL{reference}",
            }
        ],
    }


def _vessel(rng: random.Random, port: str, n: int, arrival_at: datetime) -> ArrivalPlan:
    imo, name, carrier, flag, loading, route = rng.choice(world.VESSELS)
    plan = ArrivalPlan(port=port, mode="sea", title=f"Vessel {name} from {loading}", arrival_at=arrival_at,
                       lead_minutes=24 * 60)  # fmt: skip
    declarations = []
    for i in range(rng.randint(5, 9)):
        origin = loading[:2]
        goods = rng.choice(world.SEA_GOODS.get(origin, world.SEA_GOODS["CN"]))
        importer = rng.choice(world.IMPORTERS)
        mass = round(rng.uniform(6000, 24000), 0)
        ratio = rng.uniform(0.85, 1.2)
        truth: Truth
        fruit = imo in world.SOUTH_AMERICAN_VESSELS and goods.hs[:4] in ("0803", "0901")
        if fruit and rng.random() < 0.3:  # the planted route: undervalued fruit or coffee
            ratio = rng.uniform(0.2, 0.4)
            if rng.random() < 0.5:
                kilos = round(rng.uniform(40, 400), 1)
                truth = Truth("fruit", True, "seizure", "cocaine", kilos, "kg", round(kilos * 28000, 2),
                              note=f"{kilos} kg of cocaine in holdalls behind the pallets.")  # fmt: skip
            else:
                truth = Truth("fruit", False)
        elif goods.hs[:4] in ("6403", "6110") and rng.random() < 0.4:  # the watched importers
            importer = rng.choice(world.WATCHED_IMPORTERS)
            if rng.random() < 0.7:
                ratio = rng.uniform(0.3, 0.5)
                truth = Truth("trader", True, "irregularity", revenue=round(mass * goods.value_per_kg * 0.6 * 0.17, 2),
                              note="Invoice understates the value: duty and VAT underpaid.")  # fmt: skip
            else:
                truth = Truth("trader", False)
        else:
            truth = _background(rng, "consignment", mass * goods.value_per_kg)
        value = round(mass * goods.value_per_kg * ratio, 2)
        reference = f"FXT{n:05d}{i:02d}"
        container = f"{carrier[:3]}U{rng.randint(1_000_000, 9_999_999)}"
        declarations.append(
            _declaration(
                rng, reference, arrival_at, importer, origin, goods, mass, value,
                conveyance={"mode": "sea", "vessel_imo": imo, "vessel_name": name, "carrier": carrier,
                            "nationality": flag, "departure_location": loading, "arrival_location": "GBFXT",
                            "eta": arrival_at.isoformat(), "route_countries": [*route, "GB"]},
                containers=[{"number": container, "type": "45R1" if goods.hs[:2] in ("06", "08") else "45G1",
                             "seals": [f"S{rng.randint(100000, 999999)}"]}],
            )
        )  # fmt: skip
        plan.truths[f"decl:{reference}"] = truth
    plan.payloads.append(
        Payload(f"sim-fxt-{n:05d}-{imo}.json", "json", declarations_json(declarations), "declaration")
    )
    return plan


def _truck(rng: random.Random, port: str, n: int, arrival_at: datetime) -> ArrivalPlan:
    country = rng.choice(world.HAULIER_COUNTRIES)
    goods = rng.choice(world.ROAD_GOODS[country])
    registration = (
        f"{country}{rng.randint(1000, 9999)}{''.join(rng.choice('BCDFGHJKLMNPRSTVWXYZ') for _ in range(3))}"
    )
    mass = round(rng.uniform(4000, 22000), 0)
    truth = _background(rng, "consignment", mass * goods.value_per_kg)
    if goods.hs[:4] in ("0702", "0709", "0805") and country in ("ES", "MA") and rng.random() < 0.35:
        mass = round(rng.uniform(1200, 3600), 0)  # a light part-load: a cover load
        if rng.random() < 0.45:
            kilos = round(rng.uniform(80, 600), 1)
            truth = Truth("concealment", True, "seizure", "cannabis", kilos, "kg", round(kilos * 5500, 2),
                          note=f"{kilos} kg of herbal cannabis in a void behind the headboard.")  # fmt: skip
        else:
            truth = Truth("concealment", False)
    value = round(mass * goods.value_per_kg * rng.uniform(0.9, 1.15), 2)
    reference = f"DVR{n:06d}"
    decl = _declaration(
        rng, reference, arrival_at, rng.choice(world.IMPORTERS), country, goods, mass, value,
        conveyance={"mode": "road", "registration": registration, "nationality": country,
                    "departure_location": world.FERRY_FROM[country], "arrival_location": "GBDVR",
                    "eta": arrival_at.isoformat(), "route_countries": [country, "FR", "GB"]},
    )  # fmt: skip
    plan = ArrivalPlan(port=port, mode="road", title=f"Truck {registration} ({goods.description})",
                       arrival_at=arrival_at, lead_minutes=120)  # fmt: skip
    plan.payloads.append(
        Payload(f"sim-dvr-{reference}.json", "json", declarations_json([decl]), "declaration")
    )
    plan.truths[f"decl:{reference}"] = truth
    return plan


def _mail(
    rng: random.Random, port: str, n: int, arrival_at: datetime, replay: list[dict[str, str]] | None
) -> ArrivalPlan:
    """A batch of postal and express declarations in the CSV layout; replayed shared rows when given."""
    plan = ArrivalPlan(port=port, mode="post", title=f"Mail batch {n} at Coventry", arrival_at=arrival_at,
                       lead_minutes=180)  # fmt: skip
    rows: list[dict[str, str]] = []
    day = arrival_at.date().isoformat()
    for i, source in enumerate(replay or []):
        reference = f"COV{n:05d}R{i:02d}"
        row = dict(source) | {"Declaration ID": reference, "Date": day, "Office ID": port}
        fraud = int(source.get("Fraud") or 0)
        critical = int(source.get("Critical Fraud") or 0)
        value = float(source.get("Item Price") or 0)
        truth = (
            Truth(
                "replay",
                True,
                "seizure" if critical else "irregularity",
                "undeclared" if critical else "",
                1 if critical else 0,
                "pkg" if critical else "",
                round(value * 0.1, 2) if critical else 0.0,
                revenue=round(value * 0.08, 2),
                note="Replayed labelled declaration: fraud confirmed.",
            )
            if fraud
            else Truth("replay", False)
        )
        rows.append(row)
        plan.truths[f"decl:{reference}"] = truth
    for i in range(rng.randint(6, 12)):
        hs6, origin = rng.choice(world.POSTAL_GOODS)
        value = round(rng.uniform(15, 900), 2)
        reference = f"COV{n:05d}P{i:02d}"
        rows.append(
            {
                "Declaration ID": reference, "Date": day, "Office ID": port, "Process Type": "B",
                "Import Type": "11", "Import Use": "21", "Payment Type": "11", "Mode of Transport": "50",
                "Declarant ID": "GBEXPRESS01", "Importer ID": f"P{rng.randint(100000, 999999)}",
                "Seller ID": f"S{origin}{rng.randint(1000, 9999)}", "Courier ID": rng.choice(["DHL", "UPS", "RM"]),
                "HS6 Code": hs6, "Country of Departure": origin, "Country of Origin": origin,
                "Tax Rate": "8.0", "Tax Type": "A", "Country of Origin Indicator": "E",
                "Net Mass": f"{rng.uniform(0.2, 6):.2f}", "Item Price": f"{value:.2f}",
            }
        )  # fmt: skip
        truth = _background(rng, "consignment", value)
        if hs6[:4] in ("6403", "6404") and rng.random() < 0.3:
            truth = Truth("postal", True, "seizure", "counterfeit", rng.randint(2, 12), "pcs", round(value * 3, 2),
                          note="Counterfeit branded trainers.")  # fmt: skip
        plan.truths[f"decl:{reference}"] = truth
    plan.payloads.append(
        Payload(f"sim-cov-{n:05d}.csv", "declarations-csv", declarations_csv(rows), "declaration")
    )
    return plan


def truth_key_for(kind: str, facts: dict[str, Any]) -> str:
    """The truth key of a stored subject (travellers by document, consignments by declaration)."""
    if kind == "traveller" and facts.get("document_number"):
        return f"doc:{facts['document_number']}"
    if kind == "consignment" and facts.get("declaration_id"):
        return f"decl:{facts['declaration_id']}"
    return ""


def decimal(value: float) -> Decimal:
    return Decimal(str(round(value, 2)))


# --- Building blocks for scripted arrivals (the training floor's scenarios) -----------------------------


def declaration(
    rng: random.Random,
    reference: str,
    arrival_at: datetime,
    importer: tuple[str, str],
    country: str,
    goods: world.Goods,
    mass: float,
    value: float,
    *,
    conveyance: dict[str, Any],
    containers: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """One import declaration in the documented JSON layout, as the simulated traffic writes them."""
    return _declaration(
        rng, reference, arrival_at, importer, country, goods, mass, value,
        conveyance=conveyance, containers=containers,
    )  # fmt: skip


def person(rng: random.Random, nationality: str, today: date, truth: Truth | None = None) -> Person:
    """An ordinary traveller of ``nationality`` (a common name, a passport, an age of 19 to 72)."""
    return _person(rng, nationality, today, truth)


def background_truth(rng: random.Random, kind: str, value: float = 0.0) -> Truth:
    """What an examination of an ordinary subject finds: almost always nothing."""
    return _background(rng, kind, value)

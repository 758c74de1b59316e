"""Planning one arrival at a port (a flight, a vessel, a truck, a mail batch): its messages and truths."""

from __future__ import annotations

import random
import string
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from apps.simulator import world
from apps.simulator.generators.messages import declarations_csv, declarations_json, paxlst, pnrgov
from apps.simulator.generators.people import _background, _person
from apps.simulator.generators.plans import ArrivalPlan, Booking, FlightPlan, Payload, Person, Truth, rng_for

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
        decl = declaration(
            rng, reference, arrival_at, importer, country, goods, mass, value,
            conveyance={"mode": "air", "carrier": carrier, "flight_number": number, "departure_location": origin,
                        "arrival_location": iata, "eta": arrival_at.isoformat(), "route_countries": [country, "GB"]},
        )  # fmt: skip
        plan.payloads.append(
            Payload(f"sim-cargo-{stamp}.json", "json", declarations_json([decl]), "declaration")
        )
        plan.truths[f"decl:{reference}"] = _background(rng, "consignment", value)
    return plan


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
            declaration(
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
    decl = declaration(
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


def decimal(value: float) -> Decimal:
    return Decimal(str(round(value, 2)))

"""Turning a scripted arrival into messages, with the simulator's generators."""

from __future__ import annotations

import string
from datetime import datetime, timedelta
from typing import Any

from apps.simulator import generators as gen
from apps.simulator import world
from apps.training.scenario.script import SCRIPTED_PORTS, Answer, Arrival, Scenario

# --- Turning a scripted arrival into messages -----------------------------------------------------------


def unique(identifier: str, exercise_number: int) -> str:
    """``identifier`` with its last three characters replaced by the exercise's number (see module doc)."""
    return f"{identifier[:-3]}{exercise_number % 1000:03d}"


def declaration_id(exercise_number: int, arrival_number: int, index: int) -> str:
    return f"TRN{exercise_number % 1000:03d}{arrival_number:02d}{index:02d}"


def _truth(answer: Answer | None, background: gen.Truth) -> gen.Truth:
    if answer is None:
        return background
    if answer.expect == "release":
        return gen.Truth("training", False)
    return gen.Truth("training", True, "seizure", note=answer.finding[:300])


def build_arrival(
    scenario: Scenario, arrival: Arrival, number: int, *, exercise_number: int, arrival_at: datetime
) -> tuple[gen.ArrivalPlan, dict[str, str]]:
    """The arrival's messages (as the simulator's generators write them) and ``{scenario id: truth key}``."""
    rng = gen.rng_for(scenario.seed, "training", exercise_number, number)
    keys: dict[str, str] = {}
    if SCRIPTED_PORTS[arrival.port] == "air":
        return _flight(scenario, arrival, number, exercise_number, arrival_at, rng, keys), keys
    return _cargo(arrival, number, exercise_number, arrival_at, rng, keys), keys


def _cargo(
    arrival: Arrival, number: int, exercise_number: int, arrival_at: datetime, rng: Any, keys: dict[str, str]
) -> gen.ArrivalPlan:
    if arrival.port == "GBFXT":
        imo, name, carrier, flag, loading, route = next(v for v in world.VESSELS if v[0] == arrival.vessel)
        title = f"Vessel {name} from {loading}"
        conveyance: dict[str, Any] = {"mode": "sea", "vessel_imo": imo, "vessel_name": name, "carrier": carrier,
                      "nationality": flag, "departure_location": loading, "arrival_location": "GBFXT",
                      "eta": arrival_at.isoformat(), "route_countries": [*route, "GB"]}  # fmt: skip
    else:
        country = arrival.truck.get("country") or "ES"
        registration = arrival.truck.get("registration") or f"{country}{rng.randint(1000, 9999)}TRN"
        carrier = ""
        title = f"Truck {registration}"
        conveyance = {"mode": "road", "registration": registration, "nationality": country,
                      "departure_location": world.FERRY_FROM.get(country, "FRCQF"), "arrival_location": "GBDVR",
                      "eta": arrival_at.isoformat(), "route_countries": [country, "FR", "GB"]}  # fmt: skip
    plan = gen.ArrivalPlan(port=arrival.port, mode=conveyance["mode"], title=title, arrival_at=arrival_at,
                           lead_minutes=arrival.arrives_after)  # fmt: skip
    declarations = []
    for index, item in enumerate(arrival.consignments):
        reference = declaration_id(exercise_number, number, index)
        goods = world.Goods(item.hs_code, item.description, item.value / item.net_mass_kg, "PK", 20)
        importer = (unique(item.importer[0], exercise_number), item.importer[1])
        containers = None
        if conveyance["mode"] == "sea":
            reefer = item.hs_code[:2] in ("06", "07", "08")
            containers = [{"number": f"{carrier[:3]}U{rng.randint(1_000_000, 9_999_999)}",
                           "type": "45R1" if reefer else "45G1", "seals": [f"S{rng.randint(100000, 999999)}"]}]  # fmt: skip
        declarations.append(
            gen.declaration(
                rng,
                reference,
                arrival_at,
                importer,
                item.origin,
                goods,
                item.net_mass_kg,
                item.value,
                conveyance=conveyance,
                containers=containers,
            )
        )
        if item.consignor:  # the scenario names the sender (a partner's lookout may be on it)
            for party in declarations[-1]["parties"]:
                if party["role"] == "consignor":
                    party["name"] = item.consignor
        key = f"decl:{reference}"
        keys[item.id] = key
        plan.truths[key] = _truth(item.answer, gen.background_truth(rng, "consignment", item.value))
    stamp = f"trn{exercise_number}-{number}"
    plan.payloads.append(
        gen.Payload(f"training-{stamp}.json", "json", gen.declarations_json(declarations), "declaration")
    )
    return plan


def _flight(
    scenario: Scenario, arrival: Arrival, number: int, exercise_number: int, arrival_at: datetime, rng: Any,
    keys: dict[str, str],
) -> gen.ArrivalPlan:  # fmt: skip
    origin = arrival.flight.get("origin") or "JFK"
    carrier = arrival.flight.get("carrier") or "BA"
    flight_number = arrival.flight.get("number") or "1"
    country, _, hours = world.AIRPORTS[origin]
    iata = "LHR" if arrival.port == "GBLHR" else "MAN"
    landing = arrival_at.replace(second=0, microsecond=0, tzinfo=None)
    flight = gen.FlightPlan(carrier, flight_number, origin, iata, landing - timedelta(hours=hours), landing)
    today = landing.date()
    bookings: list[gen.Booking] = []
    for item in arrival.travellers:
        document = unique(item.document, exercise_number)
        person = gen.Person(
            surname=item.surname, given=item.given, sex=item.sex, born=item.born, nationality=item.nationality,
            document=document, document_expiry=today + timedelta(days=rng.randint(200, 3000)),
            truth=_truth(item.answer, gen.background_truth(rng, "traveller")),
        )  # fmt: skip
        locator = "".join(rng.choice(string.ascii_uppercase + string.digits) for _ in range(6))
        created = flight.departure.date() - timedelta(days=item.booked_days_before)
        payment = "CA" if item.payment == "cash" else "CC"
        bookings.append(gen.Booking(locator, created, payment, [person], [item.bags]))
        keys[item.id] = f"doc:{document}"
    nationalities = world.NATIONALITIES_FROM.get(country, ["GBR"])
    for _ in range(arrival.passengers):  # ordinary travellers, as the simulator makes them
        person = gen.person(rng, rng.choice(nationalities), today, gen.background_truth(rng, "traveller"))
        person.document = unique(person.document, exercise_number)
        locator = "".join(rng.choice(string.ascii_uppercase + string.digits) for _ in range(6))
        created = flight.departure.date() - timedelta(days=rng.randint(5, 90))
        bookings.append(gen.Booking(locator, created, "CC", [person], [rng.choice([0, 1, 2])]))
    rng.shuffle(bookings)
    people = [p for b in bookings for p in b.people]
    ref = f"T{exercise_number % 1000:03d}{number:03d}"
    stamp = f"trn{exercise_number}-{number}"
    plan = gen.ArrivalPlan(
        port=arrival.port, mode="air", title=f"Flight {carrier}{flight_number} {origin}→{iata}",
        arrival_at=arrival_at, lead_minutes=arrival.arrives_after,
        payloads=[
            gen.Payload(f"training-api-{stamp}.edi", "paxlst",
                        gen.paxlst(flight, people, sent=flight.departure, ref=ref).encode(), "api"),
            gen.Payload(f"training-pnr-{stamp}.edi", "pnrgov",
                        gen.pnrgov(flight, bookings, sent=flight.departure, ref=ref).encode(), "pnr"),
        ],
    )  # fmt: skip
    plan.truths = {f"doc:{p.document}": p.truth for p in people if p.truth is not None}
    return plan

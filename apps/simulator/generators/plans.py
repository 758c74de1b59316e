"""What the generators make: an arrival's plan, its payloads, its travellers and their hidden truths."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any


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

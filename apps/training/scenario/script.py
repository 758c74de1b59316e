"""A scenario as read: its arrivals, consignments, travellers and answers, and what a file may say."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

SCENARIO_DIR = Path(__file__).resolve().parent.parent / "scenarios"
RISK_AREAS = (
    "narcotics", "weapons", "security", "revenue", "ipr", "cites", "sps", "strategic", "currency",
    "people_smuggling", "immigration",
)  # fmt: skip
EXPECTS = ("target", "release", "leave")
SCRIPTED_PORTS = {"GBFXT": "sea", "GBDVR": "road", "GBLHR": "air", "GBMNC": "air"}
BACKGROUND_PORTS = ("GBFXT", "GBDVR", "GBLHR", "GBMNC", "GBCOV")
PARTNER_AGENCIES = ("POL", "IMM", "BIO")


class ScenarioError(ValueError):
    """A scenario with problems; ``problems`` lists each as ``<file>, line <n>: <key>: <what>``."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


# --- The scenario, as read -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Answer:
    expect: str
    risk_area: str
    finding: str
    blind_spot: bool
    hold: dict[str, str]


@dataclass(frozen=True, slots=True)
class Consignment:
    id: str
    hs_code: str
    description: str
    origin: str
    net_mass_kg: float
    value: float
    importer: tuple[str, str]
    answer: Answer | None
    consignor: str = ""


@dataclass(frozen=True, slots=True)
class Traveller:
    id: str
    surname: str
    given: str
    sex: str
    born: date
    nationality: str
    document: str
    booked_days_before: int
    payment: str
    bags: int
    answer: Answer | None


@dataclass(frozen=True, slots=True)
class Arrival:
    id: str
    at: float
    port: str
    arrives_after: float
    vessel: str = ""
    truck: dict[str, str] = field(default_factory=dict)
    flight: dict[str, str] = field(default_factory=dict)
    consignments: tuple[Consignment, ...] = ()
    travellers: tuple[Traveller, ...] = ()
    passengers: int = 0

    def items(self) -> tuple[Consignment | Traveller, ...]:
        """Its consignments, then its travellers."""
        return (*self.consignments, *self.travellers)


@dataclass(frozen=True, slots=True)
class Scenario:
    key: str
    title: str
    briefing: str
    seed: int
    speed: float
    duration: float
    rules: tuple[dict[str, Any], ...]
    model: dict[str, Any]
    alerts: tuple[dict[str, Any], ...]
    background: dict[str, int]
    arrivals: tuple[Arrival, ...]
    text: str

    def planted(self) -> list[tuple[Arrival, Consignment | Traveller]]:
        """Every consignment and traveller that carries an answer, with its arrival."""
        return [(a, item) for a in self.arrivals for item in a.items() if item.answer is not None]

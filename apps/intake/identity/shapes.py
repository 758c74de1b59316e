"""What the person view holds: its records, journeys, parties, links and the floor's work."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from apps.intake.models import Outcome, Subject
from apps.intake.presentation import Provenance, Section, readable_date

#: Which keys make two records of a kind "the same", and how the page says why.
MERGE_KEYS: dict[str, dict[str, str]] = {
    "traveller": {"doc:": "same travel document", "namedob:": "same name and date of birth"},
    "trader": {"trader:": "same trader identifier"},
}


#: Rounds of "records sharing a key with the records found so far" (A and B by document, B and C by name and
#: date of birth after a new passport), and at most this many records on one page.
MAX_ROUNDS = 3


MAX_RECORDS = 40


#: Records read in one round at most (a placeholder document number shared by thousands is no identity).
MAX_FETCH = 200


IDENTITY_GROUPS: dict[str, list[tuple[str, list[str]]]] = {
    "traveller": [
        ("Person", ["surname", "given_names", "date_of_birth", "sex", "nationality", "residence_country"]),
        ("Travel document", ["document_type", "document_number", "document_country", "document_expiry"]),
    ],
    "trader": [("Trader", ["trader_id", "trader_name", "trader_country"])],
}


JOURNEY_GROUPS: list[tuple[str, list[str]]] = [
    ("Journey", ["origin_airport", "destination_airport", "route_airports", "embarkation", "debarkation",
                 "departure_at", "seat", "travel_role", "age"]),
    ("Booking", ["booking_ref", "booking_date", "booking_to_departure_hours", "payment_form", "paid_cash",
                 "one_way", "bags_count", "bags_weight_kg", "frequent_flyer", "co_traveller_count"]),
]  # fmt: skip


#: Facts that repeat another (the full name, the carrier of the flight number) or name the format.
HIDDEN_FACTS = frozenset({"full_name", "carrier", "message_type", "flight_number", "hs6", "hs_chapter"})


MESSAGE_KINDS = {
    "paxlst": "API list (PAXLST)",
    "pnrgov": "PNR (PNRGOV)",
    "wco-dec": "declaration (WCO)",
    "declarations-csv": "declaration (CSV)",
    "json": "declaration (JSON)",
    "xfwb": "air waybill (XFWB)",
    "xfzb": "house waybill (XFZB)",
}


@dataclass
class Record:
    """One record of the person as this viewer may see it (masked when depersonalised)."""

    number: int
    id: int
    source_id: int
    owner_agency_id: int
    title: str
    facts: dict[str, Any]
    provenance: Provenance
    masked: bool
    status: str
    status_label: str
    version: int
    port: str
    arrival_at: datetime | None
    reason: str = ""
    opened: bool = False


@dataclass
class Journey:
    """The records of one flight (an API list and a PNR of the same trip), their facts merged."""

    heading: str
    departure: str  # ISO, for the order
    sources: list[Provenance]
    sections: list[Section]

    @property
    def departure_label(self) -> str:
        return readable_date(self.departure) if self.departure else ""


@dataclass
class PartyRow:
    """A declaration or manifest in which a trader of the page is a party."""

    id: int
    title: str
    role: str
    source: str
    received_at: datetime
    arrival_at: datetime | None
    finding: bool | None  # None: never examined


@dataclass
class LinkRow:
    kind: str
    reason: str
    id: int
    title: str
    copies: int = 1  # the same flight as a record of several sources is listed once


@dataclass
class PersonWork:
    """What the floor did with the person: targets and assessments the viewer may see, and whether he may
    nominate (and which record the nomination would be for)."""

    can_nominate: bool = False
    nominate: Record | None = None
    open_target: Any = None
    targets: list[tuple[Any, int]] = field(default_factory=list)  # (target, record number)
    assessments: list[tuple[Any, int, str]] = field(default_factory=list)  # (assessment, number, area)
    show_targets: bool = False
    show_assessments: bool = False


@dataclass
class PersonView:
    kind: str
    kind_label: str
    title: str
    opened: Record
    records: list[Record]
    identity: list[Section]
    journeys: list[Journey] = field(default_factory=list)
    other: list[Section] = field(default_factory=list)
    parties: list[PartyRow] = field(default_factory=list)
    party_count: int = 0
    links: list[LinkRow] = field(default_factory=list)
    outcomes: list[tuple[Outcome, int]] = field(default_factory=list)
    history: list[Subject] = field(default_factory=list)
    opened_sections: list[Section] = field(default_factory=list)  # an earlier version that was opened
    capped: bool = False
    pending_unmask: set[int] = field(default_factory=set)
    can_ask_unmask: bool = False
    work: PersonWork = field(default_factory=PersonWork)

    @property
    def merged(self) -> list[Record]:
        """The records whose facts make the page: every record but an earlier version that was opened."""
        return [r for r in self.records if not (r.opened and r.status == Subject.Status.SUPERSEDED)]

    @property
    def masked_records(self) -> list[Record]:
        return [r for r in self.records if r.masked]

    @property
    def source_count(self) -> int:
        return len({r.provenance.source for r in self.records})

    @property
    def differing(self) -> list[str]:
        """Labels of the identity facts on which the records disagree (said once at the top)."""
        return [fact.label for _, facts in self.identity for fact in facts if fact.differs]

"""Normalised passenger-side records: what an API (PAXLST) message or a PNR says about people and flights.

These are plain dataclasses, independent of the message format and of Django, so that API and PNR data
from any carrier land in one shape and can be linked (the same traveller in API and PNR). Codes are kept
as the standards give them: IATA airport and airline codes, ISO 3166 country codes (alpha-2 or alpha-3,
as sent), document type codes (P passport, I identity card, V visa, ...). Datetimes are naive local
times at the airport, as the messages carry them. Empty strings mean "not given".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

__all__ = [
    "Address",
    "Bags",
    "Flight",
    "PassengerReport",
    "Seat",
    "TravelDocument",
    "Traveller",
]


@dataclass(slots=True)
class Flight:
    """One flight leg (a movement): who operates it, between which airports, when.

    ``number`` is the flight number without the carrier prefix and without leading zeros ("UA0989" →
    carrier "UA", number "989"), so that API and PNR legs compare equal.
    """

    carrier: str
    number: str
    origin: str = ""  # IATA airport code of departure
    destination: str = ""  # IATA airport code of arrival
    scheduled_departure: datetime | None = None
    scheduled_arrival: datetime | None = None
    leg_sequence: int = 1  # 1-based order of the leg in the message or itinerary
    operating_carrier: str = ""  # when a codeshare names a different operator
    booking_class: str = ""
    status: str = ""  # PNR segment status (HK confirmed, ...)

    @property
    def designator(self) -> str:
        return f"{self.carrier}{self.number}"


@dataclass(slots=True)
class TravelDocument:
    """A passport, identity card, visa or other document a traveller presented or declared."""

    doc_type: str  # P passport, I/ID identity card, V visa, ... as sent
    number: str
    issuing_country: str = ""
    expiry: date | None = None
    issued: date | None = None
    place_of_issue: str = ""
    valid_for_country: str = ""  # visas: the country the visa is for
    surname: str = ""  # name as printed on the document, when the message gives it
    given_names: str = ""


@dataclass(slots=True)
class Address:
    """A postal address; ``kind`` says which (residence, destination, contact, billing, ...)."""

    kind: str
    street: str = ""
    city: str = ""
    region: str = ""
    postcode: str = ""
    country: str = ""


@dataclass(slots=True)
class Seat:
    """A seat on one leg (origin/destination empty when the message does not say which leg)."""

    number: str
    origin: str = ""
    destination: str = ""
    checked_in: bool = False  # True for a check-in (boarding) seat, False for a reservation


@dataclass(slots=True)
class Bags:
    """Checked baggage: how many pieces, their weight and their tag numbers."""

    count: int | None = None
    weight: float | None = None
    weight_unit: str = ""  # "KG" or "LB"
    tags: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Traveller:
    """One person on a passenger list or in a PNR.

    ``role`` is "passenger", "crew" or "infant". ``co_travellers`` names the other travellers on the same
    booking ("SURNAME/GIVEN NAMES"). ``source_message_ref`` is the message reference of the message the
    record came from (UNH reference, plus the record locator for a PNR).
    """

    surname: str
    given_names: str = ""
    date_of_birth: date | None = None
    sex: str = ""  # "M", "F", "U" or "X"
    nationality: str = ""
    role: str = "passenger"
    documents: list[TravelDocument] = field(default_factory=list)
    country_of_residence: str = ""
    place_of_birth: str = ""
    addresses: list[Address] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    itinerary: list[Flight] = field(default_factory=list)
    embarkation: str = ""  # airport where the traveller boards (API LOC 178)
    debarkation: str = ""  # airport where the traveller leaves the flight (API LOC 179)
    seats: list[Seat] = field(default_factory=list)
    bags: Bags | None = None
    booking_reference: str = ""  # record locator ("carrier:locator" in PNR, as sent in API)
    booking_date: date | None = None
    payment_form: str = ""  # "cash", "card", "cheque", "invoice", "other" or the code as sent
    # SHA-256 of each full card number the booking was paid with (apps.intake.keys.card_key); the number
    # itself is never kept, and a masked one (XXXX1186) gives none.
    payment_card_hashes: list[str] = field(default_factory=list)
    frequent_flyer: str = ""  # carrier code + number
    ticket_number: str = ""
    traveller_ref: str = ""  # the sender's reference for this traveller in the message
    crew_function: str = ""
    co_travellers: list[str] = field(default_factory=list)
    source_message_ref: str = ""

    @property
    def seat(self) -> str:
        """The first seat known, checked-in seats first (the usual single value screens show)."""
        for seat in sorted(self.seats, key=lambda s: not s.checked_in):
            return seat.number
        return ""

    @property
    def full_name(self) -> str:
        return f"{self.surname}/{self.given_names}" if self.given_names else self.surname


@dataclass(slots=True)
class PassengerReport:
    """What one message says about one flight set and its travellers: a PAXLST message or one PNR.

    This is the single record a passenger ``ParsedMessage`` carries. ``flights`` are the legs (API: the
    TDT groups; PNR: the itinerary); ``reported_flight`` is the flight a PNR push was sent for.
    """

    source: str  # "paxlst" or "pnrgov"
    message_ref: str
    sender: str = ""
    recipient: str = ""
    prepared_at: datetime | None = None  # interchange preparation date/time
    document_code: str = ""  # API BGM document name code: 745 passenger list, 250 crew list, ...
    flights: list[Flight] = field(default_factory=list)
    travellers: list[Traveller] = field(default_factory=list)
    reported_flight: Flight | None = None
    record_locator: str = ""  # PNR only: "carrier:locator"
    booking_date: date | None = None
    last_modified: datetime | None = None  # PNR only: last PNR transaction (DAT 700)
    reporting_party: str = ""  # API NAD+MS: who to contact about the list
    reporting_contact: list[str] = field(default_factory=list)
    declared_count: int | None = None  # API CNT: how many travellers the sender says it sent
    bags: Bags | None = None  # PNR excess baggage not tied to one traveller

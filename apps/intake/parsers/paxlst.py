"""PAXLST (Advance Passenger Information) parser: passenger and crew lists to :class:`PassengerReport`.

A PAXLST message is: BGM (which list: 745 passengers, 250 crew, ...), a reporting party (NAD+MS, COM),
flight legs (TDT, each with LOC/DTM pairs), then one group per traveller (NAD, ATT, DTM, GEI, FTX, LOC,
COM, EMP, NAT, RFF, then DOC groups with DTM/LOC) and CNT. Carriers differ: optional segments are
absent, qualifiers come in other orders, extra segments appear. The reader therefore keys everything on
qualifiers and on the group the segment falls in, and ignores what it does not know.

Identity for idempotence: ``message_key`` is ``paxlst:<UNH reference>:<content hash>``. The hash covers
the message body (BGM..CNT) in a separator-independent form, so a resend of the same message in a new
interchange (new UNB reference, other separators or line breaks) gets the same key, while a corrected
list under the same reference gets a new one. The envelope numbers alone are not used: carriers reuse
and reset them.
"""

from __future__ import annotations

from datetime import date, datetime

from apps.intake.records.passenger import (
    Address,
    Bags,
    Flight,
    PassengerReport,
    Seat,
    TravelDocument,
    Traveller,
)

from .base import ParsedMessage, ParseResult, Problem
from .edifact import Interchange, Message, Segment, interchange_version, parse_dtm, parse_messages

__all__ = ["parse_paxlst", "split_flight_designator"]

# BGM document name codes (1001) for lists of crew rather than passengers.
CREW_LISTS = {"250", "266", "336"}
# NAD party qualifiers (3035) for travellers; everything else (MS, ...) is not a traveller.
PASSENGER_PARTIES = {"FL", "DDT"}
CREW_PARTIES = {"FM", "DDU", "COT"}
# BGM document identifiers (1004) some implementations use to say what the list does.
CANCEL_IDENTIFIERS = ("X",)  # XR cancel reservation, XP, ... (prefix)
UPDATE_IDENTIFIERS = {"C", "CP", "CC", "CT", "RP", "DP"}
# BGM message function codes (1225), when a sender uses them.
MESSAGE_FUNCTIONS = {"1": "cancellation", "3": "cancellation", "4": "update", "5": "update", "9": "original"}


def split_flight_designator(designator: str, carrier: str = "") -> tuple[str, str]:
    """Split "UA0989" into ("UA", "989"). ``carrier`` (when the message names it) wins over guessing;
    without it the airline designator is the first two characters (IATA) or three letters (ICAO)."""
    designator = designator.strip().replace(" ", "")
    carrier = carrier.strip()
    if carrier and designator.startswith(carrier):
        number = designator[len(carrier) :]
    elif carrier:
        number = designator
    elif len(designator) > 3 and designator[:3].isalpha() and not designator[2].isdigit():
        carrier, number = designator[:3], designator[3:]
    else:
        carrier, number = designator[:2], designator[2:]
    return carrier, number.lstrip("0") or number


def parse_paxlst(data: bytes | str, *, file: str) -> ParseResult:
    """Parse an interchange of PAXLST messages; one ParsedMessage per message, never raising."""

    def parse(interchange: Interchange, message: Message, result: ParseResult) -> None:
        result.messages.append(_parse_message(interchange, message, file))

    return parse_messages(data, file=file, format="paxlst", message_type="PAXLST", parse=parse)


class _Reader:
    """Walks one message body once, keeping the group the current segment belongs to."""

    def __init__(self, interchange: Interchange, message: Message, file: str) -> None:
        self.file = file
        self.interchange = interchange
        self.message = message
        self.reference_date: date = (interchange.prepared or datetime.now()).date()
        self.report = PassengerReport(
            source="paxlst",
            message_ref=message.reference,
            sender=interchange.sender,
            recipient=interchange.recipient,
            prepared_at=interchange.prepared,
        )
        self.function = "original"
        self.warnings: list[Problem] = list(interchange.warnings) + list(message.warnings)
        self.flight: Flight | None = None
        self.flight_place = ""  # the last LOC of the current flight leg
        self.traveller: Traveller | None = None
        self.document: TravelDocument | None = None
        self.in_header = True  # before the first traveller: NAD+MS and COM describe the sender
        self.counts: dict[str, int] = {}

    def read(self) -> None:
        handlers = {
            "BGM": self.bgm,
            "NAD": self.nad,
            "COM": self.com,
            "TDT": self.tdt,
            "LOC": self.loc,
            "DTM": self.dtm,
            "ATT": self.att,
            "NAT": self.nat,
            "RFF": self.rff,
            "DOC": self.doc,
            "FTX": self.ftx,
            "EMP": self.emp,
            "CNT": self.cnt,
        }
        for segment in self.message.body:
            handler = handlers.get(segment.tag)
            if handler is not None:
                handler(segment)

    def warn(self, segment: Segment, reason: str) -> None:
        self.warnings.append(Problem(self.file, segment.where, reason))

    def bgm(self, segment: Segment) -> None:
        self.report.document_code = segment.get(0).strip()
        identifier = segment.get(1).strip().upper()
        function = MESSAGE_FUNCTIONS.get(segment.get(2).strip())
        if function:
            self.function = function
        elif identifier.startswith(CANCEL_IDENTIFIERS):
            self.function = "cancellation"
        elif identifier in UPDATE_IDENTIFIERS:
            self.function = "update"

    def nad(self, segment: Segment) -> None:
        qualifier = segment.get(0).strip().upper()
        name = segment.element(3)
        if qualifier == "MS" or (self.in_header and self.traveller is None and self.flight is None):
            self.report.reporting_party = " ".join(c.strip() for c in name if c.strip())
            return
        self.in_header = False
        crew = qualifier in CREW_PARTIES or (
            qualifier not in PASSENGER_PARTIES and self.report.document_code in CREW_LISTS
        )
        traveller = Traveller(
            surname=name[0].strip() if name else "",
            given_names=" ".join(c.strip() for c in name[1:] if c.strip()),
            role="crew" if crew else "passenger",
            source_message_ref=self.message.reference,
        )
        street = " ".join(c.strip() for c in segment.element(4) if c.strip())
        city, region = segment.get(5).strip(), segment.get(6).strip()
        postcode, country = segment.get(7).strip(), segment.get(8).strip()
        if street or city or postcode or country:
            traveller.addresses.append(Address("residence", street, city, region, postcode, country))
        if not traveller.surname:
            self.warn(segment, "traveller without a surname")
        self.report.travellers.append(traveller)
        self.traveller, self.document, self.flight = traveller, None, None

    def com(self, segment: Segment) -> None:
        phones: list[str] = []
        emails: list[str] = []
        for element in segment.elements:
            number = element[0].strip() if element else ""
            kind = element[1].strip().upper() if len(element) > 1 else ""
            if not number:
                continue
            (emails if kind == "EM" or "@" in number else phones).append(number)
        if self.traveller is None:
            self.report.reporting_contact.extend(phones + emails)
        else:
            self.traveller.phones.extend(phones)
            self.traveller.emails.extend(emails)

    def tdt(self, segment: Segment) -> None:
        carrier, number = split_flight_designator(segment.get(1), segment.get(4))
        self.flight = Flight(carrier=carrier, number=number, leg_sequence=len(self.report.flights) + 1)
        self.flight_place = ""
        self.report.flights.append(self.flight)
        self.traveller, self.document = None, None

    def loc(self, segment: Segment) -> None:
        qualifier = segment.get(0).strip()
        place = segment.get(1).strip() or segment.get(1, 3).strip()
        if self.flight is not None:
            self.flight_place = place
            if qualifier == "125" or (qualifier == "92" and not self.flight.origin):
                self.flight.origin = place
            elif qualifier in ("87", "92"):
                self.flight.destination = place
            return
        traveller = self.traveller
        if traveller is None:
            return
        if qualifier == "91" and self.document is not None:
            self.document.issuing_country = place
        elif qualifier == "174":
            traveller.country_of_residence = place
        elif qualifier == "178":
            traveller.embarkation = place
        elif qualifier == "179":
            traveller.debarkation = place
        elif qualifier == "180":
            traveller.place_of_birth = place

    def dtm(self, segment: Segment) -> None:
        qualifier, value, fmt = segment.get(0).strip(), segment.get(0, 1), segment.get(0, 2).strip()
        if self.flight is not None:
            moment = parse_dtm(value, fmt, reference=self.reference_date)
            # Some senders qualify the place otherwise (LOC+22); the time that follows says what it is.
            if qualifier == "189":
                self.flight.scheduled_departure = moment
                self.flight.origin = self.flight.origin or self.flight_place
            elif qualifier == "232":
                self.flight.scheduled_arrival = moment
                self.flight.destination = self.flight.destination or self.flight_place
            return
        if self.traveller is None:
            return
        past = qualifier in ("329", "182")
        moment = parse_dtm(value, fmt, reference=self.reference_date, past=past)
        day = moment.date() if moment else None
        if moment is None and value.strip():
            self.warn(segment, f"date {value!r} not understood")
        if qualifier == "329":
            self.traveller.date_of_birth = day
        elif self.document is not None and qualifier == "36":
            self.document.expiry = day
        elif self.document is not None and qualifier == "182":
            self.document.issued = day

    def att(self, segment: Segment) -> None:
        if self.traveller is not None and segment.get(0).strip() == "2":
            self.traveller.sex = segment.get(2).strip().upper()[:1]

    def nat(self, segment: Segment) -> None:
        if self.traveller is not None:
            self.traveller.nationality = segment.get(1).strip()

    def rff(self, segment: Segment) -> None:
        qualifier, value = segment.get(0).strip().upper(), segment.get(0, 1).strip()
        traveller = self.traveller
        if traveller is None:
            return
        if qualifier == "AVF":
            traveller.booking_reference = value
        elif qualifier == "ABO":
            traveller.traveller_ref = value
        elif qualifier == "SEA" and value:
            traveller.seats.append(Seat(value))

    def doc(self, segment: Segment) -> None:
        if self.traveller is None:
            return
        self.document = TravelDocument(doc_type=segment.get(0).strip(), number=segment.get(1).strip())
        self.traveller.documents.append(self.document)

    def ftx(self, segment: Segment) -> None:
        if self.traveller is None or segment.get(0).strip().upper() != "BAG":
            return
        tag, count = segment.get(3).strip(), segment.get(3, 1).strip()
        bags = self.traveller.bags or Bags(count=0)
        if tag:
            bags.tags.append(tag)
        bags.count = (bags.count or 0) + (int(count) if count.isdigit() else 1)
        self.traveller.bags = bags

    def emp(self, segment: Segment) -> None:
        if self.traveller is not None:
            self.traveller.crew_function = segment.get(1).strip()

    def cnt(self, segment: Segment) -> None:
        value = segment.get(0, 1).strip() or segment.get(1).strip()
        if value.isdigit():
            self.counts[segment.get(0).strip()] = int(value)

    def finish(self) -> ParsedMessage:
        report = self.report
        by_booking: dict[str, list[Traveller]] = {}
        for traveller in report.travellers:
            traveller.itinerary = list(report.flights)
            if traveller.booking_reference:
                by_booking.setdefault(traveller.booking_reference, []).append(traveller)
        for party in by_booking.values():
            for traveller in party:
                traveller.co_travellers = [o.full_name for o in party if o is not traveller]
        declared = sum(self.counts.values()) if self.counts else None
        report.declared_count = declared
        if declared is not None and declared != len(report.travellers):
            self.warnings.append(
                Problem(
                    self.file,
                    self.message.where,
                    f"CNT declares {declared} traveller(s), the message lists {len(report.travellers)}",
                )
            )
        if not report.flights:
            self.warnings.append(Problem(self.file, self.message.where, "no TDT flight in the message"))
        return ParsedMessage(
            kind="paxlst",
            message_key=f"paxlst:{self.message.reference}:{self.message.content_hash()[:32]}",
            function=self.function,
            version_key=interchange_version(self.interchange),
            records=[report],
            warnings=self.warnings,
        )


def _parse_message(interchange: Interchange, message: Message, file: str) -> ParsedMessage:
    reader = _Reader(interchange, message, file)
    reader.read()
    return reader.finish()

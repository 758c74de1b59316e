"""PNRGOV parser: Passenger Name Records pushed by carriers, one :class:`PassengerReport` per PNR.

A PNRGOV message is: MSG, ORG (sender), TVL (the flight the push is for), EQN (how many PNRs), then one
group per PNR, each opened by SRC: RCI (record locator, creation date), PNR-level SSR/DAT/IFT/ORG/ADD/
EBD, one TIF group per traveller (FTI, IFT, REF, FAR, SSR, TKT, MON, PTK, TXD, DAT, FOP, ...), then the
itinerary (TVL, RPI, APD, SSR, and TRI/TIF/SSD/TBD check-in groups per traveller), then the history (ABI,
DAT, SAC, ...), which is not read. Senders vary a lot; the reader keys on tags and qualifiers and ignores
what it does not know.

Sensitive data is removed before anything is read: see :func:`filter_sensitive_segments`.

Identity: ``message_key`` is ``pnrgov:<carrier>:<locator>:<content hash of the PNR's kept segments>``,
so the same PNR pushed twice (even in another interchange, with other separators) is stored once;
``version_key`` is the interchange preparation date/time and control reference, so a later push of the
same record locator supersedes the earlier one. The PNR's identity is ``PassengerReport.record_locator``.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from functools import lru_cache

from apps.intake.keys import BadKey, card_key
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
from .edifact import (
    Interchange,
    Message,
    Segment,
    content_hash,
    interchange_version,
    parse_messages,
    resolve_year,
)
from .paxlst import split_flight_designator

__all__ = ["KEPT_SSR_CODES", "SENSITIVE_SSR_CODES", "filter_sensitive_segments", "parse_pnrgov"]

# Special service requests kept on intake: documents, contacts, seats, infants, tickets, frequent flyer.
# These are what targeting needs and reveal nothing about health, religion, ethnicity, politics or sex life.
KEPT_SSR_CODES = frozenset(
    {
        "DOCS", "DOCO", "DOCA", "FOID", "PSPT",  # travel documents, visas, addresses
        "CTCE", "CTCM", "CTCH", "CTCB", "CTCP", "CTCT", "CTCR", "PCTC",  # contacts
        "SEAT", "NSST", "NSSA", "NSSW", "NSSB", "SMST", "SMSA", "SMSW", "RQST",  # seats
        "INFT", "CHLD",  # infants, children
        "TKNE", "TKNA", "TKNM", "TKNC",  # ticket numbers
        "FQTV", "FQTR", "FQTS", "FQTU",  # frequent flyer
        "XBAG",  # extra bag
    }
)  # fmt: skip
# Codes known to carry special categories of personal data (GDPR art. 9, PNR directive art. 13(4)).
# They are dropped because they are not in KEPT_SSR_CODES; the list documents why that matters and is
# checked by the tests. Meals reveal religion or health, assistance codes reveal health.
SENSITIVE_SSR_CODES = frozenset(
    {
        # meals
        "AVML", "BBML", "BLML", "CHML", "DBML", "FPML", "GFML", "HFML", "HNML", "JPML", "KSML", "LCML",
        "LFML", "LPML", "LSML", "MOML", "NFML", "NLML", "ORML", "PRML", "RVML", "SFML", "SPML", "VGML",
        "VJML", "VLML", "VOML", "SPMLS",
        # disability, health, medical assistance
        "WCHR", "WCHS", "WCHC", "WCBD", "WCBW", "WCMP", "WCOB", "WCLB", "MEDA", "BLND", "DEAF", "DPNA",
        "STCR", "OXYG", "POXY", "LEGL", "LEGR", "LEGS", "MAAS", "SVAN", "ESAN", "PPOC", "MEQT", "DISA",
        # free text that can say anything
        "OTHS", "CKIN", "GPST", "SPEQ", "EXST",  # EXST (extra seat) can reveal a health reason
    }
)  # fmt: skip
# Free-text segments dropped whole: remarks, OSI, long text (PNR history lines).
FREE_TEXT_TAGS = frozenset({"IFT", "LTS", "FTX"})

PAYMENT_FORMS = {"CA": "cash", "CC": "card", "DC": "card", "DB": "card", "CK": "cheque", "INV": "invoice",
                 "MS": "other", "EX": "exchange", "GR": "other"}  # fmt: skip
ADDRESS_KINDS = {"700": "contact", "701": "billing", "702": "home", "703": "business"}
WEIGHT_UNITS = {"700": "KG", "701": "LB", "K": "KG", "L": "LB", "KG": "KG", "LB": "LB"}
TITLES = ("MR", "MRS", "MS", "MISS", "MSTR", "DR", "PROF", "REV", "CHD", "INF")
_GLUED_TITLE = re.compile(r"(?<=[A-Z]{2})(MRS|MSTR|MISS|MR)$")
_MONTHS = {
    m: i
    for i, m in enumerate(
        ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"], 1
    )
}
_PHONE = re.compile(r"\+?\d[\d \-().]{4,}\d")


def filter_sensitive_segments(segments: list[Segment]) -> tuple[list[Segment], int]:
    """Drop what may reveal racial or ethnic origin, religion, political opinion, health or sex life.

    Kept: SSRs whose code is in :data:`KEPT_SSR_CODES` (documents, contacts, seats, infants, tickets,
    frequent flyer), contact remarks (OSI ``CTC...`` in IFT), and every non-free-text segment.
    Dropped and counted: every other SSR (meal and assistance codes such as those in
    :data:`SENSITIVE_SSR_CODES`, and any code not known to be harmless), and the free-text segments
    in :data:`FREE_TEXT_TAGS` (IFT remarks and OSI, LTS history lines, FTX). An allow-list, so a new
    sensitive code from a carrier is dropped rather than stored.

    Returns the kept segments and how many were dropped.
    """
    kept: list[Segment] = []
    dropped = 0
    for segment in segments:
        tag = segment.tag
        if tag == "SSR":
            if segment.get(0).strip().upper() in KEPT_SSR_CODES:
                kept.append(segment)
            else:
                dropped += 1
        elif tag in FREE_TEXT_TAGS:
            if tag == "IFT" and segment.get(1).lstrip().upper().startswith("CTC"):
                kept.append(segment)
            else:
                dropped += 1
        else:
            kept.append(segment)
    return kept, dropped


def parse_pnrgov(data: bytes | str, *, file: str) -> ParseResult:
    """Parse an interchange of PNRGOV messages; one ParsedMessage per PNR, never raising.

    A broken PNR (no record locator) is reported and the other PNRs of the message are kept.
    """

    def parse(interchange: Interchange, message: Message, result: ParseResult) -> None:
        _parse_message(interchange, message, file, result)

    return parse_messages(data, file=file, format="pnrgov", message_type="PNRGOV", parse=parse)


def _parse_message(interchange: Interchange, message: Message, file: str, result: ParseResult) -> None:
    reference = (interchange.prepared or datetime.now()).date()
    header: list[Segment] = []
    pnrs: list[list[Segment]] = []
    for segment in message.body:
        if segment.tag == "SRC":
            pnrs.append([segment])
        elif pnrs:
            pnrs[-1].append(segment)
        else:
            header.append(segment)
    reported = None
    declared = None
    for segment in header:
        if segment.tag == "TVL" and reported is None:
            reported = _flight(segment, reference, 1)
        elif segment.tag == "EQN" and declared is None and segment.get(0).strip().isdigit():
            declared = int(segment.get(0).strip())
    warnings = list(interchange.warnings) + list(message.warnings)
    if declared is not None and declared != len(pnrs):
        warnings.append(
            Problem(file, message.where, f"EQN announces {declared} PNR(s), the message holds {len(pnrs)}")
        )
    if not pnrs:
        result.problems.append(Problem(file, message.where, "PNRGOV message without any SRC (PNR) group"))
    for segments in pnrs:
        kept, dropped = filter_sensitive_segments(segments)
        reader = _PnrReader(interchange, message, file, reference)
        reader.report.reported_flight = reported
        reader.read(kept)
        if not reader.report.record_locator:
            result.problems.append(
                Problem(file, segments[0].where, "PNR without a record locator (RCI): PNR skipped")
            )
            continue
        reader.finish()
        result.messages.append(
            ParsedMessage(
                kind="pnrgov",
                message_key=f"pnrgov:{reader.report.record_locator}:{content_hash(kept)[:32]}",
                function="original",
                version_key=interchange_version(interchange),
                records=[reader.report],
                filtered_fields=dropped,
                warnings=warnings + reader.warnings,
            )
        )


def _ddmmyy(value: str, reference: date, *, past: bool = False) -> date | None:
    value = value.strip()
    if len(value) != 6 or not value.isdigit():
        return None
    try:
        year = resolve_year(int(value[4:]), reference=reference, past=past)
        return date(year, int(value[2:4]), int(value[:2]))
    except ValueError:
        return None


def _ddmmmyy(value: str, reference: date, *, past: bool) -> date | None:
    """IATA free-text dates: 12JUL64."""
    value = value.strip().upper()
    if len(value) != 7 or not value[:2].isdigit() or not value[5:].isdigit():
        return None
    month = _MONTHS.get(value[2:5])
    if month is None:
        return None
    try:
        return date(resolve_year(int(value[5:]), reference=reference, past=past), month, int(value[:2]))
    except ValueError:
        return None


def _at(day: date | None, hhmm: str) -> datetime | None:
    hhmm = hhmm.strip()
    if day is None:
        return None
    if len(hhmm) == 4 and hhmm.isdigit() and int(hhmm[:2]) < 24 and int(hhmm[2:]) < 60:
        return datetime(day.year, day.month, day.day, int(hhmm[:2]), int(hhmm[2:]))
    return datetime(day.year, day.month, day.day)


def _flight(segment: Segment, reference: date, sequence: int) -> Flight | None:
    """TVL+ddmmyy:hhmm:ddmmyy:hhmm+origin+destination+carrier[:operator]+number[:class]."""
    departure_day = _ddmmyy(segment.get(0, 0), reference)
    departure = _at(departure_day, segment.get(0, 1))
    arrival_day = _ddmmyy(segment.get(0, 2), reference)
    arrival_time = segment.get(0, 3).strip()
    arrival = None
    if arrival_day is not None or (arrival_time and departure is not None):
        # No arrival date means the day of departure, or the next one when the clock went round.
        arrival = _at(arrival_day or departure_day, arrival_time)
        if arrival_day is None and arrival is not None and departure is not None and arrival < departure:
            arrival += timedelta(days=1)
    origin, destination = segment.get(1).strip(), segment.get(2).strip()
    number = segment.get(4).strip()
    if not (origin and destination and number):
        return None
    carrier, flight_number = split_flight_designator(number, segment.get(3).strip())
    return Flight(
        carrier=carrier,
        number=flight_number,
        origin=origin,
        destination=destination,
        scheduled_departure=departure,
        scheduled_arrival=arrival,
        leg_sequence=sequence,
        operating_carrier=segment.get(3, 1).strip(),
        booking_class=segment.get(4, 1).strip(),
    )


def _card_hash(number: str) -> str:
    """The SHA-256 of a full card number (FOP 9906's number component); '' for a masked or bad one."""
    if not number or not number.strip().isdigit():
        return ""  # masked by the carrier (XXXXXXXX1186): it names no card
    try:
        return card_key(number)
    except BadKey:
        return ""


def _email(text: str) -> str:
    """IATA OSI e-mail encoding: // is @, .. is _, ./ is -."""
    return text.strip().replace("//", "@").replace("..", "_").replace("./", "-")


def _phones(text: str) -> list[str]:
    return ["".join(c for c in m.group() if c.isdigit() or c == "+") for m in _PHONE.finditer(text)]


def _strip_title(given: str) -> str:
    words = given.split()
    while len(words) > 1 and words[-1] in TITLES:
        words.pop()
    if words:
        words[-1] = _GLUED_TITLE.sub("", words[-1])
    return " ".join(words)


@lru_cache(maxsize=8192)
def _name_key(surname: str, given: str = "") -> str:
    return (surname + "/" + _strip_title(given.upper())).replace(" ", "").upper()


class _PnrReader:
    """Reads one PNR (the segments from its SRC to the next) into a PassengerReport."""

    def __init__(self, interchange: Interchange, message: Message, file: str, reference: date) -> None:
        self.file = file
        self.message = message
        self.reference = reference
        self.report = PassengerReport(
            source="pnrgov",
            message_ref=message.reference,
            sender=interchange.sender,
            recipient=interchange.recipient,
            prepared_at=interchange.prepared,
        )
        self.warnings: list[Problem] = []
        self.traveller: Traveller | None = None  # the TIF group being read
        self.leg: Flight | None = None  # the itinerary leg being read
        self.checkin: Traveller | None = None  # the traveller of a TRI check-in group
        self.non_air = False  # MSG+8 announces a non-air segment (hotel, car)
        self.by_ref: dict[str, Traveller] = {}
        self.by_name: dict[str, Traveller] = {}
        self.pending_ssr: list[tuple[Segment, Traveller | None, Flight | None]] = []
        self.pnr_payment = ""
        self.pnr_cards: list[str] = []
        self.pnr_phones: list[str] = []
        self.pnr_emails: list[str] = []
        self.pnr_addresses: list[Address] = []
        self.seats: dict[int, dict[tuple[str, str], Seat]] = {}

    def warn(self, segment: Segment, reason: str) -> None:
        self.warnings.append(Problem(self.file, segment.where, reason))

    def read(self, segments: list[Segment]) -> None:
        handlers = _HANDLERS
        for segment in segments:
            tag = segment.tag
            if tag == "ABI":
                break  # history: what the PNR was, not what it is
            handler = handlers.get(tag)
            if handler is not None:
                handler(self, segment)

    # PNR header -------------------------------------------------------------------------------------

    def _rci(self, segment: Segment) -> None:
        if self.report.record_locator or self.report.travellers or self.leg is not None:
            return  # only the PNR header's RCI names the PNR; later ones are operating carriers' locators
        carrier, locator = segment.get(0, 0).strip(), segment.get(0, 1).strip()
        if not locator:
            return
        self.report.record_locator = f"{carrier}:{locator}" if carrier else locator
        # The creation date is the first ddmmyy after the locator (senders disagree on its position).
        for component in segment.element(0)[2:]:
            created = _ddmmyy(component, self.reference, past=True)
            if created is not None:
                self.report.booking_date = created
                break

    def _dat(self, segment: Segment) -> None:
        if self.traveller is not None or self.leg is not None:
            return
        for element in segment.elements:
            if element and element[0].strip() == "700" and len(element) > 1:
                day = _ddmmyy(element[1], self.reference, past=True)
                self.report.last_modified = _at(day, element[2] if len(element) > 2 else "")

    def _msg(self, segment: Segment) -> None:
        self.non_air = segment.get(0).strip() == "8"

    def _add(self, segment: Segment) -> None:
        parts = [c.strip() for c in segment.element(1)]
        parts += [""] * (8 - len(parts))
        kind = ADDRESS_KINDS.get(parts[0], parts[0] or "address")
        address = Address(kind, street=parts[1], city=parts[2], region=parts[3], postcode=parts[6],
                          country=parts[5])  # fmt: skip
        phones = _phones(parts[7])
        target = self.traveller
        if any((address.street, address.city, address.postcode, address.country)):
            (target.addresses if target else self.pnr_addresses).append(address)
        (target.phones if target else self.pnr_phones).extend(phones)

    def _ebd(self, segment: Segment) -> None:
        bags = _bags(segment.element(1))
        if self.traveller is not None:
            self.traveller.bags = _merge_bags(self.traveller.bags, bags)
        else:
            self.report.bags = _merge_bags(self.report.bags, bags)

    # Travellers --------------------------------------------------------------------------------------

    def _tif(self, segment: Segment) -> None:
        surname = segment.get(0).strip()
        given_raw = segment.get(1).strip()
        kind = segment.get(1, 1).strip().upper()
        ref = segment.get(1, 2).strip()
        key = _name_key(surname, given_raw)
        known = self._find(ref, key)
        if self.leg is not None:
            # A check-in group names a traveller of the PNR; an unknown one is added, not lost.
            self.checkin = known or self._add_traveller(surname, given_raw, kind, ref)
            return
        self.traveller = known or self._add_traveller(surname, given_raw, kind, ref)

    def _find(self, ref: str, key: str) -> Traveller | None:
        return self.by_name.get(key) or (self.by_ref.get(ref) if ref else None)

    def _add_traveller(self, surname: str, given: str, kind: str, ref: str) -> Traveller:
        traveller = Traveller(
            surname=surname,
            given_names=_strip_title(given.upper()),
            role="infant" if kind in ("IN", "INF") else "passenger",
            traveller_ref=ref,
            source_message_ref=f"{self.message.reference}/{self.report.record_locator}",
            booking_reference=self.report.record_locator,
            booking_date=self.report.booking_date,
        )
        self.report.travellers.append(traveller)
        self.by_name.setdefault(_name_key(traveller.surname, traveller.given_names), traveller)
        if ref:
            self.by_ref.setdefault(ref, traveller)
        return traveller

    def _fti(self, segment: Segment) -> None:
        if self.traveller is not None and segment.get(0, 1).strip():
            self.traveller.frequent_flyer = segment.get(0, 0).strip() + segment.get(0, 1).strip()

    def _tkt(self, segment: Segment) -> None:
        number = segment.get(0).strip()
        if self.traveller is not None and number.isdigit() and not self.traveller.ticket_number:
            self.traveller.ticket_number = number

    def _fop(self, segment: Segment) -> None:
        code = segment.get(0).strip().upper()
        form = PAYMENT_FORMS.get(code, code.lower())
        card = _card_hash(segment.get(0, 4)) if form == "card" else ""
        if self.traveller is not None and self.leg is None:
            self.traveller.payment_form = self.traveller.payment_form or form
            if card and card not in self.traveller.payment_card_hashes:
                self.traveller.payment_card_hashes.append(card)
        else:
            self.pnr_payment = self.pnr_payment or form
            if card and card not in self.pnr_cards:
                self.pnr_cards.append(card)

    def _ift(self, segment: Segment) -> None:
        # Only contact remarks survive the sensitive-data filter.
        text = segment.get(1).strip()
        body = text[4:].strip() if len(text) > 4 else ""
        emails = self.traveller.emails if self.traveller else self.pnr_emails
        phones = self.traveller.phones if self.traveller else self.pnr_phones
        if text.upper().startswith("CTCE"):
            if body:
                emails.append(_email(body))
        else:
            phones.extend(_phones(body))

    def _ssr(self, segment: Segment) -> None:
        owner = self.checkin if self.leg is not None and self.checkin is not None else self.traveller
        self.pending_ssr.append((segment, owner, self.leg))

    # Itinerary ---------------------------------------------------------------------------------------

    def _tvl(self, segment: Segment) -> None:
        self.traveller = None
        self.checkin = None
        if self.non_air:
            self.non_air = False
            self.leg = None
            return
        flight = _flight(segment, self.reference, len(self.report.flights) + 1)
        if flight is None:
            return  # a continuation TVL (operating flight number only) or a non-air segment
        self.leg = flight
        self.report.flights.append(flight)

    def _rpi(self, segment: Segment) -> None:
        if self.leg is not None:
            self.leg.status = segment.get(1).strip()

    def _tri(self, segment: Segment) -> None:
        self.checkin = None

    def _ssd(self, segment: Segment) -> None:
        if self.checkin is not None and self.leg is not None:
            self._seat(self.checkin, segment.get(0), self.leg.origin, self.leg.destination, checked_in=True)

    def _tbd(self, segment: Segment) -> None:
        if self.checkin is None:
            return
        bags = _bags(segment.element(1))
        for element in segment.elements[4:]:
            if len(element) > 1 and element[1].strip():
                bags.tags.append(element[0].strip() + element[1].strip())
        self.checkin.bags = _merge_bags(self.checkin.bags, bags)

    def _seat(
        self, traveller: Traveller, number: str, origin: str, destination: str, *, checked_in: bool
    ) -> None:
        number = number.strip().upper().lstrip("0")
        if not number or number.strip("X") == "":
            return  # XXX: no seat allocated
        seats = self.seats.setdefault(id(traveller), {})
        leg = (origin, destination)
        if leg in seats and seats[leg].checked_in and not checked_in:
            return  # a check-in seat beats the requested one
        seats[leg] = Seat(number, origin, destination, checked_in)
        traveller.seats = list(seats.values())

    # Special service requests, resolved once every traveller is known ---------------------------------

    def _resolve_ssr(self) -> None:
        for segment, owner, leg in self.pending_ssr:
            code = segment.get(0).strip().upper()
            free_text = ":".join(segment.element(0)[8:])
            ref = segment.get(1, 2).strip()
            if code in ("SEAT", "NSST", "NSSA", "NSSW", "NSSB", "SMST", "SMSA", "SMSW", "RQST"):
                origin = segment.get(0, 6).strip() or (leg.origin if leg else "")
                destination = segment.get(0, 7).strip() or (leg.destination if leg else "")
                for element in segment.elements[1:]:
                    seat_ref = element[2].strip() if len(element) > 2 else ""
                    target = self.by_ref.get(seat_ref) or (owner if len(segment.elements) == 2 else None)
                    if element and element[0].strip() and target is not None:
                        self._seat(target, element[0], origin, destination, checked_in=False)
                continue
            target = self.by_ref.get(ref) if ref else None
            if code == "DOCS":
                self._docs(segment, free_text, target or owner)
            elif code == "DOCO":
                self._doco(free_text, target or owner or self._sole())
            elif code == "DOCA":
                self._doca(free_text, target or owner or self._sole())
            elif code == "INFT":
                self._inft(free_text)
            elif code.startswith("CTC") or code == "PCTC":
                who = target or owner or self._sole()
                if who is not None:
                    if code == "CTCE":
                        who.emails.append(_email(free_text.lstrip("/")))
                    else:
                        who.phones.extend(_phones(free_text))
            elif code in ("TKNE", "TKNA", "TKNM", "TKNC"):
                who = target or owner
                number = free_text.strip()
                if who is not None and number.isdigit() and not who.ticket_number:
                    who.ticket_number = number
            elif code in ("FQTV", "FQTR", "FQTS", "FQTU"):
                who = target or owner
                if who is not None and not who.frequent_flyer:
                    who.frequent_flyer = free_text.strip().replace(" ", "")

    def _sole(self) -> Traveller | None:
        return self.report.travellers[0] if len(self.report.travellers) == 1 else None

    def _docs(self, segment: Segment, free_text: str, target: Traveller | None) -> None:
        """DOCS: /type/issuing country/number/nationality/birth date/sex/expiry/surname/given/middle."""
        fields = free_text.strip()
        fields = fields[1:] if fields.startswith("/") else fields
        parts = [p.strip() for p in fields.split("/")] + [""] * 10
        doc_type, issuer, number, nationality, born, sex, expiry, surname = parts[:8]
        given = " ".join(p for p in parts[8:10] if p)
        sex = sex.upper()
        by_name = self._by_document_name(surname, given) if surname else None
        if sex in ("MI", "FI"):
            # An infant's DOCS carries the reference of the adult whose lap it travels on: go by name.
            target = by_name or self._add_traveller(surname, given, "IN", "")
            target.role = "infant"
        else:
            target = target or by_name or self._sole()
        if target is None:
            self.warn(segment, "DOCS that names no traveller of the PNR: ignored")
            return
        if number or doc_type:
            document = TravelDocument(
                doc_type=doc_type,
                number=number,
                issuing_country=issuer,
                expiry=_ddmmmyy(expiry, self.reference, past=False),
                surname=surname,
                given_names=given,
            )
            if all((d.doc_type, d.number) != (document.doc_type, document.number) for d in target.documents):
                target.documents.append(document)
        target.nationality = target.nationality or nationality
        target.date_of_birth = target.date_of_birth or _ddmmmyy(born, self.reference, past=True)
        if sex[:1] in ("M", "F", "U", "X") and not target.sex:
            target.sex = sex[:1]

    def _by_document_name(self, surname: str, given: str) -> Traveller | None:
        """The traveller a document names: full name first, else the only one with that surname."""
        found = self.by_name.get(_name_key(surname, given))
        if found is not None:
            return found
        key = _name_key(surname)
        same_surname = [t for t in self.report.travellers if _name_key(t.surname) == key]
        return same_surname[0] if len(same_surname) == 1 else None

    def _doco(self, free_text: str, target: Traveller | None) -> None:
        """DOCO: /place of birth/type/number/place of issue/issue date/country the visa is for."""
        if target is None:
            return
        fields = free_text[1:] if free_text.startswith("/") else free_text
        parts = [p.strip() for p in fields.split("/")] + [""] * 7
        place_of_birth, doc_type, number, place, issued, country = parts[:6]
        target.place_of_birth = target.place_of_birth or place_of_birth
        if number or doc_type:
            target.documents.append(
                TravelDocument(
                    doc_type=doc_type,
                    number=number,
                    issued=_ddmmmyy(issued, self.reference, past=True),
                    place_of_issue=place,
                    valid_for_country=country,
                )
            )

    def _doca(self, free_text: str, target: Traveller | None) -> None:
        """DOCA: /R (residence) or D (destination)/country/street/city/region/postcode."""
        if target is None:
            return
        fields = free_text[1:] if free_text.startswith("/") else free_text
        parts = [p.strip() for p in fields.split("/")] + [""] * 7
        kind = {"R": "residence", "D": "destination"}.get(parts[0].upper(), parts[0].lower() or "address")
        target.addresses.append(Address(kind, parts[2], parts[3], parts[4], parts[5], parts[1]))
        if kind == "residence":
            target.country_of_residence = target.country_of_residence or parts[1]

    def _inft(self, free_text: str) -> None:
        """INFT: SURNAME/GIVEN/ddMMMyy — an infant on an adult's lap, sometimes without its own TIF."""
        parts = [p.strip() for p in free_text.strip("/").split("/")] + ["", ""]
        surname, given, born = parts[0], parts[1], parts[2]
        if not surname:
            return
        key = _name_key(surname, given)
        infant = self._find("", key) or self._add_traveller(surname, given, "IN", "")
        infant.role = "infant"
        infant.date_of_birth = infant.date_of_birth or _ddmmmyy(born, self.reference, past=True)

    # --------------------------------------------------------------------------------------------------

    def finish(self) -> None:
        self._resolve_ssr()
        report = self.report
        names = [t.full_name for t in report.travellers]
        for traveller in report.travellers:
            traveller.booking_reference = report.record_locator
            traveller.booking_date = report.booking_date
            traveller.itinerary = list(report.flights)
            traveller.payment_form = traveller.payment_form or self.pnr_payment
            traveller.payment_card_hashes = traveller.payment_card_hashes or list(self.pnr_cards)
            traveller.phones = _unique(traveller.phones + self.pnr_phones)
            traveller.emails = _unique(traveller.emails + self.pnr_emails)
            if not traveller.addresses:
                traveller.addresses = list(self.pnr_addresses)
            traveller.co_travellers = [n for n in names if n != traveller.full_name]
        if not report.travellers:
            self.warnings.append(Problem(self.file, self.message.where,
                                         f"PNR {report.record_locator} names no traveller"))  # fmt: skip


# Segment tag -> reader method; tags not listed are not read.
_HANDLERS = {
    "ADD": _PnrReader._add,
    "DAT": _PnrReader._dat,
    "EBD": _PnrReader._ebd,
    "FOP": _PnrReader._fop,
    "FTI": _PnrReader._fti,
    "IFT": _PnrReader._ift,
    "MSG": _PnrReader._msg,
    "RCI": _PnrReader._rci,
    "RPI": _PnrReader._rpi,
    "SSD": _PnrReader._ssd,
    "SSR": _PnrReader._ssr,
    "TBD": _PnrReader._tbd,
    "TIF": _PnrReader._tif,
    "TKT": _PnrReader._tkt,
    "TRI": _PnrReader._tri,
    "TVL": _PnrReader._tvl,
}


def _bags(element: list[str]) -> Bags:
    """Baggage quantity:weight:unit (TBD) or quantity::unit (EBD, unit N = pieces)."""
    parts = [c.strip() for c in element] + ["", "", ""]
    count = int(parts[0]) if parts[0].isdigit() else None
    weight = None
    try:
        weight = float(parts[1]) if parts[1] else None
    except ValueError:
        weight = None
    return Bags(
        count=count,
        weight=weight,
        weight_unit=WEIGHT_UNITS.get(parts[2].upper(), "") if weight is not None else "",
    )


def _merge_bags(old: Bags | None, new: Bags) -> Bags:
    """The same bags are listed on every leg: keep the largest count and weight and every tag once."""
    if old is None:
        new.tags = _unique(new.tags)
        return new
    if new.count is not None:
        old.count = max(old.count or 0, new.count)
    if new.weight is not None:
        old.weight = max(old.weight or 0.0, new.weight)
        old.weight_unit = old.weight_unit or new.weight_unit
    old.tags = _unique(old.tags + new.tags)
    return old


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(v for v in values if v))

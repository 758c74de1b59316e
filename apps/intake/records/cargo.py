"""Normalised records for the cargo side: conveyances, declarations, parties, goods, containers, documents.

Every cargo parser (WCO DEC-DMS XML, IATA Cargo-XML waybills, CSV and JSON declarations) fills these
same plain dataclasses, so the storage service maps one shape onto the Django models whatever the source
format was. They import nothing from Django and carry values as received plus the few normalisations
that every consumer needs (the HS code cut to six digits and to the chapter, upper-cased codes, decimals
instead of strings). Anything a format has that these do not is left in ``extra`` rather than lost.

Codes are kept as the standard code lists spell them: countries ISO 3166-1 alpha-2, currencies ISO 4217,
locations UN/LOCODE (five characters) or IATA (three letters), modes as the words in ``TRANSPORT_MODES``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

__all__ = [
    "DECLARATION_FUNCTIONS",
    "PARTY_ROLES",
    "TRANSPORT_DOCUMENT_TYPES",
    "TRANSPORT_MODES",
    "Consignment",
    "Container",
    "Conveyance",
    "Declaration",
    "ExaminationLabel",
    "GoodsItem",
    "Party",
    "TransportDocument",
    "hs_parts",
    "mode_from_code",
]

TRANSPORT_MODES = (
    "sea",
    "rail",
    "road",
    "air",
    "post",
    "fixed",
    "inland-waterway",
    "own-propulsion",
    "unknown",
)
"""Our transport modes; ``mode_from_code`` maps UN/ECE Recommendation 19 codes (used by WCO and IATA)."""

_REC19 = {
    "0": "unknown",
    "1": "sea",
    "2": "rail",
    "3": "road",
    "4": "air",
    "5": "post",
    "7": "fixed",
    "8": "inland-waterway",
    "9": "own-propulsion",
}

PARTY_ROLES = (
    "consignor",  # shipper / exporter / seller's dispatcher
    "consignee",
    "declarant",
    "representative",
    "importer",
    "exporter",
    "seller",
    "buyer",
    "notify",
    "carrier",
    "forwarder",
    "courier",
)

DECLARATION_FUNCTIONS = ("original", "amendment", "cancellation")

TRANSPORT_DOCUMENT_TYPES = (
    "bill-of-lading",
    "house-bill-of-lading",
    "air-waybill",
    "master-air-waybill",
    "house-air-waybill",
    "ducr",
    "entry-summary",
    "previous-declaration",
    "other",
)


def mode_from_code(code: str | None) -> str:
    """Map a UN/ECE Rec. 19 transport mode code ("1" sea ... "4" air) to our word; unknown codes → "unknown"."""
    if not code:
        return "unknown"
    return _REC19.get(code.strip()[:1], "unknown")


def hs_parts(code: str | None) -> tuple[str, str, str]:
    """Return ``(full, hs6, chapter)`` for a commodity code, digits only.

    National codes extend the six-digit Harmonized System code (EU CN 8, TARIC 10, US HTS 10); the
    first six digits are comparable across administrations, the first two are the chapter. A code
    shorter than six digits keeps what it has (``hs6`` is then empty when fewer than six digits exist).
    """
    if not code:
        return "", "", ""
    digits = "".join(ch for ch in code if ch.isdigit())
    return digits, digits[:6] if len(digits) >= 6 else "", digits[:2] if len(digits) >= 2 else ""


@dataclass(slots=True)
class Party:
    """A trader or person with a role on a declaration or consignment.

    ``identifier`` is the identification as given (an EORI such as ``GB553202734852``, a TIN, a
    carrier account) and ``id_scheme`` says which kind when the source tells (``EORI``, ``TIN``,
    ``account``); ``country`` is ISO alpha-2.
    """

    role: str
    identifier: str = ""
    id_scheme: str = ""
    name: str = ""
    street: str = ""
    city: str = ""
    postcode: str = ""
    country: str = ""
    phone: str = ""
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class Conveyance:
    """One movement of a means of transport: a voyage, a flight, a truck or train crossing.

    ``mode`` is one of ``TRANSPORT_MODES``. Sea: ``vessel_imo`` / ``vessel_name``; air: ``carrier`` (IATA
    airline code) and ``flight_number``; road/rail: ``registration``. Locations are UN/LOCODE or IATA
    airport codes as received; ``route_countries`` lists ISO alpha-2 countries in order of routing.
    """

    mode: str = "unknown"
    identifier: str = ""  # the means' ID as received when its kind is unknown
    identifier_type: str = ""  # WCO IdentificationTypeCode (10 = IMO, 40 = IATA flight, 30 = registration)
    nationality: str = ""
    vessel_imo: str = ""
    vessel_name: str = ""
    carrier: str = ""
    flight_number: str = ""
    registration: str = ""
    sequence: int = 0
    departure_location: str = ""
    arrival_location: str = ""
    departure_at: datetime | None = None
    arrival_at: datetime | None = None  # actual arrival when known
    eta: datetime | None = None
    route_countries: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Container:
    """A container, unit load device (air) or other transport equipment, with its seals."""

    number: str
    equipment_type: str = ""  # ISO 6346 size/type, or IATA ULD type such as PMC, AKE
    seals: list[str] = field(default_factory=list)
    owner: str = ""  # ULD owner / operator code


@dataclass(slots=True)
class TransportDocument:
    """A transport or previous document that identifies the goods: bill of lading, (house) air waybill."""

    doc_type: str  # one of TRANSPORT_DOCUMENT_TYPES
    reference: str
    type_code: str = ""  # the code as received (e.g. WCO "N705", "DCR", "355"; IATA "740"/"741"/"703")


@dataclass(slots=True)
class ExaminationLabel:
    """The recorded outcome of a past examination, used as a training label.

    ``finding`` is true when the examination found an irregularity; ``severity`` is the source's graded
    outcome (the Korea Customs dataset: 0 none, 1 fraud, 2 critical fraud).
    """

    finding: bool
    severity: int = 0


@dataclass(slots=True)
class GoodsItem:
    """One goods item (line) of a declaration or waybill.

    ``hs_code`` keeps the full commodity code as declared; ``hs6`` and ``hs_chapter`` are derived with
    ``hs_parts`` so rules and models can compare across nomenclatures.
    """

    sequence: int
    description: str = ""
    hs_code: str = ""
    hs6: str = ""
    hs_chapter: str = ""
    quantity: Decimal | None = None  # packages or pieces
    quantity_unit: str = ""  # package type (BX, PK), or "pieces"
    gross_mass_kg: Decimal | None = None
    net_mass_kg: Decimal | None = None
    value: Decimal | None = None
    currency: str = ""
    origin_country: str = ""
    preference: str = ""  # preference / duty regime code (WCO DE 4/17)
    procedure: str = ""  # requested + previous procedure (WCO DE 1/10), e.g. "4000"
    tax_rate: Decimal | None = None
    tax_type: str = ""
    parties: list[Party] = field(default_factory=list)
    containers: list[Container] = field(default_factory=list)
    extra: dict[str, str] = field(default_factory=dict)

    def set_hs(self, code: str | None) -> None:
        """Store a commodity code with its six-digit and chapter parts."""
        self.hs_code, self.hs6, self.hs_chapter = hs_parts(code)


@dataclass(slots=True)
class Declaration:
    """A customs declaration (or one declaration-like row) as received, with its goods and parties.

    Identification: ``reference`` is the functional reference / LRN the trader gave; ``mrn`` the number
    the customs system assigned (present on amendments and cancellations, which name the declaration
    they change); ``business_key`` is what all versions of the same declaration share, so the storage
    service links an amendment to its original. ``function`` is one of ``DECLARATION_FUNCTIONS``.
    """

    reference: str
    business_key: str = ""
    mrn: str = ""
    function: str = "original"
    function_code: str = ""  # as received (WCO: 9 original, 13 request, 1 cancellation, 4/5 change)
    declaration_type: str = ""  # e.g. "IM" + additional type "A" → "IMA"; or the source's own type
    procedure: str = ""
    office_of_entry: str = ""
    office_of_import: str = ""
    declared_at: datetime | None = None  # issue / lodgement
    accepted_at: datetime | None = None
    declaration_date: date | None = None
    item_count: int | None = None
    package_count: int | None = None
    total_gross_mass_kg: Decimal | None = None
    invoice_amount: Decimal | None = None
    currency: str = ""
    country_of_dispatch: str = ""
    country_of_destination: str = ""
    delivery_terms: str = ""
    channel: str = ""  # selectivity channel / outcome when the source carries it (green, red...)
    changes: list[str] = field(default_factory=list)  # amendment pointers / reasons, human readable
    parties: list[Party] = field(default_factory=list)
    goods: list[GoodsItem] = field(default_factory=list)
    conveyances: list[Conveyance] = field(default_factory=list)
    containers: list[Container] = field(default_factory=list)
    documents: list[TransportDocument] = field(default_factory=list)
    label: ExaminationLabel | None = None
    source_line: int | None = None  # CSV line / XML line the declaration started at
    extra: dict[str, str] = field(default_factory=dict)

    def party(self, role: str) -> Party | None:
        """The first party with ``role``, or None."""
        return next((p for p in self.parties if p.role == role), None)


@dataclass(slots=True)
class Consignment:
    """A transport consignment: a master or house air waybill, a bill of lading.

    ``document`` identifies it (``reference`` is e.g. ``888-11111111``); a house consignment names its
    master in ``master_reference``. Totals are the consignment's as declared; ``goods`` carries the
    rated lines with their HS codes and descriptions.
    """

    document: TransportDocument
    master_reference: str = ""
    issued_at: datetime | None = None
    origin: str = ""
    destination: str = ""
    pieces: int | None = None
    gross_mass_kg: Decimal | None = None
    volume_m3: Decimal | None = None
    description: str = ""
    parties: list[Party] = field(default_factory=list)
    conveyances: list[Conveyance] = field(default_factory=list)
    goods: list[GoodsItem] = field(default_factory=list)
    containers: list[Container] = field(default_factory=list)
    customs_notes: list[tuple[str, str, str, str]] = field(
        default_factory=list
    )  # (subject, code, country, text)
    extra: dict[str, str] = field(default_factory=dict)

    def party(self, role: str) -> Party | None:
        """The first party with ``role``, or None."""
        return next((p for p in self.parties if p.role == role), None)

"""IATA Cargo-XML waybills: XFWB (air waybill / master air waybill) and XFZB (house waybill).

Both share the IATA data model (``iata:datamodel:3``) under a root ``Waybill`` (``iata:waybill:1``) or
``HouseWaybill`` (``iata:housewaybill:1``). Elements are matched by local name so other schema versions
and carriers' extensions read the same. One file is one waybill → one ``ParsedMessage`` with one
``Consignment`` record.

Checks, chosen from what the standard requires and what a risk analyst relies on:

* errors (the waybill is refused): not well-formed/unsafe XML, unknown root, no waybill number
  (``BusinessHeaderDocument/ID``), a waybill number that is not ``AAA-NNNNNNNN`` for an XFWB, a
  non-numeric piece count or weight;
* warnings (the waybill is kept): a transport movement without ``ModeCode`` (mode taken as air, since
  an air waybill is carried by air), pieces of a rated line that do not match the pieces given in its
  dimension lines, a total piece count that differs from the sum of the lines.

The key ``message_key`` is ``<kind>:<waybill number>:<sha256>``; ``version_key`` is the waybill number,
and ``PurposeCode`` (Creation / Update / Deletion) gives ``function`` (original / amendment /
cancellation).
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from decimal import Decimal

from apps.intake.parsers.base import ParsedMessage, ParseResult, Problem
from apps.intake.parsers.wco_dec import (
    XmlReadError,
    _Reader,
    children,
    first,
    local_name,
    location,
    read_xml,
    text,
)
from apps.intake.records.cargo import (
    Consignment,
    Container,
    Conveyance,
    GoodsItem,
    Party,
    TransportDocument,
    hs_parts,
    mode_from_code,
)

__all__ = ["parse_cargo_xml"]

_AWB = re.compile(r"^\d{3}-?\d{8}$")
_FLIGHT = re.compile(r"^([A-Z0-9]{2}[A-Z]?)(\d{1,4}[A-Z]?)$")
_PURPOSE = {"creation": "original", "update": "amendment", "deletion": "cancellation"}
_DOC_TYPE = {"740": "air-waybill", "741": "master-air-waybill", "703": "house-air-waybill"}
_PARTIES = {
    "ConsignorParty": "consignor",
    "ConsigneeParty": "consignee",
    "FreightForwarderParty": "forwarder",
    "AssociatedParty": "notify",
    "NotifyParty": "notify",
    "CarrierParty": "carrier",
}


def _kg(rd: _Reader, el) -> Decimal | None:
    """A weight in kilograms; pounds (``LBR``) are converted, other units are warned about."""
    value = rd.decimal(el)
    if value is None:
        return None
    unit = (el.get("unitCode") or "KGM").upper()
    if unit == "LBR":
        return (value * Decimal("0.45359237")).quantize(Decimal("0.001"))
    if unit != "KGM":
        rd.warn(el, f"weight unit {unit!r} is not KGM or LBR; value kept as is")
    return value


def _party(el, role: str) -> Party:
    addr = first(el, "PostalStructuredAddress")
    if addr is None:
        addr = first(el, "FreightForwarderAddress")
    return Party(
        role=role,
        identifier=text(el, "AccountID") or text(el, "PrimaryID"),
        id_scheme="account" if text(el, "AccountID") else "",
        name=" ".join(text(el, "Name").split()),
        street=" ".join(text(addr, "StreetName").split()),
        city=text(addr, "CityName"),
        postcode=text(addr, "PostcodeCode"),
        country=text(addr, "CountryID").upper(),
        phone=text(el, "DefinedTradeContact", "DirectTelephoneCommunication", "CompleteNumber"),
    )


def _movement(el, rd: _Reader, kind: str) -> Conveyance:
    mode_code = text(el, "ModeCode")
    if not mode_code:
        mode_text = text(el, "Mode")
        rd.warn(
            el,
            "ModeCode missing on the transport movement; mode taken as air"
            + (f" (Mode says {mode_text!r})" if mode_text else f" (an {kind.upper()} is carried by air)"),
        )
    mode = mode_from_code(mode_code) if mode_code else "air"
    flight = text(el, "ID").replace(" ", "").upper()
    conv = Conveyance(mode=mode, identifier=flight, sequence=rd.integer(first(el, "SequenceNumeric")) or 0)
    if m := _FLIGHT.match(flight):
        conv.carrier, conv.flight_number = m.group(1), m.group(2)
    conv.carrier = conv.carrier or text(el, "UsedLogisticsTransportMeans", "Name")
    conv.departure_location = text(el, "DepartureEvent", "OccurrenceDepartureLocation", "ID")
    conv.arrival_location = text(el, "ArrivalEvent", "OccurrenceArrivalLocation", "ID")
    dep = text(el, "DepartureEvent", "ScheduledOccurrenceDateTime") or text(
        el, "DepartureEvent", "DepartureOccurrenceDateTime"
    )
    arr = text(el, "ArrivalEvent", "ScheduledOccurrenceDateTime") or text(
        el, "ArrivalEvent", "ArrivalOccurrenceDateTime"
    )
    for value, attr in ((dep, "departure_at"), (arr, "eta")):
        if value:
            try:
                setattr(conv, attr, datetime.fromisoformat(value))
            except ValueError:
                rd.warn(el, f"not an ISO date/time: {value!r}")
    return conv


def _items(consignment, item_name: str, rd: _Reader, problems: list[Problem], file: str) -> list[GoodsItem]:
    """Rated lines (``IncludedMasterConsignmentItem`` / ``IncludedHouseConsignmentItem``) → goods items."""
    goods: list[GoodsItem] = []
    lines = list(children(consignment, item_name))
    for rating in children(consignment, "ApplicableRating"):
        lines.extend(children(rating, item_name))
    for el in lines:
        item = GoodsItem(sequence=rd.integer(first(el, "SequenceNumeric")) or len(goods) + 1)
        # TypeCode carries the HS/HTS code; several codes may follow as further TypeCode elements.
        codes = [text(tc) for tc in children(el, "TypeCode") if text(tc)]
        if codes:
            item.set_hs(codes[0])
            if len(codes) > 1:
                item.extra["other_hs_codes"] = " ".join(hs_parts(c)[0] for c in codes[1:])
        item.description = " ".join(text(el, "NatureIdentificationTransportCargo", "Identification").split())
        item.gross_mass_kg = _kg(rd, first(el, "GrossWeightMeasure"))
        pieces_el = first(el, "PieceQuantity")
        pieces = rd.integer(pieces_el)
        if pieces_el is not None and pieces is None:
            problems.append(
                Problem(file, location(pieces_el), f"PieceQuantity {text(pieces_el)!r} is not a number")
            )
        item.quantity = Decimal(pieces) if pieces is not None else None
        item.quantity_unit = "pieces"
        if (slac := text(el, "PackageQuantity")) and slac.isdigit():
            item.extra["slac"] = slac
        if info := text(el, "Information"):
            item.extra["information"] = info
        dimensioned = [
            rd.integer(first(p, "ItemQuantity")) for p in children(el, "TransportLogisticsPackage")
        ]
        dimensioned_sum = sum(q for q in dimensioned if q)
        if dimensioned and pieces is not None and dimensioned_sum != pieces:
            rd.warn(
                pieces_el,
                f"PieceQuantity is {pieces} but the dimension lines (TransportLogisticsPackage/ItemQuantity) "
                f"add up to {dimensioned_sum}: {abs(pieces - dimensioned_sum)} piece(s) "
                + (
                    "have no dimensions"
                    if pieces > dimensioned_sum
                    else "more in the dimensions than declared"
                ),
            )
        for uld in children(el, "AssociatedUnitLoadTransportEquipment"):
            uld_type = text(uld, "CharacteristicCode")
            serial = text(uld, "ID")
            owner = text(uld, "OperatingParty", "PrimaryID")
            item.containers.append(
                Container(number=f"{uld_type}{serial}{owner}", equipment_type=uld_type, owner=owner)
            )
        goods.append(item)
    return goods


def parse_cargo_xml(data: bytes, *, file: str) -> ParseResult:
    """Parse one XFWB or XFZB document into a ``ParseResult`` with one ``Consignment`` record.

    Never raises on input: an unforeseen structure becomes a Problem on the whole file.
    """
    result = ParseResult(file=file, format="cargo-xml")
    try:
        return _parse(data, file, result)
    except Exception as exc:  # a parser never raises on input; report it instead
        result.messages.clear()
        result.problems.append(Problem(file, "line 1", f"unexpected content: {exc!r}"))
        return result


def _parse(data: bytes, file: str, result: ParseResult) -> ParseResult:
    """Read the XML, check the waybill's header, then build its one consignment."""
    try:
        root = read_xml(data, file=file)
    except XmlReadError as exc:
        result.problems.append(exc.problem)
        return result
    names = _root_names(root, file, result)
    if names is None:
        return result
    kind, consignment_name, item_name = names
    result.format = kind
    rd = _Reader(file)
    header = first(root, "MessageHeaderDocument")
    business = first(root, "BusinessHeaderDocument")
    master = first(root, consignment_name)
    number = text(business, "ID")
    problems = _header_problems(root, business, master, number, kind, consignment_name, file)
    if problems:
        result.problems.extend(problems)
        return result

    purpose = text(header, "PurposeCode").lower()
    # For a house waybill the goods and parties are in the IncludedHouseConsignment.
    body = first(master, "IncludedHouseConsignment") if kind == "xfzb" else master
    if body is None:
        result.problems.append(Problem(file, location(master), "missing IncludedHouseConsignment"))
        return result
    c = _consignment_head(header, master, body, number, kind, rd)
    total_el = _read_totals(c, body, rd, result.problems, file)
    _read_parties(c, body)
    _read_goods(c, master, body, item_name, kind, rd, result.problems, file, total_el)
    if result.problems:
        return result
    digest = hashlib.sha256(data).hexdigest()[:24]
    result.messages.append(
        ParsedMessage(
            kind=kind,
            message_key=f"{kind}:{number}:{digest}",
            function=_PURPOSE.get(purpose, "original"),
            version_key=number,
            records=[c],
            warnings=rd.warnings,
        )
    )
    return result


def _root_names(root, file: str, result: ParseResult) -> tuple[str, str, str] | None:
    """The waybill kind and its consignment and item element names, or None (with a problem) for an unknown root."""
    root_name = local_name(root)
    if root_name == "Waybill":
        return "xfwb", "MasterConsignment", "IncludedMasterConsignmentItem"
    if root_name == "HouseWaybill":
        return "xfzb", "MasterConsignment", "IncludedHouseConsignmentItem"
    result.problems.append(
        Problem(
            file,
            location(root),
            f"root element {root_name!r} is not an XFWB Waybill or XFZB HouseWaybill",
        )
    )
    return None


def _header_problems(
    root, business, master, number: str, kind: str, consignment_name: str, file: str
) -> list[Problem]:
    """The errors that refuse the waybill: no or malformed waybill number, no consignment."""
    problems: list[Problem] = []
    if business is None or not number:
        problems.append(
            Problem(
                file,
                location(business if business is not None else root),
                "missing waybill number (BusinessHeaderDocument/ID)",
            )
        )
    elif kind == "xfwb" and not _AWB.match(number):
        problems.append(
            Problem(
                file, location(first(business, "ID")), f"air waybill number {number!r} is not AAA-NNNNNNNN"
            )
        )
    if master is None:
        problems.append(Problem(file, location(root), f"missing {consignment_name}"))
    return problems


def _consignment_head(header, master, body, number: str, kind: str, rd: _Reader) -> Consignment:
    """The consignment with its transport document, master reference, issue date and places."""
    type_code = text(header, "TypeCode")
    doc = TransportDocument(
        doc_type=_DOC_TYPE.get(type_code, "house-air-waybill" if kind == "xfzb" else "air-waybill"),
        reference=number,
        type_code=type_code,
    )
    c = Consignment(document=doc)
    if kind == "xfzb":
        c.master_reference = text(master, "TransportContractDocument", "ID")
    issued = text(header, "IssueDateTime")
    if issued:
        try:
            c.issued_at = datetime.fromisoformat(issued)
        except ValueError:
            rd.warn(first(header, "IssueDateTime"), f"not an ISO date/time: {issued!r}")
    c.origin = text(body, "OriginLocation", "ID") or text(master, "OriginLocation", "ID")
    c.destination = text(body, "FinalDestinationLocation", "ID") or text(
        master, "FinalDestinationLocation", "ID"
    )
    return c


def _read_totals(c: Consignment, body, rd: _Reader, problems: list[Problem], file: str):
    """Total pieces, weight, volume and description; returns the TotalPieceQuantity element for later checks."""
    total_el = first(body, "TotalPieceQuantity")
    c.pieces = rd.integer(total_el)
    if total_el is not None and c.pieces is None:
        problems.append(
            Problem(file, location(total_el), f"TotalPieceQuantity {text(total_el)!r} is not a number")
        )
    weight_el = first(body, "IncludedTareGrossWeightMeasure")
    c.gross_mass_kg = _kg(rd, weight_el)
    if weight_el is not None and c.gross_mass_kg is None:
        problems.append(
            Problem(file, location(weight_el), f"gross weight {text(weight_el)!r} is not a number")
        )
    volume = first(body, "GrossVolumeMeasure")
    c.volume_m3 = rd.decimal(volume)
    c.description = " ".join(text(body, "SummaryDescription").split())
    return total_el


def _read_parties(c: Consignment, body) -> None:
    """Parties and customs notes; a customs identifier note names the shipper's or consignee's number."""
    for child in body:
        role = _PARTIES.get(local_name(child))
        if role:
            c.parties.append(_party(child, role))
    for note in children(body, "IncludedCustomsNote"):
        c.customs_notes.append(
            (
                text(note, "SubjectCode"),
                text(note, "ContentCode"),
                text(note, "CountryID"),
                text(note, "Content"),
            )
        )
    # Customs identifiers (OCI "T" lines) name the shipper / consignee tax or EORI number.
    for subject, code, country, content in c.customs_notes:
        role = {"SHP": "consignor", "CNE": "consignee"}.get(subject)
        party = c.party(role) if role else None
        if party is not None and code == "T" and content and not party.extra.get("customs_id"):
            party.extra["customs_id"] = content
            party.extra["customs_id_country"] = country


def _read_goods(
    c: Consignment,
    master,
    body,
    item_name: str,
    kind: str,
    rd: _Reader,
    problems: list[Problem],
    file: str,
    total_el,
) -> None:
    """Movements, goods items and their containers; warns when the lines' pieces differ from the total."""
    movements = children(master, "SpecifiedLogisticsTransportMovement") + (
        children(body, "SpecifiedLogisticsTransportMovement") if body is not master else []
    )
    c.conveyances = [_movement(m, rd, kind) for m in movements]
    c.goods = _items(body, item_name, rd, problems, file)
    for item in c.goods:
        c.containers.extend(item.containers)
    if not c.description and c.goods:
        c.description = c.goods[0].description
    line_pieces = [int(g.quantity) for g in c.goods if g.quantity is not None]
    if c.pieces is not None and line_pieces and sum(line_pieces) != c.pieces:
        rd.warn(
            total_el,
            f"TotalPieceQuantity is {c.pieces} but the consignment items declare {sum(line_pieces)} piece(s)",
        )

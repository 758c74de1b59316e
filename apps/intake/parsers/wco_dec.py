"""WCO Data Model DEC-DMS XML declarations (UK CDS flavour, WCO DM 3.6) → ``Declaration`` records.

Elements are matched by local name, never by namespace URI, so a declaration in another
administration's namespace version (``urn:wco:datamodel:WCO:DEC-DMS:2`` here, other URNs elsewhere),
wrapped in a ``MetaData`` document, a ``submitDeclarationRequest`` envelope or standing alone, reads the
same. Optional elements may be absent; unknown elements are ignored.

Versions of a declaration: ``FunctionCode`` 9 is an original. UK CDS sends changes as a "request"
(``FunctionCode`` 13) whose ``TypeCode`` says what it is: ``COR`` an amendment (with ``Amendment``
pointers), ``INV`` an invalidation (cancellation). The WCO code list also has 1 (cancellation) and 4/5
(change/replacement), used by other administrations. An amendment or cancellation names the declaration
it changes by its MRN in ``Declaration/ID``.

Keys: ``message_key`` = ``wco-dec:<functional reference>:<sha256 of the declaration>`` (the same
declaration sent twice has the same key); ``version_key`` = the business key the versions of one
declaration share. The business key is the trader's functional reference (LRN, DE 2/5), which is what
an original carries (its MRN is only assigned on acceptance) and what CDS traders usually reuse on an
amendment; an amendment also carries ``mrn``, which the storage service should prefer for linking once
the original's MRN is known from the acceptance notification.

Safety: lxml with entity resolution, network access and DTD loading off and ``huge_tree`` off; a
document with a DTD is refused. Bad input gives ``Problem``s (file, line, XPath-like location); the
parser never raises on input.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import TypeAlias

from lxml import etree

from apps.intake.parsers.base import ParsedMessage, ParseResult, Problem
from apps.intake.records.cargo import (
    Container,
    Conveyance,
    Declaration,
    GoodsItem,
    Party,
    TransportDocument,
    mode_from_code,
)

__all__ = [
    "FORMAT",
    "XmlReadError",
    "children",
    "first",
    "local_name",
    "location",
    "parse_wco_dec",
    "read_xml",
    "text",
]

FORMAT = "wco-dec"

Element: TypeAlias = etree._Element


# --------------------------------------------------------------------------------------------------
# Namespace-agnostic XML helpers (also used by the Cargo-XML parser)
# --------------------------------------------------------------------------------------------------


class XmlReadError(Exception):
    """The bytes are not a well-formed, safe XML document. Carries the problem to report."""

    def __init__(self, problem: Problem):
        self.problem = problem
        super().__init__(str(problem))


def _parser() -> etree.XMLParser:
    # A fresh parser per call: lxml parsers are not safe to share between threads.
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        huge_tree=False,
        load_dtd=False,
        dtd_validation=False,
        remove_comments=True,
        remove_pis=True,
    )


def read_xml(data: bytes, *, file: str) -> Element:
    """Parse ``data`` safely and return the root element, or raise ``XmlReadError`` with the reason.

    Refuses documents that declare a DTD: no customs or cargo XML standard uses one, and a DTD is how
    entity-expansion and external-entity attacks arrive.
    """
    if not data or not data.strip():
        raise XmlReadError(Problem(file, "line 1", "empty document"))
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        line = exc.lineno or 1
        col = f", column {exc.offset}" if exc.offset else ""
        msg = ((exc.msg or str(exc)).strip().splitlines() or ["syntax error"])[0].strip()
        raise XmlReadError(Problem(file, f"line {line}{col}", f"not well-formed XML: {msg}")) from None
    except (ValueError, TypeError) as exc:  # e.g. an encoding declaration lxml cannot use
        raise XmlReadError(Problem(file, "line 1", f"unreadable XML: {exc}")) from None
    docinfo = root.getroottree().docinfo
    if docinfo.internalDTD is not None or docinfo.system_url or docinfo.public_id:
        raise XmlReadError(Problem(file, "line 1", "document type declaration (DTD) not allowed"))
    return root


def local_name(el: Element) -> str:
    """The tag without its namespace (``{urn:x}Declaration`` → ``Declaration``)."""
    tag = el.tag
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def children(el: Element | None, name: str) -> list[Element]:
    """Child elements of ``el`` whose local name is ``name``, in document order."""
    if el is None:
        return []
    return [c for c in el if isinstance(c.tag, str) and c.tag.rpartition("}")[2] == name]


def first(el: Element | None, *path: str) -> Element | None:
    """The first element down ``path`` (local names), or None when any step is missing."""
    for name in path:
        if el is None:
            return None
        for c in el:
            if isinstance(c.tag, str) and c.tag.rpartition("}")[2] == name:
                el = c
                break
        else:
            return None
    return el


def text(el: Element | None, *path: str) -> str:
    """Stripped text of the element down ``path``, or "" when absent."""
    node = first(el, *path) if path else el
    if node is None or node.text is None:
        return ""
    return node.text.strip()


def location(el: Element) -> str:
    """``line N, /A/B[2]/C``: the source line and an XPath-like path of local names for a Problem."""
    steps: list[str] = []
    node: Element | None = el
    while node is not None:
        name = local_name(node)
        parent = node.getparent()
        if parent is not None:
            same = children(parent, name)
            if len(same) > 1:
                name = f"{name}[{same.index(node) + 1}]"
        steps.append(name)
        node = parent
    return f"line {el.sourceline}, /{'/'.join(reversed(steps))}"


def iter_named(root: Element, name: str) -> Iterator[Element]:
    """All elements named ``name`` (local name) in the tree, in document order, any namespace."""
    return root.iter(f"{{*}}{name}")


# --------------------------------------------------------------------------------------------------
# Value readers: they record a warning and return None instead of failing
# --------------------------------------------------------------------------------------------------


class _Reader:
    """Converts element text to typed values, collecting warnings with precise locations."""

    def __init__(self, file: str):
        self.file = file
        self.warnings: list[Problem] = []

    def warn(self, el: Element, reason: str) -> None:
        self.warnings.append(Problem(self.file, location(el), reason))

    def decimal(self, el: Element | None) -> Decimal | None:
        if el is None or not (el.text or "").strip():
            return None
        raw = el.text.strip()
        try:
            value = Decimal(raw)
        except InvalidOperation:
            self.warn(el, f"not a number: {raw!r}")
            return None
        if not value.is_finite():
            self.warn(el, f"not a finite number: {raw!r}")
            return None
        return value

    def integer(self, el: Element | None) -> int | None:
        value = self.decimal(el)
        if value is None:
            return None
        if value != value.to_integral_value():
            self.warn(el, f"not a whole number: {text(el)!r}")
            return None
        return int(value)

    def wco_datetime(self, el: Element | None) -> datetime | None:
        """WCO ``DateTimeString`` with ``formatCode`` 102 (CCYYMMDD) or 304 (CCYYMMDDhhmmss±ZZ), or ISO."""
        if el is None:
            return None
        node = first(el, "DateTimeString") if local_name(el) != "DateTimeString" else el
        if node is None:
            node = el
        raw = (node.text or "").strip()
        if not raw:
            return None
        try:
            if raw.isdigit() and len(raw) == 8:
                return datetime.strptime(raw, "%Y%m%d")
            if len(raw) >= 14 and raw[:14].isdigit():
                base = datetime.strptime(raw[:14], "%Y%m%d%H%M%S")
                zone = raw[14:]
                if zone:
                    sign = -1 if zone[0] == "-" else 1
                    digits = zone.lstrip("+-Z")
                    hours = int(digits[:2] or 0)
                    minutes = int(digits[2:4] or 0)
                    base = base.replace(tzinfo=timezone(sign * timedelta(hours=hours, minutes=minutes)))
                return base
            return datetime.fromisoformat(raw)
        except ValueError:
            self.warn(node, f"not a date/time: {raw!r}")
            return None


# --------------------------------------------------------------------------------------------------
# Declaration mapping
# --------------------------------------------------------------------------------------------------

_PARTY_ELEMENTS = {
    # element local name → our role
    "Declarant": "declarant",
    "Exporter": "exporter",
    "Importer": "importer",
    "Consignor": "consignor",
    "Consignee": "consignee",
    "Buyer": "buyer",
    "Seller": "seller",
    "Agent": "representative",
    "Carrier": "carrier",
    "Notify": "notify",
    "NotifyParty": "notify",
}

# WCO previous-document type codes that identify transport documents (EU codes N705 bill of lading,
# N740 air waybill, N741 master AWB, N703 house waybill, N704 master B/L, N714 house B/L; CDS DCR, 355).
_DOC_TYPES = {
    "705": "bill-of-lading",
    "704": "bill-of-lading",
    "714": "house-bill-of-lading",
    "740": "air-waybill",
    "741": "master-air-waybill",
    "703": "house-air-waybill",
    "DCR": "ducr",
    "MCR": "ducr",
    "355": "entry-summary",
    "337": "previous-declaration",
    "CLE": "previous-declaration",
    "SDE": "previous-declaration",
}

_MEANS_ID_TYPES = {
    "10": "imo",
    "11": "vessel-name",
    "40": "flight",
    "41": "aircraft-registration",
    "30": "registration",
}


def _function_of(function_code: str, type_code: str, has_amendment: bool) -> str:
    """Map WCO FunctionCode + TypeCode (+ Amendment elements) to original / amendment / cancellation."""
    tc = type_code.upper()
    if function_code == "1" or tc == "INV":
        return "cancellation"
    if function_code in {"4", "5"} or tc == "COR" or has_amendment:
        return "amendment"
    return "original"


def _party(el: Element, role: str) -> Party:
    address = first(el, "Address")
    ident = text(el, "ID")
    return Party(
        role=role,
        identifier=ident,
        id_scheme="EORI" if ident[:2].isalpha() and ident[2:].isdigit() and len(ident) > 4 else "",
        name=text(el, "Name"),
        street=text(address, "Line"),
        city=text(address, "CityName"),
        postcode=text(address, "PostcodeID"),
        country=text(address, "CountryCode").upper(),
        phone=text(el, "Communication", "ID"),
        extra={"function_code": fc} if (fc := text(el, "FunctionCode")) else {},
    )


def _parties(parent: Element | None) -> list[Party]:
    found: list[Party] = []
    if parent is None:
        return found
    for c in parent:
        if not isinstance(c.tag, str):
            continue
        role = _PARTY_ELEMENTS.get(c.tag.rpartition("}")[2])
        if role:
            party = _party(c, role)
            if party.identifier or party.name or party.extra:
                found.append(party)
    return found


def _conveyance(el: Element, *, default_mode: str = "") -> Conveyance:
    ident = text(el, "ID")
    id_type = text(el, "IdentificationTypeCode")
    mode_code = text(el, "ModeCode") or default_mode
    conv = Conveyance(
        mode=mode_from_code(mode_code),
        identifier=ident,
        identifier_type=id_type,
        nationality=text(el, "RegistrationNationalityCode").upper(),
    )
    kind = _MEANS_ID_TYPES.get(id_type[:2])
    if kind == "imo":
        conv.vessel_imo = ident
    elif kind == "vessel-name":
        conv.vessel_name = ident
    elif kind == "flight":
        conv.carrier, conv.flight_number = ident[:2], ident[2:]
    elif kind in {"registration", "aircraft-registration"}:
        conv.registration = ident
    name = text(el, "Name")
    if name and not conv.vessel_name and conv.mode == "sea":
        conv.vessel_name = name
    return conv


def _goods_item(gi: Element, rd: _Reader) -> GoodsItem:
    seq = rd.integer(first(gi, "SequenceNumeric"))
    item = GoodsItem(sequence=seq or 0)
    commodity = first(gi, "Commodity")
    item.description = text(commodity, "Description")
    # Commodity code: the national / combined nomenclature code (TSP for CDS, CN/HS/TAR elsewhere);
    # TARIC additions (TRC) and national additional codes are appended when they extend the code.
    base, taric, others = "", "", []
    for cl in children(commodity, "Classification"):
        cid = text(cl, "ID")
        ctype = text(cl, "IdentificationTypeCode").upper()
        if not cid:
            continue
        if ctype in {"TSP", "CN", "HS", "TAR", "CV", "SRZ", ""} and not base:
            base = cid
        elif ctype == "TRC":
            taric = cid
        else:
            others.append(f"{ctype}:{cid}")
    if base:
        code = base + taric if taric and len(base) == 8 else base
        item.set_hs(code)
        if not (6 <= len(item.hs_code) <= 10):
            rd.warn(first(commodity, "Classification") or gi, f"commodity code {code!r} is not 6-10 digits")
    if others:
        item.extra["classifications"] = " ".join(others)
    measure = first(commodity, "GoodsMeasure")
    item.gross_mass_kg = rd.decimal(first(measure, "GrossMassMeasure"))
    item.net_mass_kg = rd.decimal(first(measure, "NetNetWeightMeasure"))
    charge = first(commodity, "InvoiceLine", "ItemChargeAmount")
    item.value = rd.decimal(charge)
    if charge is not None:
        item.currency = (charge.get("currencyID") or "").upper()
    if item.value is None:
        statistical = first(gi, "StatisticalValueAmount")
        item.value = rd.decimal(statistical)
        if statistical is not None:
            item.currency = (statistical.get("currencyID") or "").upper()
    duty = children(commodity, "DutyTaxFee")
    for d in duty:
        if not item.preference and (regime := text(d, "DutyRegimeCode")):
            item.preference = regime
        if not item.tax_type and (tt := text(d, "TypeCode")):
            item.tax_type = tt
    procs = children(gi, "GovernmentProcedure")
    if procs:
        item.procedure = text(procs[0], "CurrentCode") + text(procs[0], "PreviousCode")
        extra_codes = [text(p, "CurrentCode") for p in procs[1:] if text(p, "CurrentCode")]
        if extra_codes:
            item.extra["additional_procedures"] = " ".join(extra_codes)
    origin = first(gi, "Origin")
    item.origin_country = text(origin, "CountryCode").upper()
    packages = children(gi, "Packaging")
    if packages:
        total = Decimal(0)
        seen_qty = False
        for p in packages:
            qty = rd.decimal(first(p, "QuantityQuantity"))
            if qty is not None:
                total += qty
                seen_qty = True
        item.quantity = total if seen_qty else None
        item.quantity_unit = text(packages[0], "TypeCode")
        marks = [text(p, "MarksNumbersID") for p in packages if text(p, "MarksNumbersID")]
        if marks:
            item.extra["marks"] = " | ".join(marks)
    for eq in children(commodity, "TransportEquipment"):
        if cid := text(eq, "ID"):
            item.containers.append(Container(number=cid))
    if export := text(gi, "ExportCountry", "ID"):
        item.extra["export_country"] = export.upper()
    item.parties = _parties(gi)
    return item


def _documents(parent: Element | None) -> list[TransportDocument]:
    docs = []
    for pd in children(parent, "PreviousDocument"):
        ref = text(pd, "ID")
        tc = text(pd, "TypeCode")
        if ref:
            docs.append(
                TransportDocument(
                    doc_type=_DOC_TYPES.get(tc.upper(), "other"),
                    reference=ref,
                    type_code=text(pd, "CategoryCode") + tc,
                )
            )
    return docs


def _changes(decl: Element) -> list[str]:
    """Human-readable list of amendment pointers: ``reason 28 at 42A/67A/68A#1/23A/65A tag 128``."""
    out = []
    for am in children(decl, "Amendment"):
        steps = []
        for p in children(am, "Pointer"):
            step = text(p, "DocumentSectionCode")
            seq = text(p, "SequenceNumeric")
            if seq and seq != "1":
                step += f"#{seq}"
            if tag := text(p, "TagID"):
                step += f" tag {tag}"
            steps.append(step)
        out.append(f"reason {text(am, 'ChangeReasonCode') or '?'} at {'/'.join(steps)}")
    for ai in children(decl, "AdditionalInformation"):
        if text(ai, "StatementTypeCode").upper() == "AES" and (desc := text(ai, "StatementDescription")):
            out.append(f"statement: {desc}")
    return out


def _declaration(decl: Element, rd: _Reader, problems: list[Problem], file: str) -> Declaration | None:
    """Map one ``Declaration`` element; mandatory parts missing → a Problem and None."""
    function_code = text(decl, "FunctionCode")
    reference = text(decl, "FunctionalReferenceID")
    mrn = text(decl, "ID")
    type_code = text(decl, "TypeCode")
    function = _function_of(function_code, type_code, bool(children(decl, "Amendment")))
    where = location(decl)
    shipment = first(decl, "GoodsShipment")
    missing = _missing_parts(function_code, reference, mrn, type_code, function, shipment)
    if missing:
        problems.append(Problem(file, where, "missing mandatory " + ", ".join(missing)))
        return None

    d = Declaration(
        reference=reference or mrn,
        business_key=reference or mrn,
        mrn=mrn,
        function=function,
        function_code=function_code,
        declaration_type=type_code,
        source_line=decl.sourceline,
    )
    _read_header(decl, rd, d)
    border = first(decl, "BorderTransportMeans")
    border_mode = text(border, "ModeCode")
    if border is not None:
        conv = _conveyance(border)
        conv.sequence = 1
        d.conveyances.append(conv)
    if shipment is not None:
        _read_shipment(decl, shipment, rd, d, border_mode)
    return d


def _missing_parts(
    function_code: str, reference: str, mrn: str, type_code: str, function: str, shipment: Element | None
) -> list[str]:
    """The mandatory parts a declaration lacks for its function (empty when it can be mapped)."""
    missing = []
    if not function_code:
        missing.append("FunctionCode")
    if not reference and not mrn:
        missing.append("FunctionalReferenceID (or ID)")
    if not type_code:
        missing.append("TypeCode")
    if function == "original" and shipment is None:
        missing.append("GoodsShipment")
    elif function == "original" and not children(shipment, "GovernmentAgencyGoodsItem"):
        missing.append("GoodsShipment/GovernmentAgencyGoodsItem")
    if function != "original" and not mrn:
        missing.append(f"ID (the MRN of the declaration this {function} changes)")
    return missing


def _read_header(decl: Element, rd: _Reader, d: Declaration) -> None:
    """Declaration-level dates, totals, amounts, offices, parties, changes and authorisations."""
    d.declared_at = rd.wco_datetime(first(decl, "IssueDateTime"))
    d.accepted_at = rd.wco_datetime(first(decl, "AcceptanceDateTime"))
    stamp = d.accepted_at or d.declared_at
    d.declaration_date = stamp.date() if stamp else None
    d.item_count = rd.integer(first(decl, "GoodsItemQuantity"))
    d.package_count = rd.integer(first(decl, "TotalPackageQuantity"))
    d.total_gross_mass_kg = rd.decimal(first(decl, "TotalGrossMassMeasure"))
    invoice = first(decl, "InvoiceAmount")
    d.invoice_amount = rd.decimal(invoice)
    if invoice is not None:
        d.currency = (invoice.get("currencyID") or "").upper()
    d.currency = d.currency or text(decl, "CurrencyExchange", "CurrencyTypeCode").upper()
    d.office_of_import = text(decl, "DeclarationOfficeID") or text(decl, "PresentationOffice", "ID")
    d.office_of_entry = text(decl, "BorderOffice", "ID") or text(decl, "EntryOffice", "ID")
    if supervising := text(decl, "SupervisingOffice", "ID"):
        d.extra["supervising_office"] = supervising
    d.parties = _parties(decl)
    d.changes = _changes(decl)
    for ah in children(decl, "AuthorisationHolder"):
        if (aid := text(ah, "ID")) and (cat := text(ah, "CategoryCode")):
            d.extra.setdefault("authorisations", "")
            d.extra["authorisations"] = (d.extra["authorisations"] + f" {cat}:{aid}").strip()


def _read_shipment(decl: Element, shipment: Element, rd: _Reader, d: Declaration, border_mode: str) -> None:
    """The goods shipment: parties, countries, terms, consignment, documents and goods items."""
    d.parties.extend(_parties(shipment))
    d.country_of_destination = text(shipment, "Destination", "CountryCode").upper()
    d.country_of_dispatch = text(shipment, "ExportCountry", "ID").upper()
    terms = first(shipment, "TradeTerms")
    if terms is not None:
        d.delivery_terms = " ".join(x for x in (text(terms, "ConditionCode"), text(terms, "LocationID")) if x)
    consignment = first(shipment, "Consignment")
    if consignment is not None:
        _read_consignment(consignment, d, border_mode)
    d.documents = _documents(shipment)
    if ucr := text(shipment, "UCR", "TraderAssignedReferenceID"):
        d.documents.append(TransportDocument(doc_type="other", reference=ucr, type_code="UCR"))
    for gi in children(shipment, "GovernmentAgencyGoodsItem"):
        item = _goods_item(gi, rd)
        d.goods.append(item)
        d.documents.extend(_documents(gi))
        if len(procs := children(gi, "GovernmentProcedure")) and not d.procedure:
            d.procedure = text(procs[0], "CurrentCode") + text(procs[0], "PreviousCode")
    if d.item_count is not None and d.function == "original" and d.item_count != len(d.goods):
        rd.warn(
            first(decl, "GoodsItemQuantity"),
            f"GoodsItemQuantity says {d.item_count} but {len(d.goods)} GovernmentAgencyGoodsItem present",
        )


def _read_consignment(consignment: Element, d: Declaration, border_mode: str) -> None:
    """The arrival conveyance (or the border one's arrival place), containers with seals, and carriers."""
    arrival = first(consignment, "ArrivalTransportMeans")
    if arrival is not None:
        conv = _conveyance(arrival, default_mode=border_mode)
        conv.sequence = len(d.conveyances) + 1
        conv.arrival_location = text(consignment, "GoodsLocation", "Name")
        conv.departure_location = text(consignment, "LoadingLocation", "ID")
        d.conveyances.append(conv)
    elif d.conveyances:
        d.conveyances[0].arrival_location = text(consignment, "GoodsLocation", "Name")
    for eq in children(consignment, "TransportEquipment"):
        if cid := text(eq, "ID"):
            seals = [text(s, "ID") for s in children(eq, "Seal") if text(s, "ID")]
            d.containers.append(Container(number=cid, seals=seals))
    for carrier in children(consignment, "Carrier"):
        d.parties.append(_party(carrier, "carrier"))


def _declarations(root: Element) -> list[Element]:
    if local_name(root) == "Declaration":
        return [root]
    # Outermost Declaration elements only (a Declaration never nests another in DEC-DMS).
    found = list(iter_named(root, "Declaration"))
    return [el for el in found if not any(local_name(a) == "Declaration" for a in el.iterancestors())]


def parse_wco_dec(data: bytes, *, file: str) -> ParseResult:
    """Parse a WCO DEC-DMS XML document (one or several declarations) into a ``ParseResult``.

    One ``ParsedMessage`` (kind ``wco-dec``) per declaration, each carrying one ``Declaration`` record.
    A declaration that lacks mandatory parts is reported and skipped; the others in the file are kept.
    """
    result = ParseResult(file=file, format=FORMAT)
    try:
        root = read_xml(data, file=file)
    except XmlReadError as exc:
        result.problems.append(exc.problem)
        return result
    decls = _declarations(root)
    if not decls:
        result.problems.append(
            Problem(
                file, location(root), f"no Declaration element found (root element is {local_name(root)!r})"
            )
        )
        return result
    single = len(decls) == 1
    for decl in decls:
        rd = _Reader(file)
        try:
            record = _declaration(decl, rd, result.problems, file)
        except Exception as exc:
            result.problems.append(Problem(file, location(decl), f"unexpected content: {exc!r}"))
            continue
        if record is None:
            continue
        digest = hashlib.sha256(data if single else etree.tostring(decl)).hexdigest()[:24]
        result.messages.append(
            ParsedMessage(
                kind=FORMAT,
                message_key=f"{FORMAT}:{record.reference}:{digest}",
                function=record.function,
                version_key=record.business_key,
                records=[record],
                warnings=rd.warnings,
            )
        )
    return result


def parse_wco_dec_files(paths: Iterable[str]) -> Iterator[ParseResult]:
    """Convenience for bulk loads and the benchmark: parse each path in turn."""
    for path in paths:
        with open(path, "rb") as fh:
            yield parse_wco_dec(fh.read(), file=str(path))

"""JSON declarations / consignments pushed by system integrators.

The documented shape (all keys optional unless marked *required*; unknown keys are reported as
warnings and ignored; dates ISO 8601; countries ISO 3166-1 alpha-2; currencies ISO 4217)::

    {
      "reference": "LRN-2024-0001",           # required: the sender's functional reference
      "mrn": "24GB1234567890ABC1",            # customs' number, required for amendment/cancellation
      "function": "original",                 # original | amendment | cancellation
      "type": "IMA", "procedure": "4000",
      "declared_at": "2024-05-01T10:00:00+02:00", "date": "2024-05-01",
      "office_of_entry": "GBFXT001", "office_of_import": "GBLON001",
      "invoice_amount": 1000.5, "currency": "EUR",
      "country_of_dispatch": "CN", "country_of_destination": "GB",
      "parties": [{"role": "importer", "id": "GB553202734852", "name": "...", "street": "...",
                   "city": "...", "postcode": "...", "country": "GB"}],
      "conveyance": {"mode": "sea", "vessel_imo": "9321483", "vessel_name": "...", "carrier": "LH",
                     "flight_number": "400", "registration": "...", "departure_location": "CNSHA",
                     "arrival_location": "GBFXT", "departure_at": "...", "eta": "...",
                     "route_countries": ["CN", "SG", "GB"]},
      "goods": [{"sequence": 1, "hs_code": "8510900000",   # required per item: 6-10 digits
                 "description": "...", "quantity": 50, "quantity_unit": "BX",
                 "gross_mass_kg": 150, "net_mass_kg": 100, "value": 1000, "currency": "GBP",
                 "origin_country": "US", "preference": "100", "procedure": "4000"}],
                                               # required (at least one) unless a cancellation
      "containers": [{"number": "MSCU1234567", "type": "45G1", "seals": ["A1"]}],
      "documents": [{"type": "bill-of-lading", "reference": "MEDU1234"}],
      "label": {"finding": true, "severity": 1}
    }

The body is one such object, a list of them, or ``{"declarations": [...]}``. Each valid object becomes
one ``ParsedMessage`` (kind ``json``) with one ``Declaration``; each invalid one is reported with the
JSON path of the bad value (``$[2].goods[0].hs_code``) and skipped.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from apps.intake.parsers.base import ParsedMessage, ParseResult, Problem
from apps.intake.records.cargo import (
    DECLARATION_FUNCTIONS,
    PARTY_ROLES,
    TRANSPORT_DOCUMENT_TYPES,
    TRANSPORT_MODES,
    Container,
    Conveyance,
    Declaration,
    ExaminationLabel,
    GoodsItem,
    Party,
    TransportDocument,
)

__all__ = ["FORMAT", "parse_json"]

FORMAT = "json"
MAX_BYTES = 50 * 1024 * 1024

_COUNTRY = re.compile(r"^[A-Z]{2}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_HS = re.compile(r"^\d{6,10}$")

_TOP = {
    "reference", "mrn", "function", "type", "procedure", "declared_at", "date", "office_of_entry",
    "office_of_import", "invoice_amount", "currency", "country_of_dispatch", "country_of_destination",
    "parties", "conveyance", "goods", "containers", "documents", "label", "channel",
}  # fmt: skip
_PARTY = {"role", "id", "id_scheme", "name", "street", "city", "postcode", "country", "phone"}
_CONVEYANCE = {
    "mode", "vessel_imo", "vessel_name", "carrier", "flight_number", "registration", "departure_location",
    "arrival_location", "departure_at", "arrival_at", "eta", "route_countries", "nationality",
}  # fmt: skip
_GOODS = {
    "sequence", "hs_code", "description", "quantity", "quantity_unit", "gross_mass_kg", "net_mass_kg",
    "value", "currency", "origin_country", "preference", "procedure", "tax_rate", "tax_type",
}  # fmt: skip


class _Checker:
    """Reads typed values from a JSON object, recording problems with their JSON path."""

    def __init__(self, file: str):
        self.file = file
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []

    def fail(self, path: str, reason: str) -> None:
        self.problems.append(Problem(self.file, path, reason))

    def unknown(self, obj: dict[str, Any], allowed: set[str], path: str) -> None:
        for key in obj:
            if key not in allowed:
                self.warnings.append(Problem(self.file, f"{path}.{key}", "unknown field ignored"))

    def string(
        self, obj: dict[str, Any], key: str, path: str, *, required: bool = False, pattern=None
    ) -> str:
        value = obj.get(key)
        if value is None or value == "":
            if required:
                self.fail(f"{path}.{key}", "required")
            return ""
        if not isinstance(value, str):
            self.fail(f"{path}.{key}", f"must be a string, got {type(value).__name__}")
            return ""
        value = value.strip()
        if pattern is not None and not pattern.match(value):
            self.fail(f"{path}.{key}", f"invalid value {value!r}")
            return ""
        return value

    def choice(self, obj: dict[str, Any], key: str, path: str, options: tuple[str, ...], default: str) -> str:
        value = self.string(obj, key, path) or default
        if value not in options:
            self.fail(f"{path}.{key}", f"must be one of {', '.join(options)}; got {value!r}")
            return default
        return value

    def number(
        self, obj: dict[str, Any], key: str, path: str, *, non_negative: bool = True
    ) -> Decimal | None:
        value = obj.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
            self.fail(f"{path}.{key}", f"must be a number, got {type(value).__name__}")
            return None
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            self.fail(f"{path}.{key}", f"must be a number, got {value!r}")
            return None
        if not number.is_finite() or (non_negative and number < 0):
            self.fail(f"{path}.{key}", f"must be a finite{' non-negative' if non_negative else ''} number")
            return None
        return number

    def integer(self, obj: dict[str, Any], key: str, path: str) -> int | None:
        value = obj.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(f"{path}.{key}", f"must be a whole number, got {value!r}")
            return None
        return value

    def when(self, obj: dict[str, Any], key: str, path: str, parse: Callable[[str], Any]) -> Any:
        raw = self.string(obj, key, path)
        if not raw:
            return None
        try:
            return parse(raw)
        except ValueError:
            self.fail(f"{path}.{key}", f"not an ISO 8601 date/time: {raw!r}")
            return None

    def objects(self, obj: dict[str, Any], key: str, path: str) -> list[tuple[str, dict[str, Any]]]:
        value = obj.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self.fail(f"{path}.{key}", "must be a list")
            return []
        out = []
        for i, item in enumerate(value):
            if isinstance(item, dict):
                out.append((f"{path}.{key}[{i}]", item))
            else:
                self.fail(f"{path}.{key}[{i}]", "must be an object")
        return out


def _declaration(obj: dict[str, Any], path: str, ck: _Checker) -> Declaration:
    """One declaration object, checked field by field; its parts are read in the steps below."""
    ck.unknown(obj, _TOP, path)
    d = Declaration(reference=ck.string(obj, "reference", path, required=True))
    d.business_key = d.reference
    d.mrn = ck.string(obj, "mrn", path)
    d.function = ck.choice(obj, "function", path, DECLARATION_FUNCTIONS, "original")
    if d.function != "original" and not d.mrn:
        ck.fail(f"{path}.mrn", f"required for {d.function}")
    d.declaration_type = ck.string(obj, "type", path)
    d.procedure = ck.string(obj, "procedure", path)
    d.declared_at = ck.when(obj, "declared_at", path, datetime.fromisoformat)
    d.declaration_date = ck.when(obj, "date", path, date.fromisoformat)
    d.office_of_entry = ck.string(obj, "office_of_entry", path)
    d.office_of_import = ck.string(obj, "office_of_import", path)
    d.invoice_amount = ck.number(obj, "invoice_amount", path)
    d.currency = ck.string(obj, "currency", path, pattern=_CURRENCY)
    d.country_of_dispatch = ck.string(obj, "country_of_dispatch", path, pattern=_COUNTRY)
    d.country_of_destination = ck.string(obj, "country_of_destination", path, pattern=_COUNTRY)
    d.channel = ck.string(obj, "channel", path)
    _read_parties(obj, path, ck, d)
    _read_conveyance(obj, path, ck, d)
    _read_goods(obj, path, ck, d)
    _read_containers_and_documents(obj, path, ck, d)
    _read_label(obj, path, ck, d)
    return d


def _read_parties(obj: dict[str, Any], path: str, ck: _Checker, d: Declaration) -> None:
    """The declaration's parties."""
    for ppath, p in ck.objects(obj, "parties", path):
        ck.unknown(p, _PARTY, ppath)
        d.parties.append(
            Party(
                role=ck.choice(p, "role", ppath, PARTY_ROLES, ""),
                identifier=ck.string(p, "id", ppath),
                id_scheme=ck.string(p, "id_scheme", ppath),
                name=ck.string(p, "name", ppath),
                street=ck.string(p, "street", ppath),
                city=ck.string(p, "city", ppath),
                postcode=ck.string(p, "postcode", ppath),
                country=ck.string(p, "country", ppath, pattern=_COUNTRY),
                phone=ck.string(p, "phone", ppath),
            )
        )


def _read_conveyance(obj: dict[str, Any], path: str, ck: _Checker, d: Declaration) -> None:
    """The one conveyance, when given; its route must be ISO country codes."""
    conv = obj.get("conveyance")
    if conv is not None:
        cpath = f"{path}.conveyance"
        if not isinstance(conv, dict):
            ck.fail(cpath, "must be an object")
        else:
            ck.unknown(conv, _CONVEYANCE, cpath)
            route = conv.get("route_countries") or []
            if not isinstance(route, list) or not all(
                isinstance(c, str) and _COUNTRY.match(c) for c in route
            ):
                ck.fail(f"{cpath}.route_countries", "must be a list of ISO alpha-2 country codes")
                route = []
            d.conveyances.append(
                Conveyance(
                    mode=ck.choice(conv, "mode", cpath, TRANSPORT_MODES, "unknown"),
                    nationality=ck.string(conv, "nationality", cpath, pattern=_COUNTRY),
                    vessel_imo=ck.string(conv, "vessel_imo", cpath),
                    vessel_name=ck.string(conv, "vessel_name", cpath),
                    carrier=ck.string(conv, "carrier", cpath),
                    flight_number=ck.string(conv, "flight_number", cpath),
                    registration=ck.string(conv, "registration", cpath),
                    sequence=1,
                    departure_location=ck.string(conv, "departure_location", cpath),
                    arrival_location=ck.string(conv, "arrival_location", cpath),
                    departure_at=ck.when(conv, "departure_at", cpath, datetime.fromisoformat),
                    arrival_at=ck.when(conv, "arrival_at", cpath, datetime.fromisoformat),
                    eta=ck.when(conv, "eta", cpath, datetime.fromisoformat),
                    route_countries=list(route),
                )
            )


def _read_goods(obj: dict[str, Any], path: str, ck: _Checker, d: Declaration) -> None:
    """The goods items; at least one unless the declaration is a cancellation."""
    goods = ck.objects(obj, "goods", path)
    if not goods and d.function != "cancellation":
        ck.fail(f"{path}.goods", "at least one goods item is required")
    for i, (gpath, g) in enumerate(goods):
        ck.unknown(g, _GOODS, gpath)
        item = GoodsItem(sequence=ck.integer(g, "sequence", gpath) or i + 1)
        item.set_hs(ck.string(g, "hs_code", gpath, required=True, pattern=_HS))
        item.description = ck.string(g, "description", gpath)
        item.quantity = ck.number(g, "quantity", gpath)
        item.quantity_unit = ck.string(g, "quantity_unit", gpath)
        item.gross_mass_kg = ck.number(g, "gross_mass_kg", gpath)
        item.net_mass_kg = ck.number(g, "net_mass_kg", gpath)
        item.value = ck.number(g, "value", gpath)
        item.currency = ck.string(g, "currency", gpath, pattern=_CURRENCY) or d.currency
        item.origin_country = ck.string(g, "origin_country", gpath, pattern=_COUNTRY)
        item.preference = ck.string(g, "preference", gpath)
        item.procedure = ck.string(g, "procedure", gpath)
        item.tax_rate = ck.number(g, "tax_rate", gpath)
        item.tax_type = ck.string(g, "tax_type", gpath)
        d.goods.append(item)


def _read_containers_and_documents(obj: dict[str, Any], path: str, ck: _Checker, d: Declaration) -> None:
    """The containers with their seals, and the transport documents."""
    for cpath, c in ck.objects(obj, "containers", path):
        seals = c.get("seals") or []
        if not isinstance(seals, list) or not all(isinstance(s, str) for s in seals):
            ck.fail(f"{cpath}.seals", "must be a list of strings")
            seals = []
        d.containers.append(
            Container(
                number=ck.string(c, "number", cpath, required=True),
                equipment_type=ck.string(c, "type", cpath),
                seals=seals,
            )
        )
    for dpath, doc in ck.objects(obj, "documents", path):
        d.documents.append(
            TransportDocument(
                doc_type=ck.choice(doc, "type", dpath, TRANSPORT_DOCUMENT_TYPES, "other"),
                reference=ck.string(doc, "reference", dpath, required=True),
            )
        )


def _read_label(obj: dict[str, Any], path: str, ck: _Checker, d: Declaration) -> None:
    """The examination label used for training, when given."""
    label = obj.get("label")
    if label is not None:
        if not isinstance(label, dict) or not isinstance(label.get("finding"), bool):
            ck.fail(f"{path}.label", 'must be {"finding": true|false, "severity": <int>}')
        else:
            d.label = ExaminationLabel(
                finding=label["finding"], severity=ck.integer(label, "severity", f"{path}.label") or 0
            )


def parse_json(data: bytes | str, *, file: str) -> ParseResult:
    """Validate and map a JSON body (one declaration, a list, or ``{"declarations": [...]}``)."""
    result = ParseResult(file=file, format=FORMAT)
    if len(data) > MAX_BYTES:
        result.problems.append(Problem(file, "$", f"body larger than {MAX_BYTES} bytes; use bulk intake"))
        return result
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")  # RFC 8259: JSON exchanged between systems is UTF-8
        except UnicodeDecodeError as exc:
            result.problems.append(Problem(file, "$", f"not UTF-8 (byte {exc.start}): JSON must be UTF-8"))
            return result
    try:
        body = json.loads(data, parse_float=Decimal)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        where = f"line {exc.lineno}, column {exc.colno}" if isinstance(exc, json.JSONDecodeError) else "$"
        result.problems.append(Problem(file, where, f"not valid JSON: {getattr(exc, 'msg', exc)}"))
        return result
    except RecursionError:
        result.problems.append(Problem(file, "$", "JSON nested too deeply"))
        return result
    if isinstance(body, dict) and "declarations" in body:
        items, base = body["declarations"], "$.declarations"
        if not isinstance(items, list):
            result.problems.append(Problem(file, base, "must be a list"))
            return result
    elif isinstance(body, list):
        items, base = body, "$"
    elif isinstance(body, dict):
        items, base = [body], None
    else:
        result.problems.append(Problem(file, "$", "must be an object or a list of objects"))
        return result
    for i, obj in enumerate(items):
        path = "$" if base is None else f"{base}[{i}]"
        if not isinstance(obj, dict):
            result.problems.append(Problem(file, path, "must be an object"))
            continue
        ck = _Checker(file)
        try:
            record = _declaration(obj, path, ck)
        except Exception as exc:  # a parser never raises on input; report it instead
            ck.fail(path, f"unreadable: {exc!r}")
            record = None
        if ck.problems or record is None:
            result.problems.extend(ck.problems)
            continue
        digest = hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:24]
        result.messages.append(
            ParsedMessage(
                kind=FORMAT,
                message_key=f"{FORMAT}:{record.reference}:{digest}",
                function=record.function,
                version_key=record.business_key,
                records=[record],
                warnings=ck.warnings,
            )
        )
    return result

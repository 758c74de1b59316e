"""Trader register files: CSV and JSON, one operator per row or object (documented in ``docs/traders.md``).

Each valid operator becomes one ``ParsedMessage`` (kind ``traders-csv`` or ``traders-json``) carrying one
:class:`~apps.intake.records.trader.TraderRecord`. Its ``message_key`` is the operator id plus a hash of
the content, so a re-import of an unchanged operator is a duplicate (nothing stored) and a changed one a
new version of the same trader (``version_key`` ``trader:<operator id>``), the earlier kept, superseded.

An operator with any bad value is refused whole, with the line (CSV) or JSON path and the field named;
the other operators of the file are kept. CSV files are read as the other CSV parsers read theirs:
UTF-8 with or without a byte-order mark, UTF-16 with one, else Windows-1252; comma, semicolon, tab or
pipe delimited (decided from the header line); header names matched case- and punctuation-blind against
the aliases in :data:`CSV_ALIASES`.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Callable
from dataclasses import asdict
from datetime import date, datetime
from typing import Any

from apps.intake.keys import BadKey, email_key, operator_id, phone_key
from apps.intake.parsers.base import ParsedMessage, ParseResult, Problem
from apps.intake.records.trader import (
    AEO_STATUSES,
    AEO_TYPES,
    HISTORY_KINDS,
    ComplianceEvent,
    TraderAddress,
    TraderRecord,
)

__all__ = ["CSV_ALIASES", "CSV_FORMAT", "JSON_FORMAT", "looks_like_register", "parse_traders"]

CSV_FORMAT = "traders-csv"
JSON_FORMAT = "traders-json"

#: Our field → the header names a register may use for it (compared after :func:`_header_key`).
CSV_ALIASES: dict[str, tuple[str, ...]] = {
    "operator_id": ("operator_id", "eori", "eori_number", "eori_no", "operator", "trader_id", "operator_number"),
    "name": ("name", "trader_name", "operator_name", "company_name", "legal_name", "company"),
    "short_name": ("short_name", "trading_name", "trading_as"),
    "street": ("street", "address", "street_and_number", "address_line", "address_line_1"),
    "city": ("city", "town"),
    "postcode": ("postcode", "postal_code", "post_code", "zip", "zip_code"),
    "country": ("country", "country_code", "country_of_establishment"),
    "phone": ("phone", "phones", "telephone", "tel", "phone_number"),
    "email": ("email", "emails", "e_mail", "email_address"),
    "registered_on": ("registered_on", "registration_date", "registered"),
    "aeo_status": ("aeo_status", "aeo", "aeo_state"),
    "aeo_type": ("aeo_type", "aeo_certificate_type", "certificate_type"),
    "aeo_valid_from": ("aeo_valid_from", "aeo_from", "valid_from", "aeo_start"),
    "aeo_valid_to": ("aeo_valid_to", "aeo_to", "valid_to", "aeo_valid_until", "valid_until", "aeo_end"),
    "aeo_certificate": ("aeo_certificate", "aeo_number", "certificate_number", "aeo_certificate_number"),
    "findings_count": ("previous_findings", "findings", "findings_count"),
    "penalties_count": ("penalties", "penalties_count"),
    "revocations_count": ("revocations", "revocations_count"),
    "examinations_count": ("examinations", "examinations_count"),
}  # fmt: skip
_ALIAS_OF = {alias: name for name, aliases in CSV_ALIASES.items() for alias in aliases}
_REQUIRED = ("operator_id", "name")
_COUNTS = ("findings_count", "penalties_count", "revocations_count", "examinations_count")
_STATUS_WORDS = {
    "": "none", "none": "none", "no": "none", "false": "none", "n": "none", "0": "none",
    "active": "active", "valid": "active", "yes": "active", "true": "active", "y": "active", "1": "active",
    "suspended": "suspended", "revoked": "revoked", "withdrawn": "revoked", "expired": "none",
}  # fmt: skip
_TYPE_WORDS = {"AEOC": "AEOC", "C": "AEOC", "AEOS": "AEOS", "S": "AEOS", "AEOF": "AEOF", "F": "AEOF"}
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_JSON_TOP = {
    "operator_id", "eori", "name", "short_name", "country", "address", "addresses", "phones", "emails",
    "registered_on", "aeo", "compliance",
}  # fmt: skip
_JSON_AEO = {"status", "type", "valid_from", "valid_to", "certificate"}
_JSON_COMPLIANCE = {"findings", "penalties", "revocations", "examinations", "history"}
_JSON_EVENT = {"kind", "date", "reference", "amount", "note"}


class _Refused(Exception):
    def __init__(self, field: str, reason: str):
        self.field = field
        self.reason = reason


def _header_key(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.strip().casefold()).strip("_")


def _date(value: str, field: str) -> date | None:
    value = value.strip()
    if not value:
        return None
    for pattern in ("%Y-%m-%d", "%d/%m/%Y", "%d.%m.%Y"):
        try:
            return datetime.strptime(value, pattern).date()
        except ValueError:
            continue
    raise _Refused(field, f"not a date (YYYY-MM-DD): {value!r}")


def _count(value: Any, field: str) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise _Refused(field, f"must be a whole number of 0 or more, got {value!r}")
    text = str(value).strip()
    if not re.fullmatch(r"\d+", text):
        raise _Refused(field, f"must be a whole number of 0 or more, got {value!r}")
    return int(text)


def _split(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    return [v.strip() for v in re.split(r"[;|]", str(value or "")) if v.strip()]


def _text(flat: dict[str, Any], name: str) -> str:
    """A flat value as stripped text ("" when absent)."""
    value = flat.get(name)
    return "" if value is None else str(value).strip()


def _record(flat: dict[str, Any], line: int, label: Callable[[str], str]) -> TraderRecord:
    """A record from flat values (CSV strings, or JSON values under the same names); raises ``_Refused``
    naming the field as the file names it (``label``)."""
    for name in _REQUIRED:
        if not _text(flat, name):
            raise _Refused(label(name), "required value is empty")
    try:
        ident = operator_id(_text(flat, "operator_id"))
    except BadKey as exc:
        raise _Refused(label("operator_id"), str(exc)) from None
    country = _text(flat, "country").upper()
    if country and not _COUNTRY.match(country):
        raise _Refused(label("country"), f"country code {country!r} is not two letters (ISO 3166-1 alpha-2)")
    country = country or ident[:2]
    phones, emails = _contacts(flat, country, label)
    status, aeo_type, valid_from, valid_to = _aeo(flat, label)
    history: list[ComplianceEvent] = flat.get("history") or []
    counts = _counts(flat, history, label)
    address = TraderAddress(_text(flat, "street"), _text(flat, "city"), _text(flat, "postcode"), country)
    addresses = flat.get("addresses") or (
        [address] if address.street or address.city or address.postcode else []
    )
    return TraderRecord(
        operator_id=ident,
        name=_text(flat, "name"),
        short_name=_text(flat, "short_name"),
        country=country,
        addresses=addresses,
        phones=phones,
        emails=emails,
        registered_on=_date(_text(flat, "registered_on"), label("registered_on")),
        aeo_status=status,
        aeo_type=aeo_type,
        aeo_valid_from=valid_from,
        aeo_valid_to=valid_to,
        aeo_certificate=_text(flat, "aeo_certificate"),
        findings_count=counts["findings_count"] or 0,
        penalties_count=counts["penalties_count"] or 0,
        revocations_count=counts["revocations_count"] or 0,
        examinations_count=counts["examinations_count"],
        history=history,
        source_line=line,
    )  # fmt: skip


def _contacts(flat: dict[str, Any], country: str, label: Callable[[str], str]) -> tuple[list[str], list[str]]:
    """The operator's phones (normalised for its country) and e-mail addresses; raises ``_Refused``."""
    phones, emails = [], []
    for raw in _split(flat.get("phone")):
        try:
            phones.append(phone_key(raw, country))
        except BadKey as exc:
            raise _Refused(label("phone"), str(exc)) from None
    for raw in _split(flat.get("email")):
        try:
            emails.append(email_key(raw))
        except BadKey as exc:
            raise _Refused(label("email"), str(exc)) from None
    return phones, emails


def _aeo(flat: dict[str, Any], label: Callable[[str], str]) -> tuple[str, str, date | None, date | None]:
    """The AEO status, certificate type and validity, checked against each other; raises ``_Refused``."""
    status_word = _text(flat, "aeo_status").casefold()
    aeo_type_raw = _text(flat, "aeo_type").upper().replace("-", "").replace(" ", "")
    if status_word not in _STATUS_WORDS:
        raise _Refused(
            label("aeo_status"),
            f"must be one of {', '.join(AEO_STATUSES)}; got {_text(flat, 'aeo_status')!r}",
        )
    status = _STATUS_WORDS[status_word]
    if not status_word and aeo_type_raw:
        status = "active"  # a certificate type given without a status: the register lists live ones
    aeo_type = ""
    if aeo_type_raw:
        if aeo_type_raw not in _TYPE_WORDS:
            raise _Refused(
                label("aeo_type"), f"must be one of {', '.join(AEO_TYPES)}; got {_text(flat, 'aeo_type')!r}"
            )
        aeo_type = _TYPE_WORDS[aeo_type_raw]
    if status in {"active", "suspended"} and not aeo_type:
        raise _Refused(
            label("aeo_type"), f"required when the AEO status is {status} ({', '.join(AEO_TYPES)})"
        )
    valid_from = _date(_text(flat, "aeo_valid_from"), label("aeo_valid_from"))
    valid_to = _date(_text(flat, "aeo_valid_to"), label("aeo_valid_to"))
    if valid_from and valid_to and valid_to < valid_from:
        raise _Refused(label("aeo_valid_to"), f"{valid_to} is before the start of validity {valid_from}")
    return status, aeo_type, valid_from, valid_to


def _counts(
    flat: dict[str, Any], history: list[ComplianceEvent], label: Callable[[str], str]
) -> dict[str, int | None]:
    """The compliance counts; a missing one is taken from the history, a smaller one is refused."""
    counts = {name: _count(flat.get(name), label(name)) for name in _COUNTS}
    for name, kind in (
        ("findings_count", "finding"),
        ("penalties_count", "penalty"),
        ("revocations_count", "revocation"),
    ):
        events = sum(1 for e in history if e.kind == kind)
        given = counts[name]
        if given is None:
            counts[name] = events
        elif given < events:
            raise _Refused(label(name), f"{given} is fewer than the {events} {kind} events in the history")
    return counts


def _message(kind: str, record: TraderRecord) -> ParsedMessage:
    """The content hash leaves out where the operator stood in the file: moving rows changes nothing."""
    content = asdict(record)
    content.pop("source_line", None)
    digest = hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()[:24]
    return ParsedMessage(
        kind=kind,
        message_key=f"traders:{record.operator_id}:{digest}",
        version_key=f"trader:{record.operator_id}",
        records=[record],
    )


# --- CSV -------------------------------------------------------------------------------------------------


def _decode(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")  # spreadsheet exports on Windows


def _delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def looks_like_register(text: str) -> bool:
    """A CSV header naming an operator id and a name, or JSON whose top key is ``traders``."""
    stripped = text.lstrip("\ufeff").lstrip()
    if stripped.startswith("{"):
        return bool(re.match(r'\{\s*"traders"\s*:', stripped))
    first = stripped.splitlines()[0] if stripped else ""
    try:
        header = next(csv.reader([first], delimiter=_delimiter(first)))
    except (csv.Error, StopIteration):
        return False
    names = {_ALIAS_OF.get(_header_key(h)) for h in header}
    return {"operator_id", "name", "aeo_status"} <= names or {"operator_id", "name", "aeo_type"} <= names


def _parse_csv(text: str, file: str) -> ParseResult:
    result = ParseResult(file=file, format=CSV_FORMAT)
    first = text.split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(first))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        result.problems.append(Problem(file, "line 1", "empty file: no header row"))
        return result
    except csv.Error as exc:
        result.problems.append(Problem(file, "line 1", f"unreadable CSV header: {exc}"))
        return result
    columns: dict[str, int] = {}
    unknown: list[str] = []
    for i, h in enumerate(header):
        name = _ALIAS_OF.get(_header_key(h))
        if name is None:
            unknown.append(h)
        elif name in columns:
            result.problems.append(
                Problem(file, "line 1", f"columns {header[columns[name]]!r} and {h!r} both give {name}")
            )
            return result
        else:
            columns[name] = i
    missing = [CSV_ALIASES[n][0] for n in _REQUIRED if n not in columns]
    if missing:
        result.problems.append(Problem(file, "line 1", f"missing required column(s): {', '.join(missing)}"))
        return result
    header_of = {name: header[i] for name, i in columns.items()}
    warnings = [Problem(file, f"line 1, column {h!r}", "unknown column ignored") for h in unknown if h]
    seen: dict[str, int] = {}
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            result.problems.append(Problem(file, f"line {reader.line_num}", f"malformed CSV: {exc}"))
            continue
        line = reader.line_num
        if not row or all(not v.strip() for v in row):
            continue
        if len(row) != len(header):
            result.problems.append(
                Problem(file, f"line {line}", f"row has {len(row)} fields, the header has {len(header)}")
            )
            continue
        flat = {name: row[i] for name, i in columns.items()}
        try:
            record = _record(flat, line, lambda n: header_of.get(n, n))
        except _Refused as err:
            result.problems.append(Problem(file, f"line {line}, column {err.field!r}", err.reason))
            continue
        if record.operator_id in seen:
            result.problems.append(
                Problem(
                    file,
                    f"line {line}, column {header_of['operator_id']!r}",
                    f"operator {record.operator_id} is already on line {seen[record.operator_id]}",
                )
            )
            continue
        seen[record.operator_id] = line
        result.messages.append(_message(CSV_FORMAT, record))
    if result.messages and warnings:
        result.messages[0].warnings.extend(warnings)
    return result


# --- JSON ------------------------------------------------------------------------------------------------


def _json_flat(obj: dict[str, Any], path: str) -> dict[str, Any]:
    """The flat field names of :func:`_record` from one JSON operator; nested parts checked here."""
    for key in obj:
        if key not in _JSON_TOP:
            raise _Refused(f"{path}.{key}", "unknown field")
    flat: dict[str, Any] = {
        "operator_id": obj.get("operator_id", obj.get("eori")),
        "name": obj.get("name"),
        "short_name": obj.get("short_name"),
        "country": obj.get("country"),
        "registered_on": obj.get("registered_on"),
    }
    for key in ("operator_id", "name", "short_name", "country", "registered_on"):
        if flat[key] is not None and not isinstance(flat[key], str):
            raise _Refused(f"{path}.{key}", f"must be a string, got {type(flat[key]).__name__}")
    for key, name in (("phones", "phone"), ("emails", "email")):
        value = obj.get(key)
        if value is not None and (not isinstance(value, list) or not all(isinstance(v, str) for v in value)):
            raise _Refused(f"{path}.{key}", "must be a list of strings")
        flat[name] = value or []
    flat["addresses"] = _json_addresses(obj, path)
    aeo = obj.get("aeo") or {}
    if not isinstance(aeo, dict):
        raise _Refused(f"{path}.aeo", "must be an object {status, type, valid_from, valid_to, certificate}")
    for key in aeo:
        if key not in _JSON_AEO:
            raise _Refused(f"{path}.aeo.{key}", "unknown field")
    flat.update(
        aeo_status=aeo.get("status"),
        aeo_type=aeo.get("type"),
        aeo_valid_from=aeo.get("valid_from"),
        aeo_valid_to=aeo.get("valid_to"),
        aeo_certificate=aeo.get("certificate"),
    )
    compliance = obj.get("compliance") or {}
    if not isinstance(compliance, dict):
        raise _Refused(f"{path}.compliance", "must be an object {findings, penalties, revocations, history}")
    for key in compliance:
        if key not in _JSON_COMPLIANCE:
            raise _Refused(f"{path}.compliance.{key}", "unknown field")
    flat.update(
        findings_count=compliance.get("findings"),
        penalties_count=compliance.get("penalties"),
        revocations_count=compliance.get("revocations"),
        examinations_count=compliance.get("examinations"),
    )
    flat["history"] = _json_history(compliance, path)
    return flat


def _json_addresses(obj: dict[str, Any], path: str) -> list[TraderAddress]:
    """The operator's addresses (``addresses``, or a single ``address``), each checked."""
    raw_addresses = obj.get("addresses", [obj["address"]] if "address" in obj else [])
    if not isinstance(raw_addresses, list):
        raise _Refused(f"{path}.addresses", "must be a list of objects")
    addresses = []
    for i, a in enumerate(raw_addresses):
        where = f"{path}.addresses[{i}]"
        if not isinstance(a, dict) or any(k not in {"street", "city", "postcode", "country"} for k in a):
            raise _Refused(where, "an address is an object of street, city, postcode, country")
        country = str(a.get("country") or "").strip().upper()
        if country and not _COUNTRY.match(country):
            raise _Refused(f"{where}.country", f"country code {country!r} is not two letters")
        addresses.append(
            TraderAddress(
                str(a.get("street") or "").strip(),
                str(a.get("city") or "").strip(),
                str(a.get("postcode") or "").strip(),
                country,
            )
        )
    return addresses


def _json_history(compliance: dict[str, Any], path: str) -> list[ComplianceEvent]:
    """The compliance history's events, each checked."""
    history = compliance.get("history") or []
    if not isinstance(history, list):
        raise _Refused(f"{path}.compliance.history", "must be a list of events")
    events = []
    for i, e in enumerate(history):
        where = f"{path}.compliance.history[{i}]"
        if not isinstance(e, dict):
            raise _Refused(where, "an event is an object {kind, date, reference, amount, note}")
        for key in e:
            if key not in _JSON_EVENT:
                raise _Refused(f"{where}.{key}", "unknown field")
        kind = str(e.get("kind") or "").strip().casefold()
        if kind not in HISTORY_KINDS:
            raise _Refused(
                f"{where}.kind", f"must be one of {', '.join(HISTORY_KINDS)}; got {e.get('kind')!r}"
            )
        amount = e.get("amount")
        if amount is not None and (
            isinstance(amount, bool) or not isinstance(amount, int | float) or amount < 0
        ):
            raise _Refused(f"{where}.amount", f"must be a number of 0 or more, got {amount!r}")
        events.append(
            ComplianceEvent(
                kind=kind,
                on=_date(str(e.get("date") or ""), f"{where}.date"),
                reference=str(e.get("reference") or "")[:100],
                amount=float(amount) if amount is not None else None,
                note=str(e.get("note") or "")[:500],
            )
        )
    return events


_JSON_LABELS = {
    "phone": "phones", "email": "emails", "aeo_status": "aeo.status", "aeo_type": "aeo.type",
    "aeo_valid_from": "aeo.valid_from", "aeo_valid_to": "aeo.valid_to", "aeo_certificate": "aeo.certificate",
    "findings_count": "compliance.findings", "penalties_count": "compliance.penalties",
    "revocations_count": "compliance.revocations", "examinations_count": "compliance.examinations",
}  # fmt: skip


def _json_label(path: str) -> Callable[[str], str]:
    """How a field is named in errors for the operator at ``path``: its JSON path."""

    def label(name: str) -> str:
        return f"{path}.{_JSON_LABELS.get(name, name)}"

    return label


def _parse_json(text: str, file: str) -> ParseResult:
    result = ParseResult(file=file, format=JSON_FORMAT)
    try:
        body = json.loads(text)
    except ValueError as exc:
        result.problems.append(Problem(file, "$", f"not JSON: {exc}"))
        return result
    if isinstance(body, dict) and "traders" in body:
        items, base = body["traders"], "$.traders"
    elif isinstance(body, list):
        items, base = body, "$"
    elif isinstance(body, dict):
        items, base = [body], "$"
    else:
        items, base = None, "$"
    if not isinstance(items, list):
        result.problems.append(Problem(file, base, "expected a list of traders"))
        return result
    seen: dict[str, str] = {}
    for i, obj in enumerate(items):
        path = f"{base}[{i}]" if base != "$" or isinstance(body, list) else "$"
        if not isinstance(obj, dict):
            result.problems.append(Problem(file, path, "a trader is an object"))
            continue
        try:
            flat = _json_flat(obj, path)
            record = _record(flat, i + 1, _json_label(path))
        except _Refused as err:
            result.problems.append(Problem(file, err.field, err.reason))
            continue
        if record.operator_id in seen:
            result.problems.append(
                Problem(
                    file,
                    f"{path}.operator_id",
                    f"operator {record.operator_id} is already at {seen[record.operator_id]}",
                )
            )
            continue
        seen[record.operator_id] = path
        result.messages.append(_message(JSON_FORMAT, record))
    return result


def parse_traders(data: bytes, *, file: str, fmt: str = "") -> ParseResult:
    """Parse a register file; ``fmt`` ``traders-csv`` or ``traders-json``, or empty to tell by content."""
    text = _decode(data)
    if not fmt:
        fmt = JSON_FORMAT if text.lstrip("\ufeff").lstrip().startswith(("{", "[")) else CSV_FORMAT
    return _parse_json(text, file) if fmt == JSON_FORMAT else _parse_csv(text, file)

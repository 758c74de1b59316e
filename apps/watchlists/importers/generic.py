"""A generic CSV with a header row, for national lists and hand-kept lookouts (see GENERIC_COLUMNS)."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from apps.watchlists.importers.countries import country_or_raw
from apps.watchlists.importers.dates import parse_date_of_birth
from apps.watchlists.importers.entries import (
    KINDS,
    Address,
    Alias,
    Document,
    WatchlistEntry,
    WatchlistImportError,
)
from apps.watchlists.importers.keys import EXTRA_KEY_FIELDS, BadEntryKey, apply_keys

GENERIC_COLUMNS: dict[str, str] = {
    "id": "required; stable id of the entry in the source list (becomes '<source>-<id>')",
    "kind": "person | organisation | vessel | aircraft | vehicle | container | phone | email | payment_card "
    "(default person); for the last four the name is the key itself: an ISO 6346 container number, a phone "
    "number (+country code, or national in the first nationality), an e-mail address, a card number or the "
    "SHA-256 hex of one",
    "name": "required; primary name",
    "aliases": "';'-separated; append ' (weak)' or ' (strong)' to grade an alias",
    "date_of_birth": "';'-separated; YYYY-MM-DD, YYYY-MM, YYYY, '12 Jan 1960', 'circa 1960', 'YYYY..YYYY'",
    "place_of_birth": "';'-separated free text",
    "nationality": "';'-separated ISO alpha-2 codes or country names",
    "document_type": "type of the document in document_number (default 'document')",
    "document_number": "';'-separated numbers (all of document_type)",
    "document_country": "issuing country of the documents",
    "address": "';'-separated addresses",
    "programme": "';'-separated programme or list names",
    "remarks": "free text",
    "listed_on": "YYYY-MM-DD",
    "imo": "';'-separated IMO numbers (check digit verified)",
    "containers": "';'-separated ISO 6346 container numbers (check digit verified)",
    "phones": "';'-separated phone numbers",
    "emails": "';'-separated e-mail addresses",
    "payment_cards": "';'-separated card numbers or their SHA-256 hex",
}


def _split(value: str) -> list[str]:
    return [v.strip() for v in value.split(";") if v.strip()]


def load_generic_csv(path: str | Path, *, source: str) -> Iterator[WatchlistEntry]:
    """Read a national or hand-kept list from a CSV with a header row (see GENERIC_COLUMNS).

    Unknown columns are rejected, not ignored, so a misspelt header (``nationalty``) fails loudly
    instead of silently dropping a screening key.
    """
    path = Path(path)
    if not path.is_file():
        raise WatchlistImportError(path, "file", "-", "file not found")
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        header = [h.strip() for h in reader.fieldnames or []]
        unknown = [h for h in header if h not in GENERIC_COLUMNS]
        if unknown:
            raise WatchlistImportError(
                path, "line 1", unknown[0], f"unknown column; allowed: {', '.join(GENERIC_COLUMNS)}"
            )
        for missing in ("id", "name"):
            if missing not in header:
                raise WatchlistImportError(path, "line 1", missing, "required column missing")
        if len(set(header)) != len(header):
            twice = next(h for h in header if header.count(h) > 1)
            raise WatchlistImportError(path, "line 1", twice, "column given twice")
        reader.fieldnames = header
        seen: set[str] = set()
        try:
            for row in reader:
                yield _generic_entry(row, path, reader.line_num, source, seen)
        except csv.Error as exc:
            raise WatchlistImportError(path, f"line {reader.line_num}", "-", f"CSV error: {exc}") from None


def _generic_entry(
    row: dict[str, str | None], path: Path, line: int, source: str, seen: set[str]
) -> WatchlistEntry:
    if None in row:
        raise WatchlistImportError(path, f"line {line}", "-", "more fields than header columns")
    get = {k: (v or "").strip() for k, v in row.items()}
    where = f"line {line}"
    ext = get.get("id", "")
    if not ext:
        raise WatchlistImportError(path, where, "id", "empty")
    if ext in seen:
        raise WatchlistImportError(path, where, "id", f"duplicate id {ext!r}")
    seen.add(ext)
    if not get.get("name"):
        raise WatchlistImportError(path, where, "name", "empty")
    kind = (get.get("kind") or "person").casefold().replace("organization", "organisation")
    if kind not in KINDS:
        raise WatchlistImportError(path, where, "kind", f"unknown kind {kind!r}")
    aliases = []
    for raw in _split(get.get("aliases", "")):
        m = re.fullmatch(r"(.*?)\s*\((weak|strong)\)", raw, re.IGNORECASE)
        aliases.append(Alias(m.group(1), m.group(2).casefold()) if m else Alias(raw))  # type: ignore[arg-type]
    dobs = []
    for raw in _split(get.get("date_of_birth", "")):
        parsed = parse_date_of_birth(raw)
        if not parsed:
            raise WatchlistImportError(path, where, "date_of_birth", f"cannot read date {raw!r}")
        dobs.extend(parsed)
    listed_on = None
    if get.get("listed_on"):
        try:
            listed_on = date.fromisoformat(get["listed_on"])
        except ValueError:
            raise WatchlistImportError(
                path, where, "listed_on", f"not YYYY-MM-DD: {get['listed_on']!r}"
            ) from None
    doc_country = country_or_raw(get.get("document_country"))
    doc_type = get.get("document_type") or "document"
    entry = WatchlistEntry(
        source=source,
        external_id=f"{source}-{ext}",
        kind=kind,  # type: ignore[arg-type]
        name=get["name"],
        aliases=aliases,
        dates_of_birth=dobs,
        places_of_birth=_split(get.get("place_of_birth", "")),
        nationalities=[c for v in _split(get.get("nationality", "")) if (c := country_or_raw(v))],
        documents=[Document(doc_type, n, doc_country) for n in _split(get.get("document_number", ""))],
        addresses=[Address(a, None) for a in _split(get.get("address", ""))],
        programmes=_split(get.get("programme", "")),
        remarks=get.get("remarks", ""),
        listed_on=listed_on,
    )
    try:
        apply_keys(
            entry,
            {name: _split(get.get(name, "")) for name in EXTRA_KEY_FIELDS if get.get(name)},
            document_field="document_number",
        )
    except BadEntryKey as exc:
        raise WatchlistImportError(path, where, exc.field_name, exc.problem) from None
    return entry

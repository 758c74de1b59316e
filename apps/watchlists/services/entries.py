"""An entry between its importer dataclass and its row, and a person's own entries created and edited."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction

from apps.agencies.operations import check
from apps.intake.keys import BadKey, document_key
from apps.watchlists import importers
from apps.watchlists.importers.dates import parse_date_of_birth
from apps.watchlists.importers.entries import (
    KINDS,
    Address,
    Alias,
    BirthDate,
    Document,
)
from apps.watchlists.models import (
    HandlingCode,
    Watchlist,
    WatchlistEntry,
)
from apps.watchlists.services.lists import mark_changed


def _identifiers(entry: importers.WatchlistEntry) -> dict[str, list[str]]:
    """Exact-match keys in normal form (``apps.intake.keys``): vessel IMO numbers, container numbers,
    phone numbers, e-mail addresses, payment-card hashes, and identity-document numbers.

    Entries typed in or pushed were checked (and refused when bad) by ``importers.apply_keys``; the
    published lists' own IMO numbers are kept as their digits even when a check digit fails (the list is
    what it is), and their documents too short to be a key are left to the name matcher.
    """
    found: dict[str, list[str]] = {}

    def add(key: str, value: str) -> None:
        value = value.strip()
        if value and value not in found.setdefault(key, []):
            found[key].append(value)

    for kind, values in (entry.identifiers or {}).items():
        for value in values:
            add(kind, value)
    for doc in entry.documents:
        if doc.doc_type.strip().upper().startswith("IMO"):
            add("imo", "".join(c for c in doc.number if c.isdigit()))
            continue
        try:
            add("document", document_key(doc.number))
        except BadKey:
            continue
    if entry.kind in importers.KEY_ENTRY_KINDS and entry.kind not in found:
        add(entry.kind, entry.name)
    return found


def entry_row(entry: importers.WatchlistEntry) -> dict[str, Any]:
    """The stored fields of an imported entry (JSON-ready), plus its content ``fingerprint``."""
    row: dict[str, Any] = {
        "kind": entry.kind,
        "name": entry.name[:500],
        "aliases": [asdict(a) for a in entry.aliases],
        "dates_of_birth": [asdict(d) for d in entry.dates_of_birth],
        "places_of_birth": list(entry.places_of_birth),
        "nationalities": list(entry.nationalities),
        "documents": [asdict(d) for d in entry.documents],
        "addresses": [asdict(a) for a in entry.addresses],
        "identifiers": _identifiers(entry),
        "programmes": list(entry.programmes),
        "gender": (entry.gender or "")[:20],
        "reference": (entry.reference or "")[:50],
        "remarks": entry.remarks,
        "listed_on": entry.listed_on,
    }
    text = json.dumps(row, sort_keys=True, default=str, ensure_ascii=False)
    row["fingerprint"] = hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()
    return row


def to_dataclass(row: Mapping[str, Any] | WatchlistEntry, cls: type = importers.WatchlistEntry, **extra: Any):
    """Rebuild the pure dataclass (for the matcher) from a stored row or model instance."""
    get = row.get if isinstance(row, dict) else lambda k, default=None: getattr(row, k, default)
    return cls(
        source=str(get("watchlist_id")),
        external_id=get("external_id"),
        kind=get("kind"),
        name=get("name"),
        aliases=[
            Alias(a["name"], a.get("quality"), a.get("alias_type") or "aka") for a in get("aliases") or []
        ],
        dates_of_birth=[BirthDate(**d) for d in get("dates_of_birth") or []],
        places_of_birth=list(get("places_of_birth") or []),
        nationalities=list(get("nationalities") or []),
        documents=[Document(**d) for d in get("documents") or []],
        addresses=[Address(**a) for a in get("addresses") or []],
        programmes=list(get("programmes") or []),
        remarks=get("remarks") or "",
        listed_on=get("listed_on"),
        gender=get("gender") or None,
        reference=get("reference") or None,
        **extra,
    )


def entry_from_dict(data: dict[str, Any], *, source: str, where: str = "entry") -> importers.WatchlistEntry:
    """An entry from JSON (the API): ``{id, kind, name, aliases, dates_of_birth, nationalities, documents,
    addresses, programmes, remarks, listed_on}``; aliases may be strings or ``{name, quality, alias_type}``,
    documents ``{type|doc_type, number, country}``. Raises :class:`ValidationError` naming the field."""
    ext = str(data.get("id") or data.get("external_id") or "").strip()
    name = str(data.get("name") or "").strip()
    if not ext:
        raise _fail(where, "id", "required")
    if not name:
        raise _fail(where, "name", "required")
    kind = str(data.get("kind") or "person").casefold().replace("organization", "organisation")
    if kind not in KINDS:
        raise _fail(where, "kind", f"unknown kind {kind!r}")
    aliases = _aliases_from(data, where)
    dobs = _dates_of_birth_from(data, where)
    documents = _documents_from(data, where)
    listed_on = None
    if data.get("listed_on"):
        try:
            listed_on = dt.date.fromisoformat(str(data["listed_on"]))
        except ValueError:
            raise _fail(where, "listed_on", f"not YYYY-MM-DD: {data['listed_on']!r}") from None
    entry = importers.WatchlistEntry(
        source=source,
        external_id=ext,
        kind=kind,  # type: ignore[arg-type]
        name=name,
        aliases=aliases,
        dates_of_birth=dobs,
        places_of_birth=[str(p) for p in data.get("places_of_birth") or []],
        nationalities=[
            importers.country_code(str(n)) or str(n).strip() for n in data.get("nationalities") or []
        ],
        documents=documents,
        addresses=[
            Address(a, None) if isinstance(a, str) else Address(str(a.get("text", "")), a.get("country"))
            for a in data.get("addresses") or []
        ],
        programmes=[str(p) for p in data.get("programmes") or []],
        remarks=str(data.get("remarks") or ""),
        listed_on=listed_on,
        gender=data.get("gender") or None,
        reference=data.get("reference") or None,
    )
    _apply_key_fields(entry, data, where)
    return entry


def _fail(where: str, field: str, problem: str) -> ValidationError:
    """The error naming the field of the entry at ``where``."""
    return ValidationError({field: f"{where}: {problem}"})


def _aliases_from(data: dict[str, Any], where: str) -> list[Alias]:
    """The aliases, each a name or ``{name, quality, alias_type}``."""
    aliases = []
    for raw in data.get("aliases") or []:
        if isinstance(raw, str):
            aliases.append(Alias(raw.strip()))
        elif isinstance(raw, dict) and str(raw.get("name", "")).strip():
            quality = raw.get("quality")
            if quality not in (None, "strong", "weak"):
                raise _fail(where, "aliases", f"quality must be strong or weak, not {quality!r}")
            aliases.append(Alias(str(raw["name"]).strip(), quality, raw.get("alias_type") or "aka"))
        else:
            raise _fail(where, "aliases", f"an alias is a name or {{name, quality}}: {raw!r}")
    return aliases


def _dates_of_birth_from(data: dict[str, Any], where: str) -> list[BirthDate]:
    """The dates of birth (``dates_of_birth``, or a single ``date_of_birth``), however written."""
    dobs: list[BirthDate] = []
    for raw in data.get("dates_of_birth") or ([data["date_of_birth"]] if data.get("date_of_birth") else []):
        parsed = parse_date_of_birth(str(raw))
        if not parsed:
            raise _fail(where, "dates_of_birth", f"cannot read date {raw!r}")
        dobs.extend(parsed)
    return dobs


def _documents_from(data: dict[str, Any], where: str) -> list[Document]:
    """The identity documents, each with a number."""
    documents = []
    for raw in data.get("documents") or []:
        if not isinstance(raw, dict) or not str(raw.get("number", "")).strip():
            raise _fail(where, "documents", f"a document needs a number: {raw!r}")
        documents.append(
            Document(
                str(raw.get("type") or raw.get("doc_type") or "document"),
                str(raw["number"]).strip(),
                importers.country_code(raw.get("country")) or raw.get("country") or None,
                raw.get("note") or None,
            )
        )
    return documents


def _apply_key_fields(entry: importers.WatchlistEntry, data: dict[str, Any], where: str) -> None:
    """Check the exact-match key fields (IMO numbers, phones, ...) and put their keys on the entry."""
    extra: dict[str, list[str]] = {}
    for name in importers.EXTRA_KEY_FIELDS:
        values = data.get(name) or []
        if isinstance(values, str) or not isinstance(values, list):
            raise _fail(where, name, "a list of values")
        if name != "imo" and values:
            extra[name] = [str(v) for v in values]
    for imo in data.get("imo") or []:
        entry.documents.append(Document("IMO", str(imo)))
    try:
        importers.apply_keys(entry, extra, document_field="documents" if not data.get("imo") else "imo")
    except importers.BadEntryKey as exc:
        raise _fail(where, exc.field_name, exc.problem) from None


def _operational(data: dict[str, Any]) -> dict[str, Any]:
    """The owner's own fields of an entry (not part of any published list): handling and expiry."""
    out: dict[str, Any] = {}
    if "handling_code" in data:
        code = data["handling_code"] or ""
        if code and code not in HandlingCode.values:
            raise ValidationError({"handling_code": f"one of {', '.join(HandlingCode.values)}"})
        out["handling_code"] = code
    if "expires_on" in data:
        value = data["expires_on"]
        if isinstance(value, str):
            try:
                value = dt.date.fromisoformat(value) if value else None
            except ValueError:
                raise ValidationError({"expires_on": "not YYYY-MM-DD"}) from None
        out["expires_on"] = value
    if "active" in data:
        out["active"] = bool(data["active"])
    return out


def create_entry(*, actor: User | None, watchlist: Watchlist, data: dict[str, Any]) -> WatchlistEntry:
    """Add one entry by hand or through the API; its ``id`` must be new in the list."""
    if actor is not None:  # None: the system itself (commands, tests)
        check(actor, "watchlist.manage", watchlist)
    entry = entry_from_dict(data, source=watchlist.name)
    with transaction.atomic():
        if WatchlistEntry.objects.filter(watchlist=watchlist, external_id=entry.external_id).exists():
            raise ValidationError({"id": f"entry {entry.external_id!r} already exists in this list"})
        row = WatchlistEntry.objects.create(
            watchlist=watchlist, external_id=entry.external_id, **entry_row(entry), **_operational(data)
        )
        mark_changed(watchlist.pk)
    return row


def update_entry(*, actor: User | None, entry: WatchlistEntry, data: dict[str, Any]) -> WatchlistEntry:
    """Change an entry: listed facts (when ``name`` is given, the whole record is replaced), handling,
    expiry, active flag. Its ``external_id`` never changes."""
    if actor is not None:  # None: the system itself (commands, tests)
        check(actor, "watchlist.manage", entry.watchlist)
    fields = _operational(data)
    if "name" in data:
        merged = {"id": entry.external_id, **data}
        fields.update(entry_row(entry_from_dict(merged, source=entry.watchlist.name)))
    with transaction.atomic():
        for key, value in fields.items():
            setattr(entry, key, value)
        entry.save()
        mark_changed(entry.watchlist_id)
    return entry

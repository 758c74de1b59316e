"""Watchlist services: lists, entries and imports. Every function acting for a person checks first.

Imports run the same code for the command line, the upload page, the API and Celery:
``start_import`` (queued run) → ``run_import`` (read with the pure importers, then ``upsert_entries``).
``upsert_entries`` matches on ``external_id`` so a re-import updates and never duplicates; entries no
longer in a full list are deactivated, not deleted; rows are written with ``bulk_create`` and
``bulk_update`` in batches, each batch in its own transaction so a page can follow the progress. Every
change bumps ``Watchlist.version``, which makes each process rebuild its screening index lazily.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import secrets
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, F, Max, Q, QuerySet
from django.utils import timezone
from guardian.shortcuts import assign_perm, remove_perm

from apps.agencies.models import Agency
from apps.agencies.operations import check, membership_of
from apps.agencies.scoping import get_object_for
from apps.core.errors import scrub_paths
from apps.core.storage import keep, safe_name
from apps.intake.keys import BadKey, document_key
from apps.watchlists import importers
from apps.watchlists.importers.dates import parse_date_of_birth
from apps.watchlists.importers.entries import (
    KINDS,
    Address,
    Alias,
    BirthDate,
    Document,
    WatchlistImportError,
)
from apps.watchlists.models import (
    EntryKind,
    HandlingCode,
    ImportRun,
    SourceFormat,
    Watchlist,
    WatchlistEntry,
)
from apps.watchlists.rulings import (
    get_hit_for,
    hits_blocking_action,
    pending_hits,
    precision_by_list,
    rule_hit,
)

log = logging.getLogger(__name__)

__all__ = [
    "IMPORT_FORMATS",
    "ImportCounts",
    "create_entry",
    "create_watchlist",
    "entry_from_dict",
    "entry_row",
    "get_entry_for",
    "get_hit_for",
    "get_watchlist_for",
    "hits_blocking_action",
    "import_path",
    "list_summaries",
    "mark_changed",
    "pending_hits",
    "precision_by_list",
    "read_entries",
    "rule_hit",
    "run_import",
    "search_entries",
    "share_watchlist",
    "shared_with",
    "start_import",
    "submit_import",
    "unshare_watchlist",
    "update_entry",
    "upsert_entries",
    "visible_watchlists",
]

IMPORT_FORMATS = ("un", "ofac", "csv", "api")
BATCH = 1000
#: Fields an import writes; ``handling_code`` and ``expires_on`` are the owner's decisions and survive.
IMPORTED_FIELDS = (
    "kind", "name", "aliases", "dates_of_birth", "places_of_birth", "nationalities", "documents",
    "addresses", "identifiers", "programmes", "gender", "reference", "remarks", "listed_on",
)  # fmt: skip

Progress = Callable[[ImportRun], None]


# --- reading --------------------------------------------------------------------------------------------


def visible_watchlists(actor: User) -> QuerySet[Watchlist]:
    """Lists the actor may see: its agency's own and those granted to it."""
    check(actor, "watchlist.view")
    return Watchlist.objects.visible_to(actor).select_related("owner_agency")


def get_watchlist_for(actor: User, pk: Any, *, operation: str = "watchlist.view") -> Watchlist:
    """The list if visible (else 404) and the actor may perform ``operation`` on it (else 403)."""
    return get_object_for(actor, Watchlist.objects.select_related("owner_agency"), pk=pk, operation=operation)


def get_entry_for(actor: User, pk: Any, *, operation: str = "watchlist.view") -> WatchlistEntry:
    """The entry if its list is visible to the actor (else 404); ``operation`` is checked on the list."""
    entry = get_object_for(
        actor, WatchlistEntry.objects.select_related("watchlist", "watchlist__owner_agency"), pk=pk
    )
    check(actor, operation, entry.watchlist)
    return entry


def list_summaries(actor: User) -> list[dict[str, Any]]:
    """Each visible list with its live entry counts per kind and its last import (for the lists page)."""
    lists = list(visible_watchlists(actor))
    today = timezone.localdate()
    live = Q(active=True) & (Q(expires_on__isnull=True) | Q(expires_on__gt=today))
    counts: dict[int, dict[str, int]] = {w.pk: {} for w in lists}
    for row in (
        WatchlistEntry.objects.filter(live, watchlist_id__in=counts)
        .values("watchlist_id", "kind")
        .annotate(n=Count("pk"))
    ):
        counts[row["watchlist_id"]][row["kind"]] = row["n"]
    inactive = dict(
        WatchlistEntry.objects.filter(watchlist_id__in=counts)
        .exclude(live)
        .values("watchlist_id")
        .annotate(n=Count("pk"))
        .values_list("watchlist_id", "n")
    )
    last: dict[int, ImportRun] = {}
    latest = ImportRun.objects.filter(watchlist_id__in=counts).values("watchlist_id").annotate(m=Max("pk"))
    for run in ImportRun.objects.filter(pk__in=[r["m"] for r in latest]):
        last[run.watchlist_id] = run
    labels = dict(EntryKind.choices)
    return [
        {
            "watchlist": w,
            "total": sum(counts[w.pk].values()),
            "kinds": [(labels[k], n) for k, n in sorted(counts[w.pk].items(), key=lambda kv: -kv[1])],
            "inactive": inactive.get(w.pk, 0),
            "last_import": last.get(w.pk),
        }
        for w in lists
    ]


def search_entries(
    actor: User, watchlist: Watchlist, *, query: str = "", kind: str = "", show_inactive: bool = False
) -> QuerySet[WatchlistEntry]:
    """Entries of a visible list, filtered by a text (name, alias, id, document) and kind."""
    check(actor, "watchlist.view", watchlist)
    rows = WatchlistEntry.objects.filter(watchlist=watchlist)
    if not show_inactive:
        rows = rows.filter(active=True)
    if kind in EntryKind.values:
        rows = rows.filter(kind=kind)
    if query:
        # JSON fields are searched as text: good enough for a person's lookup, never for screening.
        rows = rows.filter(
            Q(name__icontains=query)
            | Q(external_id__icontains=query)
            | Q(reference__icontains=query)
            | Q(aliases__icontains=query)
            | Q(documents__icontains=query)
        )
    return rows.order_by("name", "pk")


# --- lists and sharing ------------------------------------------------------------------------------------


def create_watchlist(
    *,
    actor: User | None,
    name: str,
    description: str = "",
    source_kind: str = SourceFormat.MANUAL,
    default_handling: str = HandlingCode.NOTIFY,
    risk_area: str = "security",
    weight: int = 90,
    owner_agency: Agency | None = None,
    false_hit_rate: float = 0.001,
) -> Watchlist:
    """A new list owned by the actor's agency (``owner_agency`` only for system set-up, actor None).

    ``false_hit_rate``: the share of ordinary travellers its matches may flag; its threshold is set to
    keep it when entries arrive (``calibration``)."""
    if actor is not None:
        check(actor, "watchlist.manage")
        owner_agency = membership_of(actor).agency
    if owner_agency is None:
        raise ValueError("a watchlist needs an owner agency")
    watchlist = Watchlist(
        owner_agency=owner_agency,
        name=name,
        description=description,
        source_kind=source_kind,
        default_handling=default_handling,
        risk_area=risk_area,
        weight=weight,
        false_hit_rate=false_hit_rate,
    )
    watchlist.full_clean()
    watchlist.save()
    return watchlist


def share_watchlist(*, actor: User | None, watchlist: Watchlist, agency: Agency) -> None:
    """Let ``agency`` see and screen against ``watchlist``. Only the owner agency may share its list."""
    if actor is not None:
        check(actor, "watchlist.manage", watchlist)
    with transaction.atomic():
        assign_perm("watchlists.view_watchlist", agency.group, watchlist)
        mark_changed(watchlist.pk)


def unshare_watchlist(*, actor: User | None, watchlist: Watchlist, agency: Agency) -> None:
    if actor is not None:
        check(actor, "watchlist.manage", watchlist)
    with transaction.atomic():
        remove_perm("watchlists.view_watchlist", agency.group, watchlist)
        mark_changed(watchlist.pk)


def shared_with(watchlist: Watchlist) -> list[Agency]:
    """Agencies (other than the owner) granted sight of the list."""
    group_ids = watchlist.watchlistgroupobjectpermission_set.filter(
        permission__codename="view_watchlist"
    ).values("group_id")
    return list(Agency.objects.filter(group_id__in=group_ids).order_by("name"))


def mark_changed(watchlist_id: int) -> None:
    """Mark the list changed: every process rebuilds its screening index on its next screening."""
    Watchlist.objects.filter(pk=watchlist_id).update(version=F("version") + 1, updated_at=timezone.now())


# --- entries: dataclass <-> row ----------------------------------------------------------------------------


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


def to_dataclass(row: dict[str, Any] | WatchlistEntry, cls: type = importers.WatchlistEntry, **extra: Any):
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

    def fail(field: str, problem: str) -> ValidationError:
        return ValidationError({field: f"{where}: {problem}"})

    ext = str(data.get("id") or data.get("external_id") or "").strip()
    name = str(data.get("name") or "").strip()
    if not ext:
        raise fail("id", "required")
    if not name:
        raise fail("name", "required")
    kind = str(data.get("kind") or "person").casefold().replace("organization", "organisation")
    if kind not in KINDS:
        raise fail("kind", f"unknown kind {kind!r}")
    aliases = []
    for raw in data.get("aliases") or []:
        if isinstance(raw, str):
            aliases.append(Alias(raw.strip()))
        elif isinstance(raw, dict) and str(raw.get("name", "")).strip():
            quality = raw.get("quality")
            if quality not in (None, "strong", "weak"):
                raise fail("aliases", f"quality must be strong or weak, not {quality!r}")
            aliases.append(Alias(str(raw["name"]).strip(), quality, raw.get("alias_type") or "aka"))
        else:
            raise fail("aliases", f"an alias is a name or {{name, quality}}: {raw!r}")
    dobs: list[BirthDate] = []
    for raw in data.get("dates_of_birth") or ([data["date_of_birth"]] if data.get("date_of_birth") else []):
        parsed = parse_date_of_birth(str(raw))
        if not parsed:
            raise fail("dates_of_birth", f"cannot read date {raw!r}")
        dobs.extend(parsed)
    documents = []
    for raw in data.get("documents") or []:
        if not isinstance(raw, dict) or not str(raw.get("number", "")).strip():
            raise fail("documents", f"a document needs a number: {raw!r}")
        documents.append(
            Document(
                str(raw.get("type") or raw.get("doc_type") or "document"),
                str(raw["number"]).strip(),
                importers.country_code(raw.get("country")) or raw.get("country") or None,
                raw.get("note") or None,
            )
        )
    listed_on = None
    if data.get("listed_on"):
        try:
            listed_on = dt.date.fromisoformat(str(data["listed_on"]))
        except ValueError:
            raise fail("listed_on", f"not YYYY-MM-DD: {data['listed_on']!r}") from None
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
    extra: dict[str, list[str]] = {}
    for name in importers.EXTRA_KEY_FIELDS:
        values = data.get(name) or []
        if isinstance(values, str) or not isinstance(values, list):
            raise fail(name, "a list of values")
        if name != "imo" and values:
            extra[name] = [str(v) for v in values]
    for imo in data.get("imo") or []:
        entry.documents.append(Document("IMO", str(imo)))
    try:
        importers.apply_keys(entry, extra, document_field="documents" if not data.get("imo") else "imo")
    except importers.BadEntryKey as exc:
        raise fail(exc.field_name, exc.problem) from None
    return entry


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


# --- imports ---------------------------------------------------------------------------------------------


class ImportCounts(dict):
    """{read, added, updated, unchanged, reactivated, deactivated, duplicates}: a dict, stored as JSON."""

    KEYS = ("read", "added", "updated", "unchanged", "reactivated", "deactivated", "duplicates")

    def __init__(self) -> None:
        super().__init__(dict.fromkeys(self.KEYS, 0))


def read_entries(fmt: str, path: str | Path, *, source: str) -> Iterator[importers.WatchlistEntry]:
    """The pure importer for ``fmt`` on ``path`` (an OFAC folder, or any file of it, for ``ofac``)."""
    path = Path(path)
    if fmt == "un":
        return importers.load_un_consolidated(path)
    if fmt == "ofac":
        return importers.load_ofac_sdn(path if path.is_dir() else path.parent)
    if fmt == "csv":
        return importers.load_generic_csv(path, source=source)
    if fmt == "api":
        return _read_json(path, source)
    raise ValueError(f"unknown format {fmt!r}; one of {', '.join(IMPORT_FORMATS)}")


def _read_json(path: Path, source: str) -> Iterator[importers.WatchlistEntry]:
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise WatchlistImportError(path, "file", "-", f"not JSON: {exc}") from None
    items = payload.get("entries") if isinstance(payload, dict) else payload
    if not isinstance(items, list):
        raise WatchlistImportError(path, "file", "entries", "expected a list of entries")
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise WatchlistImportError(path, f"entry {i}", "-", "an entry is an object")
        try:
            yield entry_from_dict(item, source=source, where=f"entry {i}")
        except ValidationError as exc:
            field, problems = next(iter(exc.message_dict.items()))
            raise WatchlistImportError(path, f"entry {i}", field, problems[0]) from None


def upsert_entries(
    watchlist: Watchlist,
    entries: Iterable[importers.WatchlistEntry],
    *,
    deactivate_missing: bool = True,
    run: ImportRun | None = None,
    progress: Progress | None = None,
    total: int | None = None,
) -> ImportCounts:
    """Store ``entries`` into ``watchlist``: add new ids, update changed ones, deactivate missing ones.

    Matching is on ``external_id``; an entry whose content fingerprint is unchanged is not written. An
    id seen twice in the input counts as a duplicate and the first one wins. ``deactivate_missing`` is
    for full lists (UN, OFAC, a national list file); a partial push through the API leaves the rest.
    """
    counts = ImportCounts()
    existing: dict[str, tuple[int, str, bool]] = {
        ext: (pk, fp, active)
        for pk, ext, fp, active in WatchlistEntry.objects.filter(watchlist=watchlist).values_list(
            "pk", "external_id", "fingerprint", "active"
        )
    }
    seen: set[str] = set()
    batch: list[importers.WatchlistEntry] = []

    def flush() -> None:
        new: list[WatchlistEntry] = []
        changed: list[WatchlistEntry] = []
        for item in batch:
            row = entry_row(item)
            known = existing.get(item.external_id)
            if known is None:
                new.append(WatchlistEntry(watchlist=watchlist, external_id=item.external_id, **row))
            elif known[1] != row["fingerprint"] or not known[2]:
                counts["updated" if known[1] != row["fingerprint"] else "reactivated"] += 1
                changed.append(WatchlistEntry(pk=known[0], active=True, **row))
            else:
                counts["unchanged"] += 1
        with transaction.atomic():
            WatchlistEntry.objects.bulk_create(new, batch_size=BATCH)
            if changed:
                now = timezone.now()
                for obj in changed:
                    obj.updated_at = now
                WatchlistEntry.objects.bulk_update(
                    changed, [*IMPORTED_FIELDS, "fingerprint", "active", "updated_at"], batch_size=200
                )
            if new or changed:
                mark_changed(watchlist.pk)
        counts["added"] += len(new)
        batch.clear()
        if run is not None:
            run.progress_done = counts["read"]
            run.progress_total = max(total or 0, counts["read"])
            run.counts = dict(counts)
            ImportRun.objects.filter(pk=run.pk).update(
                progress_done=run.progress_done, progress_total=run.progress_total, counts=run.counts
            )
        if progress and run is not None:
            progress(run)

    for item in entries:
        counts["read"] += 1
        if item.external_id in seen:
            counts["duplicates"] += 1
            continue
        seen.add(item.external_id)
        batch.append(item)
        if len(batch) >= BATCH:
            flush()
    flush()
    if deactivate_missing:
        gone = [pk for ext, (pk, _fp, active) in existing.items() if active and ext not in seen]
        with transaction.atomic():
            for start in range(0, len(gone), 500):
                WatchlistEntry.objects.filter(pk__in=gone[start : start + 500]).update(
                    active=False, updated_at=timezone.now()
                )
            if gone:
                mark_changed(watchlist.pk)
        counts["deactivated"] = len(gone)
    return counts


def start_import(
    *, actor: User | None, watchlist: Watchlist, fmt: str, files: list[str], deactivate_missing: bool = True
) -> ImportRun:
    """Record a queued import; people need ``watchlist.manage`` on the list (its owner agency)."""
    if fmt not in IMPORT_FORMATS:
        raise ValueError(f"unknown format {fmt!r}; one of {', '.join(IMPORT_FORMATS)}")
    if actor is not None:
        check(actor, "watchlist.manage", watchlist)
    return ImportRun.objects.create(
        watchlist=watchlist,
        requested_by=actor,
        format=fmt,
        files=files,
        deactivate_missing=deactivate_missing,
    )


def shown_name(path: str | Path) -> str:
    """The name the uploader gave a file: its last part, without the spool's random prefix."""
    return Path(str(path)).name.split("__", 1)[-1]


def import_error_text(exc: Exception) -> str:
    """Why an import failed, as the page and the API show it: the uploaded file's name, never a path
    on the server (the spool folder, MEDIA_ROOT) that an exception's own text would carry."""
    if isinstance(exc, WatchlistImportError):
        return f"{shown_name(exc.path)}, {exc.where}, field {exc.field_name!r}: {exc.problem}"
    if isinstance(exc, OSError):
        name = shown_name(exc.filename) if exc.filename else "the file"
        return f"{name}: {exc.strerror or 'cannot be read'}"
    return scrub_paths(str(exc))


def run_import(run: ImportRun, path: str | Path, *, progress: Progress | None = None) -> ImportRun:
    """Read ``path`` with the run's format and upsert it into the run's list, recording progress.

    The whole file is read first (a bad line stops the import before anything is written, and the
    progress bar knows its total); lists of a few hundred thousand entries fit in memory easily.
    """
    watchlist = run.watchlist
    ImportRun.objects.filter(pk=run.pk).update(status=ImportRun.Status.RUNNING)
    run.status = ImportRun.Status.RUNNING
    try:
        entries = list(read_entries(run.format, path, source=watchlist.name))
        run.progress_total = len(entries)
        ImportRun.objects.filter(pk=run.pk).update(progress_total=run.progress_total)
        counts = upsert_entries(
            watchlist,
            entries,
            deactivate_missing=run.deactivate_missing,
            run=run,
            progress=progress,
            total=len(entries),
        )
    except (WatchlistImportError, ValueError, OSError) as exc:
        run.status, run.error = ImportRun.Status.FAILED, import_error_text(exc)
        run.finished_at = timezone.now()
        run.save(update_fields=["status", "error", "finished_at"])
        return run
    except Exception:
        log.exception("watchlist import %s failed", run.pk)
        ImportRun.objects.filter(pk=run.pk).update(
            status=ImportRun.Status.FAILED,
            error="Internal error: the import stopped; the details are in the server's log.",
            finished_at=timezone.now(),
        )
        raise
    run.counts = dict(counts)
    run.status, run.finished_at = ImportRun.Status.DONE, timezone.now()
    run.progress_done = run.progress_total = counts["read"]
    run.save(update_fields=["counts", "status", "finished_at", "progress_done", "progress_total"])
    if watchlist.source_kind == SourceFormat.MANUAL and run.format in {"un", "ofac", "csv"}:
        Watchlist.objects.filter(pk=watchlist.pk).update(source_kind=run.format)
    changed = any(counts.get(k) for k in ("added", "updated", "deactivated", "reactivated"))
    if changed or not watchlist.calibration:
        recalibrate(watchlist)
    return run


def recalibrate(watchlist: Watchlist) -> None:
    """Set the list's threshold anew on its stated false-hit rate, in the background once the change is
    committed (``tasks.calibrate_task``); a failure leaves the previous threshold in force and is logged,
    never failing the import that asked."""
    from apps.watchlists.tasks import calibrate_task

    def start() -> None:
        try:
            calibrate_task.delay(watchlist.pk)
        except Exception:
            log.exception("watchlist %s: threshold not recalibrated", watchlist.pk)

    transaction.on_commit(start)


def import_path(
    *,
    actor: User | None,
    watchlist: Watchlist,
    fmt: str,
    path: str | Path,
    deactivate_missing: bool = True,
    progress: Progress | None = None,
) -> ImportRun:
    """Import a file (or an OFAC folder) in this process: the command line and tests."""
    # The run lists the file's name only: its page is read by people who have no business with paths.
    run = start_import(
        actor=actor,
        watchlist=watchlist,
        fmt=fmt,
        files=[Path(path).name],
        deactivate_missing=deactivate_missing,
    )
    return run_import(run, path, progress=progress)


def submit_import(
    *,
    actor: User,
    watchlist: Watchlist,
    fmt: str,
    files: list[tuple[str, Iterable[bytes]]],
    deactivate_missing: bool = True,
) -> ImportRun:
    """Queue an import of uploaded files (the page and the API): keep them in the uploads storage, run
    Celery after commit.

    OFAC needs its three files (sdn.csv, alt.csv, add.csv) together; the other formats take one file.
    """
    from apps.watchlists.tasks import run_import_task

    names = [Path(n).name.casefold() for n, _ in files]
    if fmt == "ofac" and not {"sdn.csv", "alt.csv", "add.csv"} <= set(names):
        raise ValidationError({"files": "OFAC needs sdn.csv, alt.csv and add.csv together."})
    if fmt != "ofac" and len(files) != 1:
        raise ValidationError({"files": "Send exactly one file for this format."})
    with transaction.atomic():
        run = start_import(
            actor=actor,
            watchlist=watchlist,
            fmt=fmt,
            files=[Path(n).name for n, _ in files],
            deactivate_missing=deactivate_missing,
        )

        # Kept in the uploads storage, which the worker that imports reads wherever it runs; OFAC's
        # files keep their own names (the reader looks for sdn.csv, alt.csv and add.csv).
        def stored_name(name: str) -> str:
            own = safe_name(name)
            return f"watchlists/{run.pk}/" + (
                own.casefold() if fmt == "ofac" else f"{secrets.token_hex(4)}__{own}"
            )

        stored = [keep(stored_name(name), chunks) for name, chunks in files]
        transaction.on_commit(lambda: run_import_task.delay(run.pk, stored))
    return run


def check_owner(actor: User, watchlist: Watchlist) -> None:
    """Raise unless the actor's agency owns the list (used by pages to show management controls)."""
    membership = membership_of(actor)
    if membership is None or membership.agency_id != watchlist.owner_agency_id:
        raise PermissionDenied("Only the owner agency may change this watchlist.")

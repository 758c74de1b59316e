"""Reading a list's file with the pure importers and upserting its entries in batches (``external_id`` decides update or insert)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from apps.watchlists import importers
from apps.watchlists.importers.entries import (
    WatchlistImportError,
)
from apps.watchlists.models import (
    ImportRun,
    Watchlist,
    WatchlistEntry,
)
from apps.watchlists.services.entries import entry_from_dict, entry_row
from apps.watchlists.services.lists import mark_changed

IMPORT_FORMATS = ("un", "ofac", "csv", "api")


BATCH = 1000


#: Fields an import writes; ``handling_code`` and ``expires_on`` are the owner's decisions and survive.
IMPORTED_FIELDS = (
    "kind", "name", "aliases", "dates_of_birth", "places_of_birth", "nationalities", "documents",
    "addresses", "identifiers", "programmes", "gender", "reference", "remarks", "listed_on",
)  # fmt: skip


Progress = Callable[[ImportRun], None]


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
        _store_batch(watchlist, batch, existing, counts)
        batch.clear()
        if run is not None:
            _save_progress(run, counts, total)
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
        counts["deactivated"] = _deactivate_missing(watchlist, existing, seen)
    return counts


def _store_batch(
    watchlist: Watchlist,
    batch: list[importers.WatchlistEntry],
    existing: dict[str, tuple[int, str, bool]],
    counts: ImportCounts,
) -> None:
    """Insert the batch's new entries and rewrite its changed or reactivated ones, in one transaction."""
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


def _save_progress(run: ImportRun, counts: ImportCounts, total: int | None) -> None:
    """Record on the import run how far it has read and what it counted."""
    run.progress_done = counts["read"]
    run.progress_total = max(total or 0, counts["read"])
    run.counts = dict(counts)
    ImportRun.objects.filter(pk=run.pk).update(
        progress_done=run.progress_done, progress_total=run.progress_total, counts=run.counts
    )


def _deactivate_missing(
    watchlist: Watchlist, existing: dict[str, tuple[int, str, bool]], seen: set[str]
) -> int:
    """Deactivate the active entries the full list no longer holds; returns how many."""
    gone = [pk for ext, (pk, _fp, active) in existing.items() if active and ext not in seen]
    with transaction.atomic():
        for start in range(0, len(gone), 500):
            WatchlistEntry.objects.filter(pk__in=gone[start : start + 500]).update(
                active=False, updated_at=timezone.now()
            )
        if gone:
            mark_changed(watchlist.pk)
    return len(gone)

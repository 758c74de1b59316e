"""Batch screening of a CSV of persons: the pure logic behind ``manage.py screen IN.csv --output OUT.csv``.

Input columns: ``id``, ``name`` (required), ``date_of_birth``, ``nationality``, ``document``, ``kind``
(person, organisation, vessel...) and ``imo`` (optional). Output columns: ``id,score,entry_id,alias`` -
the best match per row, with empty score, entry id and alias when nothing reaches the threshold.

Kinds are kept apart: a row with a date of birth is a person and is screened against persons only; a
row with an IMO number is a vessel, screened by name and number against vessels; otherwise the
``kind`` column decides, and without one every kind is screened. Rows are screened in batches through
:func:`apps.watchlists.bulk.screen_many` (the per-name path's hits, faster). Kept free of Django so the
management command is a thin wrapper and the logic is testable on its own.
"""

from __future__ import annotations

import csv
import itertools
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TextIO

from apps.core import csvsafe
from apps.watchlists.bulk import Query, screen_many
from apps.watchlists.evidence import REVIEW_THRESHOLD
from apps.watchlists.importers.entries import KINDS, WatchlistImportError
from apps.watchlists.matching.index import ScreeningIndex

__all__ = ["OUTPUT_COLUMNS", "query_for", "screen_csv", "screen_rows"]

OUTPUT_COLUMNS = ("id", "score", "entry_id", "alias")
_ALLOWED = {"id", "name", "date_of_birth", "nationality", "document", "kind", "imo"}
BATCH = 5000


def query_for(row: dict[str, str], *, threshold: float = REVIEW_THRESHOLD, limit: int = 1) -> Query:
    """What to screen for one input row: a date of birth makes it a person, an IMO number a vessel."""
    kind = (row.get("kind") or "").strip().casefold().replace("organization", "organisation") or None
    imo = "".join(c for c in row.get("imo") or "" if c.isdigit())
    if imo:
        kind = "vessel"
    elif row.get("date_of_birth"):
        kind = "person"
    return Query(
        row["name"],
        date_of_birth=row.get("date_of_birth") or None,
        nationality=row.get("nationality") or None,
        document=imo or row.get("document") or None,
        kind=kind if kind in KINDS else None,
        limit=limit,
        threshold=threshold,
    )


def screen_rows(
    index: ScreeningIndex, rows: Iterable[dict[str, str]], *, threshold: float = REVIEW_THRESHOLD
) -> Iterator[dict[str, str]]:
    """Screen each input row (a dict with id/name/...) and yield one output row per input row."""
    rows = iter(rows)
    while batch := list(itertools.islice(rows, BATCH)):
        for row, hits in zip(
            batch, screen_many(index, [query_for(r, threshold=threshold) for r in batch]), strict=True
        ):
            if hits:
                best = hits[0]
                yield {
                    "id": row["id"],
                    "score": f"{best.score:.4f}",
                    "entry_id": best.entry_id,
                    "alias": best.alias,
                }
            else:
                yield {"id": row["id"], "score": "", "entry_id": "", "alias": ""}


def _read(handle: TextIO, source: str) -> Iterator[dict[str, str]]:
    reader = csv.DictReader(handle)
    header = [h.strip() for h in reader.fieldnames or []]
    for required in ("id", "name"):
        if required not in header:
            raise WatchlistImportError(source, "line 1", required, "required column missing")
    unknown = [h for h in header if h not in _ALLOWED]
    if unknown:
        raise WatchlistImportError(
            source, "line 1", unknown[0], f"unknown column; allowed: {sorted(_ALLOWED)}"
        )
    reader.fieldnames = header
    for row in reader:
        if None in row:
            raise WatchlistImportError(
                source, f"line {reader.line_num}", "-", "more fields than header columns"
            )
        clean = {k: (v or "").strip() for k, v in row.items()}
        if not clean["name"]:
            raise WatchlistImportError(source, f"line {reader.line_num}", "name", "empty")
        yield clean


def screen_csv(
    index: ScreeningIndex,
    input_path: str | Path,
    output_path: str | Path,
    *,
    threshold: float = REVIEW_THRESHOLD,
) -> int:
    """Screen every person in ``input_path`` and write the best match per row to ``output_path``.

    Returns the number of rows written. Input errors raise :class:`WatchlistImportError` naming the
    file, line and column; the output file is only replaced once every row has been screened.
    """
    input_path, output_path = Path(input_path), Path(output_path)
    with input_path.open(encoding="utf-8-sig", newline="") as handle:
        results = list(screen_rows(index, _read(handle, str(input_path)), threshold=threshold))
    tmp = output_path.with_name(output_path.name + ".part")
    with tmp.open("w", encoding="utf-8", newline="") as out:
        writer = csvsafe.DictWriter(out, fieldnames=OUTPUT_COLUMNS)
        writer.writeheader()
        writer.writerows(results)
    tmp.replace(output_path)
    return len(results)

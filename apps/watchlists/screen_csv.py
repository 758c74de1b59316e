"""Batch screening of a CSV of persons: the pure logic behind ``manage.py screen IN.csv --output OUT.csv``.

Input columns: ``id``, ``name`` (required), ``date_of_birth``, ``nationality`` (optional).
Output columns: ``id,score,entry_id,alias`` - the best match per row, with empty score, entry id
and alias when nothing reaches the threshold. Kept free of Django so the management command is a
thin wrapper and the logic is testable on its own.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TextIO

from apps.core import csvsafe
from apps.watchlists.importers import WatchlistImportError
from apps.watchlists.matching import DEFAULT_THRESHOLD, ScreeningIndex

__all__ = ["OUTPUT_COLUMNS", "screen_csv", "screen_rows"]

OUTPUT_COLUMNS = ("id", "score", "entry_id", "alias")
_ALLOWED = {"id", "name", "date_of_birth", "nationality"}


def screen_rows(
    index: ScreeningIndex, rows: Iterable[dict[str, str]], *, threshold: float = DEFAULT_THRESHOLD
) -> Iterator[dict[str, str]]:
    """Screen each input row (a dict with id/name/...) and yield one output row per input row."""
    for row in rows:
        hits = index.screen(
            row["name"],
            date_of_birth=row.get("date_of_birth") or None,
            nationality=row.get("nationality") or None,
            limit=1,
            threshold=threshold,
        )
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
    threshold: float = DEFAULT_THRESHOLD,
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

"""Batch CSV screening: one output row per input row, best match or empty."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from apps.watchlists.importers import WatchlistImportError
from apps.watchlists.matching import ScreeningIndex
from apps.watchlists.screen_csv import OUTPUT_COLUMNS, screen_csv


def test_screen_csv_writes_best_match_per_row(index: ScreeningIndex, tmp_path: Path) -> None:
    source = tmp_path / "people.csv"
    source.write_text(
        "id,name,date_of_birth,nationality\n"
        "p1,Малькевич Александр,1975-06-14,RU\n"
        "p2,Maria Testperson-Nobody,,\n"
        "p3,Eric Badege,1971,\n",
        encoding="utf-8",
    )
    out = tmp_path / "out.csv"
    assert screen_csv(index, source, out) == 3
    with out.open(encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        assert tuple(reader.fieldnames or ()) == OUTPUT_COLUMNS
        rows = {r["id"]: r for r in reader}
    assert rows["p1"]["entry_id"] == "OFAC-26235"
    assert 0.0 < float(rows["p1"]["score"]) <= 1.0
    assert rows["p2"] == {"id": "p2", "score": "", "entry_id": "", "alias": ""}
    assert rows["p3"]["entry_id"] in {"UN-6907993", "OFAC-15718"}
    assert rows["p3"]["alias"]


def test_screen_csv_rejects_bad_input(index: ScreeningIndex, tmp_path: Path) -> None:
    source = tmp_path / "people.csv"
    source.write_text("id,fullname\n1,X\n", encoding="utf-8")
    with pytest.raises(WatchlistImportError) as info:
        screen_csv(index, source, tmp_path / "out.csv")
    assert info.value.field_name == "name" and "people.csv" in str(info.value)
    assert not (tmp_path / "out.csv").exists()
    source.write_text("id,name\n1,\n", encoding="utf-8")
    with pytest.raises(WatchlistImportError, match="line 2"):
        screen_csv(index, source, tmp_path / "out.csv")

"""The ``import_watchlist`` and ``screen`` commands."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.management import CommandError, call_command

from apps.watchlists.models import Watchlist, WatchlistEntry

pytestmark = pytest.mark.django_db

LIST_CSV = (
    "id,kind,name,aliases,date_of_birth,nationality\n"
    "1,person,Ivan Petrov,Ivan Petroff,1970-03-02,RU\n"
    "2,person,Olga Petrova,,1972,RU\n"
    "3,organisation,Black Sea Shipping LLC,,,\n"
)


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO(), verbosity=0)
    return out.getvalue()


def test_import_command_creates_updates_and_summarises(world, tmp_path):
    path = tmp_path / "list.csv"
    path.write_text(LIST_CSV, encoding="utf-8")
    with pytest.raises(CommandError, match="no watchlist named"):
        run("import_watchlist", "--list", "National lookouts", "--format", "csv", str(path))
    out = run(
        "import_watchlist", "--list", "National lookouts", "--format", "csv", "--owner", "CUS", str(path)
    )
    assert "3 read, 3 added, 0 updated" in out
    wl = Watchlist.objects.get(name="National lookouts")
    assert wl.owner_agency == world.customs and wl.source_kind == "csv"
    path.write_text(
        LIST_CSV.replace("Olga Petrova", "Olga PETROVA-SMIRNOVA").replace(
            "3,organisation,Black Sea Shipping LLC,,,\n", ""
        )
    )
    out = run("import_watchlist", "--list", "National lookouts", "--format", "csv", str(path))
    assert "2 read, 0 added, 1 updated, 1 unchanged, 0 reactivated, 1 deactivated" in out
    assert WatchlistEntry.objects.filter(watchlist=wl).count() == 3


def test_import_command_reports_a_bad_file(world, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("id,name,nationalty\n1,Ivan,RU\n", encoding="utf-8")
    with pytest.raises(CommandError, match="nationalty"):
        run("import_watchlist", "--list", "L", "--format", "csv", "--owner", "CUS", str(path))


def test_screen_command_writes_the_best_match_per_row(world, customs_list, police_list, tmp_path):
    source = tmp_path / "people.csv"
    source.write_text(
        "id,name,date_of_birth,nationality\n"
        "a,Viktor Boutov,1967-01-13,RU\n"
        "b,John Smith,,\n"
        "c,Dmitri Karamazov,1975-05-05,\n",
        encoding="utf-8",
    )
    out_path = tmp_path / "out.csv"
    summary = run("screen", str(source), "--output", str(out_path))
    assert "Screened 3 rows" in summary
    rows = {r["id"]: r for r in csv.DictReader(out_path.open(encoding="utf-8"))}
    assert list(rows["a"]) == ["id", "score", "entry_id", "alias"]
    assert rows["a"]["entry_id"] == "C-1" and 0.9 < float(rows["a"]["score"]) <= 1
    assert rows["b"] == {"id": "b", "score": "", "entry_id": "", "alias": ""}
    assert rows["c"]["entry_id"] == "P-1"
    run("screen", str(source), "--output", str(out_path), "--list", "Customs lookouts")
    rows = {r["id"]: r for r in csv.DictReader(out_path.open(encoding="utf-8"))}
    assert rows["a"]["entry_id"] == "C-1" and rows["c"]["entry_id"] == ""
    with pytest.raises(CommandError, match="no watchlist named 'Nope'"):
        run("screen", str(source), "--output", str(out_path), "--list", "Nope")

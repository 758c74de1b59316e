"""Importers against the real UN and OFAC files, plus the generic CSV and error reporting."""

from __future__ import annotations

import csv
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from apps.watchlists.importers import (
    BirthDate,
    Document,
    WatchlistEntry,
    WatchlistImportError,
    country_code,
    load_generic_csv,
    load_ofac_sdn,
    load_un_consolidated,
    parse_date_of_birth,
)


def _by_id(entries: list[WatchlistEntry]) -> dict[str, WatchlistEntry]:
    return {e.external_id: e for e in entries}


def test_un_counts(un_entries: list[WatchlistEntry]) -> None:
    kinds = Counter(e.kind for e in un_entries)
    assert kinds == {"person": 730, "organisation": 273}
    assert len({e.external_id for e in un_entries}) == 1003


def test_un_known_individual(un_entries: list[WatchlistEntry]) -> None:
    e = _by_id(un_entries)["UN-6908994"]
    assert e.reference == "CDi.040"
    assert e.name == "AHMAD MAHMOOD HASSAN"
    assert BirthDate(1997, 7, 21) in e.dates_of_birth
    assert BirthDate(1993) in e.dates_of_birth
    assert Document("passport", "AB850901", "TZ", "Expiration date: 2026-12-11.") in e.documents
    assert e.nationalities == ["TZ"]
    assert "AHMED MAHAMUD HASSAN ALIYANI" in [a.name for a in e.aliases]


def test_un_alias_quality_original_script_and_ranges(un_entries: list[WatchlistEntry]) -> None:
    by_id = _by_id(un_entries)
    tcham = by_id["UN-690795"]
    assert [(a.name, a.quality) for a in tcham.aliases if a.quality == "weak"] == [("Namam", "weak")]
    zawahiri = by_id["UN-111923"]
    assert zawahiri.aliases[0].alias_type == "original_script"
    assert zawahiri.aliases[0].name.startswith("أيمن")
    assert zawahiri.nationalities == ["EG"]
    taganda = by_id["UN-6908021"]
    assert taganda.dates_of_birth == [BirthDate(1973, year_to=1974, approximate=True)]
    frank = by_id["UN-6907994"]
    assert frank.listed_on == date(2005, 11, 1)
    assert frank.programmes == ["DRC"]


def test_ofac_counts(ofac_entries: list[WatchlistEntry], data_dir: Path) -> None:
    assert len(ofac_entries) == 7379
    assert Counter(e.kind for e in ofac_entries) == {
        "person": 3845,
        "organisation": 2994,
        "vessel": 323,
        "aircraft": 217,
    }
    with (data_dir / "ofac_sdn" / "alt.csv").open(encoding="utf-8") as handle:
        alt_rows = list(csv.reader(handle))
    assert len(alt_rows) == 9682
    strong = Counter(a.alias_type for e in ofac_entries for a in e.aliases if a.quality == "strong")
    assert strong == Counter(r[2].strip() for r in alt_rows)
    assert sum(strong.values()) == 9682


def test_ofac_known_entries(ofac_entries: list[WatchlistEntry]) -> None:
    by_id = _by_id(ofac_entries)
    z = by_id["OFAC-2676"]
    assert z.name == "AL ZAWAHIRI, Dr. Ayman"
    assert z.dates_of_birth == [BirthDate(1951, 6, 19)]
    assert z.places_of_birth == ["Giza, Egypt"]
    assert Document("passport", "1084010", "EG") in z.documents
    assert Document("passport", "19820215") in z.documents
    assert z.programmes == ["SDGT", "SDT"]
    m = by_id["OFAC-26235"]
    assert m.gender == "Male"
    assert Document("passport", "717637093", "RU") in m.documents
    assert m.addresses[0].country == "RU"
    bank = by_id["OFAC-306"]
    assert [(a.name, a.quality) for a in bank.aliases] == [
        ("NATIONAL BANK OF CUBA", "strong"),
        ("BNC", "weak"),
    ]
    vessel = by_id["OFAC-15036"]
    assert vessel.kind == "vessel"
    assert {(d.doc_type, d.number) for d in vessel.documents} >= {("IMO", "9187629"), ("call sign", "T2EU4")}
    assert by_id["OFAC-4234"].nationalities == ["CU"]


def test_reimport_yields_identical_ids(data_dir: Path, un_entries, ofac_entries) -> None:
    again_un = [e.external_id for e in load_un_consolidated(data_dir / "un_consolidated.xml")]
    again_ofac = [e.external_id for e in load_ofac_sdn(data_dir / "ofac_sdn")]
    assert again_un == [e.external_id for e in un_entries]
    assert again_ofac == [e.external_id for e in ofac_entries]
    assert len(set(again_ofac)) == len(again_ofac)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12 Jan 1960", [BirthDate(1960, 1, 12)]),
        ("1960-01-12", [BirthDate(1960, 1, 12)]),
        ("Jan 1960", [BirthDate(1960, 1)]),
        ("circa 1958", [BirthDate(1958, approximate=True)]),
        ("1955 to 1958", [BirthDate(1955, year_to=1958)]),
        ("01 Jan 1953 to 31 Dec 1954", [BirthDate(1953, year_to=1954)]),
        ("31/12/1970", [BirthDate(1970, 12, 31)]),
        ("30 Feb 1970", []),
        ("unknown", []),
    ],
)
def test_parse_date_of_birth(text: str, expected: list[BirthDate]) -> None:
    assert parse_date_of_birth(text) == expected


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Iran (Islamic Republic of)", "IR"),
        ("Korea, North", "KP"),
        ("Democratic People's Republic of Korea", "KP"),
        ("Türkiye", "TR"),
        ("Cabo Verde.  Previously Cape Verde.", "CV"),
        ("possibly Palestinian", "PS"),
        ("de", "DE"),
        ("Atlantis", None),
    ],
)
def test_country_code(text: str, code: str | None) -> None:
    assert country_code(text) == code


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_generic_csv(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "lookouts.csv",
        "id,kind,name,aliases,date_of_birth,nationality,document_type,document_number,listed_on\n"
        "7,person,Ivan Petrov,Ivan Petroff; I. P. (weak),1970-03-04;circa 1971,Russia;UA,passport,"
        "AB123;CD456,2024-01-31\n"
        "8,organization,Acme Trading LLC,,,,,,\n",
    )
    entries = list(load_generic_csv(path, source="NAT"))
    assert [e.external_id for e in entries] == ["NAT-7", "NAT-8"]
    ivan = entries[0]
    assert [(a.name, a.quality) for a in ivan.aliases] == [("Ivan Petroff", None), ("I. P.", "weak")]
    assert ivan.dates_of_birth == [BirthDate(1970, 3, 4), BirthDate(1971, approximate=True)]
    assert ivan.nationalities == ["RU", "UA"]
    assert [d.number for d in ivan.documents] == ["AB123", "CD456"]
    assert ivan.listed_on == date(2024, 1, 31)
    assert entries[1].kind == "organisation"


@pytest.mark.parametrize(
    ("body", "where", "field"),
    [
        ("id,name,kind\n1,A,person\n2,B,spaceship\n", "line 3", "kind"),
        ("id,name,date_of_birth\n1,A,not a date\n", "line 2", "date_of_birth"),
        ("id,name,nationalty\n1,A,FR\n", "line 1", "nationalty"),
        ("id,kind\n1,person\n", "line 1", "name"),
        ("id,name\n1,A\n1,B\n", "line 3", "id"),
        ("id,name\n1,\n", "line 2", "name"),
    ],
)
def test_generic_csv_errors_name_file_line_field(tmp_path: Path, body: str, where: str, field: str) -> None:
    path = _write(tmp_path / "bad.csv", body)
    with pytest.raises(WatchlistImportError) as info:
        list(load_generic_csv(path, source="NAT"))
    assert info.value.where == where
    assert info.value.field_name == field
    assert "bad.csv" in str(info.value)


def test_un_malformed_xml(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "un.xml", "<CONSOLIDATED_LIST><INDIVIDUALS><INDIVIDUAL><DATAID>1</DATAID>\n<oops>"
    )
    with pytest.raises(WatchlistImportError, match=r"un\.xml, line \d+"):
        list(load_un_consolidated(path))


def test_un_missing_name_names_element(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "un.xml",
        "<CONSOLIDATED_LIST><INDIVIDUALS>\n<INDIVIDUAL><DATAID>42</DATAID><FIRST_NAME/></INDIVIDUAL>"
        "</INDIVIDUALS></CONSOLIDATED_LIST>",
    )
    with pytest.raises(WatchlistImportError) as info:
        list(load_un_consolidated(path))
    assert info.value.field_name == "FIRST_NAME"
    assert "DATAID 42" in info.value.where and "line 2" in info.value.where


def test_ofac_bad_rows(tmp_path: Path) -> None:
    (tmp_path / "alt.csv").write_text("", encoding="utf-8")
    (tmp_path / "add.csv").write_text("", encoding="utf-8")
    (tmp_path / "sdn.csv").write_text('1,"A",-0- ,"X"\n', encoding="utf-8")
    with pytest.raises(WatchlistImportError, match=r"sdn\.csv, line 1.*expected 12 columns"):
        list(load_ofac_sdn(tmp_path))
    (tmp_path / "sdn.csv").write_text('1,"A","spaceship",' + ",".join(["-0- "] * 9) + "\n", encoding="utf-8")
    with pytest.raises(WatchlistImportError) as info:
        list(load_ofac_sdn(tmp_path))
    assert info.value.field_name == "SDN_Type"
    with pytest.raises(WatchlistImportError, match="file not found"):
        list(load_ofac_sdn(tmp_path / "missing"))

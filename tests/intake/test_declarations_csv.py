"""CSV declarations: the Korea Customs synthetic dataset (Jeong et al. 2022, MIT) and broken files."""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path

import pytest

from apps.intake.parsers.declarations_csv import (
    KOREA_CUSTOMS_MAPPING,
    ColumnMapping,
    iter_declarations,
    parse_declarations_csv,
    read_declarations_frame,
)

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
DECL = DATA / "declarations"
TRAIN = DECL / "df_syn_train_eng.csv"
VALID = DECL / "df_syn_valid_eng.csv"

# Counted in the raw files: rows, Fraud == 1, Critical Fraud == 2.
EXPECTED = {TRAIN.name: (37385, 8114, 394), VALID.name: (8134, 1704, 78)}

HEADER = (
    "Declaration ID,Date,Office ID,Process Type,Import Type,Import Use,Payment Type,Mode of Transport,"
    "Declarant ID,Importer ID,Seller ID,Courier ID,HS6 Code,Country of Departure,Country of Origin,Tax Rate,"
    "Tax Type,Country of Origin Indicator,Net Mass,Item Price,Fraud,Critical Fraud"
)
GOOD = (
    "97061800,2020-01-01,30,B,11,21,11,10,ZZR1LT6,QLRUBN9,0VKY2BR,,440890,BE,BE,0.0,FEU1,G,108.0,372254.4,0,0"
)


@pytest.fixture(scope="module", autouse=True)
def data_present():
    if not TRAIN.is_file() or not VALID.is_file():
        pytest.fail(f"real data missing: {DECL} (see shared/data/README.md); these tests need it")


@pytest.mark.parametrize("path", [TRAIN, VALID], ids=lambda p: p.name)
def test_record_path_counts_rows_and_labels(path):
    rows = findings = critical = 0
    for batch, problems in iter_declarations(path, file=path.name, batch_size=10_000):
        assert problems == []
        assert len(batch) <= 10_000
        rows += len(batch)
        findings += sum(d.label.finding for d in batch)
        critical += sum(d.label.severity == 2 for d in batch)
    assert (rows, findings, critical) == EXPECTED[path.name]


@pytest.mark.parametrize("path", [TRAIN, VALID], ids=lambda p: p.name)
def test_frame_path_counts_rows_and_labels(path):
    frame = read_declarations_frame(path)
    assert frame.attrs["problems"] == []
    rows, findings, critical = EXPECTED[path.name]
    assert len(frame) == rows
    assert int(frame["label_finding"].sum()) == findings
    assert int((frame["label_severity"] == 2).sum()) == critical
    assert frame["hs_code"].str.len().eq(6).all()
    assert frame["declaration_id"].iloc[0] == ("97061800" if path == TRAIN else "56839011")


def test_first_train_row_values():
    batch, _ = next(iter_declarations(TRAIN, file="train.csv", batch_size=2))
    d = batch[0]
    assert d.reference == d.business_key == "97061800" and d.source_line == 2
    assert str(d.declaration_date) == "2020-01-01" and d.office_of_import == "30"
    assert d.party("declarant").identifier == "ZZR1LT6"
    assert d.party("importer").identifier == "QLRUBN9"
    assert d.party("seller").identifier == "0VKY2BR"
    assert d.party("courier") is None
    g = d.goods[0]
    assert (g.hs_code, g.hs6, g.hs_chapter) == ("440890", "440890", "44")
    assert str(g.net_mass_kg) == "108.0" and str(g.value) == "372254.4" and g.origin_country == "BE"
    assert d.country_of_dispatch == "BE" and d.extra["mode_code"] == "10"
    assert d.label is not None and d.label.finding is False and d.label.severity == 0


def test_bad_rows_name_line_and_column_and_good_rows_continue():
    rows = [
        HEADER,
        GOOD,
        GOOD.replace("2020-01-01", "2020-13-01").replace("97061800", "1"),
        GOOD.replace("440890", "4408").replace("97061800", "2"),
        GOOD.replace("108.0", "ten").replace("97061800", "3"),
        GOOD.replace(",BE,BE,", ",BEL,BE,").replace("97061800", "4"),
        "97061805,2020-01-01,30",
        GOOD.replace("97061800", "6").replace(",0,0", ",x,0"),
        GOOD.replace("97061800", "7"),
    ]
    data = ("\n".join(rows) + "\n").encode()
    result = parse_declarations_csv(data, file="broken.csv")
    assert [m.records[0].reference for m in result.messages] == ["97061800", "7"]
    assert [str(p) for p in result.problems] == [
        "broken.csv: line 3, column 'Date': bad date '2020-13-01' (expected %Y-%m-%d)",
        "broken.csv: line 4, column 'HS6 Code': HS code '4408' is not 6-10 digits",
        "broken.csv: line 5, column 'Net Mass': non-numeric value 'ten'",
        "broken.csv: line 6, column 'Country of Departure': country code 'BEL' is not two letters "
        "(ISO 3166-1 alpha-2)",
        "broken.csv: line 7: row has 3 fields, the header has 22",
        "broken.csv: line 8, column 'Fraud': label must be a whole number, got 'x'",
    ]
    frame = read_declarations_frame(io.BytesIO(data), file="broken.csv")
    assert list(frame["declaration_id"]) == ["97061800", "7"]
    lines = [p.where.split(",")[0] for p in frame.attrs["problems"]]
    assert lines == ["line 3", "line 4", "line 5", "line 6", "line 7", "line 8"]


def test_quoted_multiline_field_keeps_line_numbers():
    multiline = GOOD.replace("FEU1", '"FE\nU1"')
    data = "\n".join([HEADER, multiline, GOOD.replace("440890", "44")]).encode()
    result = parse_declarations_csv(data, file="q.csv")
    assert len(result.messages) == 1
    assert result.problems[0].where == "line 4, column 'HS6 Code'"


def test_missing_required_column_stops_the_file():
    data = (HEADER.replace("HS6 Code", "Tariff") + "\n" + GOOD + "\n").encode()
    result = parse_declarations_csv(data, file="h.csv")
    assert not result.messages
    assert str(result.problems[0]) == "h.csv: line 1: missing required column(s): HS6 Code"


def test_empty_file():
    assert parse_declarations_csv(b"", file="e.csv").problems[0].reason == "empty file: no header row"


def test_other_layout_by_mapping():
    data = b"ref;day;tariff;origin;value;ccy\nA-1;03/02/2024;8517120000;CN;99.5;EUR\n"
    mapping = ColumnMapping(
        declaration_id="ref",
        date="day",
        hs_code="tariff",
        country_of_origin="origin",
        item_price="value",
        currency="ccy",
        office=None,
        process_type=None,
        import_type=None,
        import_use=None,
        payment_type=None,
        transport_mode=None,
        declarant_id=None,
        importer_id=None,
        seller_id=None,
        courier_id=None,
        country_of_departure=None,
        tax_rate=None,
        tax_type=None,
        origin_indicator=None,
        net_mass=None,
        fraud=None,
        critical_fraud=None,
        date_format="%d/%m/%Y",
        delimiter=";",
    )
    (msg,) = parse_declarations_csv(data, file="o.csv", mapping=mapping).messages
    d = msg.records[0]
    assert d.reference == "A-1" and str(d.declaration_date) == "2024-02-03" and d.label is None
    assert (d.goods[0].hs6, d.goods[0].currency, str(d.goods[0].value)) == ("851712", "EUR", "99.5")


def test_mode_codes_mapping():
    mapping = replace(KOREA_CUSTOMS_MAPPING, mode_codes={"10": "sea", "40": "air"})
    (msg,) = parse_declarations_csv(f"{HEADER}\n{GOOD}\n".encode(), file="m.csv", mapping=mapping).messages
    assert msg.records[0].conveyances[0].mode == "sea"


def test_message_keys_are_stable():
    data = f"{HEADER}\n{GOOD}\n".encode()
    a = parse_declarations_csv(data, file="a.csv").messages[0]
    b = parse_declarations_csv(data, file="b.csv").messages[0]
    assert a.message_key == b.message_key and a.message_key.startswith("declarations-csv:97061800:")

"""IATA Cargo-XML XFWB / XFZB parser against the real samples (riege/one-record-converter, UPL 1.0)."""

from __future__ import annotations

from pathlib import Path

import pytest

from apps.intake.parsers.cargo_xml import parse_cargo_xml

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
XFWB = DATA / "cargo" / "xfwb"


@pytest.fixture(scope="module")
def samples() -> dict[str, bytes]:
    if not XFWB.is_dir():
        pytest.fail(f"real data missing: {XFWB} (see shared/data/README.md); these tests need it")
    return {p.name: p.read_bytes() for p in sorted(XFWB.glob("*.xml"))}


def one(samples, name):
    result = parse_cargo_xml(samples[name], file=name)
    assert not result.problems, result.problems
    (msg,) = result.messages
    return msg, msg.records[0]


def test_every_sample_is_accepted(samples):
    assert len(samples) == 7
    for name, data in samples.items():
        result = parse_cargo_xml(data, file=name)
        assert result.ok and len(result.messages) == 1, (name, result.problems)


def test_master_waybill_values(samples):
    msg, c = one(samples, "888-11111111_XFWB.xml")
    assert msg.kind == "xfwb" and msg.function == "original" and msg.version_key == "888-11111111"
    assert msg.warnings == []
    assert c.document.reference == "888-11111111" and c.document.doc_type == "master-air-waybill"
    assert (c.origin, c.destination, c.pieces) == ("ORK", "PVG", 3)
    assert str(c.gross_mass_kg) == "1042.0" and str(c.volume_m3) == "2.602"
    assert c.party("consignor").name == "FORWARDER COMPANY IRELAND LTD"
    assert c.party("consignor").extra["customs_id"] == "IE1234567N"
    assert c.party("consignee").country == "CN"
    assert c.party("consignee").extra["customs_id"] == "USCI1234567812345678X7"
    flights = [
        (v.carrier, v.flight_number, v.departure_location, v.arrival_location, v.mode) for v in c.conveyances
    ]
    assert flights == [("XX", "8012", "ORK", "DUB", "air"), ("XX", "345", "DUB", "AUH", "air")]
    (item,) = c.goods
    assert item.hs_code == "000111" and int(item.quantity) == 3
    assert item.description.startswith("CONSOLIDATION AS PER ATTACHED MANIFEST")


def test_multiple_ulds_and_hts_codes(samples):
    _, c = one(samples, "888-11111111_XFWB_multipleULD_multipleHTS.xml")
    assert [g.hs_code for g in c.goods] == ["000111", "000222"]
    assert [(u.equipment_type, u.number, u.owner) for u in c.containers] == [
        ("PMC", "PMC1337XX", "XX"),
        ("AKE", "AKE4711XX", "XX"),
    ]


def test_acas_variant(samples):
    _, c = one(samples, "888-11111111_XFWB_ACAS_US.xml")
    assert ("CUS", "RT", "US", "B2B") in c.customs_notes


def test_no_mode_code_is_valid_with_warning(samples):
    # Upstream treats this file as valid (a direct AWB, TypeCode 740); only ModeCode is absent from
    # both transport movements, and <Mode>Air transport</Mode> is still there. We keep it, warn, use air.
    msg, c = one(samples, "888-11111111_XFWB_noModeCode.xml")
    assert c.document.doc_type == "air-waybill" and c.document.type_code == "740"
    assert [v.mode for v in c.conveyances] == ["air", "air"]
    assert len(msg.warnings) == 2
    first = msg.warnings[0]
    assert first.where == "line 97, /Waybill/MasterConsignment/SpecifiedLogisticsTransportMovement[1]"
    assert "ModeCode missing" in first.reason and "Air transport" in first.reason


def test_piece_quantity_mismatch_is_a_warning(samples):
    # PieceQuantity (and TotalPieceQuantity) say 5, but the dimension lines cover 2 + 1 = 3 pieces.
    msg, c = one(samples, "888-11111111_XFWB_pieceQuantityItemCountMismatch.xml")
    assert c.pieces == 5
    (w,) = msg.warnings
    assert w.where == (
        "line 229, /Waybill/MasterConsignment/ApplicableRating/IncludedMasterConsignmentItem/PieceQuantity"
    )
    assert "PieceQuantity is 5" in w.reason and "add up to 3" in w.reason and "2 piece(s)" in w.reason


def test_house_waybill(samples):
    msg, c = one(samples, "SEL22222222_XFZB.xml")
    assert msg.kind == "xfzb" and msg.version_key == "SEL22222222"
    assert c.document.doc_type == "house-air-waybill" and c.master_reference == "888-11111111"
    assert (c.origin, c.destination, c.pieces) == ("ICN", "FDH", 10)
    assert c.party("consignee").name == "REPAIR DIENST GMBH"
    assert c.goods[0].hs_code == "1133557799" and c.goods[0].hs6 == "113355"
    # The house declares 10 pieces in total but its only item 5: kept, with a warning.
    assert any("TotalPieceQuantity is 10" in w.reason for w in msg.warnings)


def test_other_carrier_example(samples):
    _, c = one(samples, "xfwbExample.xml")
    assert c.document.reference == "020-68548340"
    assert (c.conveyances[0].carrier, c.conveyances[0].flight_number) == ("LH", "5050")


def test_bad_waybill_number_and_weight(samples):
    data = samples["888-11111111_XFWB.xml"].replace(b"<ID>888-11111111</ID>", b"<ID>88811</ID>")
    result = parse_cargo_xml(data, file="x.xml")
    assert not result.messages
    assert "not AAA-NNNNNNNN" in result.problems[0].reason
    assert result.problems[0].where.endswith("/Waybill/BusinessHeaderDocument/ID")
    data = samples["888-11111111_XFWB.xml"].replace(
        b'"KGM">1042.0</IncludedTare', b'"KGM">heavy</IncludedTare'
    )
    result = parse_cargo_xml(data, file="w.xml")
    assert "gross weight 'heavy' is not a number" in result.problems[0].reason


@pytest.mark.parametrize(
    "data", [b"", b"nonsense", b"<Waybill><MasterConsignment>", b"<Other/>", b"<Waybill/>"]
)
def test_garbage_gives_problems(data):
    result = parse_cargo_xml(data, file="g.xml")
    assert not result.messages and result.problems and result.problems[0].file == "g.xml"


def test_truncated_real_file(samples):
    result = parse_cargo_xml(samples["SEL22222222_XFZB.xml"][:3000], file="t.xml")
    assert not result.messages and "not well-formed" in result.problems[0].reason

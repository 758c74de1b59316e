"""JSON intake for system integrators: the documented shape, validated field by field."""

from __future__ import annotations

import json

import pytest

from apps.intake.parsers.json_intake import parse_json

VALID = {
    "reference": "LRN-1",
    "type": "IMA",
    "date": "2024-05-01",
    "declared_at": "2024-05-01T10:00:00+02:00",
    "currency": "EUR",
    "country_of_dispatch": "CN",
    "parties": [{"role": "importer", "id": "GB553202734852", "name": "Acme", "country": "GB"}],
    "conveyance": {"mode": "sea", "vessel_imo": "9321483", "route_countries": ["CN", "SG", "GB"]},
    "goods": [{"hs_code": "8510900000", "description": "Shavers", "value": 1000.5, "net_mass_kg": 100}],
    "containers": [{"number": "MSCU1234567", "seals": ["S1"]}],
    "documents": [{"type": "bill-of-lading", "reference": "MEDU1"}],
    "label": {"finding": True, "severity": 1},
}


def body(obj) -> bytes:
    return json.dumps(obj).encode()


def test_valid_declaration():
    result = parse_json(body(VALID), file="d.json")
    assert result.ok
    (msg,) = result.messages
    d = msg.records[0]
    assert msg.kind == "json" and msg.function == "original" and msg.version_key == "LRN-1"
    assert d.goods[0].hs6 == "851090" and str(d.goods[0].value) == "1000.5" and d.goods[0].currency == "EUR"
    assert d.party("importer").identifier == "GB553202734852"
    assert d.conveyances[0].route_countries == ["CN", "SG", "GB"]
    assert d.label.finding is True and d.label.severity == 1
    assert parse_json(body(VALID), file="again.json").messages[0].message_key == msg.message_key


def test_list_and_wrapper_forms():
    second = {**VALID, "reference": "LRN-2"}
    assert len(parse_json(body([VALID, second]), file="l.json").messages) == 2
    assert len(parse_json(body({"declarations": [VALID, second]}), file="w.json").messages) == 2


def test_problems_name_the_json_path():
    bad = {
        **VALID,
        "currency": "euro",
        "goods": [{"hs_code": "85"}, {"description": "no code", "value": -1}],
        "conveyance": {"mode": "submarine"},
    }
    result = parse_json(body([VALID, bad]), file="b.json")
    assert len(result.messages) == 1
    where = {p.where: p.reason for p in result.problems}
    assert where == {
        "$[1].currency": "invalid value 'euro'",
        "$[1].conveyance.mode": where["$[1].conveyance.mode"],
        "$[1].goods[0].hs_code": "invalid value '85'",
        "$[1].goods[1].hs_code": "required",
        "$[1].goods[1].value": "must be a finite non-negative number",
    }
    assert "must be one of" in where["$[1].conveyance.mode"]


def test_amendment_and_cancellation_need_mrn():
    result = parse_json(body({**VALID, "function": "amendment"}), file="a.json")
    assert result.problems[0].where == "$.mrn" and result.problems[0].reason == "required for amendment"
    cancel = {"reference": "LRN-1", "mrn": "24GB000", "function": "cancellation"}
    (msg,) = parse_json(body(cancel), file="c.json").messages
    assert msg.function == "cancellation" and msg.version_key == "LRN-1"


def test_unknown_fields_are_warnings():
    (msg,) = parse_json(body({**VALID, "colour": "red"}), file="u.json").messages
    assert [w.where for w in msg.warnings] == ["$.colour"]


@pytest.mark.parametrize(
    ("data", "where"),
    [
        (b"{", "line 1, column 2"),
        (b"", "line 1, column 1"),
        (b"42", "$"),
        (b"[1]", "$[0]"),
        (b"\xff\xfe", "$"),
    ],
)
def test_garbage(data, where):
    result = parse_json(data, file="g.json")
    assert not result.messages and result.problems[0].where == where


def test_missing_goods_and_bad_dates():
    result = parse_json(body({"reference": "R", "date": "01/05/2024"}), file="m.json")
    assert {p.where for p in result.problems} == {"$.date", "$.goods"}

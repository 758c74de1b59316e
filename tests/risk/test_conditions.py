"""The text syntax and the JSON tree: every operator, round trips, and errors that point at the part."""

import pytest

from apps.risk.conditions import ConditionError, fields_used, parse, to_text, validate


@pytest.mark.parametrize(
    ("text", "tree"),
    [
        ('origin_country = "co"', {"field": "origin_country", "op": "eq", "value": "CO"}),
        ("package_count = 0", {"field": "package_count", "op": "eq", "value": 0}),
        ("package_count != 0", {"field": "package_count", "op": "ne", "value": 0}),
        ("value_per_kg > 20.5", {"field": "value_per_kg", "op": "gt", "value": 20.5}),
        ("value_per_kg >= 20", {"field": "value_per_kg", "op": "ge", "value": 20}),
        ("value_per_kg < 2", {"field": "value_per_kg", "op": "lt", "value": 2}),
        ("value_per_kg <= 2", {"field": "value_per_kg", "op": "le", "value": 2}),
        ("origin_country in ('CO', \"pe\")", {"field": "origin_country", "op": "in", "value": ["CO", "PE"]}),
        ('origin_country not in ("GB")', {"field": "origin_country", "op": "not_in", "value": ["GB"]}),
        ('hs_code prefix "0901"', {"field": "hs_code", "op": "prefix", "value": ["0901"]}),
        ('hs_code prefix ("0901", "2203")', {"field": "hs_code", "op": "prefix", "value": ["0901", "2203"]}),
        (
            'goods_description contains "Coffee"',
            {"field": "goods_description", "op": "contains", "value": "coffee"},
        ),
        ("net_mass_kg between 10 and 20", {"field": "net_mass_kg", "op": "between", "value": [10, 20]}),
        (
            "arrival_at between 2025-01-01 and 2025-01-31",
            {"field": "arrival_at", "op": "between", "value": ["2025-01-01", "2025-01-31"]},
        ),
        ("arrival_at >= 2025-01-01", {"field": "arrival_at", "op": "ge", "value": "2025-01-01"}),
        ("importer_aeo = false", {"field": "importer_aeo", "op": "eq", "value": False}),
        ("first_time_importer = true", {"field": "first_time_importer", "op": "eq", "value": True}),
        ('route_countries in ("VE", "PA")', {"field": "route_countries", "op": "in", "value": ["VE", "PA"]}),
        ('route_countries contains "ve"', {"field": "route_countries", "op": "contains", "value": "VE"}),
        ("consignee_name is missing", {"field": "consignee_name", "op": "missing"}),
        ("consignee_name is present", {"field": "consignee_name", "op": "present"}),
        ("consignee_name is not missing", {"field": "consignee_name", "op": "present"}),
    ],
)
def test_each_operator_parses(text, tree):
    assert parse(text, "consignment") == tree


def test_precedence_and_grouping():
    tree = parse(
        'hs_code prefix "0901" and origin_country in ("CO","PE") and not value_per_kg > 20 '
        'or (port = "GBFXT" or port = "GBLHR") and bags_count = 0'.replace("bags_count", "package_count"),
        "consignment",
    )
    assert tree["op"] == "or"
    first, second = tree["args"]
    assert first["op"] == "and" and len(first["args"]) == 3
    assert first["args"][2] == {"op": "not", "arg": {"field": "value_per_kg", "op": "gt", "value": 20}}
    assert second["op"] == "and" and second["args"][0]["op"] == "or"


@pytest.mark.parametrize(
    "text",
    [
        'hs_code prefix "0901" and origin_country in ("CO","PE") and not value_per_kg > 20',
        'not (origin_country = "CO" or origin_country = "PE") and hs_chapter = "09"',
        '(origin_country = "CO" and hs_chapter = "09") and (port = "GBFXT")',
        'not (origin_country = "CO" and hs_chapter = "09")',
        "not not importer_aeo = true",
        'goods_description contains "say \\"hi\\""',
        "tax_rate between 0.5 and 1e3",
    ],
)
def test_text_round_trips(text):
    tree = parse(text, "consignment")
    assert parse(to_text(tree, "consignment"), "consignment") == tree


def test_traveller_fields_and_derived_facts():
    tree = parse(
        'paid_cash = true and booking_to_departure_hours < 48 and bags_count = 0 and route_countries in ("CO")',
        "traveller",
    )
    assert fields_used(tree) == ["paid_cash", "booking_to_departure_hours", "bags_count", "route_countries"]


@pytest.mark.parametrize(
    ("text", "column", "token", "words"),
    [
        ('hs_code prefx "0901"', 9, "prefx", "expected an operator"),
        ('hs_cod = "1"', 1, "hs_cod", "unknown field"),
        ('origin_country = "CO" and', 26, "end of text", "expected a field name"),
        ('origin_country = "CO" and (hs_chapter = "09"', 45, "end of text", "')'"),
        ('value_per_kg > "cheap"', 16, '"cheap"', "is a number"),
        ('origin_country = "CO', 18, '"', "not closed"),
        ('origin_country = "CO" ; hs_chapter = "09"', 23, ";", "unexpected character"),
        ("net_mass_kg between 9 and 1", 21, "9", "above high"),
        ("arrival_at > 2025-13-01", 14, "2025-13-01", "not a date"),
        ('origin_country in "CO"', 19, '"CO"', "'('"),
        ('origin_country in ("CO" "PE")', 25, '"PE"', "',' or ')'"),
        ("importer_aeo > true", 14, ">", "cannot be compared"),
        ('origin_country = "CO" "PE"', 23, '"PE"', "expected 'and', 'or'"),
        ("", 1, "end of text", "empty"),
        ('origin_country not "CO"', 20, '"CO"', "expected 'in'"),
    ],
)
def test_errors_point_at_the_part(text, column, token, words):
    with pytest.raises(ConditionError) as caught:
        parse(text, "consignment")
    error = caught.value
    assert (error.column, error.token) == (column, token), str(error)
    assert words in error.message
    assert f"column {column}" in str(error)


def test_fields_are_checked_per_subject_kind():
    parse("bags_count = 0", "traveller")
    with pytest.raises(ConditionError, match="unknown field"):
        parse("bags_count = 0", "consignment")


def test_no_code_is_ever_evaluated():
    with pytest.raises(ConditionError):
        parse("__import__('os').system('true')", "consignment")


def test_json_trees_from_the_api_are_validated():
    good = {
        "op": "and",
        "args": [
            {"field": "hs_code", "op": "prefix", "value": "0901"},
            {"op": "not", "arg": {"field": "declared_value", "op": "gt", "value": 5}},
        ],
    }
    assert validate(good, "consignment")["args"][0]["value"] == ["0901"]
    for bad, words in [
        ({"op": "and", "args": [{"field": "hs_code", "op": "eq", "value": "1"}]}, "at least two"),
        ({"op": "exec", "field": "hs_code", "value": "1"}, "unknown operator"),
        ({"field": "hs_code", "op": "eq", "value": 1}, "quoted text"),
        ({"field": "nope", "op": "eq", "value": "1"}, "unknown field"),
        ({"field": "net_mass_kg", "op": "between", "value": [1]}, "two values"),
        ("hs_code = 1", "object with an 'op'"),
    ]:
        with pytest.raises(ConditionError, match=words):
            validate(bad, "consignment")
    deep: dict = {"field": "hs_code", "op": "eq", "value": "1"}
    for _ in range(30):
        deep = {"op": "not", "arg": deep}
    with pytest.raises(ConditionError, match="deeply"):
        validate(deep, "consignment")

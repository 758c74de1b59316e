"""The evaluator: each operator's meaning, missing values, derived facts, and vectorised == per-subject."""

from __future__ import annotations

import datetime as dt
import random

import numpy as np
import pytest

from apps.risk.conditions import parse, to_text
from apps.risk.evaluate import Evaluator, build_frame, typed_facts
from apps.risk.fields import CATALOGUE, fields_for

COFFEE = {
    "hs_code": "09011100",
    "origin_country": "co",
    "declared_value": "1000",
    "net_mass_kg": 100,
    "goods_description": "Green COFFEE beans",
    "route_countries": ["PA", "ve"],
    "importer_previous_declarations": 0,
    "importer_aeo": "no",
}
ARRIVAL = "2025-03-10T08:30:00+00:00"


def both(
    text: str,
    facts: dict,
    kind: str = "consignment",
    port: str | None = "GBFXT",
    arrival: str | None = ARRIVAL,
) -> bool:
    """Evaluate one subject both ways; they must agree, and the answer is returned."""
    evaluator = Evaluator(parse(text, kind), kind)
    one = evaluator.one(typed_facts(kind, facts, port, arrival, None))
    many = evaluator(build_frame(kind, [(facts, port, arrival, None)]))
    assert bool(many[0]) == one, text
    return one


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('origin_country = "CO"', True),
        ('origin_country != "CO"', False),
        ('origin_country in ("PE", "CO")', True),
        ('origin_country not in ("PE", "CO")', False),
        ('hs_code prefix "0901"', True),
        ('hs_code prefix ("2203", "0902")', False),
        ('goods_description contains "coffee"', True),
        ('goods_description = "green coffee beans"', True),
        ("value_per_kg = 10", True),
        ("value_per_kg > 9.99 and value_per_kg < 10.01", True),
        ("value_per_kg between 10 and 10", True),
        ("declared_value >= 1000 and declared_value <= 1000", True),
        ("net_mass_kg in (50, 100)", True),
        ("net_mass_kg not in (50, 100)", False),
        ("first_time_importer = true", True),
        ("importer_aeo = false", True),
        ("importer_aeo != true", True),
        ('route_countries in ("VE", "CU")', True),
        ('route_countries not in ("VE")', False),
        ('route_countries contains "PA"', True),
        ('route_countries contains "P"', False),
        ("arrival_at = 2025-03-10", True),
        ("arrival_at between 2025-03-01 and 2025-03-10", True),
        ("arrival_at < 2025-03-10", False),
        ("arrival_at <= 2025-03-10", True),
        ("arrival_at > 2025-03-10", False),
        ("arrival_at >= 2025-03-10", True),
        ("arrival_at != 2025-03-11", True),
        ("arrival_hour = 8 and arrival_weekday = 0", True),
        ('port = "gbfxt"', True),
        ("consignee_name is missing", True),
        ("hs_code is present", True),
        ('not origin_country = "CO" or hs_chapter = "09"', False),
    ],
)
def test_operators(text, expected):
    assert both(text, COFFEE) is expected


def test_missing_values_match_no_comparison():
    empty: dict = {}
    for text in (
        'origin_country = "CO"',
        'origin_country != "CO"',
        'origin_country not in ("CO")',
        "net_mass_kg != 5",
        "net_mass_kg not in (5)",
        "importer_aeo != true",
        "value_per_kg < 1",
        'route_countries not in ("VE")',
        "arrival_at != 2025-01-01",
    ):
        assert both(text, empty, arrival=None) is False, text
    assert both('not origin_country = "CO"', empty) is True
    assert both("net_mass_kg is missing", {"net_mass_kg": "n/a"}) is True


def test_counts_are_numbers_and_zero_is_not_missing():
    assert both("bags_count = 0", {"bags_count": 0}, kind="traveller") is True
    assert both("bags_count = 0", {"bags_count": "0"}, kind="traveller") is True
    assert both("bags_count = 0", {}, kind="traveller") is False


def test_traveller_derived_facts():
    facts = {
        "booking_date": "2025-03-09",
        "departure_at": "2025-03-09T20:00:00",
        "payment_form": "cash",
        "date_of_birth": "1990-03-11",
        "document_expiry": "2025-04-09",
    }
    assert both("booking_to_departure_hours = 20", facts, kind="traveller")
    assert both("paid_cash = true", facts, kind="traveller")
    assert both("age = 34", facts, kind="traveller")  # the birthday is the day after arrival
    assert both("document_expires_in_days = 29", facts, kind="traveller")
    assert both("paid_cash = false", {"payment_form": "card"}, kind="traveller")
    assert both("paid_cash is missing", {}, kind="traveller")


def test_a_derived_fact_given_by_intake_fills_a_gap():
    assert both("value_per_kg = 7", {"value_per_kg": 7}) is True
    assert both("value_per_kg = 10", {"value_per_kg": 7, "declared_value": 100, "net_mass_kg": 10})


# --- the two paths agree on random input -----------------------------------------------------------

CODES = ["CO", "co", "PE", "GB", "NL", " ve ", "", None, 7]
TEXTS = ["Green coffee", "COFFEE beans", "tea", "", None]
NUMBERS = [0, 1, 2.5, 10, 20, 100, "5", "7.5", "x", None, -3, float("nan"), True]
BOOLS = [True, False, "yes", "no", 1, 0, "maybe", None]
DATES = [
    "2025-03-01",
    "2025-03-10T23:59:00Z",
    "2025-03-11T00:00:00+01:00",
    "1990-05-05",
    "2025-13-01",
    "not a date",
    None,
    dt.date(2025, 3, 5),
]
LISTS = [["CO", "PA"], ["ve"], [], "CO,PE", None, ["GB", None]]
LITERALS = {
    "code": ['"CO"', '"PE"', '"GB"', '"VE"'],
    "text": ['"coffee"', '"tea"', '"green coffee"'],
    "number": ["0", "2.5", "10", "-1", "100"],
    "bool": ["true", "false"],
    "date": ["2025-03-01", "2025-03-10", "2025-03-11", "1990-05-05"],
    "list": ['"CO"', '"VE"', '"PA"'],
}
OPS = {
    "code": ["=", "!=", "in", "not in", "prefix", "contains", "is missing", "is present"],
    "text": ["=", "!=", "in", "prefix", "contains", "is missing"],
    "number": ["=", "!=", "<", "<=", ">", ">=", "in", "not in", "between", "is missing"],
    "bool": ["=", "!=", "is present"],
    "date": ["=", "!=", "<", "<=", ">", ">=", "between", "is missing"],
    "list": ["in", "not in", "contains", "is missing"],
}
RAW = {"code": CODES, "text": TEXTS, "number": NUMBERS, "bool": BOOLS, "date": DATES, "list": LISTS}


def _comparison(rng: random.Random, kind: str) -> str:
    field = rng.choice(fields_for(kind))
    op = rng.choice(OPS[field.type])
    lit = LITERALS[field.type]
    if op in {"in", "not in"}:
        return f"{field.name} {op} ({', '.join(rng.sample(lit, 2))})"
    if op == "prefix":
        return f"{field.name} prefix {rng.choice(lit)}"
    if op == "between":
        low, high = sorted(rng.sample(lit, 2), key=lambda v: v if field.type == "date" else float(v))
        return f"{field.name} between {low} and {high}"
    if op.startswith("is"):
        return f"{field.name} {op}"
    return f"{field.name} {op} {rng.choice(lit)}"


def _condition(rng: random.Random, kind: str, depth: int = 0) -> str:
    roll = rng.random()
    if depth < 3 and roll < 0.35:
        joiner = rng.choice([" and ", " or "])
        return "(" + joiner.join(_condition(rng, kind, depth + 1) for _ in range(rng.randint(2, 3))) + ")"
    if depth < 3 and roll < 0.45:
        return "not " + _condition(rng, kind, depth + 1)
    return _comparison(rng, kind)


def _facts(rng: random.Random, kind: str) -> dict:
    facts = {}
    for field in CATALOGUE[kind]:
        if field.name in {"port", "arrival_at", "received_at"} or rng.random() < 0.2:
            continue
        facts[field.name] = rng.choice(RAW[field.type])
    return facts


@pytest.mark.parametrize("kind", ["consignment", "traveller", "conveyance", "trader"])
def test_vectorised_and_per_subject_paths_agree(kind):
    rng = random.Random(f"agree-{kind}")
    records = [
        (
            _facts(rng, kind),
            rng.choice(["GBFXT", "gblhr", None]),
            rng.choice([*DATES[:4], None]),
            rng.choice(DATES[:2]),
        )
        for _ in range(400)
    ]
    frame = build_frame(kind, records)
    typed = [typed_facts(kind, *r) for r in records]
    checked = 0
    for _ in range(150):
        text = _condition(rng, kind)
        tree = parse(text, kind)
        assert parse(to_text(tree, kind), kind) == tree
        evaluator = Evaluator(tree, kind)
        vector = evaluator(frame)
        scalar = np.array([evaluator.one(t) for t in typed])
        mismatch = np.flatnonzero(vector != scalar)
        assert not len(mismatch), f"{text}: rows {mismatch[:5]} e.g. {records[mismatch[0]]}"
        checked += int(vector.sum())
    assert checked > 0  # the conditions did match something


def test_a_frame_only_builds_the_columns_rules_read():
    frame = build_frame("consignment", [(COFFEE, "GBFXT", ARRIVAL, None)], {"value_per_kg"})
    assert set(frame.columns) == {"declared_value", "net_mass_kg", "value_per_kg"}


def test_a_list_column_reads_each_value_as_one_value_alone_would():
    """A column of lists reads each distinct list of strings once; values that look alike but read
    differently (1, 1.0 and True are equal keys; a list and its joined string) are read each as they are."""
    import pandas as pd

    from apps.risk.fields import coerce_column, coerce_list

    values = [
        ["PA", "ve"], ["PA", "ve"], ("PA", "ve"), "PA,ve", "pa;VE", ["ve", "PA"], [], "", None, float("nan"),
        [1], [1.0], [True], 1, 1.0, True, ["CO", None, " "], ["co"], [["nested"]], ["PA", "ve"],
    ]  # fmt: skip
    column = coerce_column("list", pd.Series(values, dtype=object))
    expected = [coerce_list(v) for v in values]
    assert [None if pd.isna(v) else v for v in column.tolist()] == expected
    assert expected[:5] == ["|PA|VE|"] * 5 and expected[5] == "|VE|PA|"
    assert expected[10:13] == ["|1|", "|1.0|", "|TRUE|"]

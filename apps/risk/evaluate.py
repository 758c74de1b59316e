"""Evaluating condition trees: vectorised over a DataFrame of facts, or for one subject.

Both paths read facts through :mod:`apps.risk.fields` (the same coercions) and share one definition of
every comparison:

* text, code and list comparisons are written once as a predicate on one value
  (:func:`_text_predicate`); the vectorised path applies it to each *distinct* value of a categorical
  column and spreads the answer with the category codes, so a million rows with a few thousand
  distinct HS codes cost a few thousand string tests and one array take;
* numbers, booleans and dates are floats (dates as epoch seconds, booleans as 1.0/0.0, missing as
  NaN) and compared with the same arithmetic in numpy and in Python.

``tests/risk/test_evaluate.py`` checks on random input that the two paths agree on every operator.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from apps.risk.fields import (
    DERIVED,
    coerce,
    coerce_column,
    derive_scalar,
    derive_vectorised,
    fields_for,
    known,
)

__all__ = [
    "DERIVATION_INPUTS",
    "Evaluator",
    "build_frame",
    "compile_condition",
    "evaluate_one",
    "typed_facts",
]

_DAY = 86400.0

#: The base facts each derived fact is computed from (so a frame built for some rules has them).
DERIVATION_INPUTS: dict[str, tuple[str, ...]] = {
    "arrival_hour": ("arrival_at",),
    "arrival_weekday": ("arrival_at",),
    "value_per_kg": ("declared_value", "net_mass_kg"),
    "first_time_importer": ("importer_previous_declarations",),
    "booking_to_departure_hours": ("booking_date", "departure_at"),
    "paid_cash": ("payment_form",),
    "age": ("date_of_birth", "arrival_at", "received_at"),
    "document_expires_in_days": ("document_expiry", "arrival_at", "received_at"),
    "finding_rate": ("findings_count", "examinations_count"),
}

Record = tuple[Mapping[str, Any], str | None, Any, Any]
"""What a subject contributes to evaluation: (facts, port locode, arrival_at, received_at)."""


def _day(value: str) -> float:
    return dt.datetime.combine(dt.date.fromisoformat(value), dt.time(), dt.UTC).timestamp()


# --- one value --------------------------------------------------------------------------------------


def typed_facts(
    kind: str,
    facts: Mapping[str, Any],
    port: str | None = None,
    arrival_at: Any = None,
    received_at: Any = None,
) -> dict[str, Any]:
    """One subject's facts read as catalogue types, with derived facts (a given value fills a gap)."""
    raw = dict(facts)
    raw.update(port=port, arrival_at=arrival_at, received_at=received_at)
    typed = {f.name: coerce(f.type, raw.get(f.name)) for f in fields_for(kind) if not f.derived}
    derived = derive_scalar(kind, typed)
    for name in DERIVED[kind]:
        value = derived.get(name, math.nan)
        if _is_missing(value) and name in raw:
            value = coerce(known(kind, name).type, raw[name])
        typed[name] = value
    return typed


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _text_predicate(field_type: str, op: str, value: Any) -> Callable[[str], bool]:
    """The comparison on one present (normalised) text, code or list value."""
    if field_type == "list":
        if op == "contains":
            needle = f"|{value}|"
            return lambda s: needle in s
        members = frozenset(value)
        if op == "in":
            return lambda s: any(e in members for e in s[1:-1].split("|"))
        if op == "not_in":
            return lambda s: not any(e in members for e in s[1:-1].split("|"))
    else:
        if op == "eq":
            return lambda s: s == value
        if op == "ne":
            return lambda s: s != value
        if op == "in":
            members = frozenset(value)
            return lambda s: s in members
        if op == "not_in":
            members = frozenset(value)
            return lambda s: s not in members
        if op == "prefix":
            prefixes = tuple(value)
            return lambda s: s.startswith(prefixes)
        if op == "contains":
            return lambda s: value in s
    raise ValueError(f"{op} is not a {field_type} comparison")  # pragma: no cover - validated before


def _number_bounds(field_type: str, op: str, value: Any) -> tuple[str, Any]:
    """Turn a comparison into plain numeric terms; date literals mean whole days."""
    if field_type == "bool":
        return op, float(value)
    if field_type != "date":
        return op, value
    if op == "between":
        return "range", (_day(value[0]), _day(value[1]) + _DAY)
    day = _day(value)
    return {
        "eq": ("range", (day, day + _DAY)),
        "ne": ("outside", (day, day + _DAY)),
        "lt": ("lt", day),
        "le": ("lt", day + _DAY),
        "gt": ("ge", day + _DAY),
        "ge": ("ge", day),
    }[op]


def _number_scalar(op: str, bound: Any, x: float) -> bool:
    if math.isnan(x):
        return False
    match op:
        case "eq":
            return x == bound
        case "ne":
            return x != bound
        case "lt":
            return x < bound
        case "le":
            return x <= bound
        case "gt":
            return x > bound
        case "ge":
            return x >= bound
        case "between":
            return bound[0] <= x <= bound[1]
        case "range":
            return bound[0] <= x < bound[1]
        case "outside":
            return not bound[0] <= x < bound[1]
        case "in":
            return x in set(bound)
        case "not_in":
            return x not in set(bound)
    raise ValueError(op)  # pragma: no cover


def _number_vector(op: str, bound: Any, x: np.ndarray) -> np.ndarray:
    present = ~np.isnan(x)
    with np.errstate(invalid="ignore"):
        match op:
            case "eq":
                return x == bound
            case "ne":
                return present & (x != bound)
            case "lt":
                return x < bound
            case "le":
                return x <= bound
            case "gt":
                return x > bound
            case "ge":
                return x >= bound
            case "between":
                return (x >= bound[0]) & (x <= bound[1])
            case "range":
                return (x >= bound[0]) & (x < bound[1])
            case "outside":
                return present & ~((x >= bound[0]) & (x < bound[1]))
            case "in":
                return np.isin(x, np.asarray(bound, dtype="float64"))
            case "not_in":
                return present & ~np.isin(x, np.asarray(bound, dtype="float64"))
    raise ValueError(op)  # pragma: no cover


def evaluate_one(node: Mapping[str, Any], kind: str, typed: Mapping[str, Any]) -> bool:
    """Whether one subject's typed facts (:func:`typed_facts`) satisfy the condition."""
    op = node["op"]
    if op == "and":
        return all(evaluate_one(a, kind, typed) for a in node["args"])
    if op == "or":
        return any(evaluate_one(a, kind, typed) for a in node["args"])
    if op == "not":
        return not evaluate_one(node["arg"], kind, typed)
    field = known(kind, node["field"])
    x = typed.get(field.name)
    missing = _is_missing(x)
    if op == "missing":
        return missing
    if op == "present":
        return not missing
    if missing:
        return False
    assert x is not None  # None is missing
    if field.type in {"code", "text", "list"}:
        return _text_predicate(field.type, op, node["value"])(x)
    num_op, bound = _number_bounds(field.type, op, node["value"])
    return _number_scalar(num_op, bound, x)


# --- many values ----------------------------------------------------------------------------------------


def build_frame(kind: str, records: Iterable[Record], fields: Iterable[str] | None = None) -> pd.DataFrame:
    """A frame of typed facts, one row per record, one column per needed catalogue field.

    ``fields`` limits the columns to what the rules read (plus what their derived facts need); all
    catalogue fields of the kind by default.
    """
    facts_list, ports, arrivals, receipts = [], [], [], []
    for facts, port, arrival_at, received_at in records:
        facts_list.append(facts)
        ports.append(port)
        arrivals.append(arrival_at)
        receipts.append(received_at)
    raw = pd.DataFrame.from_records(facts_list) if facts_list else pd.DataFrame()
    raw["port"], raw["arrival_at"], raw["received_at"] = ports, arrivals, receipts
    return frame_from_raw(kind, raw, fields)


def frame_from_raw(kind: str, raw: pd.DataFrame, fields: Iterable[str] | None = None) -> pd.DataFrame:
    """Type a frame of raw facts (columns named as in ``Subject.facts``) and add the derived facts."""
    wanted = {f.name for f in fields_for(kind)} if fields is None else set(fields)
    for name in list(wanted):
        wanted.update(DERIVATION_INPUTS.get(name, ()))
    columns: dict[str, Any] = {}
    for field in fields_for(kind):
        if field.name not in wanted or field.derived:
            continue
        if field.name in raw:
            columns[field.name] = coerce_column(field.type, raw[field.name])
        elif field.type in {"code", "text", "list"}:
            columns[field.name] = pd.Series(pd.Categorical([None] * len(raw)), index=raw.index)
        else:
            columns[field.name] = pd.Series(np.full(len(raw), np.nan), index=raw.index)
    frame = pd.DataFrame(columns, index=raw.index)
    for name, values in derive_vectorised(kind, frame).items():
        if name not in wanted:
            continue
        values = np.asarray(values, dtype="float64")
        if name in raw:  # a value given by intake fills what cannot be derived
            given = coerce_column(known(kind, name).type, raw[name]).to_numpy(
                dtype="float64", na_value=np.nan
            )
            values = np.where(np.isnan(values), given, values)
        frame[name] = values
    return frame


def compile_condition(node: Mapping[str, Any], kind: str) -> Callable[[pd.DataFrame], np.ndarray]:
    """Turn a validated tree into a function ``frame -> boolean array`` (one entry per row)."""
    op = node["op"]
    if op in {"and", "or"}:
        parts = [compile_condition(a, kind) for a in node["args"]]
        combine = np.logical_and if op == "and" else np.logical_or

        def boolean(frame: pd.DataFrame) -> np.ndarray:
            result = parts[0](frame)
            for part in parts[1:]:
                # Short-circuit a whole frame when nothing (and) or everything (or) is already decided.
                if (op == "and" and not result.any()) or (op == "or" and result.all()):
                    break
                result = combine(result, part(frame))
            return result

        return boolean
    if op == "not":
        inner = compile_condition(node["arg"], kind)
        return lambda frame: ~inner(frame)
    field = known(kind, node["field"])
    name = field.name
    if field.type in {"code", "text", "list"}:
        if op in {"missing", "present"}:
            want_missing = op == "missing"
            return lambda frame: (frame[name].cat.codes.to_numpy() < 0) == want_missing
        predicate = _text_predicate(field.type, op, node["value"])

        def text(frame: pd.DataFrame) -> np.ndarray:
            column = frame[name]
            per_category = np.fromiter((predicate(c) for c in column.cat.categories), bool)
            lookup_table = np.append(per_category, False)  # code -1 (missing) → last entry → False
            return lookup_table[column.cat.codes.to_numpy()]

        return text
    if op in {"missing", "present"}:
        want_missing = op == "missing"
        return lambda frame: np.isnan(frame[name].to_numpy(dtype="float64")) == want_missing
    num_op, bound = _number_bounds(field.type, op, node["value"])
    return lambda frame: _number_vector(num_op, bound, frame[name].to_numpy(dtype="float64"))


class Evaluator:
    """A compiled condition with the fields it reads: what the engine keeps per rule version."""

    def __init__(self, condition: Mapping[str, Any], kind: str) -> None:
        from apps.risk.conditions import fields_used

        self.condition, self.kind = condition, kind
        self.fields = fields_used(dict(condition))
        self.vectorised = compile_condition(condition, kind)

    def __call__(self, frame: pd.DataFrame) -> np.ndarray:
        return self.vectorised(frame)

    def one(self, typed: Mapping[str, Any]) -> bool:
        return evaluate_one(self.condition, self.kind, typed)

"""The main page's figures for a period and the previous one, in one pass over each summary table.

:func:`apps.reports.measures.headline` asks one question per figure and per period (subject sums,
examinations, nominations, missed targets and breaches, each for this period and the previous one,
then arrivals per day and per channel for the tables): fourteen round trips, each planning the
scope's filter again. The page needs all of them at once, so :func:`page_scan` reads

- the target summary three times: the rows in the user's scope with an examination in either period,
  grouped (one statement) into the examinations per selection (both periods) and per day, port and
  method, risk area and officer (this period; the previous one only where its figures need them); the
  rows nominated in either period, grouped into the nominations per state (both periods) and per day;
  the missed targets and queue breaches of both periods;
- the goods seized in this period's examinations, found through the same rows (one statement);
- the daily summary once: the sums of both periods per day and channel (at most a few hundred rows).

The scope is the one of :func:`apps.reports.scope.target_stats` and :func:`~apps.reports.scope.daily_stats`
(their SQL is wrapped, not rewritten), so a manager still counts only what their agency may see; the
target summary's scope is composed once and wrapped by each of its statements. The grouped rows have
the very shapes of :func:`~apps.reports.scope.exam_groups` and
:func:`~apps.reports.scope.nomination_groups`, so the figures are made by the same functions of
:mod:`apps.reports.measures`; the tests hold the page to the direct computation.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import connection
from django.db.models import F, Field
from django.utils import timezone

from apps.reports.models import DailyStat, TargetStat
from apps.reports.scope import DAILY_SUMS, DRAWN, daily_stats, target_stats
from apps.reports.slicing import Slice, optional_model

_COUNTS = "CAST(SUM({}) AS bigint)"  # a sum of counts is a count (PostgreSQL would answer a numeric)
_SUMS = "SUM({})"

#: Each pass's sums: the name, what each group of rows sums, and how the groups' sums add up.
_EXAM_SUMS = (
    ("n", "COUNT(*)", _COUNTS),
    ("f", "COUNT(*) FILTER (WHERE finding)", _COUNTS),
    ("revenue", "SUM(revenue) FILTER (WHERE finding)", _SUMS),
    ("seized", "SUM(seized_value)", _SUMS),
    ("release", "SUM(release_hours)", _SUMS),
    ("released", "COUNT(release_hours)", _COUNTS),
    ("hours", "SUM(exam_hours)", _SUMS),
)
_NOMINATION_SUMS = (
    ("n", "COUNT(*)", _COUNTS),
    ("decided", "COUNT(decision_hours)", _COUNTS),
    ("hours", "SUM(decision_hours)", _SUMS),
    ("dispatched", "COUNT(dispatch_hours)", _COUNTS),
    ("dispatch", "SUM(dispatch_hours)", _SUMS),
    ("resulted", "COUNT(result_hours)", _COUNTS),
    ("result", "SUM(result_hours)", _SUMS),
)
#: Missed targets and queue breaches of each period (``%s``: its bounds), as ``target_events`` counts,
#: each among the rows of its kind (the breaches among the breached rows: ``breached`` is the condition
#: of their index, which a count naming the column again would keep from being read alone).
_EVENT_SUMS = tuple(
    (f"{what}_{period}", f"COUNT(*) FILTER (WHERE {condition})")
    for period in ("now", "before")
    for what, condition in (
        ("missed", "missed_day >= %s AND missed_day <= %s"),
        ("breaches", "decision_due >= %s AND decision_due < %s AND decision_due <= %s"),
    )
)


@dataclass(frozen=True)
class _Set:
    """A breakdown of a pass: its keys, and the sums it reads (the others are left NULL)."""

    keys: tuple[str, ...]
    sums: tuple[str, ...]


_EXAM_SETS = {
    "selection": _Set((DRAWN,), ("n", "f", "revenue", "seized", "release", "released")),
    "day": _Set(("exam_day",), ("n", "f")),  # the trend
    "port": _Set(("port_id", "method"), ("n",)),  # port workload
    "officer": _Set(("officer_id",), ("n", "f", "hours")),  # officer workload
    "area": _Set(("risk_area",), ("n", "f")),  # hit rate by risk area
}
_NOMINATION_SETS = {
    "state": _Set(("state",), tuple(name for name, _, _ in _NOMINATION_SUMS)),  # by state, step times
    "nominated": _Set(("nominated_day",), ("n",)),  # the trend
}
#: The columns of the target summary the passes read: the scope is compiled once, selecting these.
_COLUMNS = (
    "exam_day", "method", "officer_id", "port_id", DRAWN, "risk_area", "finding", "revenue",
    "seized_value", "release_hours", "exam_hours", "result_id", "nominated_day", "state", "decision_hours",
    "dispatch_hours", "result_hours", "missed_day", "decision_due", "breached",
)  # fmt: skip


@dataclass
class PeriodScan:
    """The grouped rows of one period, shaped as the per-figure functions give and take them.

    ``exams`` is ``None`` while frontline examinations are not installed; ``by`` holds the examination
    breakdowns (per day, port and method, officer, risk area); ``seizures`` the goods seized (this
    period's scan only; ``None`` where not counted).
    """

    exams: list[dict[str, Any]] | None = None
    by: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    nominations: list[dict[str, Any]] = field(default_factory=list)
    nominated_by_day: list[dict[str, Any]] = field(default_factory=list)
    events: dict[str, int] = field(default_factory=lambda: {"missed": 0, "breaches": 0})
    sums: dict[str, Any] | None = None
    arrivals_by_day: dict[date, int] = field(default_factory=dict)
    arrivals_by_channel: dict[str, int] = field(default_factory=dict)
    seizures: list[dict[str, Any]] | None = None


def page_scan(
    user: Any, s: Slice, now: datetime | None = None, *, full_previous: bool = False
) -> tuple[PeriodScan, PeriodScan]:
    """This period's and the previous period's grouped rows: two statements over the target summary,
    one over the goods seized, one over the daily summary. The previous period is broken down by port
    only when ``full_previous`` (its figures need nothing else)."""
    now = now or timezone.now()
    before = s.previous()
    current, previous = PeriodScan(), PeriodScan()
    scoped = target_stats(user, s).order_by().annotate(**{DRAWN: F(DRAWN)}).values(*_COLUMNS)
    rows = scoped.query.sql_with_params()  # the scope, composed once for every statement below
    if optional_model("frontline", "ExaminationResult") is not None:
        _scan_exams(
            rows, s, before, current, previous, ("selection", "port") if full_previous else ("selection",)
        )
        current.seizures = _seizures(rows, s)
    _scan_nominations(rows, s, before, current, previous)
    _scan_events(rows, s, before, now, current, previous)
    if s.subject_level:
        _scan_days(user, s, before, current, previous)
    return current, previous


def _prep_as(name: str) -> Callable[[Any], Any]:
    """How a bound of a target summary column is passed, as the ORM would (SQLite keeps dates as text)."""
    column = TargetStat._meta.get_field(name)
    assert isinstance(column, Field)
    return lambda value: column.get_db_prep_value(value, connection)


def _scan_exams(
    rows: tuple[str, tuple[Any, ...]],
    s: Slice,
    before: Slice,
    current: PeriodScan,
    previous: PeriodScan,
    previous_sets: tuple[str, ...],
) -> None:
    current.exams, previous.exams = [], []
    # An officer narrows examinations only (as ``scope.examined`` does).
    where: tuple[str, list[Any]] = (" AND officer_id = %s", [s.officer_id]) if s.officer_id else ("", [])
    periods = _periods("exam_day", s, before)
    found = _grouped(rows, periods, where, _EXAM_SUMS, _EXAM_SETS, previous_sets)
    for kind, p, row in found:
        into = current if p else previous
        if kind == "selection":
            assert into.exams is not None
            into.exams.append(row)
        else:
            into.by[kind].append(row)


def _scan_nominations(
    rows: tuple[str, tuple[Any, ...]], s: Slice, before: Slice, current: PeriodScan, previous: PeriodScan
) -> None:
    """The nominations of both periods by state, and this period's by day."""
    # The previous period by state only: its figures read no day.
    periods = _periods("nominated_day", s, before)
    for kind, p, row in _grouped(rows, periods, ("", []), _NOMINATION_SUMS, _NOMINATION_SETS, ("state",)):
        if kind == "state":
            (current if p else previous).nominations.append(row)
        elif p:
            current.nominated_by_day.append(row)


def _scan_events(
    rows: tuple[str, tuple[Any, ...]],
    s: Slice,
    before: Slice,
    now: datetime,
    current: PeriodScan,
    previous: PeriodScan,
) -> None:
    """Missed targets and queue breaches of both periods, in one statement (as ``target_events``
    counts). Apart from the nomination pass: riding on it, every row of that pass (most of the
    period's targets) would test the four counts' conditions, which took more of the database's time
    than this statement, which reads the events' rows by their indexes: the missed and the breached
    rows each by their own (two subqueries, not one read of either kind of row, which PostgreSQL can
    only answer by a bitmap of both indexes and then the table's rows; alone, each is an index-only
    scan). Each count's condition lies inside its subquery's range, so the counts are the same."""
    day, due = _prep_as("missed_day"), _prep_as("decision_due")
    missed: list[Any] = []
    breaches: list[Any] = []
    for one in (s, before):
        missed += [day(one.start), day(one.end)]
        breaches += [due(one.since), due(one.until), due(now)]
    inner, inner_params = rows
    counts = {name: f"{expr} AS {name}" for name, expr in _EVENT_SUMS}
    sql = (
        f"SELECT m.missed_now, b.breaches_now, m.missed_before, b.breaches_before FROM "
        f"(SELECT {counts['missed_now']}, {counts['missed_before']} FROM ({inner}) t "
        "WHERE missed_day >= %s AND missed_day <= %s) m, "
        f"(SELECT {counts['breaches_now']}, {counts['breaches_before']} FROM ({inner}) t "
        "WHERE breached AND decision_due >= %s AND decision_due < %s AND decision_due <= %s) b"
    )
    params = [
        *missed, *inner_params, day(before.start), day(s.end),
        *breaches, *inner_params, due(before.since), due(s.until), due(now),
    ]  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        found = dict(zip((name for name, _ in _EVENT_SUMS), cursor.fetchone(), strict=True))
    current.events = {"missed": found["missed_now"], "breaches": found["breaches_now"]}
    previous.events = {"missed": found["missed_before"], "breaches": found["breaches_before"]}


def _periods(column: str, s: Slice, before: Slice) -> tuple[tuple[str, list[Any]], tuple[str, list[Any]]]:
    """Which rows of a pass are this period's (``column``, a day, in it) and which the previous one's
    (from its first day up to this period's), with their bounds passed as the ORM would."""
    day = _prep_as(column)
    return (
        (f"{column} >= %s AND {column} <= %s", [day(s.start), day(s.end)]),
        (f"{column} >= %s AND {column} < %s", [day(before.start), day(s.start)]),
    )


def _grouped(
    rows: tuple[str, tuple[Any, ...]],
    periods: tuple[tuple[str, list[Any]], tuple[str, list[Any]]],
    where: tuple[str, list[Any]],
    sums: tuple[tuple[str, str, str], ...],
    sets: dict[str, _Set],
    previous_sets: tuple[str, ...],
) -> list[tuple[str, int | None, dict[str, Any]]]:
    """``(set, period, row)`` for each group of the scoped ``rows`` of either of ``periods`` (this one,
    then the previous) that also match ``where``: one statement, the rows summed once per period
    (``p``: 1 this one, 0 the previous) and every key, then each of ``sets`` adds up those few thousand
    groups (the previous period's only for ``previous_sets``).

    Written as a UNION ALL of the sets rather than GROUPING SETS so that SQLite (the embedded default)
    runs it too. The previous period's rows are grouped by the keys its sets read only (the others
    NULL), so its groups are as few as its figures need; each period's rows are grouped by a branch of
    their own (a row deciding its period per key cost a third of the statement)."""
    keys = sorted({k for one in sets.values() for k in one.keys})
    kept = {k for name in previous_sets for k in sets[name].keys}
    inner, inner_params = rows
    totals = ", ".join(f"{e} AS {n}" for n, e, _ in sums)
    mine = ", ".join(keys)
    theirs = ", ".join(k if k in kept else f"{_typed_null(k)} AS {k}" for k in keys)
    by = ", ".join(k for k in keys if k in kept)
    assert by, "the previous period is grouped by some key (with none, no rows would still give a row)"
    (now, now_params), (then, then_params) = periods
    branches = " UNION ALL ".join(_branch(name, one, keys, sums, previous_sets) for name, one in sets.items())
    sql = (
        f"WITH fine AS (SELECT 1 AS p, {mine}, {totals} FROM ({inner}) t WHERE {now}{where[0]} GROUP BY {mine} "
        f"UNION ALL SELECT 0, {theirs}, {totals} FROM ({inner}) t WHERE {then}{where[0]} GROUP BY {by}) {branches}"
    )
    params = [*inner_params, *now_params, *where[1], *inner_params, *then_params, *where[1]]
    names = ["p", *keys, *(name for name, _, _ in sums)]
    convert = _converters(names, sums)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        found = cursor.fetchall()
    out = []
    for kind, *values in found:
        for i, col, chain in convert:
            for step in chain:
                values[i] = step(values[i], col, connection)
        out.append((kind, values[0], dict(zip(names, values, strict=True))))
    return out


def _branch(
    name: str,
    one: _Set,
    keys: list[str],
    sums: tuple[tuple[str, str, str], ...],
    previous_sets: tuple[str, ...],
) -> str:
    """One set's rows of :func:`_grouped`: its keys and sums, NULL (of the column's type) for the rest."""
    columns = ", ".join(k if k in one.keys else _typed_null(k) for k in keys)
    totals = ", ".join(
        f"{roll.format(n)} AS {n}" if n in one.sums else f"CAST(NULL AS {_sum_type(expr, roll)}) AS {n}"
        for n, expr, roll in sums
    )
    which = "" if name in previous_sets else " WHERE p = 1"
    return f"SELECT '{name}', p, {columns}, {totals} FROM fine{which} GROUP BY p, {', '.join(one.keys)}"


def _typed_null(key: str) -> str:
    """NULL of the key's own column type (PostgreSQL types a bare NULL in a UNION as text)."""
    column = "random_control" if key == DRAWN else key  # the alias has the type of the column it reads
    return f"CAST(NULL AS {TargetStat._meta.get_field(column).db_type(connection)})"


def _sum_type(expr: str, roll: str) -> str:
    """The type of a sum (for its NULL): a count's, or the summed column's."""
    summed = re.search(r"SUM\((\w+)\)", expr)
    if roll == _COUNTS or summed is None:
        return "bigint"
    kind = TargetStat._meta.get_field(summed.group(1)).db_type(connection) or "numeric"
    return "numeric" if kind.startswith("numeric") or kind.startswith("decimal") else kind


def _converters(names: list[str], sums: tuple[tuple[str, str, str], ...]) -> list[tuple[int, Any, list]]:
    """What the ORM would do to each raw column (SQLite answers dates as text, booleans as 0/1 and
    decimal sums as floats; PostgreSQL needs none): the key's own field, or the field a sum adds up."""
    summed = {name: re.search(r"SUM\((\w+)\)", expr) for name, expr, _ in sums}
    return _field_converters(TargetStat, [(match.group(1) if (match := summed.get(n)) else n) for n in names])


def _field_converters(model: Any, sources: list[str]) -> list[tuple[int, Any, list]]:
    """The converters of each column of a raw row, by the model field it comes from (none for counts)."""
    out = []
    for i, source in enumerate(sources):
        try:
            f = model._meta.get_field(source)
        except FieldDoesNotExist:
            continue  # the period, or a count
        col = f.get_col(model._meta.db_table)
        chain = connection.ops.get_db_converters(col) + f.get_db_converters(connection)
        if chain:
            out.append((i, col, chain))
    return out


def _seizures(rows: tuple[str, tuple[Any, ...]], s: Slice) -> list[dict[str, Any]] | None:
    """The goods seized in the period's examinations per kind and unit (``measures.seizures_by_kind``),
    found through the scoped rows; ``None`` without the goods' model."""
    goods = optional_model("frontline", "SeizedGoods")
    if goods is None:
        return None
    meta = goods._meta
    result, kind, unit = (meta.get_field(n).column for n in ("result", "kind", "unit"))
    quantity, value = (meta.get_field(n).column for n in ("quantity", "estimated_value"))
    inner, inner_params = rows
    day = _prep_as("exam_day")
    where, params = "exam_day >= %s AND exam_day <= %s AND seized_value > 0", [day(s.start), day(s.end)]
    if s.officer_id:
        where += " AND officer_id = %s"
        params.append(s.officer_id)
    sql = (
        f"SELECT {kind}, {unit}, COUNT(*), COUNT(DISTINCT {result}), SUM({quantity}), SUM({value}) "
        f"FROM {meta.db_table} WHERE {result} IN (SELECT result_id FROM ({inner}) t WHERE {where}) "
        f"GROUP BY {kind}, {unit}"
    )
    convert = _field_converters(
        goods, ["kind", "unit", "lines", "examinations", "quantity", "estimated_value"]
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*inner_params, *params])
        found = cursor.fetchall()
    out = []
    for values in map(list, found):
        for i, col, chain in convert:
            for step in chain:
                values[i] = step(values[i], col, connection)
        out.append(
            dict(zip(("kind", "unit", "lines", "examinations", "quantity", "value"), values, strict=True))
        )
    return out


def _scan_days(user: Any, s: Slice, before: Slice, current: PeriodScan, previous: PeriodScan) -> None:
    both = replace(s, start=before.start)
    # The scope's SQL wrapped (as the target summary's): the ORM's eight ``Sum`` annotations cost more
    # to compose than the statement takes to run.
    inner, inner_params = (
        daily_stats(user, both)
        .order_by()
        .annotate(**{DRAWN: F(DRAWN)})
        .values("day", "channel", *DAILY_SUMS)
        .query.sql_with_params()
    )
    sql = f"SELECT day, channel, {', '.join(f'SUM({n})' for n in DAILY_SUMS)} FROM ({inner}) t GROUP BY day, channel"
    convert = _field_converters(DailyStat, ["day", "channel", *DAILY_SUMS])
    with connection.cursor() as cursor:
        cursor.execute(sql, inner_params)
        grouped = cursor.fetchall()
    # As ``aggregate`` answers: ``None`` for a period without rows.
    totals: dict[bool, dict[str, Any]] = {True: dict.fromkeys(DAILY_SUMS), False: dict.fromkeys(DAILY_SUMS)}
    for values in map(list, grouped):
        for i, col, chain in convert:
            for step in chain:
                values[i] = step(values[i], col, connection)
        day, channel, *sums = values
        now = day >= s.start
        into = current if now else previous
        for name, value in zip(DAILY_SUMS, sums, strict=True):
            totals[now][name] = (totals[now][name] or 0) + (value or 0)
        into.arrivals_by_day[day] = into.arrivals_by_day.get(day, 0) + (sums[0] or 0)
        into.arrivals_by_channel[channel] = into.arrivals_by_channel.get(channel, 0) + (sums[0] or 0)
    current.sums, previous.sums = totals[True], totals[False]

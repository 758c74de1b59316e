"""The main page's figures for a period and the previous one, in one pass over each summary table.

:func:`apps.reports.measures.headline` asks one question per figure and per period (subject sums,
examinations, nominations, missed targets and breaches, each for this period and the previous one,
then arrivals per day and per channel for the tables): fourteen round trips, each planning the
scope's filter again. The page needs all of them at once, so :func:`page_scan` reads

- the target summary once: the rows in the user's scope with any moment (nomination, examination,
  missed, decision due) in either period, grouped (one statement) into the examinations per day,
  port, method, risk area, officer and selection, the nominations per day and state, and the missed
  targets and breaches, each tagged with its period;
- the daily summary once: the sums of both periods per day and channel (at most a few hundred rows).

The scope is the one of :func:`apps.reports.scope.target_stats` and :func:`~apps.reports.scope.daily_stats`
(their SQL is wrapped, not rewritten), so a manager still counts only what their agency may see. The
grouped rows have the very shapes of :func:`~apps.reports.scope.exam_groups` and
:func:`~apps.reports.scope.nomination_groups`, so the figures are made by the same functions of
:mod:`apps.reports.measures`; the tests hold the page to the direct computation.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import connection
from django.db.models import Count, Q, Sum
from django.utils import timezone

from apps.reports.scope import DAILY_SUMS, daily_stats, target_stats
from apps.reports.slicing import Slice, optional_model

#: Each pass: the rows of one kind of moment, a period column saying which period (1 this one, 0 the
#: previous, NULL neither) the moment falls in, the keys summed first (a few thousand groups at most,
#: so the grouping sets below add up those instead of every target), the sums, and the grouping sets
#: the page's breakdowns need.
_COUNTS = "CAST(SUM({}) AS bigint)"  # a sum of counts is a count (PostgreSQL would answer a numeric)
_SUMS = "SUM({})"
_EXAM_SUMS = (
    ("n", "COUNT(*)", _COUNTS),
    ("f", "COUNT(*) FILTER (WHERE finding)", _COUNTS),
    ("revenue", "SUM(revenue) FILTER (WHERE finding)", _SUMS),
    ("seized", "SUM(seized_value)", _SUMS),
    ("release", "SUM(release_hours)", _SUMS),
    ("released", "COUNT(release_hours)", _COUNTS),
    ("hours", "SUM(exam_hours)", _SUMS),
)
_EXAM_SETS: dict[str, tuple[str, ...]] = {
    "selection": ("random_control",),  # both periods' examination figures
    "day": ("exam_day",),  # the trend
    "port": ("port_id", "method"),  # port workload
    "officer": ("officer_id",),  # officer workload
    "area": ("risk_area",),  # hit rate by risk area
}
_NOMINATION_SUMS = (
    ("n", "COUNT(*)", _COUNTS),
    ("decided", "COUNT(decision_hours)", _COUNTS),
    ("hours", "SUM(decision_hours)", _SUMS),
    ("dispatched", "COUNT(dispatch_hours)", _COUNTS),
    ("dispatch", "SUM(dispatch_hours)", _SUMS),
    ("resulted", "COUNT(result_hours)", _COUNTS),
    ("result", "SUM(result_hours)", _SUMS),
)
_NOMINATION_SETS: dict[str, tuple[str, ...]] = {
    "state": ("state",),  # both periods' targets by state and step times
    "nominated": ("nominated_day",),  # the trend
}


@dataclass
class PeriodScan:
    """The grouped rows of one period, shaped as the per-figure functions give and take them.

    ``exams`` is ``None`` while frontline examinations are not installed; ``by`` holds the examination
    breakdowns (per day, port and method, officer, risk area).
    """

    exams: list[dict[str, Any]] | None = None
    by: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    nominations: list[dict[str, Any]] = field(default_factory=list)
    nominated_by_day: list[dict[str, Any]] = field(default_factory=list)
    events: dict[str, int] = field(default_factory=lambda: {"missed": 0, "breaches": 0})
    sums: dict[str, Any] | None = None
    arrivals_by_day: dict[date, int] = field(default_factory=dict)
    arrivals_by_channel: dict[str, int] = field(default_factory=dict)


def page_scan(user: Any, s: Slice, now: datetime | None = None) -> tuple[PeriodScan, PeriodScan]:
    """This period's and the previous period's grouped rows: one query per summary table."""
    now = now or timezone.now()
    before = s.previous()
    current, previous = PeriodScan(), PeriodScan()
    _scan_targets(user, s, before, now, current, previous)
    if s.subject_level:
        _scan_days(user, s, before, current, previous)
    return current, previous


def _scan_targets(
    user: Any, s: Slice, before: Slice, now: datetime, current: PeriodScan, previous: PeriodScan
) -> None:
    if optional_model("frontline", "ExaminationResult") is not None:
        current.exams, previous.exams = [], []
        # An officer narrows examinations only (as ``scope.examined`` does).
        narrow = {"officer_id": s.officer_id} if s.officer_id else {}
        for kind, period, row in _grouped(user, s, before, "exam_day", _EXAM_SUMS, _EXAM_SETS, narrow):
            into = current if period else previous
            if kind == "selection":
                assert into.exams is not None
                into.exams.append(row)
            else:
                into.by[kind].append(row)
    for kind, period, row in _grouped(user, s, before, "nominated_day", _NOMINATION_SUMS, _NOMINATION_SETS):
        into = current if period else previous
        if kind == "state":
            into.nominations.append(row)
        elif period:
            into.nominated_by_day.append(row)
    _scan_events(user, s, before, now, current, previous)


def _grouped(
    user: Any,
    s: Slice,
    before: Slice,
    day: str,
    sums: tuple[tuple[str, str, str], ...],
    sets: dict[str, tuple[str, ...]],
    narrow: dict[str, Any] | None = None,
) -> list[tuple[str, int, dict[str, Any]]]:
    """``(set, period, row)`` for each group of the target summary rows in scope whose ``day`` falls in
    either period: one query, the rows summed by period and every key first, then by each of ``sets``."""
    keys = sorted({k for ks in sets.values() for k in ks})
    scoped = (
        target_stats(user, s)
        .filter(**{f"{day}__gte": before.start, f"{day}__lte": s.end}, **(narrow or {}))
        .order_by()
        .values(*dict.fromkeys((day, *keys, *_SOURCES[day])))
    )
    inner, inner_params = scoped.query.sql_with_params()
    fine = ", ".join(f"{expr} AS {name}" for name, expr, _ in sums)
    rolled = ", ".join(f"{roll.format(name)} AS {name}" for name, _, roll in sums)
    # The rows are summed once by period and every key (``fine``), then each set adds up those few
    # thousand groups: one statement, as GROUPING SETS would be, written as a UNION ALL of the sets so
    # that SQLite (the embedded default) runs it too.
    branches = " UNION ALL ".join(
        f"SELECT '{name}', p, {', '.join(k if k in ks else _typed_null(scoped.model, k) for k in keys)}, {rolled} "
        f"FROM fine GROUP BY p, {', '.join(ks)}"
        for name, ks in sets.items()
    )
    sql = (
        f"WITH fine AS (SELECT CASE WHEN {day} >= %s THEN 1 ELSE 0 END AS p, {', '.join(keys)}, {fine} "
        f"FROM ({inner}) t GROUP BY 1, {', '.join(keys)}) {branches}"
    )
    names = ["p", *keys, *(name for name, _, _ in sums)]
    convert = _converters(scoped.model, names, sums)
    with connection.cursor() as cursor:
        cursor.execute(sql, [s.start, *inner_params])
        rows = cursor.fetchall()
    found = []
    for kind, *values in rows:
        for i, col, chain in convert:
            for step in chain:
                values[i] = step(values[i], col, connection)
        found.append((kind, values[0], dict(zip(names, values, strict=True))))
    return found


def _typed_null(model: Any, key: str) -> str:
    """NULL of the key's own column type (PostgreSQL types a bare NULL in a UNION as text)."""
    return f"CAST(NULL AS {model._meta.get_field(key).db_type(connection)})"


def _converters(
    model: Any, names: list[str], sums: tuple[tuple[str, str, str], ...]
) -> list[tuple[int, Any, list]]:
    """What the ORM would do to each raw column (SQLite answers dates as text, booleans as 0/1 and
    decimal sums as floats; PostgreSQL needs none): the key's own field, or the field a sum adds up."""
    summed = {name: re.search(r"SUM\((\w+)\)", expr) for name, expr, _ in sums}
    out = []
    for i, name in enumerate(names):
        match = summed.get(name)
        source = match.group(1) if match else name
        try:
            field = model._meta.get_field(source)
        except FieldDoesNotExist:
            continue  # the period, or a count
        col = field.get_col(model._meta.db_table)
        chain = connection.ops.get_db_converters(col) + field.get_db_converters(connection)
        if chain:
            out.append((i, col, chain))
    return out


#: The columns each pass sums, besides its keys.
_SOURCES = {
    "exam_day": ("finding", "revenue", "seized_value", "release_hours", "exam_hours"),
    "nominated_day": ("decision_hours", "dispatch_hours", "result_hours"),
}


def _scan_events(
    user: Any, s: Slice, before: Slice, now: datetime, current: PeriodScan, previous: PeriodScan
) -> None:
    """Missed targets and queue breaches of both periods, in one query (as ``target_events`` counts)."""
    counts: dict[str, Any] = {}
    moments = Q()
    for name, p in (("now", s), ("before", before)):
        missed = Q(missed_day__gte=p.start, missed_day__lte=p.end)
        breached = Q(
            decision_due__gte=p.since, decision_due__lt=p.until, decision_due__lte=now, breached=True
        )
        counts[f"missed_{name}"] = Count("pk", filter=missed)
        counts[f"breaches_{name}"] = Count("pk", filter=breached)
        moments |= missed | breached
    found = target_stats(user, s).filter(moments).aggregate(**counts)
    current.events = {"missed": found["missed_now"], "breaches": found["breaches_now"]}
    previous.events = {"missed": found["missed_before"], "breaches": found["breaches_before"]}


def _scan_days(user: Any, s: Slice, before: Slice, current: PeriodScan, previous: PeriodScan) -> None:
    both = replace(s, start=before.start)
    grouped = (
        daily_stats(user, both)
        .order_by()
        .values_list("day", "channel")
        .annotate(*(Sum(name) for name in DAILY_SUMS))
    )
    # As ``aggregate`` answers: ``None`` for a period without rows.
    totals: dict[bool, dict[str, Any]] = {True: dict.fromkeys(DAILY_SUMS), False: dict.fromkeys(DAILY_SUMS)}
    for day, channel, *sums in grouped:
        now = day >= s.start
        into = current if now else previous
        for name, value in zip(DAILY_SUMS, sums, strict=True):
            totals[now][name] = (totals[now][name] or 0) + (value or 0)
        into.arrivals_by_day[day] = into.arrivals_by_day.get(day, 0) + (sums[0] or 0)
        into.arrivals_by_channel[channel] = into.arrivals_by_channel.get(channel, 0) + (sums[0] or 0)
    current.sums, previous.sums = totals[True], totals[False]

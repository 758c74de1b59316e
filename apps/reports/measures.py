"""Every performance measure computed: the queries that count what :mod:`apps.reports.definitions` says.

Each measure in :data:`MEASURES` has a key, a label, a unit and a definition; the report page's help,
the exports and the PDF print those definitions, and the functions below compute them. Every queryset
starts from ``visible_to(user)``, so a manager counts only what their agency may see; subject-level
figures come from the :class:`~apps.reports.models.DailyStat` summary table (scoped like subjects),
everything about targets and examinations from the :class:`~apps.reports.models.TargetStat` target
summary (one pre-joined row per target, scoped like targets), so a page reads narrow rows found by
an index on the day instead of joining the operational tables. :mod:`apps.reports.direct` counts the same figures
from the operational tables; the tests hold both to the same answers.

Definitions that needed a choice:

- **Examination**: a recorded frontline examination result (one per target; a supervisor's correction
  replaces the outcome, it is not a second examination), counted on the day the examination ended.
  Imported history (``intake.Outcome`` of origin "imported") is not the centre's work and is not counted.
- **Release**: the data has no customs release message, so release is taken as: for an examined
  subject, the end of its examination; for an untargeted subject, its arrival when it was assessed
  before it arrived, else the moment of its first assessment (the green light cannot come earlier).
- **Intervention**: an examination instruction was sent to a port for one of the subject's targets.
- **Released with no intervention**: counted over the arrivals that have arrived (an arrival still to
  come is neither released nor stopped) and are settled: released (no instruction, no target still
  open) or intervened upon. An arrived subject whose target is still undecided, approved or on hold
  is held, in neither count, until its target is dispatched, rejected, withdrawn or missed.
- **Steps of a target**: nomination → decision (first approval, rejection or withdrawal), approval →
  dispatch, dispatch → result, each from the first transition into each state, over the targets
  nominated in the period that reached both steps.
- **Decision**: the first move of a target to approved, rejected or withdrawn.
- **Queue breach**: a target not decided by its decision time (``targeting.models.decision_due``: its
  service level after nomination, by the port's mode and the risk area, or ``DECISION_LEAD`` before
  arrival, whichever comes first), counted on the day that time fell (once it has passed). The queue's
  timers and breach badges read the same rule.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Count, F, Q, QuerySet, Sum
from django.utils import timezone

# The page's tables, read by the report's services as ``measures.<table>`` beside the figures.
from apps.reports.breakdowns import (
    area_rows,
    capacity_use,
    channel_distribution,
    daily_trend,
    hit_rate_by_area,
    officer_rows,
    officer_workload,
    port_workload,
    workload_rows,
)
from apps.reports.definitions import MEASURES
from apps.reports.onepass import PeriodScan, page_scan
from apps.reports.scope import (
    DAILY_SUMS,
    DRAWN,
    _ratio,
    daily_stats,
    exam_groups,
    examined,
    nominated,
    nomination_groups,
    target_stats,
)
from apps.reports.slicing import Slice, optional_model
from apps.targeting.models import TargetState

__all__ = [
    "DECISION_STATES",
    "FINDING_OUTCOMES",
    "MEASURES",
    "S",
    "area_rows",
    "as_float",
    "capacity_use",
    "channel_distribution",
    "compare",
    "daily_stats",
    "daily_trend",
    "decision_figures",
    "exam_groups",
    "examination_figures",
    "examined",
    "headline",
    "hit_rate_by_area",
    "missed_targets",
    "nominated",
    "nomination_figures",
    "nomination_groups",
    "officer_rows",
    "officer_workload",
    "page_headline",
    "port_workload",
    "queue_breaches",
    "seizures_by_kind",
    "step_figures",
    "subject_figures",
    "target_events",
    "target_stats",
    "targets_by_state",
    "workload_rows",
]

S = TargetState
DECISION_STATES = (S.APPROVED, S.REJECTED, S.WITHDRAWN)
FINDING_OUTCOMES = ("irregularity", "seizure", "refusal")


# --------------------------------------------------------------------------- the measures


def _median(qs: QuerySet | None, field: str) -> float | None:
    if qs is None:  # frontline examinations not installed
        return None
    values = [v for v in qs.values_list(field, flat=True) if v is not None]
    return statistics.median(values) if values else None


def subject_figures(user: Any, s: Slice, sums: dict[str, Any] | None = None) -> dict[str, Any]:
    """Arrivals, assessed, released with no intervention, and untargeted time to release (from the
    daily summary's ``sums`` of the slice when the caller has them)."""
    if not s.subject_level:
        return {"arrivals": None, "assessed": None, "released_share": None, "release_hours_untargeted": None}
    if sums is None:
        # Summed under other names: an aggregate named as the annotation it sums would replace it.
        scoped = daily_stats(user, s).annotate(**{DRAWN: F(DRAWN)})
        summed = scoped.aggregate(**{f"{name}_sum": Sum(name) for name in DAILY_SUMS})
        sums = {name: summed[f"{name}_sum"] for name in DAILY_SUMS}
    arrivals = sums["arrivals"] or 0
    untargeted = arrivals - (sums["targeted"] or 0)
    seconds = sums["release_seconds"] or 0.0
    arrived, released, held = sums["arrived"] or 0, sums["released"] or 0, sums["held"] or 0
    return {
        "arrivals": arrivals,
        "assessed": sums["assessed"] or 0,
        "random_control_assessed": sums[DRAWN] or 0,
        "arrived": arrived,
        "held": held,
        "released": released,
        # Of the arrived subjects that are released or were intervened upon (held ones are neither yet).
        "released_share": _ratio(released, arrived - held),
        "release_hours_untargeted": _ratio(seconds / 3600, untargeted),
    }


def nomination_figures(
    user: Any, s: Slice, *, medians: bool = True, groups: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """Targets nominated in the period by their state now, and nomination to decision."""
    groups = nomination_groups(user, s) if groups is None else groups
    found: dict[str, int] = defaultdict(int)
    for g in groups:
        found[g["state"]] += g["n"]
    decided = sum(g["decided"] for g in groups)
    hours = sum(g["hours"] or 0.0 for g in groups)
    dispatched, resulted = sum(g["dispatched"] for g in groups), sum(g["resulted"] for g in groups)
    by_state = {state: found.get(state, 0) for state in S.values}
    return {
        "targets": sum(by_state.values()),
        "targets_by_state": by_state,
        "decided": decided,
        "decision_hours": hours / decided if decided else None,
        "dispatch_hours": _ratio(sum(g["dispatch"] or 0.0 for g in groups), dispatched),
        "result_hours": _ratio(sum(g["result"] or 0.0 for g in groups), resulted),
        **({"decision_hours_median": _median(nominated(user, s), "decision_hours")} if medians else {}),
    }


def targets_by_state(user: Any, s: Slice) -> dict[str, int]:
    """Targets nominated in the period, by their state now (every state listed, zeros included)."""
    return nomination_figures(user, s, medians=False)["targets_by_state"]


def decision_figures(user: Any, s: Slice) -> dict[str, Any]:
    """Nomination to decision (mean and median hours, decided count) for targets nominated in the period."""
    f = nomination_figures(user, s)
    return {k: f[k] for k in ("decided", "decision_hours", "decision_hours_median")}


def step_figures(user: Any, s: Slice) -> dict[str, Any]:
    """Mean hours from approval to dispatch and from dispatch to result, for targets nominated in the period."""
    f = nomination_figures(user, s, medians=False)
    return {k: f[k] for k in ("dispatch_hours", "result_hours")}


def examination_figures(
    user: Any, s: Slice, *, medians: bool = True, groups: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """Examinations, findings, hit rates (all, risk-selected, random control), revenue, value, release time."""
    groups = exam_groups(user, s) if groups is None else groups
    if groups is None:
        keys = (
            "examinations",
            "findings",
            "hit_rate",
            "hit_rate_risk",
            "hit_rate_random",
            "revenue",
            "seized_value",
            "release_hours_targeted",
        )
        return dict.fromkeys(keys)
    n = sum(g["n"] for g in groups)
    f = sum(g["f"] for g in groups)
    n_random = sum(g["n"] for g in groups if g[DRAWN])
    f_random = sum(g["f"] for g in groups if g[DRAWN])
    released = sum(g["released"] for g in groups)
    out = {
        "examinations": n,
        "findings": f,
        "hit_rate": _ratio(f, n),
        "examinations_risk": n - n_random,
        "findings_risk": f - f_random,
        "hit_rate_risk": _ratio(f - f_random, n - n_random),
        "examinations_random": n_random,
        "findings_random": f_random,
        "hit_rate_random": _ratio(f_random, n_random),
        "revenue": sum((g["revenue"] for g in groups if g["revenue"] is not None), Decimal(0)),
        "seized_value": sum((g["seized"] for g in groups if g["seized"] is not None), Decimal(0)),
        "release_hours_targeted": _ratio(sum(g["release"] or 0.0 for g in groups), released),
    }
    if medians:
        out["release_hours_targeted_median"] = _median(examined(user, s), "release_hours")
    return out


def seizures_by_kind(
    user: Any, s: Slice, grouped: list[dict[str, Any]] | None = None
) -> list[dict[str, Any]]:
    """Goods seized in the period's examinations: per kind and unit, the lines, quantity and value
    (``grouped``: those per kind and unit when the caller counted them, as the page's scan does)."""
    goods = optional_model("frontline", "SeizedGoods")
    if goods is None:
        return []
    if grouped is None:
        rows = examined(user, s)
        if rows is None:
            return []
        grouped = list(
            goods.objects.filter(result_id__in=rows.filter(seized_value__gt=0).values("result_id"))
            .order_by()
            .values("kind", "unit")
            .annotate(
                lines=Count("pk"),
                examinations=Count("result", distinct=True),
                quantity=Sum("quantity"),
                value=Sum("estimated_value"),
            )
        )
    kinds = dict(goods._meta.get_field("kind").choices)
    units = dict(goods._meta.get_field("unit").choices)
    return _seizure_rows(grouped, kinds, units)


def _seizure_rows(grouped: Any, kinds: dict[str, str], units: dict[str, str]) -> list[dict[str, Any]]:
    out = [
        {
            "kind": r["kind"],
            "kind_label": kinds.get(r["kind"], r["kind"]),
            "unit": units.get(r["unit"], r["unit"]),
            "examinations": r["examinations"],
            "lines": r["lines"],
            "quantity": r["quantity"] or Decimal(0),
            "value": r["value"] or Decimal(0),
        }
        for r in grouped
    ]
    return sorted(out, key=lambda r: (-r["value"], r["kind_label"]))


def target_events(user: Any, s: Slice, now: datetime | None = None) -> dict[str, int]:
    """Missed targets and queue breaches of the period, in one query."""
    now = now or timezone.now()
    missed = Q(missed_day__gte=s.start, missed_day__lte=s.end)
    breached = Q(decision_due__gte=s.since, decision_due__lt=s.until, decision_due__lte=now, breached=True)
    return (
        target_stats(user, s)
        .filter(missed | breached)
        .aggregate(missed=Count("pk", filter=missed), breaches=Count("pk", filter=breached))
    )


def missed_targets(user: Any, s: Slice) -> int:
    """Targets moved to "missed" in the period."""
    return target_events(user, s)["missed"]


def queue_breaches(user: Any, s: Slice, now: datetime | None = None) -> int:
    """Targets whose decision fell due in the period (and has passed) and was not made by then."""
    return target_events(user, s, now)["breaches"]


def headline(user: Any, s: Slice, *, full: bool = True) -> dict[str, Any]:
    """The value of every measure in :data:`MEASURES` for the slice (``None`` where not available).

    ``full=False`` leaves out what only the page's tables need (targets by state, port workload and
    capacity use), for the previous period's comparison. ``full=True`` also keeps the grouped rows
    (``exam_groups``, ``nomination_groups``) the page's other tables are made from, so the page scans
    the target summary once per kind of moment. Medians are not computed here (no page shows them;
    they would fetch every row of the period): ``examination_figures`` and ``decision_figures`` give
    them.
    """
    exams, nominations = exam_groups(user, s, detail=full), nomination_groups(user, s, detail=full)
    return _headline(user, s, subject_figures(user, s), exams, nominations, target_events(user, s), full=full)


def page_headline(
    user: Any, s: Slice, *, full_previous: bool = False
) -> tuple[dict[str, Any], dict[str, Any], PeriodScan]:
    """:func:`headline` of the slice (``full``, without the grouped rows) and of the previous period
    (``full_previous``), from one pass over each summary table (:func:`apps.reports.onepass.page_scan`);
    with this period's scan, whose breakdowns the page's tables are made from."""
    current, previous = page_scan(user, s, full_previous=full_previous)
    figures = []
    for p, scan, full in ((s, current, True), (s.previous(), previous, full_previous)):
        values = _headline(
            user, p, subject_figures(user, p, scan.sums), scan.exams, scan.nominations, scan.events,
            full=full, ports=scan.by["port"] if scan.exams is not None else None,
        )  # fmt: skip
        values.pop("exam_groups", None), values.pop("nomination_groups", None)
        figures.append(values)
    return figures[0], figures[1], current


def _headline(
    user: Any,
    s: Slice,
    subjects: dict[str, Any],
    exams: list[dict[str, Any]] | None,
    nominations: list[dict[str, Any]],
    events: dict[str, int],
    *,
    full: bool,
    ports: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The figures from the grouped rows (``ports``: examinations per port and method, when ``exams``
    are not that detailed)."""
    values: dict[str, Any] = {}
    values.update(subjects)
    values.update(examination_figures(user, s, medians=False, groups=exams))
    figures = nomination_figures(user, s, medians=False, groups=nominations)
    values.update({k: v for k, v in figures.items() if full or k != "targets_by_state"})
    values.update(events)
    if full:
        workload = port_workload(user, s, exams if ports is None else ports)
        values["capacity_use"] = capacity_use(workload)
        values["port_workload"] = workload
        values["exam_groups"], values["nomination_groups"] = exams, nominations
    return values


def compare(user: Any, s: Slice) -> list[dict[str, Any]]:
    """Each measure now and in the previous period of the same length, with the change."""
    now, before, _ = page_headline(user, s, full_previous=True)
    rows = []
    for key, measure in MEASURES.items():
        a, b = now.get(key), before.get(key)
        change = None
        if isinstance(a, int | float | Decimal) and isinstance(b, int | float | Decimal):
            change = float(a) - float(b)
        rows.append({"measure": measure, "value": a, "previous": b, "change": change})
    return rows


def as_float(value: Any) -> float | None:
    """A figure as a float for charts (Decimal, int), or None."""
    if value is None:
        return None
    return float(value)

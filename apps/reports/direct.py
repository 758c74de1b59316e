"""The report's target and examination figures counted directly from the operational tables.

This is how :mod:`apps.reports.measures` counted before the target summary (``TargetStat``) existed:
joins of targets, transitions, corrected examination results, seized goods, subjects and assessments
at request time. Too slow for the page over a million subjects, it stays as the reference the summary
is checked against (``tests/reports/test_summary.py``) and as the definition in SQL of every figure.
Each function has the signature and the result of its namesake in ``measures``.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import (
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from apps.reports.breakdowns import area_rows, capacity_use, day_rows, workload_rows
from apps.reports.measures import DECISION_STATES, FINDING_OUTCOMES, S, subject_figures
from apps.reports.scope import _ratio, drawn_q, targets
from apps.reports.slicing import Slice, optional_model
from apps.targeting.models import Transition, decision_due_expression


def current_results(user: Any, s: Slice, *, in_period: bool = True) -> QuerySet | None:
    """The examination results of the slice: one row per examination, the latest correction of each.

    ``None`` while frontline examinations are not installed.
    """
    result = optional_model("frontline", "ExaminationResult")
    if result is None:
        return None
    later = result.objects.filter(
        original_id=Coalesce(OuterRef("original_id"), OuterRef("pk")), pk__gt=OuterRef("pk")
    )
    qs = (
        result.objects.visible_to(user)
        .filter(target__in=targets(user, s).values("pk"))
        .exclude(Exists(later))
        .annotate(officer_id=Coalesce("original__recorded_by_id", "recorded_by_id"))
    )
    if s.officer_id:
        qs = qs.filter(officer_id=s.officer_id)
    if in_period:
        qs = qs.filter(ended_at__gte=s.since, ended_at__lt=s.until)
    return qs


def targets_by_state(user: Any, s: Slice) -> dict[str, int]:
    """Targets nominated in the period, by their state now (every state listed, zeros included)."""
    rows = (
        targets(user, s)
        .filter(created_at__gte=s.since, created_at__lt=s.until)
        .order_by()
        .values("state")
        .annotate(n=Count("pk"))
    )
    found = {r["state"]: r["n"] for r in rows}
    return {state: found.get(state, 0) for state in S.values}


def examination_figures(user: Any, s: Slice) -> dict[str, Any]:
    """Examinations, findings, hit rates (all, risk-selected, random control), revenue, value, release time."""
    results = current_results(user, s)
    if results is None:
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
    finding = Q(outcome__in=FINDING_OUTCOMES)
    random = drawn_q(user, "target__")
    sums = results.aggregate(
        n=Count("pk"),
        f=Count("pk", filter=finding),
        n_random=Count("pk", filter=random),
        f_random=Count("pk", filter=random & finding),
        revenue=Sum("revenue_at_stake", filter=finding),
    )
    goods = optional_model("frontline", "SeizedGoods")
    seized = Decimal(0)
    if goods is not None:
        seized = goods.objects.filter(result__in=results.values("pk")).aggregate(v=Sum("estimated_value"))[
            "v"
        ]
    release = list(
        results.filter(target__subject__arrival_at__isnull=False)
        .annotate(
            wait=ExpressionWrapper(
                F("ended_at") - F("target__subject__arrival_at"), output_field=DurationField()
            )
        )
        .values_list("wait", flat=True)
    )
    hours = [max(0.0, w.total_seconds() / 3600) for w in release if w is not None]
    n, f = sums["n"], sums["f"]
    return {
        "examinations": n,
        "findings": f,
        "hit_rate": _ratio(f, n),
        "examinations_risk": n - sums["n_random"],
        "findings_risk": f - sums["f_random"],
        "hit_rate_risk": _ratio(f - sums["f_random"], n - sums["n_random"]),
        "examinations_random": sums["n_random"],
        "findings_random": sums["f_random"],
        "hit_rate_random": _ratio(sums["f_random"], sums["n_random"]),
        "revenue": sums["revenue"] or Decimal(0),
        "seized_value": seized or Decimal(0),
        "release_hours_targeted": statistics.fmean(hours) if hours else None,
        "release_hours_targeted_median": statistics.median(hours) if hours else None,
    }


def seizures_by_kind(user: Any, s: Slice) -> list[dict[str, Any]]:
    """Goods seized in the period's examinations: per kind and unit, the lines, quantity and value."""
    results = current_results(user, s)
    goods = optional_model("frontline", "SeizedGoods")
    if results is None or goods is None:
        return []
    kinds = dict(goods._meta.get_field("kind").choices)
    units = dict(goods._meta.get_field("unit").choices)
    rows = (
        goods.objects.filter(result__in=results.values("pk"))
        .order_by()
        .values("kind", "unit")
        .annotate(
            lines=Count("pk"),
            examinations=Count("result", distinct=True),
            quantity=Sum("quantity"),
            value=Sum("estimated_value"),
        )
    )
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
        for r in rows
    ]
    return sorted(out, key=lambda r: (-r["value"], r["kind_label"]))


def decision_figures(user: Any, s: Slice) -> dict[str, Any]:
    """Nomination to decision (mean and median hours, decided count) for targets nominated in the period."""
    first_decision = (
        Transition.objects.filter(target_id=OuterRef("pk"), to_state__in=DECISION_STATES)
        .order_by("at")
        .values("at")[:1]
    )
    rows = list(
        targets(user, s)
        .filter(created_at__gte=s.since, created_at__lt=s.until)
        .annotate(decided_at=Subquery(first_decision))
        .filter(decided_at__isnull=False)
        .values_list("created_at", "decided_at")
    )
    hours = [max(0.0, (d - c).total_seconds() / 3600) for c, d in rows]
    return {
        "decided": len(hours),
        "decision_hours": statistics.fmean(hours) if hours else None,
        "decision_hours_median": statistics.median(hours) if hours else None,
    }


def step_figures(user: Any, s: Slice) -> dict[str, Any]:
    """Mean hours from approval to dispatch and from dispatch to result, for targets nominated in the
    period, from each target's first transition into each state."""

    def first(state: str) -> Subquery:
        return Subquery(
            Transition.objects.filter(target_id=OuterRef("pk"), to_state=state)
            .order_by("at")
            .values("at")[:1]
        )

    rows = list(
        targets(user, s)
        .filter(created_at__gte=s.since, created_at__lt=s.until)
        .annotate(
            approved=first(S.APPROVED), dispatched=first(S.DISPATCHED), resulted=first(S.RESULT_RECORDED)
        )
        .values_list("approved", "dispatched", "resulted")
    )

    def mean(pairs: list[tuple[Any, Any]]) -> float | None:
        hours = [max(0.0, (b - a).total_seconds() / 3600) for a, b in pairs if a and b]
        return statistics.fmean(hours) if hours else None

    return {
        "dispatch_hours": mean([(a, d) for a, d, _ in rows]),
        "result_hours": mean([(d, r) for _, d, r in rows]),
    }


def missed_targets(user: Any, s: Slice) -> int:
    """Targets moved to "missed" in the period."""
    moved = Transition.objects.visible_to(user).filter(to_state=S.MISSED, at__gte=s.since, at__lt=s.until)
    return targets(user, s).filter(pk__in=moved.values("target_id")).count()


def queue_breaches(user: Any, s: Slice, now: datetime | None = None) -> int:
    """Targets whose decision fell due in the period (and has passed) and was not made by then."""
    now = now or timezone.now()
    first_decision = (
        Transition.objects.filter(target_id=OuterRef("pk"), to_state__in=DECISION_STATES)
        .order_by("at")
        .values("at")[:1]
    )
    return (
        targets(user, s)
        .annotate(due=decision_due_expression(), decided_at=Subquery(first_decision))
        .filter(due__gte=s.since, due__lt=s.until, due__lte=now)
        .filter(Q(decided_at__isnull=True) | Q(decided_at__gt=F("due")))
        .count()
    )


def port_workload(user: Any, s: Slice) -> list[dict[str, Any]]:
    """Per port: examinations (per method) against slots (per method) over the period's days."""
    results = current_results(user, s)
    done: dict[tuple[int, str], int] = defaultdict(int)
    if results is not None:
        for row in results.order_by().values("target__port_id", "method").annotate(n=Count("pk")):
            done[(row["target__port_id"], row["method"])] += row["n"]
    return workload_rows(user, s, done)


def officer_workload(user: Any, s: Slice) -> list[dict[str, Any]]:
    """Per officer (who made the examination): examinations, findings, hit rate, hours spent, per day."""
    results = current_results(user, s)
    if results is None:
        return []
    from django.contrib.auth import get_user_model

    rows = (
        results.order_by()
        .values("officer_id")
        .annotate(
            examinations=Count("pk"),
            findings=Count("pk", filter=Q(outcome__in=FINDING_OUTCOMES)),
            spent=Sum(ExpressionWrapper(F("ended_at") - F("started_at"), output_field=DurationField())),
        )
    )
    names = dict(
        get_user_model().objects.filter(pk__in=[r["officer_id"] for r in rows]).values_list("pk", "username")
    )
    out = []
    for r in rows:
        hours = _duration_hours(r["spent"])
        out.append(
            {
                "officer": names.get(r["officer_id"], "—"),
                "officer_id": r["officer_id"],
                "examinations": r["examinations"],
                "findings": r["findings"],
                "hit_rate": _ratio(r["findings"], r["examinations"]),
                "hours": hours,
                "per_day": r["examinations"] / s.days,
            }
        )
    return sorted(out, key=lambda r: (-r["examinations"], r["officer"]))


def _duration_hours(value: Any) -> float:
    if value is None:
        return 0.0
    if isinstance(value, timedelta):
        return value.total_seconds() / 3600
    return float(value) / 3_600_000_000  # microseconds, as SQLite sums durations


def daily_trend(user: Any, s: Slice) -> list[dict[str, Any]]:
    """Per day of the period: arrivals, targets nominated, examinations and findings."""
    by_day = day_rows(user, s)
    nominated = (
        targets(user, s)
        .filter(created_at__gte=s.since, created_at__lt=s.until)
        .annotate(day=TruncDate("created_at", tzinfo=UTC))
        .order_by()
        .values("day")
        .annotate(n=Count("pk"))
    )
    for row in nominated:
        if row["day"] in by_day:
            by_day[row["day"]]["targets"] = row["n"]
    results = current_results(user, s)
    if results is not None:
        per_day = (
            results.annotate(day=TruncDate("ended_at", tzinfo=UTC))
            .order_by()
            .values("day")
            .annotate(n=Count("pk"), f=Count("pk", filter=Q(outcome__in=FINDING_OUTCOMES)))
        )
        for row in per_day:
            if row["day"] in by_day:
                by_day[row["day"]]["examinations"] = row["n"]
                by_day[row["day"]]["findings"] = row["f"]
    return [{"day": d, **v} for d, v in sorted(by_day.items())]


def hit_rate_by_area(user: Any, s: Slice) -> list[dict[str, Any]]:
    """Examinations, findings and hit rate per risk area of the target."""
    results = current_results(user, s)
    if results is None:
        return []
    rows = (
        results.order_by()
        .values("target__risk_area")
        .annotate(n=Count("pk"), f=Count("pk", filter=Q(outcome__in=FINDING_OUTCOMES)))
    )
    return area_rows([{"risk_area": r["target__risk_area"], "n": r["n"], "f": r["f"]} for r in rows])


def headline(user: Any, s: Slice, *, full: bool = True) -> dict[str, Any]:
    """:func:`apps.reports.measures.headline`, counted directly."""
    values: dict[str, Any] = {}
    values.update(subject_figures(user, s))
    values.update(examination_figures(user, s))
    values.update(decision_figures(user, s))
    values.update(step_figures(user, s))
    values["missed"] = missed_targets(user, s)
    values["breaches"] = queue_breaches(user, s)
    by_state = targets_by_state(user, s)
    values["targets"] = sum(by_state.values())
    if full:
        values["targets_by_state"] = by_state
        workload = port_workload(user, s)
        values["capacity_use"] = capacity_use(workload)
        values["port_workload"] = workload
    return values

"""Every performance measure, defined once: what it counts in plain words, and the SQL that counts it.

Each measure in :data:`MEASURES` has a key, a label, a unit and a definition; the report page's help,
the exports and the PDF print those definitions, and the functions below compute them. Every queryset
starts from ``visible_to(user)``, so a manager counts only what their agency may see; subject-level
figures come from the :class:`~apps.reports.models.DailyStat` summary table (scoped like subjects),
everything about targets and examinations is aggregated live in SQL.

Definitions that needed a choice:

- **Examination**: a recorded frontline examination result (one per target; a supervisor's correction
  replaces the outcome, it is not a second examination), counted on the day the examination ended.
  Imported history (``intake.Outcome`` of origin "imported") is not the centre's work and is not counted.
- **Release**: the data has no customs release message, so release is taken as: for an examined
  subject, the end of its examination; for an untargeted subject, its arrival when it was assessed
  before it arrived, else the moment of its first assessment (the green light cannot come earlier).
- **Intervention**: an examination instruction was sent to a port for one of the subject's targets.
- **Decision**: the first move of a target to approved, rejected or withdrawn.
- **Queue breach**: a target with an arrival time that was not decided ``DECISION_LEAD`` (2 h) before its
  arrival, counted on the arrival day (once that moment has passed).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
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

from apps.agencies.models import Port, PortCapacity
from apps.reports.models import DailyStat
from apps.reports.slicing import Slice, optional_model
from apps.targeting.models import DECISION_LEAD, Target, TargetState, Transition

S = TargetState
DECISION_STATES = (S.APPROVED, S.REJECTED, S.WITHDRAWN)
FINDING_OUTCOMES = ("irregularity", "seizure", "refusal")


@dataclass(frozen=True, slots=True)
class Measure:
    """One measure: its key, how it is called, its unit and what exactly it counts."""

    key: str
    label: str
    unit: str  # count | percent | hours | money | ratio
    definition: str
    better: str = ""  # "up", "down" or "" (neither): how a change is coloured


MEASURES: dict[str, Measure] = {
    m.key: m
    for m in (
        Measure(
            "arrivals",
            "Arrivals",
            "count",
            "Subjects (consignments, travellers, conveyances) whose arrival time falls in the period, "
            "counted once per subject (the current version of its record).",
        ),
        Measure(
            "assessed",
            "Subjects assessed",
            "count",
            "Arrivals of the period that the risk engine assessed at least once.",
            "up",
        ),
        Measure(
            "released_share",
            "Released with no intervention",
            "percent",
            "Share of arrivals of the period for which no examination instruction was ever sent to a "
            "port (no target dispatched): the facilitation side of the balance.",
            "up",
        ),
        Measure(
            "targets",
            "Targets nominated",
            "count",
            "Targets created (by the engine or a person) in the period, whatever their state now.",
        ),
        Measure(
            "examinations",
            "Examinations",
            "count",
            "Frontline examination results whose examination ended in the period, one per target "
            "(a correction replaces the outcome, it is not a second examination).",
        ),
        Measure(
            "findings",
            "Findings",
            "count",
            "Examinations whose outcome (after any correction) is an irregularity, a seizure or a "
            "refusal of entry.",
            "up",
        ),
        Measure(
            "hit_rate",
            "Hit rate",
            "percent",
            "Findings ÷ examinations, over every examination of the period.",
            "up",
        ),
        Measure(
            "hit_rate_risk",
            "Hit rate, risk-selected",
            "percent",
            "Findings ÷ examinations for targets selected on risk (not by random control).",
            "up",
        ),
        Measure(
            "hit_rate_random",
            "Hit rate, random control",
            "percent",
            "Findings ÷ examinations for targets drawn by random control: the true violation rate "
            "that lift is measured against.",
        ),
        Measure(
            "seized_value",
            "Value seized",
            "money",
            "Sum of the estimated value of every line of goods seized in the period's examinations.",
            "up",
        ),
        Measure(
            "revenue",
            "Revenue recovered",
            "money",
            "Sum of the revenue at stake recorded on examinations with a finding in the period.",
            "up",
        ),
        Measure(
            "release_hours_targeted",
            "Arrival to release, targeted",
            "hours",
            "Mean hours from arrival to the end of the examination, over the period's examinations "
            "(0 when the examination ended before arrival, e.g. a pre-arrival document check).",
            "down",
        ),
        Measure(
            "release_hours_untargeted",
            "Arrival to release, untargeted",
            "hours",
            "Mean hours from arrival to release over arrivals never targeted: 0 when assessed before "
            "arrival, else the delay until the first assessment.",
            "down",
        ),
        Measure(
            "decision_hours",
            "Nomination to decision",
            "hours",
            "Mean hours from a target's nomination to its first approval, rejection or withdrawal, "
            "over targets nominated in the period that have been decided.",
            "down",
        ),
        Measure(
            "missed",
            "Missed targets",
            "count",
            "Targets that moved to \u201cmissed\u201d in the period: released before they could be examined.",
            "down",
        ),
        Measure(
            "breaches",
            "Queue breaches",
            "count",
            "Targets arriving in the period that were still undecided two hours before arrival "
            "(the service level of the queues).",
            "down",
        ),
        Measure(
            "capacity_use",
            "Examination capacity used",
            "percent",
            "Examinations ÷ examination slots of the ports in the period (slots per shift and method "
            "from the ports' capacities, times the days of the period).",
        ),
    )
}


# --------------------------------------------------------------------------- querysets of the slice


def targets(user: Any, s: Slice) -> QuerySet:
    """Targets the user may see, narrowed by the slice's port, agency, risk area, channel and rule.

    Not narrowed by period: each measure chooses which moment of a target falls in the period.
    """
    qs = Target.objects.visible_to(user)
    if s.port_id:
        qs = qs.filter(port_id=s.port_id)
    if s.agency_id:
        qs = qs.filter(owner_agency_id=s.agency_id)
    if s.risk_area:
        qs = qs.filter(risk_area=s.risk_area)
    assessment = optional_model("risk", "Assessment")
    if s.channel and assessment is not None:
        latest = assessment.objects.filter(subject_id=OuterRef("subject_id")).order_by("-created_at", "-pk")
        qs = qs.annotate(_channel=Subquery(latest.values("channel")[:1])).filter(_channel=s.channel)
    hit = optional_model("risk", "Hit")
    if s.rule_id and hit is not None:
        fired = hit.objects.filter(rule_id=s.rule_id, shadow=False, assessment__target_id__isnull=False)
        qs = qs.filter(pk__in=fired.values("assessment__target_id"))
    return qs


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


def daily_stats(user: Any, s: Slice) -> QuerySet:
    """Summary rows of the slice's arrival days, scoped like subjects."""
    qs = DailyStat.objects.visible_to(user).filter(day__gte=s.start, day__lte=s.end)
    if s.port_id:
        qs = qs.filter(port_id=s.port_id)
    if s.agency_id:
        qs = qs.filter(owner_agency_id=s.agency_id)
    if s.risk_area:
        qs = qs.filter(risk_area=s.risk_area)
    if s.channel:
        qs = qs.filter(channel=s.channel)
    return qs


# --------------------------------------------------------------------------- the measures


def _ratio(numerator: float | int | None, denominator: float | int | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return numerator / denominator


def subject_figures(user: Any, s: Slice) -> dict[str, Any]:
    """Arrivals, assessed, released with no intervention, and untargeted time to release."""
    if not s.subject_level:
        return {"arrivals": None, "assessed": None, "released_share": None, "release_hours_untargeted": None}
    sums = daily_stats(user, s).aggregate(
        arrivals=Sum("arrivals"),
        assessed=Sum("assessed"),
        targeted=Sum("targeted"),
        intervened=Sum("intervened"),
        random_control=Sum("random_control"),
        release_seconds=Sum("release_seconds"),
    )
    arrivals = sums["arrivals"] or 0
    untargeted = arrivals - (sums["targeted"] or 0)
    seconds = sums["release_seconds"] or 0.0
    return {
        "arrivals": arrivals,
        "assessed": sums["assessed"] or 0,
        "random_control_assessed": sums["random_control"] or 0,
        "released_share": _ratio(arrivals - (sums["intervened"] or 0), arrivals),
        "released": arrivals - (sums["intervened"] or 0),
        "release_hours_untargeted": _ratio(seconds / 3600, untargeted),
    }


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
    random = Q(target__random_control=True)
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


def missed_targets(user: Any, s: Slice) -> int:
    """Targets moved to "missed" in the period."""
    moved = Transition.objects.visible_to(user).filter(to_state=S.MISSED, at__gte=s.since, at__lt=s.until)
    return targets(user, s).filter(pk__in=moved.values("target_id")).count()


def queue_breaches(user: Any, s: Slice, now: datetime | None = None) -> int:
    """Targets arriving in the period not decided ``DECISION_LEAD`` before arrival (once that has passed)."""
    now = now or timezone.now()
    first_decision = (
        Transition.objects.filter(target_id=OuterRef("pk"), to_state__in=DECISION_STATES)
        .order_by("at")
        .values("at")[:1]
    )
    return (
        targets(user, s)
        .filter(arrival_at__gte=s.since, arrival_at__lt=s.until, arrival_at__lte=now + DECISION_LEAD)
        .annotate(decided_at=Subquery(first_decision))
        .filter(Q(decided_at__isnull=True) | Q(decided_at__gt=F("arrival_at") - DECISION_LEAD))
        .count()
    )


def port_workload(user: Any, s: Slice) -> list[dict[str, Any]]:
    """Per port: examinations (per method) against slots (per method) over the period's days."""
    results = current_results(user, s)
    done: dict[tuple[int, str], int] = defaultdict(int)
    if results is not None:
        for row in results.order_by().values("target__port_id", "method").annotate(n=Count("pk")):
            done[(row["target__port_id"], row["method"])] += row["n"]
    slots: dict[tuple[int, str], int] = defaultdict(int)
    capacities = PortCapacity.objects.visible_to(user)
    if s.port_id:
        capacities = capacities.filter(port_id=s.port_id)
    for row in capacities.order_by().values("port_id", "method").annotate(n=Sum("slots")):
        slots[(row["port_id"], row["method"])] += row["n"] * s.days
    port_ids = {p for p, _ in done} | {p for p, _ in slots}
    ports = {p.pk: p for p in Port.objects.visible_to(user).filter(pk__in=[p for p in port_ids if p])}
    rows = []
    for port_id in sorted(port_ids, key=lambda p: ports[p].name if p in ports else "~"):
        exams = sum(n for (p, _), n in done.items() if p == port_id)
        capacity = sum(n for (p, _), n in slots.items() if p == port_id)
        methods = sorted({m for (p, m) in list(done) + list(slots) if p == port_id})
        rows.append(
            {
                "port": ports[port_id].name if port_id in ports else "No port",
                "locode": ports[port_id].locode if port_id in ports else "",
                "examinations": exams,
                "capacity": capacity,
                "use": _ratio(exams, capacity),
                "methods": [
                    {
                        "method": m,
                        "examinations": done.get((port_id, m), 0),
                        "capacity": slots.get((port_id, m), 0),
                    }
                    for m in methods
                ],
            }
        )
    return rows


def capacity_use(rows: list[dict[str, Any]]) -> float | None:
    """Examinations ÷ slots over the ports of :func:`port_workload`."""
    return _ratio(sum(r["examinations"] for r in rows), sum(r["capacity"] for r in rows))


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
    by_day: dict[date, dict[str, Any]] = {
        s.start + timedelta(days=i): {"arrivals": 0, "targets": 0, "examinations": 0, "findings": 0}
        for i in range(s.days)
    }
    if s.subject_level:
        for row in daily_stats(user, s).order_by().values("day").annotate(n=Sum("arrivals")):
            by_day[row["day"]]["arrivals"] = row["n"]
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


def channel_distribution(user: Any, s: Slice) -> list[dict[str, Any]]:
    """Arrivals of the period by the channel of their latest assessment ("not assessed" when none)."""
    if not s.subject_level:
        return []
    labels = {"green": "Green", "yellow": "Yellow", "red": "Red", "blue": "Blue", "": "Not assessed"}
    rows = {
        r["channel"]: r["n"]
        for r in daily_stats(user, s).order_by().values("channel").annotate(n=Sum("arrivals"))
    }
    return [{"channel": c, "label": label, "arrivals": rows.get(c, 0)} for c, label in labels.items()]


def hit_rate_by_area(user: Any, s: Slice) -> list[dict[str, Any]]:
    """Examinations, findings and hit rate per risk area of the target."""
    results = current_results(user, s)
    if results is None:
        return []
    from apps.targeting.models import RiskArea

    rows = (
        results.order_by()
        .values("target__risk_area")
        .annotate(n=Count("pk"), f=Count("pk", filter=Q(outcome__in=FINDING_OUTCOMES)))
    )
    labels = dict(RiskArea.choices)
    out = [
        {
            "risk_area": r["target__risk_area"],
            "label": labels.get(r["target__risk_area"], r["target__risk_area"]),
            "examinations": r["n"],
            "findings": r["f"],
            "hit_rate": _ratio(r["f"], r["n"]),
        }
        for r in rows
    ]
    return sorted(out, key=lambda r: -r["examinations"])


def headline(user: Any, s: Slice, *, full: bool = True) -> dict[str, Any]:
    """The value of every measure in :data:`MEASURES` for the slice (``None`` where not available).

    ``full=False`` leaves out what only the page's tables need (targets by state, port workload and
    capacity use), for the previous period's comparison.
    """
    values: dict[str, Any] = {}
    values.update(subject_figures(user, s))
    values.update(examination_figures(user, s))
    values.update(decision_figures(user, s))
    values["missed"] = missed_targets(user, s)
    values["breaches"] = queue_breaches(user, s)
    if full:
        by_state = targets_by_state(user, s)
        values["targets"] = sum(by_state.values())
        values["targets_by_state"] = by_state
        workload = port_workload(user, s)
        values["capacity_use"] = capacity_use(workload)
        values["port_workload"] = workload
    else:
        values["targets"] = targets(user, s).filter(created_at__gte=s.since, created_at__lt=s.until).count()
    return values


def compare(user: Any, s: Slice) -> list[dict[str, Any]]:
    """Each measure now and in the previous period of the same length, with the change."""
    now, before = headline(user, s), headline(user, s.previous())
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

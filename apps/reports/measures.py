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
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from apps.agencies.models import Port, PortCapacity
from apps.reports.definitions import MEASURES
from apps.reports.models import DailyStat, TargetStat
from apps.reports.slicing import Slice, optional_model
from apps.targeting.models import TargetState

S = TargetState
DECISION_STATES = (S.APPROVED, S.REJECTED, S.WITHDRAWN)
FINDING_OUTCOMES = ("irregularity", "seizure", "refusal")


# --------------------------------------------------------------------------- querysets of the slice


def target_stats(user: Any, s: Slice) -> QuerySet:
    """Target summary rows the user may see, narrowed by the slice's port, agency, risk area, channel, rule.

    Not narrowed by period: each measure chooses which moment of a target falls in the period.
    """
    qs = TargetStat.objects.visible_to(user)
    if s.port_id:
        qs = qs.filter(port_id=s.port_id)
    if s.agency_id:
        qs = qs.filter(owner_agency_id=s.agency_id)
    if s.risk_area:
        qs = qs.filter(risk_area=s.risk_area)
    if s.channel:
        qs = qs.filter(channel=s.channel)
    hit = optional_model("risk", "Hit")
    if s.rule_id and hit is not None:
        fired = hit.objects.filter(rule_id=s.rule_id, shadow=False, assessment__target_id__isnull=False)
        qs = qs.filter(pk__in=fired.values("assessment__target_id"))
    return qs


def nominated(user: Any, s: Slice) -> QuerySet:
    """Summary rows of the targets nominated in the period."""
    return target_stats(user, s).filter(nominated_day__gte=s.start, nominated_day__lte=s.end)


def examined(user: Any, s: Slice) -> QuerySet | None:
    """Summary rows of the targets whose examination (as last corrected) ended in the period.

    ``None`` while frontline examinations are not installed.
    """
    if optional_model("frontline", "ExaminationResult") is None:
        return None
    qs = target_stats(user, s).filter(exam_day__gte=s.start, exam_day__lte=s.end)
    if s.officer_id:
        qs = qs.filter(officer_id=s.officer_id)
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


def _median(qs: QuerySet, field: str) -> float | None:
    values = [v for v in qs.values_list(field, flat=True) if v is not None]
    return statistics.median(values) if values else None


def subject_figures(user: Any, s: Slice) -> dict[str, Any]:
    """Arrivals, assessed, released with no intervention, and untargeted time to release."""
    if not s.subject_level:
        return {"arrivals": None, "assessed": None, "released_share": None, "release_hours_untargeted": None}
    sums = daily_stats(user, s).aggregate(
        arrivals=Sum("arrivals"),
        assessed=Sum("assessed"),
        targeted=Sum("targeted"),
        random_control=Sum("random_control"),
        arrived=Sum("arrived"),
        released=Sum("released"),
        held=Sum("held"),
        release_seconds=Sum("release_seconds"),
    )
    arrivals = sums["arrivals"] or 0
    untargeted = arrivals - (sums["targeted"] or 0)
    seconds = sums["release_seconds"] or 0.0
    arrived, released, held = sums["arrived"] or 0, sums["released"] or 0, sums["held"] or 0
    return {
        "arrivals": arrivals,
        "assessed": sums["assessed"] or 0,
        "random_control_assessed": sums["random_control"] or 0,
        "arrived": arrived,
        "held": held,
        "released": released,
        # Of the arrived subjects that are released or were intervened upon (held ones are neither yet).
        "released_share": _ratio(released, arrived - held),
        "release_hours_untargeted": _ratio(seconds / 3600, untargeted),
    }


def nomination_groups(user: Any, s: Slice, *, detail: bool = True) -> list[dict[str, Any]]:
    """Targets nominated in the period per day (``detail``) and state now, with their decisions: one
    scan that the targets by state, the decision time and the daily trend share."""
    return list(
        nominated(user, s)
        .order_by()
        .values(*(("nominated_day",) if detail else ()), "state")
        .annotate(
            n=Count("pk"),
            decided=Count("decision_hours"),
            hours=Sum("decision_hours"),
            dispatched=Count("dispatch_hours"),
            dispatch=Sum("dispatch_hours"),
            resulted=Count("result_hours"),
            result=Sum("result_hours"),
        )
    )


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


def exam_groups(user: Any, s: Slice, *, detail: bool = True) -> list[dict[str, Any]] | None:
    """The period's examinations per day, port, method, risk area, officer and selection, with their
    findings and sums: one scan that the examination figures and the page's tables share.

    ``detail=False`` groups by selection only (enough for the headline figures). ``None`` while
    frontline examinations are not installed.
    """
    rows = examined(user, s)
    if rows is None:
        return None
    finding = Q(finding=True)
    if not detail:
        # One row of sums (cheaper than grouping), given as the random-control and other groups.
        random = Q(random_control=True)
        t = rows.aggregate(
            n=Count("pk"),
            f=Count("pk", filter=finding),
            n_random=Count("pk", filter=random),
            f_random=Count("pk", filter=random & finding),
            revenue=Sum("revenue", filter=finding),
            seized=Sum("seized_value"),
            release=Sum("release_hours"),
            released=Count("release_hours"),
        )
        return [
            {"random_control": True, "n": t["n_random"], "f": t["f_random"], "revenue": None, "seized": None,
             "release": None, "released": 0, "hours": None},
            {"random_control": False, "n": t["n"] - t["n_random"], "f": t["f"] - t["f_random"],
             "revenue": t["revenue"], "seized": t["seized"], "release": t["release"], "released": t["released"],
             "hours": None},
        ]  # fmt: skip
    return list(
        rows.order_by()
        .values("exam_day", "port_id", "method", "risk_area", "officer_id", "random_control")
        .annotate(
            n=Count("pk"),
            f=Count("pk", filter=finding),
            revenue=Sum("revenue", filter=finding),
            seized=Sum("seized_value"),
            release=Sum("release_hours"),
            released=Count("release_hours"),
            hours=Sum("exam_hours"),
        )
    )


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
    n_random = sum(g["n"] for g in groups if g["random_control"])
    f_random = sum(g["f"] for g in groups if g["random_control"])
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


def seizures_by_kind(user: Any, s: Slice) -> list[dict[str, Any]]:
    """Goods seized in the period's examinations: per kind and unit, the lines, quantity and value."""
    rows = examined(user, s)
    goods = optional_model("frontline", "SeizedGoods")
    if rows is None or goods is None:
        return []
    kinds = dict(goods._meta.get_field("kind").choices)
    units = dict(goods._meta.get_field("unit").choices)
    grouped = (
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


def port_workload(user: Any, s: Slice, groups: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """Per port: examinations (per method) against slots (per method) over the period's days."""
    groups = exam_groups(user, s) if groups is None else groups
    done: dict[tuple[int, str], int] = defaultdict(int)
    for g in groups or ():
        done[(g["port_id"], g["method"])] += g["n"]
    return workload_rows(user, s, done)


def workload_rows(user: Any, s: Slice, done: dict[tuple[int, str], int]) -> list[dict[str, Any]]:
    """The port workload table from examinations per (port, method), against the ports' slots."""
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


def officer_workload(user: Any, s: Slice, groups: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """Per officer (who made the examination): examinations, findings, hit rate, hours spent, per day."""
    groups = exam_groups(user, s) if groups is None else groups
    if groups is None:
        return []
    per: dict[int | None, dict[str, Any]] = {}
    for g in groups:
        row = per.setdefault(
            g["officer_id"], {"officer_id": g["officer_id"], "examinations": 0, "findings": 0, "spent": 0.0}
        )
        row["examinations"] += g["n"]
        row["findings"] += g["f"]
        row["spent"] += g["hours"] or 0.0
    return officer_rows(s, list(per.values()))


def officer_rows(s: Slice, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The officer table from ``{officer_id, examinations, findings, hours}`` rows."""
    from django.contrib.auth import get_user_model

    names = dict(
        get_user_model().objects.filter(pk__in=[r["officer_id"] for r in rows]).values_list("pk", "username")
    )
    out = [
        {
            "officer": names.get(r["officer_id"], "—"),
            "officer_id": r["officer_id"],
            "examinations": r["examinations"],
            "findings": r["findings"],
            "hit_rate": _ratio(r["findings"], r["examinations"]),
            "hours": r["spent"] or 0.0,
            "per_day": r["examinations"] / s.days,
        }
        for r in rows
    ]
    return sorted(out, key=lambda r: (-r["examinations"], r["officer"]))


def daily_trend(
    user: Any,
    s: Slice,
    *,
    exams: list[dict[str, Any]] | None = None,
    nominations: list[dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """Per day of the period: arrivals, targets nominated, examinations and findings."""
    by_day: dict[date, dict[str, Any]] = {
        s.start + timedelta(days=i): {"arrivals": 0, "targets": 0, "examinations": 0, "findings": 0}
        for i in range(s.days)
    }
    if s.subject_level:
        for row in daily_stats(user, s).order_by().values("day").annotate(n=Sum("arrivals")):
            by_day[row["day"]]["arrivals"] = row["n"]
    for g in nomination_groups(user, s) if nominations is None else nominations:
        by_day[g["nominated_day"]]["targets"] += g["n"]
    for g in (exam_groups(user, s) if exams is None else exams) or ():
        by_day[g["exam_day"]]["examinations"] += g["n"]
        by_day[g["exam_day"]]["findings"] += g["f"]
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


def hit_rate_by_area(user: Any, s: Slice, groups: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """Examinations, findings and hit rate per risk area of the target."""
    groups = exam_groups(user, s) if groups is None else groups
    if groups is None:
        return []
    per: dict[str, dict[str, Any]] = {}
    for g in groups:
        row = per.setdefault(g["risk_area"], {"risk_area": g["risk_area"], "n": 0, "f": 0})
        row["n"] += g["n"]
        row["f"] += g["f"]
    return area_rows(list(per.values()))


def area_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The hit rate table from ``{risk_area, n, f}`` rows."""
    from apps.targeting.models import RiskArea

    labels = dict(RiskArea.choices)
    out = [
        {
            "risk_area": r["risk_area"],
            "label": labels.get(r["risk_area"], r["risk_area"]),
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
    capacity use), for the previous period's comparison. ``full=True`` also keeps the grouped rows
    (``exam_groups``, ``nomination_groups``) the page's other tables are made from, so the page scans
    the target summary once per kind of moment. Medians are not computed here (no page shows them;
    they would fetch every row of the period): ``examination_figures`` and ``decision_figures`` give
    them.
    """
    exams, nominations = exam_groups(user, s, detail=full), nomination_groups(user, s, detail=full)
    values: dict[str, Any] = {}
    values.update(subject_figures(user, s))
    values.update(examination_figures(user, s, medians=False, groups=exams))
    figures = nomination_figures(user, s, medians=False, groups=nominations)
    values.update({k: v for k, v in figures.items() if full or k != "targets_by_state"})
    values.update(target_events(user, s))
    if full:
        workload = port_workload(user, s, exams)
        values["capacity_use"] = capacity_use(workload)
        values["port_workload"] = workload
        values["exam_groups"], values["nomination_groups"] = exams, nominations
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

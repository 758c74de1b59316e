"""What a report slice covers: the rows of the user's scope narrowed by the slice, and the grouped scans of
them that the figures and the page's tables share.

:func:`targets` reads the operational targets (the direct reference and the effectiveness tables count
from it); :func:`target_stats` and :func:`daily_stats` read the summary tables the page counts from.

Random control is counted only where the viewer may be told of the draw: every scoped row carries the
alias ``drawn`` (:data:`DRAWN`), true for a target drawn by chance that the viewer's agency owns (the
disclosure's rule, ``random_control_told_to``), and every figure reads it, never the ``random_control``
column. A partner agency sees a shared target as a risk target on its pages; its reports must not count
it apart, or a narrow enough slice would name the draw.
"""

from __future__ import annotations

from typing import Any

from django.db.models import (
    BooleanField,
    Case,
    Count,
    F,
    OuterRef,
    PositiveIntegerField,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)

from apps.reports.models import DailyStat, TargetStat
from apps.reports.slicing import Slice, optional_model
from apps.risk.random_control import random_control_agency
from apps.targeting.models import Target

#: The alias every scoped row carries: drawn for random control, and the viewer may be told so (a
#: target or its summary row: a boolean; a daily summary row: how many of its subjects were drawn).
#: Promote it with ``.annotate(drawn=F(DRAWN))`` to group or select by it.
DRAWN = "drawn"


def drawn_q(user: Any, prefix: str = "") -> Q:
    """Targets (or rows reaching one through ``prefix``, e.g. ``"target__"``) drawn for random control
    that ``user`` may be told of: those his agency owns (``random_control_told_to``, for a whole table)."""
    agency = random_control_agency(user)
    # No agency to be told: a condition no row meets (owner_agency is never null).
    owner = (
        {f"{prefix}owner_agency_id": agency}
        if agency is not None
        else {f"{prefix}owner_agency__isnull": True}
    )
    return Q(**{f"{prefix}random_control": True}, **owner)


def _drawn_flag(user: Any) -> Case:
    return Case(When(drawn_q(user), then=Value(True)), default=Value(False), output_field=BooleanField())


def _narrowed(qs: QuerySet, s: Slice) -> QuerySet:
    """The slice's port, agency and risk area: the same three filters on every scoped table."""
    if s.port_id:
        qs = qs.filter(port_id=s.port_id)
    if s.agency_id:
        qs = qs.filter(owner_agency_id=s.agency_id)
    if s.risk_area:
        qs = qs.filter(risk_area=s.risk_area)
    return qs


def _fired(qs: QuerySet, s: Slice) -> QuerySet:
    """Targets (or their summary rows, which share their keys) on which the slice's rule fired for real."""
    hit = optional_model("risk", "Hit")
    if s.rule_id and hit is not None:
        fired = hit.objects.filter(rule_id=s.rule_id, shadow=False, assessment__target_id__isnull=False)
        qs = qs.filter(pk__in=fired.values("assessment__target_id"))
    return qs


def targets(user: Any, s: Slice) -> QuerySet:
    """Targets the user may see, narrowed by the slice's port, agency, risk area, channel and rule.

    Not narrowed by period: each measure chooses which moment of a target falls in the period.
    """
    qs = _narrowed(Target.objects.visible_to(user), s).alias(**{DRAWN: _drawn_flag(user)})
    assessment = optional_model("risk", "Assessment")
    if s.channel and assessment is not None:
        latest = assessment.objects.filter(subject_id=OuterRef("subject_id")).order_by("-created_at", "-pk")
        qs = qs.annotate(_channel=Subquery(latest.values("channel")[:1])).filter(_channel=s.channel)
    return _fired(qs, s)


def target_stats(user: Any, s: Slice) -> QuerySet:
    """Target summary rows the user may see, narrowed by the slice's port, agency, risk area, channel, rule.

    Not narrowed by period: each measure chooses which moment of a target falls in the period.
    """
    qs = _narrowed(TargetStat.objects.visible_to(user), s).alias(**{DRAWN: _drawn_flag(user)})
    if s.channel:
        qs = qs.filter(channel=s.channel)
    return _fired(qs, s)


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
    """Summary rows of the slice's arrival days, scoped like subjects; ``drawn`` counts the subjects drawn
    for random control that the viewer may be told of (those of his agency, as for targets)."""
    agency = random_control_agency(user)
    counted = PositiveIntegerField()
    drawn = (
        Case(When(owner_agency_id=agency, then=F("random_control")), default=Value(0), output_field=counted)
        if agency is not None
        else Value(0, output_field=counted)
    )
    scoped = DailyStat.objects.visible_to(user).alias(**{DRAWN: drawn})
    qs = _narrowed(scoped.filter(day__gte=s.start, day__lte=s.end), s)
    if s.channel:
        qs = qs.filter(channel=s.channel)
    return qs


#: The daily summary's counts the page adds up over a period (``subject_figures`` and the one pass).
DAILY_SUMS = (
    "arrivals",
    "assessed",
    "targeted",
    DRAWN,
    "arrived",
    "released",
    "held",
    "release_seconds",
)


# --------------------------------------------------------------------------- grouped scans


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
        random = Q(**{DRAWN: True})
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
            {DRAWN: True, "n": t["n_random"], "f": t["f_random"], "revenue": None, "seized": None,
             "release": None, "released": 0, "hours": None},
            {DRAWN: False, "n": t["n"] - t["n_random"], "f": t["f"] - t["f_random"],
             "revenue": t["revenue"], "seized": t["seized"], "release": t["release"], "released": t["released"],
             "hours": None},
        ]  # fmt: skip
    return list(
        rows.order_by()
        .annotate(**{DRAWN: F(DRAWN)})
        .values("exam_day", "port_id", "method", "risk_area", "officer_id", DRAWN)
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


def _ratio(numerator: float | int | None, denominator: float | int | None) -> float | None:
    """A share or a mean, ``None`` where there is nothing to divide by (every figure and table divides so)."""
    if numerator is None or not denominator:
        return None
    return numerator / denominator

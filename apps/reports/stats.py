"""The summary table: subject-level figures per arrival day, rebuilt in SQL from the operational tables.

Counting a million subjects (with their assessments, targets and instructions) for every page view
would be slow; one grouped query per refresh writes a few thousand :class:`DailyStat` rows, and pages
sum those. A refresh replaces the rows of its days in one transaction, so a reader sees the old or the
new figures, never half of them. Celery refreshes the recent days every quarter of an hour and the
last five weeks every night (late assessments and examinations change old days); a manager can
refresh a period on demand from the report page.
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from typing import Any

from django.db import transaction
from django.db.models import (
    Case,
    Count,
    DurationField,
    Exists,
    F,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from apps.intake.models import Subject
from apps.reports.models import DailyStat, StatRefresh
from apps.reports.slicing import optional_model
from apps.targeting.models import Instruction, Target


def _seconds(value: Any) -> float:
    if value is None:
        return 0.0
    if isinstance(value, timedelta):
        return value.total_seconds()
    return float(value) / 1_000_000  # SQLite sums durations in microseconds


def refresh_daily_stats(first_day: date, last_day: date, *, requested_by: Any = None) -> StatRefresh:
    """Rebuild the summary rows of the arrival days ``first_day``..``last_day`` (UTC), both included."""
    began = time.monotonic()
    since = datetime.combine(first_day, dtime.min, tzinfo=UTC)
    until = datetime.combine(last_day + timedelta(days=1), dtime.min, tzinfo=UTC)
    subjects = Subject.objects.filter(
        status=Subject.Status.CURRENT, arrival_at__gte=since, arrival_at__lt=until
    ).annotate(day=TruncDate("arrival_at", tzinfo=UTC))
    assessment = optional_model("risk", "Assessment")
    if assessment is not None:
        latest = assessment.objects.filter(subject_id=OuterRef("pk")).order_by("-created_at", "-pk")
        first = assessment.objects.filter(subject_id=OuterRef("pk")).order_by("created_at", "pk")
        subjects = subjects.annotate(
            ch=Coalesce(Subquery(latest.values("channel")[:1]), Value("")),
            area=Coalesce(Subquery(latest.values("risk_area")[:1]), Value("")),
            first_at=Subquery(first.values("created_at")[:1]),
            drawn=Exists(assessment.objects.filter(subject_id=OuterRef("pk"), random_control=True)),
        )
    else:
        subjects = subjects.annotate(ch=Value(""), area=Value(""), first_at=Value(None), drawn=Value(False))
    subjects = subjects.annotate(
        is_targeted=Exists(Target.objects.filter(subject_id=OuterRef("pk"))),
        is_intervened=Exists(Instruction.objects.filter(target__subject_id=OuterRef("pk"))),
    )
    wait = Case(
        When(is_targeted=False, first_at__gt=F("arrival_at"), then=F("first_at") - F("arrival_at")),
        default=None,
        output_field=DurationField(),
    )
    grouped = (
        subjects.order_by()
        .values("day", "port_id", "owner_agency_id", "source_id", "kind", "ch", "area")
        .annotate(
            arrivals=Count("pk"),
            assessed=Count("pk", filter=Q(first_at__isnull=False)),
            random_control=Count("pk", filter=Q(drawn=True)),
            targeted=Count("pk", filter=Q(is_targeted=True)),
            intervened=Count("pk", filter=Q(is_intervened=True)),
            release=Sum(wait),
        )
    )
    rows = [
        DailyStat(
            day=g["day"],
            port_id=g["port_id"],
            owner_agency_id=g["owner_agency_id"],
            source_id=g["source_id"],
            kind=g["kind"],
            channel=g["ch"] or "",
            risk_area=g["area"] or "",
            arrivals=g["arrivals"],
            assessed=g["assessed"],
            random_control=g["random_control"],
            targeted=g["targeted"],
            intervened=g["intervened"],
            release_seconds=_seconds(g["release"]),
        )
        for g in grouped
    ]
    with transaction.atomic():
        DailyStat.objects.filter(day__gte=first_day, day__lte=last_day).delete()
        DailyStat.objects.bulk_create(rows, batch_size=2000)
        return StatRefresh.objects.create(
            first_day=first_day,
            last_day=last_day,
            rows=len(rows),
            seconds=round(time.monotonic() - began, 3),
            requested_by=requested_by if getattr(requested_by, "pk", None) else None,
        )


def refresh_recent(days: int = 2) -> StatRefresh:
    """Rebuild the last ``days`` days (and tomorrow, for pre-arrival data already in)."""
    today = timezone.now().astimezone(UTC).date()
    return refresh_daily_stats(today - timedelta(days=days - 1), today + timedelta(days=1))


def last_refresh() -> StatRefresh | None:
    return StatRefresh.objects.first()

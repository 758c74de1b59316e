"""The summary tables the report reads instead of the operational tables.

- :class:`DailyStat`: subject-level figures per arrival day, rebuilt in SQL from the operational tables.
- :class:`TargetStat`: one pre-joined row per target (state, decision, examination, value), rewritten
  after every workflow commit that touches the target (:func:`target_changed`) and rebuilt with the
  daily summary for every target nominated, moved or examined in the days rebuilt.

Counting a million subjects (with their assessments, targets and instructions) for every page view
would be slow; one grouped query per refresh writes a few thousand :class:`DailyStat` rows, and pages
sum those. A refresh replaces the rows of its days in one transaction, so a reader sees the old or the
new figures, never half of them. The recent days are refreshed every minute (the job
``reports-refresh-recent`` of ``apps.core.schedule``: beat, or the server process without a broker), so arrival and release
figures follow the floor within a minute; the last five weeks every night (late assessments and
examinations change old days); a manager can recount an older period on demand from the report page.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from decimal import Decimal
from typing import Any
from weakref import WeakKeyDictionary

from django.db import transaction
from django.db.models import (
    Case,
    Count,
    DurationField,
    Exists,
    F,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from apps.intake.models import Subject
from apps.reports.models import DailyStat, StatRefresh, TargetStat
from apps.reports.slicing import optional_model
from apps.targeting.models import Instruction, Target


def _seconds(value: Any) -> float:
    if value is None:
        return 0.0
    if isinstance(value, timedelta):
        return value.total_seconds()
    return float(value) / 1_000_000  # SQLite sums durations in microseconds


def refresh_daily_stats(first_day: date, last_day: date, *, requested_by: Any = None) -> StatRefresh:
    """Rebuild the summary rows of the arrival days ``first_day``..``last_day`` (UTC), both included,
    and the target summary rows of every target nominated, moved or examined on those days.

    ``rows`` of the :class:`StatRefresh` counts both kinds of rows written.
    """
    began = time.monotonic()
    now = timezone.now()
    since = datetime.combine(first_day, dtime.min, tzinfo=UTC)
    until = datetime.combine(last_day + timedelta(days=1), dtime.min, tzinfo=UTC)
    rows = _daily_rows(_annotated_subjects(since, until), now)
    with transaction.atomic():
        DailyStat.objects.filter(day__gte=first_day, day__lte=last_day).delete()
        DailyStat.objects.bulk_create(rows, batch_size=2000)
        target_rows = refresh_target_stats(targets_touched(first_day, last_day))
        return StatRefresh.objects.create(
            first_day=first_day,
            last_day=last_day,
            rows=len(rows) + target_rows,
            seconds=round(time.monotonic() - began, 3),
            requested_by=requested_by if getattr(requested_by, "pk", None) else None,
        )


def _annotated_subjects(since: datetime, until: datetime) -> QuerySet[Any]:
    """Current subjects arriving in [since, until), with their day, channel, area, first assessment and
    whether they were drawn, targeted, intervened on or still have an open target."""
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
    from apps.targeting.models import OPEN_STATES

    return subjects.annotate(
        is_targeted=Exists(Target.objects.filter(subject_id=OuterRef("pk"))),
        is_intervened=Exists(Instruction.objects.filter(target__subject_id=OuterRef("pk"))),
        is_open=Exists(Target.objects.filter(subject_id=OuterRef("pk"), state__in=sorted(OPEN_STATES))),
    )


def _daily_rows(subjects: QuerySet[Any], now: datetime) -> list[DailyStat]:
    """One summary row per day, port, agency, source, kind, channel and risk area, counted in one query."""
    # Release is counted once the subject has arrived: before that it is neither released nor stopped.
    arrived = Q(arrival_at__lte=now)
    not_intervened = Q(is_intervened=False)
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
            arrived=Count("pk", filter=arrived),
            released=Count("pk", filter=arrived & not_intervened & Q(is_open=False)),
            held=Count("pk", filter=arrived & not_intervened & Q(is_open=True)),
            release=Sum(wait),
        )
    )
    return [
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
            arrived=g["arrived"],
            released=g["released"],
            held=g["held"],
            release_seconds=_seconds(g["release"]),
        )
        for g in grouped
    ]


# --------------------------------------------------------------------------- the target summary

#: Targets rewritten per round of queries (keeps ``IN`` lists short on every database).
CHUNK = 2000


def _day(moment: datetime | None) -> date | None:
    return moment.astimezone(UTC).date() if moment is not None else None


def _hours(later: datetime, earlier: datetime) -> float:
    return max(0.0, (later - earlier).total_seconds() / 3600)


def _between(earlier: datetime | None, later: datetime | None) -> float | None:
    """Hours from one step to the next, or None while either has not happened."""
    return _hours(later, earlier) if earlier is not None and later is not None else None


def refresh_target_stats(target_ids: Iterable[int]) -> int:
    """Rewrite the :class:`TargetStat` rows of ``target_ids`` from the operational tables.

    One code path for the row of one target after a workflow commit and for the bulk rebuild, so both
    give the same figures as the direct computation (``apps.reports.direct``). Returns rows written.
    """
    ids = sorted(set(target_ids))
    written = 0
    for first in range(0, len(ids), CHUNK):
        written += _refresh_chunk(ids[first : first + CHUNK])
    return written


def _refresh_chunk(ids: list[int]) -> int:
    """Rewrite the summary rows of one chunk of targets; returns the rows written."""
    from apps.targeting.models import TargetState

    targets = list(
        Target.objects.filter(pk__in=ids).values(
            "pk", "owner_agency_id", "port_id", "risk_area", "random_control", "state", "created_at",
            "arrival_at", "subject_id", "subject__arrival_at",
        )
    )  # fmt: skip
    decisions = (TargetState.APPROVED, TargetState.REJECTED, TargetState.WITHDRAWN)
    first = _first_moves(
        ids, (*decisions, TargetState.MISSED, TargetState.DISPATCHED, TargetState.RESULT_RECORDED)
    )
    decided: dict[int, datetime] = {}
    for state in decisions:
        for target_id, at in first[state].items():
            decided[target_id] = min(at, decided.get(target_id, at))
    current, officer = _current_results(ids)
    seized = _seized_values(current)
    channel = _latest_channels({t["subject_id"] for t in targets})
    rows = _target_rows(targets, first, decided, current, officer, seized, channel)
    fields = [f.name for f in TargetStat._meta.concrete_fields if not f.primary_key]
    with transaction.atomic():
        TargetStat.objects.filter(target_id__in=ids).exclude(
            target_id__in=[r.target_id for r in rows]
        ).delete()
        # An upsert, so two workers rewriting the same target at once never collide on the key.
        TargetStat.objects.bulk_create(
            rows, batch_size=500, update_conflicts=True, unique_fields=["target"], update_fields=fields
        )
    return len(rows)


def _first_moves(ids: list[int], steps: tuple[str, ...]) -> dict[str, dict[int, datetime]]:
    """The first move of each target into each state that a measure times, in one grouped query."""
    from apps.targeting.models import Transition

    first: dict[str, dict[int, datetime]] = {state: {} for state in steps}
    for target_id, state, at in (
        Transition.objects.filter(target_id__in=ids, to_state__in=steps)
        .order_by()
        .values("target_id", "to_state")
        .annotate(at=Min("at"))
        .values_list("target_id", "to_state", "at")
    ):
        first[state][target_id] = at
    return first


def _current_results(ids: list[int]) -> tuple[dict[int, dict[str, Any]], dict[int, int]]:
    """Each target's current examination result and the officer who recorded the first one."""
    # The current result of an examination is its latest correction (one examination per target, and
    # a correction always points at the first result), and the officer is whoever made the first.
    current: dict[int, dict[str, Any]] = {}
    officer: dict[int, int] = {}
    result = optional_model("frontline", "ExaminationResult")
    if result is not None:
        for r in result.objects.filter(target_id__in=ids).order_by("pk").values(
            "pk", "target_id", "original_id", "outcome", "method", "started_at", "ended_at",
            "revenue_at_stake", "recorded_by_id",
        ):  # fmt: skip
            current[r["target_id"]] = r
            if r["original_id"] is None:
                officer[r["target_id"]] = r["recorded_by_id"]
    return current, officer


def _seized_values(current: dict[int, dict[str, Any]]) -> dict[int, Decimal]:
    """Estimated value of the goods seized, per current examination result."""
    goods = optional_model("frontline", "SeizedGoods")
    if goods is None or not current:
        return {}
    return dict(
        goods.objects.filter(result_id__in=[r["pk"] for r in current.values()])
        .order_by()
        .values("result_id")
        .annotate(v=Sum("estimated_value"))
        .values_list("result_id", "v")
    )


def _latest_channels(subject_ids: set[int]) -> dict[int, str]:
    """The channel of each subject's latest assessment."""
    channel: dict[int, str] = {}
    assessment = optional_model("risk", "Assessment")
    if assessment is not None:
        latest = assessment.objects.filter(subject_id__in=subject_ids)
        for subject_id, ch in latest.order_by("subject_id", "created_at", "pk").values_list(
            "subject_id", "channel"
        ):
            channel[subject_id] = ch  # the last one wins: the latest assessment
    return channel


def _target_rows(
    targets: Sequence[Mapping[str, Any]],
    first: dict[str, dict[int, datetime]],
    decided: dict[int, datetime],
    current: dict[int, dict[str, Any]],
    officer: dict[int, int],
    seized: dict[int, Decimal],
    channel: dict[int, str],
) -> list[TargetStat]:
    """One unsaved summary row per target, from what the chunk's queries read."""
    from apps.reports.measures import FINDING_OUTCOMES
    from apps.targeting.models import TargetState, decision_due, port_mode

    missed, approved = first[TargetState.MISSED], first[TargetState.APPROVED]
    dispatched, resulted = first[TargetState.DISPATCHED], first[TargetState.RESULT_RECORDED]
    rows = []
    for t in targets:
        pk, decided_at, exam = t["pk"], decided.get(t["pk"]), current.get(t["pk"])
        finding = exam is not None and exam["outcome"] in FINDING_OUTCOMES
        arrival = t["subject__arrival_at"]
        rows.append(
            TargetStat(
                target_id=pk,
                owner_agency_id=t["owner_agency_id"],
                port_id=t["port_id"],
                risk_area=t["risk_area"],
                channel=channel.get(t["subject_id"]) or "",
                random_control=t["random_control"],
                state=t["state"],
                nominated_day=t["created_at"].astimezone(UTC).date(),
                decision_hours=_hours(decided_at, t["created_at"]) if decided_at else None,
                dispatch_hours=_between(approved.get(pk), dispatched.get(pk)),
                result_hours=_between(dispatched.get(pk), resulted.get(pk)),
                arrival_at=t["arrival_at"],
                decision_due=(
                    due := decision_due(
                        port_mode(t["port_id"]), t["risk_area"], t["created_at"], t["arrival_at"]
                    )
                ),
                breached=due is not None and (decided_at is None or decided_at > due),
                missed_day=_day(missed.get(pk)),
                result_id=exam["pk"] if exam else None,
                exam_day=_day(exam["ended_at"]) if exam else None,
                method=exam["method"] if exam else "",
                officer_id=officer.get(pk, exam["recorded_by_id"]) if exam else None,
                finding=finding,
                revenue=exam["revenue_at_stake"] if finding and exam else None,
                seized_value=(seized.get(exam["pk"]) or 0) if exam else 0,
                exam_hours=_hours(exam["ended_at"], exam["started_at"]) if exam else 0.0,
                release_hours=_hours(exam["ended_at"], arrival) if exam and arrival else None,
            )
        )
    return rows


def targets_touched(first_day: date, last_day: date) -> set[int]:
    """Targets nominated, moved or examined on the days ``first_day``..``last_day`` (UTC)."""
    from apps.targeting.models import Transition

    since = datetime.combine(first_day, dtime.min, tzinfo=UTC)
    until = datetime.combine(last_day + timedelta(days=1), dtime.min, tzinfo=UTC)
    ids = set(Target.objects.filter(created_at__gte=since, created_at__lt=until).values_list("pk", flat=True))
    ids |= set(
        Transition.objects.filter(at__gte=since, at__lt=until).values_list("target_id", flat=True).distinct()
    )
    result = optional_model("frontline", "ExaminationResult")
    if result is not None:
        ids |= set(
            result.objects.filter(
                Q(recorded_at__gte=since, recorded_at__lt=until) | Q(ended_at__gte=since, ended_at__lt=until)
            )
            .values_list("target_id", flat=True)
            .distinct()
        )
    return ids


def on_target_changed(sender: object, target_id: int, **kwargs: object) -> None:
    """The workflow announced a change of the target (``apps.targeting.events.target_changed``)."""
    target_changed(target_id)


def target_changed(target_id: int) -> None:
    """Inside the workflow's transaction: rewrite the target's summary row once the change is committed
    (by Celery, inline when Celery runs eagerly), and let cached reports go.

    The targets changed in one transaction go in one task (the risk engine nominates a batch of
    subjects in one transaction). Each change registers its own callback after the commit, holding a
    token; the connection keeps the changes by token, weakly. A rolled-back transaction or savepoint
    drops its callbacks, and with them their tokens and changes, so nothing of it is sent later (Django's
    list of pending callbacks is not read). The first callback after a commit sends every change still
    held, the later ones find none left. ``robust``: a broker that is down must not turn a committed
    change into an error; the periodic rebuild catches the row up.
    """
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        _send_changes({target_id})
        return
    pending: WeakKeyDictionary[_Change, int] | None = getattr(connection, "_report_targets", None)
    if pending is None:
        pending = WeakKeyDictionary()
        connection._report_targets = pending  # ours, one per connection
    token = _Change()
    pending[token] = target_id
    transaction.on_commit(lambda: _send_pending(pending, token), robust=True)


class _Change:
    """The token of one change: alive exactly as long as its after-commit callback."""

    __slots__ = ("__weakref__",)


def _send_pending(pending: WeakKeyDictionary[_Change, int], token: _Change) -> None:
    """Send the changes still held (the callback's own ``token`` among them, until the first sends)."""
    ids = set(pending.values())
    pending.clear()
    if ids:
        _send_changes(ids)


def _send_changes(ids: set[int]) -> None:
    from apps.reports.tasks import refresh_target_stats_task

    refresh_target_stats_task.delay(sorted(ids))


def refresh_recent(days: int = 2) -> StatRefresh:
    """Rebuild the last ``days`` days (and tomorrow, for pre-arrival data already in)."""
    today = timezone.now().astimezone(UTC).date()
    return refresh_daily_stats(today - timedelta(days=days - 1), today + timedelta(days=1))


def last_refresh() -> StatRefresh | None:
    return StatRefresh.objects.first()


def recent_period() -> timedelta:
    """How often the recent days are recounted: the registered job's period, so every mode keeps one pace."""
    from apps.core.schedule import job

    return timedelta(seconds=float(job("reports-refresh-recent").schedule))


def refresh_due(now: datetime | None = None) -> bool:
    """Whether no refresh covering today finished within the last :func:`recent_period`."""
    now = now or timezone.now()
    today = now.astimezone(UTC).date()
    return not StatRefresh.objects.filter(
        finished_at__gt=now - recent_period(), first_day__lte=today, last_day__gte=today
    ).exists()


def refresh_recent_if_due(now: datetime | None = None) -> int | None:
    """Recount the recent days when due (a simulator beside a server asks too, and the database says when
    the last recount was, so together they do not recount more often); the rows written, or None."""
    from apps.reports.tasks import refresh_daily_stats_task

    if not refresh_due(now):
        return None
    return refresh_daily_stats_task()  # inline, as the scheduled task would run on a worker

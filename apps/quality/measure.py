"""The figures: computed from what intake stores, kept per carrier and week, read back per viewer.

``refresh`` recomputes the weeks in a window from intake's own rows: each primary subject (a traveller
from API or PNR, a consignment from a manifest or a declaration) is one record of its feed and carrier;
its missing required facts and its lateness against the feed's deadline (``apps.quality.feeds``) are
counted. Parse errors and whole-file rejections come from the intake runs' ``problems``, charged to the
carrier whose messages the file held (a file rejected whole names no carrier: it is counted under "no
carrier named" on its source's feed).

``ranking`` and ``carrier_figures`` read the stored weeks through ``CarrierWeek.objects.visible_to``,
so a viewer sees only the feeds of sources his agency may see.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.agencies.operations import check
from apps.core.timewords import lasting
from apps.intake.models import DataSource, IntakeRun, Message, SourceKind, Subject
from apps.quality.feeds import (
    FEEDS,
    carrier_of,
    deadline_of,
    feed_of,
    field_label,
    lateness_hours,
    missing_fields,
    required_fields,
)
from apps.quality.models import CarrierWeek

__all__ = ["CarrierFigures", "WeekFigures", "carrier_figures", "ranking", "refresh", "rule_fields", "week_of"]

#: Weeks a page shows and a refresh recomputes by default.
WEEKS = 8
#: A source of these kinds is measured; travellers are split into API and PNR by message type.
MEASURED_SOURCE_KINDS = (SourceKind.API, SourceKind.PNR, SourceKind.CARGO_MANIFEST, SourceKind.DECLARATION)
_SOURCE_FEED = {"api": "api", "pnr": "pnr", "cargo_manifest": "manifest", "declaration": "declaration"}


def week_of(moment: dt.datetime | dt.date) -> dt.date:
    """The Monday (UTC) of the week ``moment`` falls in."""
    day = moment.astimezone(dt.UTC).date() if isinstance(moment, dt.datetime) else moment
    return day - dt.timedelta(days=day.weekday())


def window_start(weeks: int, now: dt.datetime | None = None) -> dt.date:
    """The Monday ``weeks - 1`` weeks before this week's: ``weeks`` whole weeks, this one included."""
    return week_of(now or timezone.now()) - dt.timedelta(weeks=weeks - 1)


def rule_fields() -> dict[str, set[str]]:
    """Facts the live rules read, per subject kind (a rule cannot fire on a fact that is missing)."""
    from apps.risk.rules import live_rules

    found: dict[str, set[str]] = defaultdict(set)
    for rule in live_rules(["traveller", "consignment"]):
        found[rule.version.subject_kind].update(rule.fields)
    return found


def required_by_feed(rules: dict[str, set[str]] | None = None) -> dict[str, list[str]]:
    rules = rule_fields() if rules is None else rules
    return {key: required_fields(key, rules.get(spec.subject_kind, ())) for key, spec in FEEDS.items()}


@dataclass
class _Tally:
    records: int = 0
    complete: int = 0
    missing: Counter = field(default_factory=Counter)
    timed: int = 0
    late: int = 0
    late_hours: float = 0.0
    messages: set[int] = field(default_factory=set)
    problems: int = 0
    rejected: int = 0


def refresh(
    *, source_ids: Iterable[int] | None = None, weeks: int = WEEKS, now: dt.datetime | None = None
) -> int:
    """Recompute the stored weeks of the window for the measured sources; how many rows were written.

    System work (a periodic task, or a person's "recompute" through ``services.recompute``): it reads
    every agency's sources and writes figures only, which each viewer then reads through scoping.
    """
    now = now or timezone.now()
    start_week = window_start(weeks, now)
    start = dt.datetime.combine(start_week, dt.time(), dt.UTC)
    sources = DataSource.objects.filter(kind__in=MEASURED_SOURCE_KINDS)
    if source_ids is not None:
        sources = sources.filter(pk__in=list(source_ids))
    kinds = dict(sources.values_list("pk", "kind"))
    required = required_by_feed()
    tallies: dict[tuple[int, str, str, dt.date], _Tally] = defaultdict(_Tally)
    carrier_of_message: dict[int, tuple[str, str]] = {}
    rows = (
        Subject.objects.filter(
            source_id__in=list(kinds),
            kind__in=["traveller", "consignment"],
            message__isnull=False,
            received_at__gte=start,
        )
        .order_by()
        .values_list("source_id", "kind", "facts", "arrival_at", "received_at", "message_id")
    )
    for source_id, kind, facts, arrival_at, received_at, message_id in rows.iterator(chunk_size=2000):
        feed = feed_of(kinds[source_id], kind, facts)
        if feed is None:
            continue
        carrier = carrier_of(feed, facts)
        tally = tallies[(source_id, feed, carrier, week_of(received_at))]
        tally.records += 1
        lacking = missing_fields(feed, facts, required[feed])
        tally.complete += not lacking
        tally.missing.update(lacking)
        late = lateness_hours(deadline_of(feed, facts, arrival_at), received_at)
        if late is not None:
            tally.timed += 1
            tally.late += late > 0
            tally.late_hours += late
        tally.messages.add(message_id)
        carrier_of_message.setdefault(message_id, (feed, carrier))
    _count_problems(kinds, start, tallies, carrier_of_message)
    written = [
        CarrierWeek(
            source_id=source_id,
            feed=feed,
            carrier=carrier,
            week=week,
            records=t.records,
            complete=t.complete,
            missing=dict(t.missing),
            timed=t.timed,
            late=t.late,
            late_hours=round(t.late_hours, 2),
            messages=len(t.messages),
            problems=t.problems,
            rejected=t.rejected,
        )
        for (source_id, feed, carrier, week), t in tallies.items()
    ]
    with transaction.atomic():
        CarrierWeek.objects.filter(source_id__in=list(kinds), week__gte=start_week).delete()
        CarrierWeek.objects.bulk_create(written, batch_size=1000)
    return len(written)


def _count_problems(
    kinds: dict[int, str],
    start: dt.datetime,
    tallies: dict[tuple[int, str, str, dt.date], _Tally],
    carrier_of_message: dict[int, tuple[str, str]],
) -> None:
    """Charge each intake run's parse problems to the carrier of the file's messages."""
    runs = list(
        IntakeRun.objects.filter(source_id__in=list(kinds), created_at__gte=start)
        .exclude(problems=[])
        .values_list("pk", "source_id", "created_at", "problems")
    )
    if not runs:
        return
    first_message: dict[tuple[int, str], int] = {}
    for pk, run_id, file_name in (
        Message.objects.filter(run_id__in=[r[0] for r in runs])
        .order_by("pk")
        .values_list("pk", "run_id", "file_name")
    ):
        first_message.setdefault((run_id, file_name), pk)
    for run_id, source_id, created_at, problems in runs:
        by_file = Counter(str(p.get("file", "")) for p in problems if isinstance(p, dict))
        for file_name, count in by_file.items():
            message_id = first_message.get((run_id, file_name))
            if message_id is not None and message_id in carrier_of_message:
                feed, carrier = carrier_of_message[message_id]
                rejected = 0
            else:  # nothing of the file was stored: no carrier can be read from it
                feed, carrier, rejected = _SOURCE_FEED[kinds[source_id]], "", 1
            tally = tallies[(source_id, feed, carrier, week_of(created_at))]
            tally.problems += count
            tally.rejected += rejected


def ensure_fresh(user: Any, *, max_age: dt.timedelta = dt.timedelta(hours=1)) -> dt.datetime | None:
    """When the viewer's figures were computed; in the embedded mode (no broker, so no beat to run
    ``quality.refresh``) figures older than ``max_age`` are recomputed first, for his sources only."""
    from apps.agencies.operations import membership_of
    from apps.core import periodic

    check(user, "quality.view")
    computed = (
        CarrierWeek.objects.visible_to(user)
        .order_by("-computed_at")
        .values_list("computed_at", flat=True)
        .first()
    )
    if periodic.embedded() and (computed is None or computed < timezone.now() - max_age):
        membership = membership_of(user)
        visible = DataSource.objects.filter(DataSource.visibility_q(membership)).values_list("pk", flat=True)
        if refresh(source_ids=list(visible)):
            computed = timezone.now()
    return computed


# --- reading ------------------------------------------------------------------------------------------


def _percent(part: float, whole: float) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


@dataclass
class WeekFigures:
    week: dt.date
    records: int = 0
    complete: int = 0
    timed: int = 0
    late: int = 0
    messages: int = 0
    problems: int = 0
    rejected: int = 0

    @property
    def completeness(self) -> float | None:
        return _percent(self.complete, self.records)

    @property
    def on_time(self) -> float | None:
        return _percent(self.timed - self.late, self.timed)

    @property
    def error_rate(self) -> float | None:
        return _percent(self.problems, self.messages + self.rejected)


@dataclass
class CarrierFigures:
    """One carrier on one feed of one source, over the window, with its weeks (oldest first)."""

    source: DataSource
    feed: str
    carrier: str
    weeks: list[WeekFigures]
    missing: Counter = field(default_factory=Counter)
    late_hours: float = 0.0

    def _sum(self, name: str) -> int:
        return sum(getattr(w, name) for w in self.weeks)

    @property
    def feed_label(self) -> str:
        return FEEDS[self.feed].label

    @property
    def carrier_label(self) -> str:
        return self.carrier or "No carrier named"

    @property
    def slug(self) -> str:
        return self.carrier or "-"

    @property
    def records(self) -> int:
        return self._sum("records")

    @property
    def complete(self) -> int:
        return self._sum("complete")

    @property
    def timed(self) -> int:
        return self._sum("timed")

    @property
    def late(self) -> int:
        return self._sum("late")

    @property
    def messages(self) -> int:
        return self._sum("messages")

    @property
    def problems(self) -> int:
        return self._sum("problems")

    @property
    def rejected(self) -> int:
        return self._sum("rejected")

    @property
    def completeness(self) -> float | None:
        return _percent(self.complete, self.records)

    @property
    def on_time(self) -> float | None:
        return _percent(self.timed - self.late, self.timed)

    @property
    def average_late_hours(self) -> float | None:
        return round(self.late_hours / self.late, 1) if self.late else None

    @property
    def average_lateness(self) -> str:
        """The average lateness in words ("2 hours, 30 minutes", "6 years, 10 months"); "" if none late."""
        return lasting(dt.timedelta(hours=self.late_hours / self.late)) if self.late else ""

    @property
    def error_rate(self) -> float | None:
        return _percent(self.problems, self.messages + self.rejected)

    @property
    def rejection_rate(self) -> float | None:
        return _percent(self.rejected, self.messages + self.rejected)

    @property
    def score(self) -> float:
        """The ranking's key, 0-100: the mean of completeness, on-time share and error-free share
        (each where known); a carrier that sent nothing measurable scores 0."""
        parts = [p for p in (self.completeness, self.on_time) if p is not None]
        if self.error_rate is not None:
            parts.append(max(0.0, 100.0 - self.error_rate))
        return round(sum(parts) / len(parts), 1) if parts else 0.0

    @property
    def missing_fields(self) -> list[tuple[str, str, int]]:
        """(field, label, records without it), most often missing first."""
        order = {name: i for i, (name, _) in enumerate(FEEDS[self.feed].required)}
        ranked = sorted(self.missing.items(), key=lambda kv: (-kv[1], order.get(kv[0], len(order)), kv[0]))
        return [(name, field_label(self.feed, name), n) for name, n in ranked if n]

    @property
    def trend(self) -> str:
        """``better``, ``worse`` or ``steady``: the last week with records against the weeks before it."""
        measured = [w.completeness for w in self.weeks if w.completeness is not None]
        if len(measured) < 2:
            return "steady"
        earlier = sum(measured[:-1]) / len(measured[:-1])
        change = measured[-1] - earlier
        return "better" if change >= 5 else "worse" if change <= -5 else "steady"


def _figures(rows: Iterable[CarrierWeek], start_week: dt.date, weeks: int) -> list[CarrierFigures]:
    found: dict[tuple[int, str, str], CarrierFigures] = {}
    calendar = [start_week + dt.timedelta(weeks=i) for i in range(weeks)]
    for row in rows:
        key = (row.source_id, row.feed, row.carrier)
        figures = found.get(key)
        if figures is None:
            figures = found[key] = CarrierFigures(
                row.source, row.feed, row.carrier, [WeekFigures(week) for week in calendar]
            )
        index = (row.week - start_week).days // 7
        if not 0 <= index < weeks:
            continue
        week = figures.weeks[index]
        for name in ("records", "complete", "timed", "late", "messages", "problems", "rejected"):
            setattr(week, name, getattr(week, name) + getattr(row, name))
        figures.missing.update(row.missing)
        figures.late_hours += row.late_hours
    return list(found.values())


def ranking(
    user: Any, *, weeks: int = WEEKS, feed: str = "", now: dt.datetime | None = None
) -> list[CarrierFigures]:
    """Every carrier of the viewer's visible sources, worst first (lowest score, then most records)."""
    check(user, "quality.view")
    start_week = window_start(weeks, now)
    rows = CarrierWeek.objects.visible_to(user).filter(week__gte=start_week).select_related("source")
    if feed:
        rows = rows.filter(feed=feed)
    figures = [f for f in _figures(rows, start_week, weeks) if f.records or f.problems]
    return sorted(figures, key=lambda f: (f.score, -f.records, f.carrier, f.source.name))


def carrier_figures(
    user: Any, source: DataSource, carrier: str, *, weeks: int = WEEKS, now: dt.datetime | None = None
) -> list[CarrierFigures]:
    """One carrier's figures on each feed of one source (the source already checked visible)."""
    check(user, "quality.view", source)
    start_week = window_start(weeks, now)
    rows = (
        CarrierWeek.objects.visible_to(user)
        .filter(source=source, carrier=carrier, week__gte=start_week)
        .select_related("source")
    )
    return sorted(_figures(rows, start_week, weeks), key=lambda f: f.feed)


def recent_rates(
    keys: Iterable[tuple[int, str, str]], *, weeks: int = 4
) -> dict[tuple[int, str, str], dict[str, Any]]:
    """(source, feed, carrier) → completeness and on-time percent over the last ``weeks`` (system use:
    the risk provider, which sees subjects of every agency)."""
    keys = set(keys)
    if not keys:
        return {}
    start_week = window_start(weeks)
    rows = CarrierWeek.objects.filter(
        source_id__in={k[0] for k in keys}, carrier__in={k[2] for k in keys}, week__gte=start_week
    ).values_list("source_id", "feed", "carrier", "records", "complete", "timed", "late")
    sums: dict[tuple[int, str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for source_id, feed, carrier, records, complete, timed, late in rows:
        key = (source_id, feed, carrier)
        if key in keys:
            total = sums[key]
            total[0] += records
            total[1] += complete
            total[2] += timed
            total[3] += late
    return {
        key: {"completeness": _percent(c, r), "on_time": _percent(t - late, t)}
        for key, (r, c, t, late) in sums.items()
    }

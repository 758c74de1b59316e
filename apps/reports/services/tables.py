"""The report's tables of counts, each a function of the user and the slice."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from typing import Any

from django.db.models import Count, Q
from django.db.models.functions import TruncMonth

from apps.reports import measures as m
from apps.reports.slicing import Slice
from apps.targeting.models import TargetState


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    label: str
    unit: str = ""  # "", count, percent, hours, money, ratio, date


@dataclass
class Table:
    """A named table of figures: what pages draw, and what CSV, XLSX and the PDF carry."""

    name: str
    title: str
    columns: list[Column]
    rows: list[dict[str, Any]] = field(default_factory=list)
    note: str = ""


TABLES: dict[str, str] = {
    "summary": "Measures against the previous period",
    "trend": "Daily trend",
    "states": "Targets by state",
    "channels": "Arrivals by channel",
    "areas": "Hit rate by risk area",
    "seizures": "Seizures by kind",
    "ports": "Port workload against capacity",
    "officers": "Officer workload",
    "ledger": "Effectiveness ledger",
    "ledger_strata": "Lift and random-control rate by subject kind, port and risk area",
    "random_missed": "Random draws not examined",
    "pnr": "Passenger data statistics (PNR)",
}


def summary_table(user: Any, s: Slice) -> Table:
    rows = []
    for r in m.compare(user, s):
        measure = r["measure"]
        rows.append(
            {
                "measure": measure.label,
                "value": r["value"],
                "previous": r["previous"],
                "change": r["change"],
                "unit": measure.unit,
                "definition": measure.definition,
            }
        )
    return Table(
        "summary",
        TABLES["summary"],
        [
            Column("measure", "Measure"),
            Column("value", "This period", "auto"),
            Column("previous", "Previous period", "auto"),
            Column("change", "Change", "auto"),
            Column("unit", "Unit"),
            Column("definition", "Definition"),
        ],
        rows,
        note=f"Previous period: {s.previous().describe()}",
    )


def trend_table(user: Any, s: Slice, **groups: Any) -> Table:
    return Table(
        "trend",
        TABLES["trend"],
        [
            Column("day", "Day", "date"),
            Column("arrivals", "Arrivals", "count"),
            Column("targets", "Targets", "count"),
            Column("examinations", "Examinations", "count"),
            Column("findings", "Findings", "count"),
        ],
        m.daily_trend(user, s, **groups),
    )


def states_table(user: Any, s: Slice, by_state: dict[str, int] | None = None) -> Table:
    labels = dict(TargetState.choices)
    by_state = by_state if by_state is not None else m.targets_by_state(user, s)
    rows = [{"state": labels[k], "targets": v} for k, v in by_state.items()]
    return Table(
        "states", TABLES["states"], [Column("state", "State"), Column("targets", "Targets", "count")], rows
    )


def channels_table(user: Any, s: Slice, arrivals: dict[str, int] | None = None) -> Table:
    rows = m.channel_distribution(user, s, arrivals)
    total = sum(r["arrivals"] for r in rows)
    for r in rows:
        r["share"] = r["arrivals"] / total if total else None
    return Table(
        "channels",
        TABLES["channels"],
        [
            Column("label", "Channel"),
            Column("arrivals", "Arrivals", "count"),
            Column("share", "Share", "percent"),
        ],
        rows,
        note="" if s.subject_level else "Arrivals are not counted by officer or by rule.",
    )


def areas_table(user: Any, s: Slice, groups: list[dict[str, Any]] | None = None) -> Table:
    return Table(
        "areas",
        TABLES["areas"],
        [
            Column("label", "Risk area"),
            Column("examinations", "Examinations", "count"),
            Column("findings", "Findings", "count"),
            Column("hit_rate", "Hit rate", "percent"),
        ],
        m.hit_rate_by_area(user, s, groups),
    )


def seizures_table(user: Any, s: Slice, grouped: list[dict[str, Any]] | None = None) -> Table:
    return Table(
        "seizures",
        TABLES["seizures"],
        [
            Column("kind_label", "Goods"),
            Column("examinations", "Examinations", "count"),
            Column("lines", "Lines", "count"),
            Column("quantity", "Quantity", "number"),
            Column("unit", "Unit"),
            Column("value", "Estimated value", "money"),
        ],
        m.seizures_by_kind(user, s, grouped),
    )


def ports_table(user: Any, s: Slice, rows: list[dict[str, Any]] | None = None) -> Table:
    return Table(
        "ports",
        TABLES["ports"],
        [
            Column("port", "Port"),
            Column("locode", "UN/LOCODE"),
            Column("examinations", "Examinations", "count"),
            Column("capacity", "Slots in period", "count"),
            Column("use", "Capacity used", "percent"),
        ],
        rows if rows is not None else m.port_workload(user, s),
        note="Slots: the port's examination capacity per shift and method, summed, times the days of the period.",
    )


def officers_table(user: Any, s: Slice, groups: list[dict[str, Any]] | None = None) -> Table:
    return Table(
        "officers",
        TABLES["officers"],
        [
            Column("officer", "Officer account"),
            Column("examinations", "Examinations", "count"),
            Column("findings", "Findings", "count"),
            Column("hit_rate", "Hit rate", "percent"),
            Column("hours", "Hours examining", "hours"),
            Column("per_day", "Per day", "ratio"),
        ],
        m.officer_workload(user, s, groups),
        note="The officer who made the examination (a supervisor's correction stays with that officer).",
    )


def pnr_table(user: Any, s: Slice) -> Table:
    """The PNR directive's statistics: passengers whose PNR data were received, and referred, per month.

    A passenger is counted once per month by the business identity of the record (``external_id``:
    booking reference and passenger), whatever the number of PNR versions pushed. "Referred for
    review" means a target was nominated for the passenger. No name or identifier leaves this function.
    """
    from apps.intake.models import SourceKind, Subject, SubjectKind

    since = datetime.combine(s.start, time.min, tzinfo=UTC)
    subjects = Subject.objects.visible_to(user).filter(
        kind=SubjectKind.TRAVELLER,
        source__kind=SourceKind.PNR,
        received_at__gte=since,
        received_at__lt=s.until,
    )
    if s.port_id:
        subjects = subjects.filter(port_id=s.port_id)
    if s.agency_id:
        subjects = subjects.filter(owner_agency_id=s.agency_id)
    rows = (
        subjects.annotate(month=TruncMonth("received_at", tzinfo=UTC))
        .order_by()
        .values("month")
        .annotate(
            received=Count("external_id", distinct=True),
            referred=Count("external_id", distinct=True, filter=Q(targets__isnull=False)),
        )
        .order_by("month")
    )
    out = [
        {
            "month": r["month"].date() if isinstance(r["month"], datetime) else r["month"],
            "received": r["received"],
            "referred": r["referred"],
            "share": r["referred"] / r["received"] if r["received"] else None,
        }
        for r in rows
    ]
    return Table(
        "pnr",
        TABLES["pnr"],
        [
            Column("month", "Month", "month"),
            Column("received", "Passengers whose PNR data were received", "count"),
            Column("referred", "Passengers referred for review", "count"),
            Column("share", "Share referred", "percent"),
        ],
        out,
        note="Aggregates only: no passenger is named or identified.",
    )

# ruff: noqa: RUF001 - typographic dashes, minus and times signs are meant for readers
"""The report as tables and charts: one place that turns measures into what pages, exports and the PDF show.

Every table here is made of figures only (counts, sums, rates, durations, names of ports, rules, lists
and staff accounts); no subject's title, identifier or facts ever reaches a table, so no export of
figures carries personal data about a traveller or trader.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from typing import Any

from django.db.models import Count, Q
from django.db.models.functions import TruncMonth

from apps.reports import measures as m
from apps.reports.charts import Chart, currency, fmt
from apps.reports.effectiveness import Ledger, ledger
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


def channels_table(user: Any, s: Slice) -> Table:
    rows = m.channel_distribution(user, s)
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


def seizures_table(user: Any, s: Slice) -> Table:
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
        m.seizures_by_kind(user, s),
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


def ledger_table(user: Any, s: Slice, book: Ledger | None = None) -> Table:
    book = book or ledger(user, s)
    kinds = {"rule": "Rule", "rule_shadow": "Rule (shadow)", "watchlist": "Watchlist", "model": "Model"}
    rows = []
    for r in book.rows:
        row = r.as_dict()
        row["kind"] = kinds.get(r.kind, r.kind)
        row["owner"] = r.owner
        row["rule_id"] = r.rule_id
        row["corrected"] = r.lift.corrected
        rows.append(row)
    return Table(
        "ledger",
        TABLES["ledger"],
        [
            Column("kind", "Kind"),
            Column("name", "Name"),
            Column("version", "Version"),
            Column("owner", "Owner"),
            Column("hits", "Hits", "count"),
            Column("examinations", "Examinations", "count"),
            Column("findings", "Findings", "count"),
            Column("precision", "Precision", "percent"),
            Column("lift", "Lift", "ratio"),
            Column("lift_low", "95 % CI low", "ratio"),
            Column("lift_high", "95 % CI high", "ratio"),
            Column("measured_exams", "Examinations with a baseline", "count"),
            Column("lift_note", "Lift note"),
            Column("flags", "Flags"),
        ],
        rows,
        note=f"Lift is measured per subject kind, port and risk area against the random control of the "
        f"same stratum (Mantel–Haenszel overall). Random control, all strata pooled (for information "
        f"only): {book.base_findings} findings in {book.base_exams} examinations "
        f"({fmt(book.base_rate, 'percent')}); {book.missed_total} random draws not examined.",
    )


def ledger_strata_table(user: Any, s: Slice, book: Ledger | None = None) -> Table:
    """The random baseline of every stratum, then each selector's lift in each stratum it examined."""
    book = book or ledger(user, s, flags=False)
    rows: list[dict[str, Any]] = []
    for b in book.baselines:
        rows.append(
            {
                "selector": "Random control",
                "stratum": book.label(b.stratum),
                "examinations": b.rate.exams,
                "findings": b.rate.findings,
                "rate": b.rate.value,
                "rate_low": b.rate.low,
                "rate_high": b.rate.high,
                "base_rate": None,
                "lift": None,
                "lift_low": None,
                "lift_high": None,
                "not_examined": b.missed,
                "note": b.note,
            }
        )
    for r in book.rows:
        for x in r.strata:
            rows.append(
                {
                    "selector": f"{r.name} {r.version}",
                    "stratum": book.label(x.stratum),
                    "examinations": x.examinations,
                    "findings": x.findings,
                    "rate": x.precision,
                    "rate_low": None,
                    "rate_high": None,
                    "base_rate": x.base.value,
                    "lift": x.lift.value,
                    "lift_low": x.lift.low,
                    "lift_high": x.lift.high,
                    "not_examined": None,
                    "note": x.note,
                }
            )
    return Table(
        "ledger_strata",
        TABLES["ledger_strata"],
        [
            Column("selector", "Selector"),
            Column("stratum", "Subject kind · port · risk area"),
            Column("examinations", "Examinations", "count"),
            Column("findings", "Findings", "count"),
            Column("rate", "Hit rate", "percent"),
            Column("rate_low", "95 % CI low", "percent"),
            Column("rate_high", "95 % CI high", "percent"),
            Column("base_rate", "Random-control rate", "percent"),
            Column("lift", "Lift", "ratio"),
            Column("lift_low", "Lift 95 % CI low", "ratio"),
            Column("lift_high", "Lift 95 % CI high", "ratio"),
            Column("not_examined", "Random draws not examined", "count"),
            Column("note", "Note"),
        ],
        rows,
        note="Random control: the true violation rate of the stratum with its Wilson interval. A selector's "
        "lift in a stratum is against that stratum's random-control rate (Katz interval).",
    )


def random_missed_table(user: Any, s: Slice, book: Ledger | None = None) -> Table:
    """Random-control targets that ended missed in the period, per stratum and reason."""
    book = book or ledger(user, s, flags=False)
    return Table(
        "random_missed",
        TABLES["random_missed"],
        [
            Column("stratum", "Subject kind · port · risk area"),
            Column("reason", "Reason given"),
            Column("count", "Random draws", "count"),
        ],
        [{"stratum": book.label(m.stratum), "reason": m.reason, "count": m.count} for m in book.missed],
        note="Random-control targets cannot be rejected or withdrawn; these ended as missed, so they are "
        "missing from the random sample and bias its rate if frequent.",
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


def table(user: Any, s: Slice, name: str) -> Table:
    """A table by name (``KeyError`` for an unknown one)."""
    makers = {
        "summary": summary_table,
        "trend": trend_table,
        "states": states_table,
        "channels": channels_table,
        "areas": areas_table,
        "seizures": seizures_table,
        "ports": ports_table,
        "officers": officers_table,
        "ledger": ledger_table,
        "ledger_strata": ledger_strata_table,
        "random_missed": random_missed_table,
        "pnr": pnr_table,
    }
    return makers[name](user, s)


# --------------------------------------------------------------------------- the whole report


@dataclass
class Report:
    slice: Slice
    kpis: list[dict[str, Any]]
    charts: list[Chart]
    tables: dict[str, Table]
    values: dict[str, Any]


KPI_KEYS = (
    "arrivals",
    "released_share",
    "examinations",
    "hit_rate",
    "hit_rate_random",
    "seized_value",
    "revenue",
    "release_hours_targeted",
    "release_hours_untargeted",
    "decision_hours",
    "dispatch_hours",
    "result_hours",
    "missed",
    "breaches",
)


def build_report(user: Any, s: Slice) -> Report:
    """Every headline figure (with the previous period), the charts and the tables of the main page."""
    values, before = m.headline(user, s), m.headline(user, s.previous(), full=False)
    # The grouped summary rows feed the tables below; they are not kept in the (cached) report.
    exams, nominations = values.pop("exam_groups"), values.pop("nomination_groups")
    kpis: list[dict[str, Any]] = []
    for key in KPI_KEYS:
        measure = m.MEASURES[key]
        a, b = values.get(key), before.get(key)
        change = float(a) - float(b) if a is not None and b is not None else None
        direction = ""
        if change and measure.better:
            direction = "good" if (change > 0) == (measure.better == "up") else "bad"
        kpis.append({"measure": measure, "value": a, "previous": b, "change": change, "trend": direction})
    trend = trend_table(user, s, exams=exams, nominations=nominations)
    states = states_table(user, s, values["targets_by_state"])
    channels = channels_table(user, s)
    areas = areas_table(user, s, exams)
    seizures = seizures_table(user, s)
    ports = ports_table(user, s, values["port_workload"])
    officers = officers_table(user, s, exams)
    summary = Table(
        "summary",
        TABLES["summary"],
        [
            Column("measure", "Measure"),
            Column("value", "This period", "auto"),
            Column("previous", "Previous period", "auto"),
            Column("change", "Change", "auto"),
        ],
        [
            {
                "measure": k["measure"].label,
                "value": k["value"],
                "previous": k["previous"],
                "change": k["change"],
                "unit": k["measure"].unit,
            }
            for k in kpis
        ],
    )
    charts = report_charts(s, trend, states, channels, areas, seizures, values)
    tables = {t.name: t for t in (summary, trend, states, channels, areas, seizures, ports, officers)}
    return Report(slice=s, kpis=kpis, charts=charts, tables=tables, values=values)


def report_charts(
    s: Slice,
    trend: Table,
    states: Table,
    channels: Table,
    areas: Table,
    seizures: Table,
    values: dict[str, Any],
) -> list[Chart]:
    days = [r["day"].strftime("%d %b") for r in trend.rows]
    charts = [
        Chart(
            "trend",
            "Examinations and findings per day",
            f"Examinations and findings on each day from {s.start:%d %b} to {s.end:%d %b %Y}: "
            f"{sum(r['examinations'] for r in trend.rows)} examinations, {sum(r['findings'] for r in trend.rows)} findings.",
            "line",
            days,
            {
                "Examinations": [r["examinations"] for r in trend.rows],
                "Findings": [r["findings"] for r in trend.rows],
            },
            headers=["Day", "Examinations", "Findings"],
            rows=[
                [d, fmt(r["examinations"]), fmt(r["findings"])] for d, r in zip(days, trend.rows, strict=True)
            ],
        ),
        Chart(
            "arrivals",
            "Arrivals and targets per day",
            f"Arrivals and targets nominated on each day: {sum(r['arrivals'] for r in trend.rows):,} arrivals, "
            f"{sum(r['targets'] for r in trend.rows):,} targets.",
            "bar",
            days,
            {"Arrivals": [r["arrivals"] for r in trend.rows], "Targets": [r["targets"] for r in trend.rows]},
            headers=["Day", "Arrivals", "Targets"],
            rows=[[d, fmt(r["arrivals"]), fmt(r["targets"])] for d, r in zip(days, trend.rows, strict=True)],
        ),
        Chart(
            "channels",
            "Arrivals by channel",
            "How the period's arrivals were channelled by their latest assessment: "
            + ", ".join(f"{r['label']} {r['arrivals']:,}" for r in channels.rows)
            + ".",
            "bar",
            [r["label"] for r in channels.rows],
            {"Arrivals": [r["arrivals"] for r in channels.rows]},
            headers=["Channel", "Arrivals", "Share"],
            rows=[[r["label"], fmt(r["arrivals"]), fmt(r["share"], "percent")] for r in channels.rows],
            extra={
                "classes": {
                    "Green": "rp-green",
                    "Yellow": "rp-yellow",
                    "Red": "rp-red",
                    "Blue": "rp-blue",
                    "Not assessed": "rp-grey",
                }
            },
        ),
        Chart(
            "hit-rates",
            "Hit rate: risk-selected against random control",
            f"Hit rate of risk-selected examinations {fmt(values.get('hit_rate_risk'), 'percent')} against "
            f"{fmt(values.get('hit_rate_random'), 'percent')} for random control.",
            "bar",
            ["Risk-selected", "Random control", "All"],
            {
                "Hit rate": [
                    values.get("hit_rate_risk"),
                    values.get("hit_rate_random"),
                    values.get("hit_rate"),
                ]
            },
            unit="percent",
            headers=["Selection", "Examinations", "Findings", "Hit rate"],
            rows=[
                [
                    "Risk-selected",
                    fmt(values.get("examinations_risk")),
                    fmt(values.get("findings_risk")),
                    fmt(values.get("hit_rate_risk"), "percent"),
                ],
                [
                    "Random control",
                    fmt(values.get("examinations_random")),
                    fmt(values.get("findings_random")),
                    fmt(values.get("hit_rate_random"), "percent"),
                ],
                [
                    "All",
                    fmt(values.get("examinations")),
                    fmt(values.get("findings")),
                    fmt(values.get("hit_rate"), "percent"),
                ],
            ],
        ),
        Chart(
            "states",
            "Targets nominated, by state now",
            "Targets nominated in the period by their state now: "
            + ", ".join(f"{r['state']} {r['targets']}" for r in states.rows if r["targets"])
            + ".",
            "bar",
            [r["state"] for r in states.rows],
            {"Targets": [r["targets"] for r in states.rows]},
            headers=["State", "Targets"],
            rows=[[r["state"], fmt(r["targets"])] for r in states.rows],
        ),
        Chart(
            "seizures",
            f"Value seized by kind of goods ({currency()})",
            "Estimated value of goods seized, by kind: "
            + (
                ", ".join(f"{r['kind_label']} {fmt(float(r['value']), 'money')}" for r in seizures.rows)
                or "none"
            )
            + ".",
            "bar",
            [r["kind_label"] for r in seizures.rows],
            {f"Value ({currency()})": [float(r["value"]) for r in seizures.rows]},
            headers=["Goods", "Quantity", "Value"],
            rows=[
                [r["kind_label"], f"{fmt(float(r['quantity']))} {r['unit']}", fmt(float(r["value"]), "money")]
                for r in seizures.rows
            ],
        ),
        Chart(
            "areas",
            "Hit rate by risk area",
            "Findings ÷ examinations per risk area: "
            + (
                ", ".join(f"{r['label']} {fmt(r['hit_rate'], 'percent')}" for r in areas.rows)
                or "no examinations"
            )
            + ".",
            "bar",
            [r["label"] for r in areas.rows],
            {"Hit rate": [r["hit_rate"] for r in areas.rows]},
            unit="percent",
            headers=["Risk area", "Examinations", "Findings", "Hit rate"],
            rows=[
                [r["label"], fmt(r["examinations"]), fmt(r["findings"]), fmt(r["hit_rate"], "percent")]
                for r in areas.rows
            ],
        ),
    ]
    return charts


def lift_chart(book_table: Table) -> Chart:
    """A forest plot of lift with its 95 % interval, one line per selector with examinations."""
    rows = [r for r in book_table.rows if r["examinations"]]
    labels = [f"{r['name']} {r['version']}" for r in rows]
    return Chart(
        "lift",
        "Lift over random control, with 95 % confidence interval",
        "Each selector's precision against the random-control hit rate of the same subject kind, port "
        "and risk area (Mantel–Haenszel over the strata with enough random draws); 1× is chance. "
        + "; ".join(
            f"{lbl}: {fmt(r['lift'], 'ratio')} ({fmt(r['lift_low'], 'ratio')}–{fmt(r['lift_high'], 'ratio')})"
            for lbl, r in zip(labels, rows, strict=True)
        ),
        "interval",
        labels,
        {
            "low": [r["lift_low"] for r in rows],
            "value": [r["lift"] for r in rows],
            "high": [r["lift_high"] for r in rows],
        },
        unit="ratio",
        headers=["Selector", "Lift", "95 % CI"],
        rows=[
            [lbl, fmt(r["lift"], "ratio"), f"{fmt(r['lift_low'], 'ratio')} – {fmt(r['lift_high'], 'ratio')}"]
            for lbl, r in zip(labels, rows, strict=True)
        ],
    )


#: How long a computed report is reused for the same agency, role and slice (seconds).
CACHE_SECONDS = 300
GENERATION_KEY = "reports:generation"


def _cache_key(user: Any, s: Slice, kind: str) -> str | None:
    from django.core.cache import cache

    from apps.agencies.operations import membership_of

    membership = membership_of(user)
    if membership is None:
        return None
    generation = cache.get_or_set(GENERATION_KEY, 1, None)
    query = "&".join(f"{k}={v}" for k, v in sorted(s.query().items()))
    # Scope follows the agency (and, for port-bound roles, the ports): the key carries both.
    ports = (
        ",".join(str(p) for p in sorted(membership.ports.values_list("pk", flat=True)))
        if membership.role == "frontline"
        else ""
    )
    return f"reports:{kind}:{generation}:{membership.agency_id}:{membership.role}:{ports}:{query}"


def cached_report(user: Any, s: Slice) -> Report:
    """:func:`build_report`, reused for ``CACHE_SECONDS`` by people of the same agency and role.

    Two managers of one agency see the same figures, so one computation serves both; a refresh of the
    summary table (:func:`forget_reports`) starts a new generation of keys.
    """
    from django.core.cache import cache

    key = _cache_key(user, s, "page")
    if key is None:
        return build_report(user, s)
    report = cache.get(key)
    if report is None:
        report = build_report(user, s)
        cache.set(key, report, CACHE_SECONDS)
    return report


def forget_reports() -> None:
    """Drop every cached report (a new generation of keys)."""
    from django.core.cache import cache

    try:
        cache.incr(GENERATION_KEY)
    except ValueError:
        cache.set(GENERATION_KEY, 2, None)


def on_sharing_changed(sender: object, **kwargs: object) -> None:
    """An agency gained or lost sight of a source (``apps.intake.events.sharing_changed``): its cached
    reports would count what it may no longer see, or miss what it now may."""
    forget_reports()

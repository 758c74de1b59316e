# ruff: noqa: RUF001 - typographic dashes, minus and times signs are meant for readers
"""The report's charts, from its figures and tables."""

from __future__ import annotations

from typing import Any

from apps.reports.charts import Chart, currency, fmt
from apps.reports.services.tables import Table
from apps.reports.slicing import Slice


def report_charts(
    s: Slice,
    trend: Table,
    states: Table,
    channels: Table,
    areas: Table,
    seizures: Table,
    values: dict[str, Any],
) -> list[Chart]:
    """The report's charts in page order, one step per chart."""
    days = [r["day"].strftime("%d %b") for r in trend.rows]
    return [
        _trend_chart(trend, days, s),
        _arrivals_chart(trend, days),
        _channels_chart(channels),
        _hit_rates_chart(values),
        _states_chart(states),
        _seizures_chart(seizures),
        _areas_chart(areas),
    ]


def _trend_chart(trend: Table, days: list[str], s: Slice) -> Chart:
    """Examinations and findings per day over the slice."""
    return Chart(
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
        rows=[[d, fmt(r["examinations"]), fmt(r["findings"])] for d, r in zip(days, trend.rows, strict=True)],
    )


def _arrivals_chart(trend: Table, days: list[str]) -> Chart:
    """Arrivals and targets nominated per day."""
    return Chart(
        "arrivals",
        "Arrivals and targets per day",
        f"Arrivals and targets nominated on each day: {sum(r['arrivals'] for r in trend.rows):,} arrivals, "
        f"{sum(r['targets'] for r in trend.rows):,} targets.",
        "bar",
        days,
        {"Arrivals": [r["arrivals"] for r in trend.rows], "Targets": [r["targets"] for r in trend.rows]},
        headers=["Day", "Arrivals", "Targets"],
        rows=[[d, fmt(r["arrivals"]), fmt(r["targets"])] for d, r in zip(days, trend.rows, strict=True)],
    )


def _channels_chart(channels: Table) -> Chart:
    """Arrivals by the channel of their latest assessment."""
    return Chart(
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
    )


def _hit_rates_chart(values: dict[str, Any]) -> Chart:
    """Hit rate of risk-selected examinations against random control."""
    return Chart(
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
    )


def _states_chart(states: Table) -> Chart:
    """Targets nominated in the period, by their state now."""
    return Chart(
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
    )


def _seizures_chart(seizures: Table) -> Chart:
    """Value seized by kind of goods."""
    return Chart(
        "seizures",
        f"Value seized by kind of goods ({currency()})",
        "Estimated value of goods seized, by kind: "
        + (", ".join(f"{r['kind_label']} {fmt(float(r['value']), 'money')}" for r in seizures.rows) or "none")
        + ".",
        "bar",
        [r["kind_label"] for r in seizures.rows],
        {f"Value ({currency()})": [float(r["value"]) for r in seizures.rows]},
        headers=["Goods", "Quantity", "Value"],
        rows=[
            [r["kind_label"], f"{fmt(float(r['quantity']))} {r['unit']}", fmt(float(r["value"]), "money")]
            for r in seizures.rows
        ],
    )


def _areas_chart(areas: Table) -> Chart:
    """Hit rate per risk area."""
    return Chart(
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
    )


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

""""""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from apps.reports import measures as m
from apps.reports.charts import Chart
from apps.reports.services.ledger_tables import ledger_strata_table, ledger_table, random_missed_table
from apps.reports.services.report_charts import report_charts
from apps.reports.services.tables import (
    TABLES,
    Column,
    Table,
    areas_table,
    channels_table,
    officers_table,
    pnr_table,
    ports_table,
    seizures_table,
    states_table,
    summary_table,
    trend_table,
)
from apps.reports.slicing import Slice


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
    # Both periods' figures in one pass over each summary table (not one query per figure and period).
    values, before, scan = m.page_headline(user, s)
    # The scan's breakdowns feed the tables below; they are not kept in the (cached) report.
    exams = scan.by if scan.exams is not None else None
    kpis: list[dict[str, Any]] = []
    for key in KPI_KEYS:
        measure = m.MEASURES[key]
        a, b = values.get(key), before.get(key)
        change = float(a) - float(b) if a is not None and b is not None else None
        direction = ""
        if change and measure.better:
            direction = "good" if (change > 0) == (measure.better == "up") else "bad"
        kpis.append({"measure": measure, "value": a, "previous": b, "change": change, "trend": direction})
    trend = trend_table(
        user,
        s,
        exams=exams["day"] if exams is not None else None,
        nominations=scan.nominated_by_day,
        arrivals=scan.arrivals_by_day,
    )
    states = states_table(user, s, values["targets_by_state"])
    channels = channels_table(user, s, scan.arrivals_by_channel)
    areas = areas_table(user, s, exams["area"] if exams is not None else None)
    seizures = seizures_table(user, s, scan.seizures)
    ports = ports_table(user, s, values["port_workload"])
    officers = officers_table(user, s, exams["officer"] if exams is not None else None)
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

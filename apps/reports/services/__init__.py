"""The report as tables and charts: one place that turns measures into what pages, exports and the PDF show.

Every table here is made of figures only (counts, sums, rates, durations, names of ports, rules, lists
and staff accounts); no subject's title, identifier or facts ever reaches a table, so no export of
figures carries personal data about a traveller or trader.


One module per concern: ``tables`` (the report's tables of counts), ``ledger_tables`` (the effectiveness
ledger as tables), ``report`` (the whole report and its headline figures), ``report_charts`` (its charts)
and ``cache`` (the cached report, per user and slice).
"""

from __future__ import annotations

from apps.reports.services.cache import (
    CACHE_SECONDS,
    GENERATION_KEY,
    cached_report,
    forget_reports,
    on_sharing_changed,
)
from apps.reports.services.ledger_tables import ledger_strata_table, ledger_table, random_missed_table
from apps.reports.services.report import KPI_KEYS, Report, build_report, table
from apps.reports.services.report_charts import lift_chart, report_charts
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

__all__ = [
    "CACHE_SECONDS",
    "GENERATION_KEY",
    "KPI_KEYS",
    "TABLES",
    "Column",
    "Report",
    "Table",
    "areas_table",
    "build_report",
    "cached_report",
    "channels_table",
    "forget_reports",
    "ledger_strata_table",
    "ledger_table",
    "lift_chart",
    "officers_table",
    "on_sharing_changed",
    "pnr_table",
    "ports_table",
    "random_missed_table",
    "report_charts",
    "seizures_table",
    "states_table",
    "summary_table",
    "table",
    "trend_table",
]

"""The main page counts its figures in one pass over each summary table (``apps.reports.onepass``), for
this period and the previous one at once. It must show what the direct computation from the operational
tables counts, for every kind of slice and for people of other agencies (who see only what they may).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.reports import direct
from apps.reports import measures as m
from apps.reports.services.report import build_report
from apps.reports.slicing import Slice
from apps.targeting.models import TargetShare
from tests.reports.busy_history import FIRST, LAST, build_busy_history
from tests.reports.conftest import PERIOD
from tests.reports.test_summary import same, slices

pytestmark = pytest.mark.django_db

#: The medians are not on the page (they would fetch every row of the period).
MEDIANS = {"release_hours_targeted_median", "decision_hours_median"}


def by(key: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows in a fixed order: the page sorts areas by examinations, so ties may come either way."""
    return sorted(rows, key=lambda r: str(r[key]))


def assert_page_is_direct(user: Any, s: Slice) -> None:
    where = s.describe()
    report = build_report(user, s)
    now = {k: v for k, v in direct.headline(user, s).items() if k not in MEDIANS}
    same(report.values, now, f"figures {where}")
    before = direct.headline(user, s.previous(), full=False)
    for kpi in report.kpis:
        same(kpi["previous"], before.get(kpi["measure"].key), f"previous {kpi['measure'].key} {where}")
    t = report.tables
    same(t["trend"].rows, direct.daily_trend(user, s), f"trend {where}")
    same(
        by("risk_area", t["areas"].rows), by("risk_area", direct.hit_rate_by_area(user, s)), f"areas {where}"
    )
    same(t["officers"].rows, direct.officer_workload(user, s), f"officers {where}")
    same(t["ports"].rows, direct.port_workload(user, s), f"ports {where}")
    same(t["seizures"].rows, direct.seizures_by_kind(user, s), f"seizures {where}")
    states = {r["state"]: r["targets"] for r in t["states"].rows}
    assert sum(states.values()) == now["targets"], where
    if s.subject_level:
        channels = sum(r["arrivals"] for r in t["channels"].rows)
        assert channels == now["arrivals"], where


def test_the_page_counts_what_the_direct_computation_counts(history, manager, world):
    for s in slices(history, world, PERIOD):
        assert_page_is_direct(manager, s)


def test_the_page_on_a_busy_history(world, customs_supervisor, port_officer, manager):
    built = build_busy_history(world, customs_supervisor, port_officer)
    s = Slice(start=FIRST + timedelta(days=14), end=LAST)
    assert build_report(manager, s).values["examinations"] > 20  # a history worth comparing
    assert_page_is_direct(manager, s)
    assert_page_is_direct(manager, s.previous())
    for rule, _version in built["rules"]:
        assert_page_is_direct(manager, replace(s, rule_id=rule.pk))
    for area in ("narcotics", "revenue"):
        assert_page_is_direct(manager, replace(s, risk_area=area))


def test_another_agency_counts_only_what_is_shared_with_it(
    history, manager, police_manager, outsider_manager
):
    for user in (police_manager, outsider_manager):
        assert_page_is_direct(user, PERIOD)
        values = build_report(user, PERIOD).values
        assert (values["targets"], values["examinations"], values["missed"]) == (0, 0, 0)
    TargetShare.objects.create(target=history.targets[0], agency=police_manager.membership.agency)
    values = build_report(police_manager, PERIOD).values
    assert (values["targets"], values["examinations"], values["findings"]) == (1, 1, 1)
    assert_page_is_direct(police_manager, PERIOD)
    assert build_report(outsider_manager, PERIOD).values["targets"] == 0


def test_both_periods_come_from_a_few_grouped_queries(history, manager):
    with CaptureQueriesContext(connection) as queries:
        build_report(manager, PERIOD)
    summaries = [q["sql"] for q in queries.captured_queries if "reports_targetstat" in q["sql"]]
    daily = [q["sql"] for q in queries.captured_queries if "reports_dailystat" in q["sql"]]
    # The target summary: examinations, nominations, missed and breaches (each for both periods), and
    # the seizures of this period (the goods, found through it); the daily summary: both periods at once.
    # Before, one query per figure and period: seven on the target summary, four on the daily one.
    assert len(summaries) == 4 and len(daily) == 1


def test_the_measures_table_compares_both_periods_as_counted_directly(history, manager, world):
    """The measures table (CSV, XLSX, PDF) comes from the same pass, the previous period in full."""
    for s in slices(history, world, PERIOD)[:5]:
        now, before = direct.headline(manager, s), direct.headline(manager, s.previous())
        for row in m.compare(manager, s):
            key = row["measure"].key
            if key not in MEDIANS:
                same(row["value"], now.get(key), f"{key} {s.describe()}")
                same(row["previous"], before.get(key), f"previous {key} {s.describe()}")

# ruff: noqa: RUF001 - typographic dashes are meant for readers
"""The report as a manager reads it: dates in the filter, figures that follow the floor within a minute
without pressing anything, release counted over those who arrived, step times that are real, and
amounts with their currency.

The floor below is worked through the real services on a travelling clock (09:00 UTC, 2 March 2026).
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from apps.core import periodic
from apps.core.schedule import job
from apps.frontline import services as frontline
from apps.frontline.services import GoodsLine, ResultInput
from apps.reports import direct
from apps.reports import measures as m
from apps.reports.models import StatRefresh
from apps.reports.slicing import Slice
from apps.reports.stats import recent_period, refresh_recent_if_due
from apps.targeting import services as targeting
from tests.factories import DataSourceFactory
from tests.targeting.factories import SubjectFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
H = timedelta(hours=1)
MIN = timedelta(minutes=1)
TODAY = Slice(start=date(2026, 3, 2), end=date(2026, 3, 2))


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def floor(world, customs_analyst, customs_supervisor, port_officer, django_capture_on_commit_callbacks):
    """The workflow, step by step, each service's after-commit work run as in production."""

    class Floor:
        source = DataSourceFactory(owner_agency=world.customs)

        def subject(self, arrival_at: datetime):
            return SubjectFactory(
                source=self.source, port=world.port_a, arrival_at=arrival_at, received_at=NOW - 6 * H
            )

        def step(self, call, **kwargs):
            with django_capture_on_commit_callbacks(execute=True):
                return call(**kwargs)

        def nominate(self, subject):
            return self.step(
                targeting.nominate_target, actor=None, subject=subject, risk_area="narcotics",
                reasons=[{"kind": "rule", "text": "Cocaine route", "ref": ""}], by_engine=True,
            )  # fmt: skip

        def approve(self, target):
            target = self.step(targeting.start_review, actor=customs_analyst, target=target)
            target = self.step(targeting.submit_for_approval, actor=customs_analyst, target=target)
            return self.step(targeting.approve_target, actor=customs_supervisor, target=target)

        def reject(self, target):
            target = self.step(targeting.start_review, actor=customs_analyst, target=target)
            target = self.step(targeting.submit_for_approval, actor=customs_analyst, target=target)
            return self.step(
                targeting.reject_target, actor=customs_supervisor, target=target, reason="Regular trader"
            )

        def dispatch(self, target):
            return self.step(
                targeting.dispatch_target, actor=customs_supervisor, target=target, method="physical",
                instruction="Open the reefer.",
            )  # fmt: skip

        def record(self, instruction, *, started: datetime, value: Decimal = Decimal(400000)):
            self.step(frontline.begin_examination, actor=port_officer, instruction=instruction)
            data = ResultInput(
                idempotency_key=uuid.uuid4(), method="physical", outcome="seizure", started_at=started,
                ended_at=datetime.now(UTC),
                goods=[GoodsLine(kind="cocaine", quantity=Decimal("12.5"), unit="kg", estimated_value=value)],
            )  # fmt: skip
            return self.step(
                frontline.record_examination, actor=port_officer, instruction=instruction, data=data
            )

    return Floor()


def kpi(page: str, label: str) -> str:
    """A headline figure as the page writes it (its accessible label carries the value)."""
    found = re.search(rf'aria-label="{re.escape(label)}: ([^"]+?), previous period', page)
    assert found, f"no headline figure {label!r} on the page"
    return found.group(1)


# --------------------------------------------------------------------------- dates


def test_the_filter_shows_its_default_period_as_dates_a_browser_accepts(client_for, manager, clock):
    page = client_for(manager).get(reverse("reports:home")).content.decode()
    dates = dict(re.findall(r'<input type="date" name="(start|end)" value="([^"]*)"', page))
    assert dates == {"start": "2026-02-01", "end": "2026-03-02"}  # the last 30 days, as ISO dates
    response = client_for(manager).get(reverse("reports:home"), dates)  # "Show" as the page stands
    assert response.status_code == 200
    assert "01 Feb 2026 – 02 Mar 2026 (30 days)" in response.content.decode()


def test_the_rule_review_date_defaults_to_today_in_iso(client_for, risk_manager, world, clock):
    from apps.risk.models import Rule

    rule = Rule.objects.create(owner_agency=world.customs, name="Cocaine route", state="draft")
    page = client_for(risk_manager).get(reverse("reports:rule", args=[rule.pk])).content.decode()
    assert re.search(r'<input type="date" name="reviewed_on" value="2026-03-02"', page), page[:3000]


# --------------------------------------------------------------------------- following the floor


def test_figures_follow_a_result_within_a_minute_without_a_refresh(client_for, manager, floor, clock):
    floor.subject(NOW - 2 * H)  # arrived, never targeted: released
    examined = floor.subject(NOW - 1 * H)
    target = floor.approve(floor.nominate(examined))  # arrived, approved, not yet dispatched: held
    assert refresh_recent_if_due() is not None  # the minute's recount
    client = client_for(manager)
    page = client.get(reverse("reports:home")).content.decode()
    assert kpi(page, "Arrivals") == "2"
    assert kpi(page, "Released with no intervention") == "100.0 %"  # one settled, released
    assert kpi(page, "Examinations") == "0"

    clock.shift(10)
    instruction = floor.dispatch(target)
    clock.shift(20)
    floor.record(instruction, started=datetime.now(UTC) - 10 * MIN)
    late = floor.subject(NOW + 30 * MIN)  # a new arrival announced meanwhile
    page = client.get(reverse("reports:home")).content.decode()
    # Examinations come from the target summary: at once.
    assert kpi(page, "Examinations") == "1"
    assert kpi(page, "Value seized") == "400,000 GBP"
    assert refresh_recent_if_due() is None  # the minute is not up: nobody recounts more often

    clock.shift(31)  # a minute after the last recount; nobody pressed anything
    assert refresh_recent_if_due() is not None
    page = client.get(reverse("reports:home")).content.decode()
    assert kpi(page, "Arrivals") == "3"
    assert kpi(page, "Released with no intervention") == "50.0 %"  # the examined one is not released
    assert late.arrival_at > datetime.now(UTC)  # announced, not arrived: not counted as released yet


def test_the_recount_keeps_the_registered_pace(settings):
    assert recent_period() == timedelta(minutes=1)
    assert job("reports-refresh-recent").task == "reports.refresh_daily_stats"


def test_the_embedded_server_recounts_every_minute(manager, floor, clock, monkeypatch):
    """No beat, no simulator: the server's scheduler alone keeps the arrivals current."""
    monkeypatch.setattr(periodic, "jobs", lambda: (job("reports-refresh-recent"),))
    assert periodic.run_due() == ["reports-refresh-recent"]
    floor.subject(NOW - H)
    clock.shift(30)
    assert periodic.run_due() == []  # within the minute
    assert m.subject_figures(manager, TODAY)["arrivals"] in (0, None)
    clock.shift(30)
    assert periodic.run_due() == ["reports-refresh-recent"]
    assert m.subject_figures(manager, TODAY)["arrivals"] == 1


# --------------------------------------------------------------------------- released, hand-built


def test_released_with_no_intervention_counts_those_who_arrived_and_are_settled(manager, floor, clock):
    """A released, B examined, C held by a target still open, D's target rejected, E still to come:
    arrived 4, held 1, so 2 released of 3 settled (the old count said 4 of 5)."""
    floor.subject(NOW - 2 * H)  # A
    b = floor.approve(floor.nominate(floor.subject(NOW - 2 * H)))
    floor.dispatch(b)  # B
    floor.nominate(floor.subject(NOW - H))  # C
    floor.reject(floor.nominate(floor.subject(NOW - H)))  # D
    floor.subject(NOW + 3 * H)  # E
    refresh_recent_if_due()
    f = m.subject_figures(manager, TODAY)
    assert (f["arrivals"], f["arrived"], f["held"], f["released"]) == (5, 4, 1, 2)
    assert f["released_share"] == pytest.approx(2 / 3)


# --------------------------------------------------------------------------- durations, hand-built


def test_step_times_are_real_and_read_in_minutes_and_hours(client_for, manager, floor, clock):
    """Nominated 09:00, approved 09:30, dispatched 09:45, arrived 10:00, examined 10:45 to 11:45."""
    target = floor.nominate(floor.subject(NOW + H))
    clock.shift(30 * 60)
    target = floor.approve(target)
    clock.shift(15 * 60)
    instruction = floor.dispatch(target)
    clock.shift(120 * 60)
    floor.record(instruction, started=datetime.now(UTC) - H)
    refresh_recent_if_due()
    assert m.decision_figures(manager, TODAY)["decision_hours"] == pytest.approx(0.5)
    assert m.step_figures(manager, TODAY) == pytest.approx({"dispatch_hours": 0.25, "result_hours": 2.0})
    assert direct.step_figures(manager, TODAY) == pytest.approx({"dispatch_hours": 0.25, "result_hours": 2.0})
    assert m.examination_figures(manager, TODAY)["release_hours_targeted"] == pytest.approx(1.75)
    page = client_for(manager).get(reverse("reports:home"), TODAY.query()).content.decode()
    assert kpi(page, "Nomination to decision") == "30 min"
    assert kpi(page, "Approval to dispatch") == "15 min"
    assert kpi(page, "Dispatch to result") == "2.0 h"
    assert kpi(page, "Arrival to release, targeted") == "1.8 h"
    officers = re.search(r"oscar</th>(.*?)</tr>", page).group(1)
    assert "1.0 h" in officers  # hours examining


@pytest.mark.parametrize(
    ("hours", "text"), [(0.0, "0 s"), (40 / 3600, "40 s"), (0.2, "12 min"), (2.5, "2.5 h"), (80, "3.3 d")]
)
def test_durations_read_in_the_unit_that_fits(hours, text):
    from apps.reports.charts import fmt

    assert fmt(hours, "hours") == text


# --------------------------------------------------------------------------- currency


def test_amounts_carry_the_centres_currency_on_the_page_and_in_exports(
    client_for, manager, floor, clock, settings
):
    from apps.reports.services import forget_reports

    target = floor.approve(floor.nominate(floor.subject(NOW + H)))
    instruction = floor.dispatch(target)
    floor.record(instruction, started=NOW, value=Decimal("1234.5"))
    client = client_for(manager)
    page = client.get(reverse("reports:home")).content.decode()
    assert kpi(page, "Value seized") == "1,234 GBP" or kpi(page, "Value seized") == "1,235 GBP"
    assert "Amounts are in GBP" in page
    settings.RATC_CURRENCY = "EUR"
    forget_reports()
    page = client.get(reverse("reports:home")).content.decode()
    assert kpi(page, "Value seized").endswith(" EUR")
    assert "Value seized by kind of goods (EUR)" in page
    csv = client.get(reverse("reports:export"), {"table": "seizures", "format": "csv"}).content.decode()
    assert "Estimated value (EUR)" in csv


def test_a_manual_recount_is_still_there_for_older_periods(client_for, manager, world, clock):
    response = client_for(manager).post(
        reverse("reports:refresh"), {"start": "2026-01-01", "end": "2026-01-31"}
    )
    assert response.status_code == 302
    refresh = StatRefresh.objects.get()
    assert (refresh.first_day, refresh.last_day, refresh.requested_by) == (
        date(2026, 1, 1),
        date(2026, 1, 31),
        manager,
    )

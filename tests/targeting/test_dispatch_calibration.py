"""Calibrated dispatch: expected findings from recorded examinations, capacity from the calendar."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.agencies.models import CapacityDay
from apps.frontline.models import ExaminationResult
from apps.targeting import services
from apps.targeting.dispatch import Calibration, free_capacity, table_rate
from tests.factories import PortCapacityFactory

# --------------------------------------------------------------------------- calibration from counts


def test_without_records_the_values_are_the_hard_coded_table():
    cal = Calibration.fit([])
    assert cal.value(0.5, "scan", "narcotics", 1) == pytest.approx(0.5 * table_rate("scan", "narcotics"))
    assert cal.basis("scan", "narcotics", 1).source == "table"


def test_a_port_with_few_examinations_keeps_mostly_the_national_rate():
    # Nationally (port 2) scans for narcotics find 20 in 200; port 1 has 2 exams, both findings.
    rows = [("scan", "narcotics", 2, 5, 200, 20, 200 * 0.55), ("scan", "narcotics", 1, 5, 2, 2, 2 * 0.55)]
    cal = Calibration.fit(rows)
    few = cal.basis("scan", "narcotics", 1)
    assert few.findings == 2 and few.exams == 2 and few.national_exams == 202
    # Raw 2/2 = 1.0 at the port; shrunk it stays near the national 0.11 (well under half way to 1.0).
    assert few.national_rate == pytest.approx(22 / 202, abs=0.03)
    assert few.rate < 0.25
    # With many examinations the port's own record wins.
    many = Calibration.fit([rows[0], ("scan", "narcotics", 1, 5, 400, 400, 400 * 0.55)])
    assert many.basis("scan", "narcotics", 1).rate > 0.9
    assert many.value(0.55, "scan", "narcotics", 1) > 3 * many.value(0.55, "scan", "narcotics", 2)
    # An area the method was never used for: the table, scaled by the method's record elsewhere.
    other = cal.basis("scan", "currency", 1)
    assert other.source == "method" and "nothing recorded in this risk area" in other.text()
    assert cal.value(0.5, "scan", "currency", 1) == pytest.approx(cal.probability(0.5) * 0.5 * other.factor)


def test_the_score_is_recalibrated_and_stays_monotone():
    # Physical examinations of targets scored 0.95 found 18 %, of targets scored 0.15 found 16 %: the
    # table would expect 0.86 and 0.14. Calibrated, the expected findings follow the record, and a higher
    # score never ends with a lower value (the inversion is pooled, not believed).
    rows = [
        ("physical", "narcotics", 1, 9, 500, 90, 500 * 0.95),
        ("physical", "narcotics", 1, 1, 500, 80, 500 * 0.15),
    ]
    cal = Calibration.fit(rows)
    high, low = cal.value(0.95, "physical", "narcotics", 1), cal.value(0.15, "physical", "narcotics", 1)
    assert 0.14 < high < 0.22 and 0.14 < low < 0.22
    values = [cal.value((b + 0.5) / 10, "physical", "narcotics", 1) for b in range(10)]
    assert values == sorted(values)


# --------------------------------------------------------------------------- through the database


def _record(target, method: str, found: bool, officer, when=None) -> ExaminationResult:
    when = when or timezone.now() - timedelta(days=3)
    return ExaminationResult.objects.create(
        target=target,
        method=method,
        outcome="seizure" if found else "no_finding",
        started_at=when,
        ended_at=when + timedelta(minutes=30),
        idempotency_key=uuid.uuid4(),
        recorded_by=officer,
        recorded_by_agency=officer.membership.agency,
    )


@pytest.fixture
def scan_and_dog(world):
    PortCapacityFactory(port=world.port_a, shift="early", method="scan", slots=1)
    PortCapacityFactory(port=world.port_a, shift="early", method="dog", slots=1)


def test_recorded_results_change_the_method_chosen(world, make_target, customs_supervisor, scan_and_dog):
    target = make_target(state="approved", score=0.5, risk_area="narcotics")
    # The table says a dog finds more narcotics (0.85) than a scan (0.75).
    first = services.propose_dispatch(actor=customs_supervisor, port=world.port_a, shift="early")
    assert first.selected[0]["method"] == "dog"
    assert "from the table" in first.selected[0]["basis"]
    # At this port, dogs found nothing in 30 narcotics examinations and scans found 24 in 30.
    for i in range(60):
        done = make_target(state="closed", score=0.5, risk_area="narcotics")
        _record(done, "dog" if i < 30 else "scan", i >= 30 and i < 54, customs_supervisor)
    second = services.propose_dispatch(actor=customs_supervisor, port=world.port_a, shift="early")
    row = second.selected[0]
    assert row["target"] == target.pk and row["method"] == "scan"
    assert "scan for narcotics at GBFXT finds 0.80 in 30 exams" in row["basis"]


def test_a_correction_counts_instead_of_the_first_result(world, make_target, customs_supervisor):
    from apps.targeting.dispatch import recorded_counts

    done = make_target(state="closed", score=0.3, risk_area="narcotics")
    first = _record(done, "scan", False, customs_supervisor)
    ExaminationResult.objects.create(
        target=done, original=first, method="scan", outcome="seizure", started_at=first.started_at,
        ended_at=first.ended_at, idempotency_key=uuid.uuid4(), recorded_by=customs_supervisor,
        recorded_by_agency=customs_supervisor.membership.agency, reason="Lab confirmed cocaine",
    )  # fmt: skip
    assert recorded_counts() == [("scan", "narcotics", world.port_a.pk, 3, 1, 1, pytest.approx(0.3))]


# --------------------------------------------------------------------------- capacity calendar


def test_a_calendar_day_overrides_the_weekly_default_for_its_method(world):
    PortCapacityFactory(port=world.port_a, shift="early", method="scan", slots=4)
    PortCapacityFactory(port=world.port_a, shift="early", method="physical", slots=2)
    day = date(2026, 12, 25)
    CapacityDay.objects.create(
        port=world.port_a, date=day, shift="early", method="scan", slots=0, note="Scanner serviced"
    )
    assert free_capacity(world.port_a, "early", day) == {"scan": 0, "physical": 2}
    assert free_capacity(world.port_a, "early", day + timedelta(days=1)) == {"scan": 4, "physical": 2}
    assert free_capacity(world.port_a, "late", day) == {}


def test_waiting_instructions_use_the_capacity_of_their_own_day(
    world, make_target, customs_supervisor, scan_and_dog
):
    today = timezone.localdate()
    tomorrow = today + timedelta(days=1)
    make_target(state="approved", score=0.9, risk_area="narcotics")
    proposal = services.propose_dispatch(
        actor=customs_supervisor, port=world.port_a, shift="early", date=tomorrow
    )
    services.accept_proposal(actor=customs_supervisor, proposal=proposal)
    assert free_capacity(world.port_a, "early", tomorrow) == {"scan": 1, "dog": 0}
    assert free_capacity(world.port_a, "early", today) == {"scan": 1, "dog": 1}


def test_the_page_shows_capacity_source_reasons_and_calibration(
    client_for, world, make_target, customs_supervisor, scan_and_dog
):
    day = timezone.localdate() + timedelta(days=2)
    CapacityDay.objects.create(
        port=world.port_a, date=day, shift="early", method="dog", slots=0, note="Dog team at Dover"
    )
    chosen = make_target(state="approved", score=0.9, risk_area="narcotics")
    left = make_target(state="approved", score=0.2, risk_area="narcotics")
    for i in range(10):
        _record(
            make_target(state="closed", score=0.5, risk_area="narcotics"), "scan", i < 4, customs_supervisor
        )
    client = client_for(customs_supervisor)
    url = reverse("targeting:dispatch")
    client.post(
        reverse("targeting:dispatch_propose"), {"port": "GBFXT", "shift": "early", "date": day.isoformat()}
    )
    page = client.get(f"{url}?port=GBFXT&shift=early&date={day.isoformat()}").content.decode()
    assert chosen.reference in page and left.reference in page
    assert "Capacity full: non-intrusive scan would find" in page
    assert "calendar: Dog team at Dover" in page and "weekly default" in page
    assert "scan for narcotics at GBFXT finds 0.40 in 10 exams; national 0.40 in 10" in page
    # The same port and shift on another day has no proposal yet.
    other = client.get(f"{url}?port=GBFXT&shift=early").content.decode()
    assert "No proposal yet for this port, day and shift." in other


def test_the_calendar_is_kept_in_the_admin_by_the_national_centre(client, world, customs_admin):
    from django.contrib.auth.models import Permission

    from apps.agencies.models import CentreConfiguration
    from apps.agencies.roles import Role
    from tests.factories import member

    config = CentreConfiguration.current()
    config.national_agency = world.customs
    config.save()
    for user in (customs_admin, member("pat", world.police, Role.ADMINISTRATOR)):
        user.is_staff = True
        user.save()
        user.user_permissions.set(Permission.objects.all())
    police_admin = type(customs_admin).objects.get(username="pat")
    url = reverse("admin:agencies_capacityday_add")
    client.force_login(type(customs_admin).objects.get(pk=customs_admin.pk))
    response = client.post(
        url,
        {"port": world.port_a.pk, "date": "2026-12-25", "shift": "early", "method": "scan", "slots": "0",
         "note": "Christmas"},
    )  # fmt: skip
    assert response.status_code == 302
    assert free_capacity(world.port_a, "early", date(2026, 12, 25)) == {"scan": 0}
    client.force_login(police_admin)
    assert client.get(reverse("admin:agencies_capacityday_changelist")).status_code == 403


def test_a_record_of_zero_probability_targets_alone_still_values_a_scored_one():
    # Only random-control targets examined so far: every band's mean raw probability is 0. The simulated
    # floor once divided by that 0 when a scored target came up for dispatch.
    calibration = Calibration()
    calibration.knots = [(0.0, 0.02)]
    assert calibration.probability(0.0) == 0.02
    assert calibration.probability(0.4) == 0.02

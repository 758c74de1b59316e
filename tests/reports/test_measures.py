"""Every measure on the known history of ``conftest``, against figures worked out by hand."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from apps.reports import measures as m
from apps.reports.effectiveness import katz_lift, ledger, precision_falling
from tests.reports.conftest import PERIOD

pytestmark = pytest.mark.django_db


def test_subject_figures(history, manager):
    f = m.subject_figures(manager, PERIOD)
    assert f["arrivals"] == 10  # the police subject is not customs' to count
    assert f["assessed"] == 8
    assert f["released"] == 7
    assert f["released_share"] == pytest.approx(0.7)
    assert f["release_hours_untargeted"] == pytest.approx(3 / 5)
    assert f["random_control_assessed"] == 1


def test_examination_figures(history, manager):
    f = m.examination_figures(manager, PERIOD)
    assert (f["examinations"], f["findings"]) == (3, 2)
    assert f["hit_rate"] == pytest.approx(2 / 3)
    assert (f["examinations_random"], f["findings_random"], f["hit_rate_random"]) == (1, 1, 1.0)
    assert (f["examinations_risk"], f["findings_risk"], f["hit_rate_risk"]) == (2, 1, 0.5)
    assert f["revenue"] == Decimal("500")
    assert f["seized_value"] == Decimal("100000")
    assert f["release_hours_targeted"] == pytest.approx(2.5)
    assert f["release_hours_targeted_median"] == pytest.approx(2.0)


def test_targets_decisions_missed_breaches(history, manager):
    by_state = m.targets_by_state(manager, PERIOD)
    assert by_state["result_recorded"] == 3 and by_state["rejected"] == 1 and by_state["missed"] == 1
    assert sum(by_state.values()) == 5
    d = m.decision_figures(manager, PERIOD)
    assert d["decided"] == 5
    assert d["decision_hours"] == pytest.approx(3.0)
    assert d["decision_hours_median"] == pytest.approx(1.0)
    assert m.missed_targets(manager, PERIOD) == 1
    assert m.queue_breaches(manager, PERIOD) == 3


def test_seizures_workload_trend_channels(history, manager):
    [row] = m.seizures_by_kind(manager, PERIOD)
    assert (row["kind"], row["quantity"], row["unit"], row["value"]) == (
        "cocaine",
        Decimal("2.5"),
        "kg",
        100000,
    )
    ports = {r["locode"]: r for r in m.port_workload(manager, PERIOD)}
    assert ports["GBFXT"]["examinations"] == 2 and ports["GBFXT"]["capacity"] == 8 * 10
    assert ports["GBFXT"]["use"] == pytest.approx(2 / 80)
    assert ports["GBLHR"]["examinations"] == 1 and ports["GBLHR"]["capacity"] == 0
    assert m.capacity_use(list(ports.values())) == pytest.approx(3 / 80)
    officers = {r["officer"]: r for r in m.officer_workload(manager, PERIOD)}
    assert (
        officers["oscar"]["examinations"] == 2 and officers["oscar"]["findings"] == 2
    )  # the correction is his
    assert officers["oscar"]["hours"] == pytest.approx(2.0)
    assert officers["hana"]["examinations"] == 1 and officers["hana"]["hit_rate"] == 0
    trend = {r["day"].day: r for r in m.daily_trend(manager, PERIOD)}
    assert len(trend) == 10 and trend[5]["arrivals"] == 10 and trend[5]["examinations"] == 3
    assert trend[5]["findings"] == 2
    channels = {r["channel"]: r["arrivals"] for r in m.channel_distribution(manager, PERIOD)}
    assert channels == {"green": 5, "yellow": 1, "red": 2, "blue": 0, "": 2}


def test_slices(history, manager, world):
    at_heathrow = replace(PERIOD, port_id=world.port_b.pk)
    assert m.subject_figures(manager, at_heathrow)["arrivals"] == 1
    assert m.examination_figures(manager, at_heathrow)["examinations"] == 1
    red = replace(PERIOD, channel="red")
    assert m.subject_figures(manager, red)["arrivals"] == 2
    assert m.examination_figures(manager, red)["examinations"] == 2
    revenue = replace(PERIOD, risk_area="revenue")
    assert m.examination_figures(manager, revenue)["examinations"] == 1
    by_rule = replace(PERIOD, rule_id=history.rule.pk)
    assert m.examination_figures(manager, by_rule)["examinations"] == 2  # T2 and T3 (T5 never examined)
    assert m.subject_figures(manager, by_rule)["arrivals"] is None  # arrivals are not "by rule"
    by_officer = replace(PERIOD, officer_id=history.hana.pk)
    assert m.examination_figures(manager, by_officer)["examinations"] == 1


def test_previous_period_comparison(history, manager):
    assert PERIOD.previous().start.isoformat() == "2026-02-21"
    rows = {r["measure"].key: r for r in m.compare(manager, PERIOD)}
    assert rows["examinations"]["value"] == 3 and rows["examinations"]["previous"] == 1
    assert rows["examinations"]["change"] == 2
    assert rows["arrivals"]["previous"] == 1


def test_every_measure_has_a_definition():
    for measure in m.MEASURES.values():
        assert len(measure.definition) > 30, measure.key


def test_katz_interval_by_hand():
    # 20 findings in 50 rule examinations; 5 in 100 random controls: lift 8,
    # SE(ln) = sqrt(1/20 - 1/50 + 1/5 - 1/100) = sqrt(0.22) = 0.469042; CI 8·exp(∓1.96·0.469042).
    lift = katz_lift(20, 50, 5, 100)
    assert lift.value == pytest.approx(8.0)
    assert lift.low == pytest.approx(3.19037, abs=1e-4)
    assert lift.high == pytest.approx(20.06037, abs=1e-4)
    assert not lift.corrected
    zero = katz_lift(0, 10, 5, 100)
    assert zero.value == 0 and zero.corrected and zero.low < zero.high
    assert katz_lift(3, 10, 0, 0).value is None


def test_precision_falling_z_test():
    assert precision_falling(2, 20, 12, 20)  # 10 % against 60 %
    assert not precision_falling(5, 10, 6, 10)
    assert not precision_falling(0, 3, 3, 3)  # too few examinations


def test_ledger(history, manager):
    book = ledger(manager, PERIOD)
    assert (book.base_exams, book.base_findings) == (1, 1)
    [row] = [r for r in book.rows if r.kind == "rule"]
    assert (row.hits, row.examinations, row.findings) == (3, 2, 1)
    assert row.precision == 0.5
    # One random-control examination (consignments at Felixstowe, narcotics) is far below the 30 a
    # stratum needs: no lift at all, and the ledger says why rather than dividing by a pooled rate.
    assert row.lift.value is None and row.lift.low is None
    assert row.lift_note == "too few random-control examinations (1) to measure lift here"
    assert {(x.stratum[2], x.examinations, x.note) for x in row.strata} == {
        ("narcotics", 1, "too few random-control examinations (1) to measure lift here"),
        ("revenue", 1, "too few random-control examinations (0) to measure lift here"),
    }
    assert "Annual review due" in row.flags


def test_outsider_sees_zeros(history, outsider_manager, police_manager):
    f = m.headline(outsider_manager, PERIOD)
    assert f["arrivals"] == 0 and f["examinations"] == 0 and f["targets"] == 0 and f["missed"] == 0
    assert f["breaches"] == 0 and f["seized_value"] == 0
    assert m.officer_workload(outsider_manager, PERIOD) == []
    assert ledger(outsider_manager, PERIOD).rows == []
    # The police see their own subject, and nothing of customs' targets until one is shared.
    assert m.headline(police_manager, PERIOD)["arrivals"] == 1
    assert m.headline(police_manager, PERIOD)["targets"] == 0
    from apps.targeting.models import TargetShare

    TargetShare.objects.create(target=history.targets[1], agency=police_manager.membership.agency)
    shared = m.headline(police_manager, PERIOD)
    assert shared["targets"] == 1 and shared["examinations"] == 1 and shared["arrivals"] == 1

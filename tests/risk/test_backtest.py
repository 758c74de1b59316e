"""The rule lab: a backtest over history counts hits, cost and precision, and compares with the old rule."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from apps.agencies.roles import Role
from apps.intake.models import Outcome
from apps.risk import backtest as lab
from apps.risk import services
from apps.risk.models import Backtest
from tests.factories import member

DAY1 = dt.datetime(2025, 3, 1, 10, tzinfo=dt.UTC)


@pytest.fixture
def history(subject_maker, world):
    """12 consignments over two days and two ports; outcomes known for some, a few random-control."""
    made = []
    for i in range(12):
        facts = {"hs_code": "0901" if i % 2 == 0 else "2203", "origin_country": "CO" if i % 3 == 0 else "NL"}
        subject = subject_maker(
            facts, port=world.port_a if i < 8 else world.port_b, arrival_at=DAY1 + dt.timedelta(days=i % 2)
        )
        if i < 6:
            Outcome.objects.create(
                subject=subject,
                origin="imported",
                finding=i in {0, 2, 3},
                random_control=i in {4, 5},
                recorded_at=DAY1,
            )
        made.append(subject)
    # Outside the period: never counted.
    subject_maker({"hs_code": "0901"}, arrival_at=DAY1 + dt.timedelta(days=30))
    return made


def run(actor, rule, django_capture_on_commit_callbacks, **kwargs) -> Backtest:
    kwargs.setdefault("period_start", dt.date(2025, 3, 1))
    kwargs.setdefault("period_end", dt.date(2025, 3, 2))
    with django_capture_on_commit_callbacks(execute=True):
        backtest = lab.start_backtest(actor=actor, rule=rule, **kwargs)
    backtest.refresh_from_db()
    return backtest


def test_a_new_version_is_compared_with_the_running_one(
    history, rule_writer, risk_manager, django_capture_on_commit_callbacks
):
    rule = rule_writer('hs_code prefix "0901"', state="active")
    services.update_rule(
        actor=risk_manager, rule=rule, text='hs_code prefix "0901" and origin_country = "CO"'
    )
    backtest = run(risk_manager, rule, django_capture_on_commit_callbacks)
    assert backtest.status == "done" and backtest.percent == 100
    assert backtest.version.number == 2 and backtest.compare_version.number == 1
    results = backtest.results
    assert results["subjects"] == 12 and results["days"] == 2
    tested, compared = results["tested"], results["compared"]
    # v2 hits i in {0, 6} (even and divisible by 3); v1 hits every even i.
    assert tested["hits"] == 2 and compared["hits"] == 6
    assert tested["by_port"] == {"GBFXT": 2} and compared["by_port"] == {"GBFXT": 4, "GBLHR": 2}
    assert tested["by_day"] == {"2025-03-01": 2} and compared["by_day"] == {"2025-03-01": 6}
    assert tested["examinations_per_day"] == 1.0
    # Known outcomes: i 0..5; findings at 0, 2, 3. v2 knows i=0 (finding); v1 knows 0, 2, 4.
    assert (tested["known"], tested["findings"], tested["precision"]) == (1, 1, 1.0)
    assert (compared["known"], compared["findings"]) == (3, 2)
    assert results["overlap"] == {"both": 2, "only_tested": 0, "only_compared": 4}
    assert results["base"]["known"] == 6 and results["base"]["findings"] == 3
    assert results["base"]["source"].startswith("all examinations")  # too few random-control outcomes
    assert tested["lift"] == pytest.approx(2.0)


def test_a_chosen_rule_can_be_the_comparison(
    history, rule_writer, risk_manager, django_capture_on_commit_callbacks
):
    old = rule_writer('origin_country = "CO"', state="active", name="Colombia")
    draft = rule_writer('hs_code prefix "0901"', name="Coffee")
    backtest = run(risk_manager, draft, django_capture_on_commit_callbacks, compare_version=old.live_version)
    assert backtest.results["compared"]["hits"] == 4 and backtest.results["tested"]["hits"] == 6


def test_a_first_draft_has_nothing_to_compare(
    history, rule_writer, risk_manager, django_capture_on_commit_callbacks
):
    backtest = run(
        risk_manager,
        rule_writer('hs_code prefix "0901"', ports=["GBLHR"]),
        django_capture_on_commit_callbacks,
    )
    assert backtest.compare_version is None and backtest.results["compared"] is None
    assert backtest.results["tested"]["by_port"] == {"GBLHR": 2}


def test_only_subjects_the_requester_may_see_are_counted(
    history, rule_writer, world, django_capture_on_commit_callbacks
):
    from guardian.shortcuts import assign_perm

    from apps.risk.models import Rule

    bio_manager = member("bea", world.bio, Role.RISK_MANAGER)
    rule = rule_writer('hs_code prefix "0901"')
    assign_perm("risk.view_rule", world.bio.group, Rule.objects.get(pk=rule.pk))
    backtest = run(bio_manager, rule, django_capture_on_commit_callbacks)
    assert backtest.results["subjects"] == 0


def test_backtest_needs_permission_and_a_sane_period(rule_writer, world, risk_manager):
    rule = rule_writer('hs_code prefix "0901"')
    frontline = member("fred", world.customs, Role.FRONTLINE)
    with pytest.raises(PermissionDenied):
        lab.start_backtest(
            actor=frontline, rule=rule, period_start=dt.date(2025, 1, 1), period_end=dt.date(2025, 1, 2)
        )
    with pytest.raises(ValidationError):
        lab.start_backtest(
            actor=risk_manager, rule=rule, period_start=dt.date(2025, 2, 1), period_end=dt.date(2025, 1, 2)
        )
    analyst = member("ann", world.customs, Role.ANALYST)
    lab.start_backtest(
        actor=analyst, rule=rule, period_start=dt.date(2025, 1, 1), period_end=dt.date(2025, 1, 2)
    )


def test_a_claimed_backtest_is_not_run_twice(rule_writer, risk_manager, django_capture_on_commit_callbacks):
    backtest = run(risk_manager, rule_writer('hs_code prefix "0901"'), django_capture_on_commit_callbacks)
    assert lab.run_backtest(backtest.pk) is None


def test_a_failure_is_recorded(rule_writer, risk_manager, monkeypatch, django_capture_on_commit_callbacks):
    monkeypatch.setattr(lab, "_run", lambda backtest: 1 / 0)
    backtest = run(risk_manager, rule_writer('hs_code prefix "0901"'), django_capture_on_commit_callbacks)
    assert backtest.status == "failed" and "ZeroDivisionError" in backtest.error

"""The target summary (``TargetStat``) gives the figures of the direct computation, and stays current.

``apps.reports.measures`` reads the summary; ``apps.reports.direct`` counts the same figures from the
operational tables. Both are held to the same answers on the hand-worked history, on a busier seeded
history, for every kind of slice and for people of other agencies; and the summary follows the
workflow services (nomination, decisions, an examination, its correction, a missed target) without
any rebuild.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from apps.frontline import services as frontline
from apps.frontline.services import GoodsLine, ResultInput
from apps.reports import direct
from apps.reports import measures as m
from apps.reports.models import TargetStat
from apps.reports.slicing import Slice
from apps.targeting import services as targeting
from apps.targeting.models import Target, TargetShare
from tests.reports.busy_history import FIRST, LAST, build_busy_history
from tests.reports.conftest import PERIOD
from tests.targeting.factories import SubjectFactory

pytestmark = pytest.mark.django_db

#: Every per-slice function the page uses, in both modules.
TABLES = (
    "targets_by_state",
    "examination_figures",
    "decision_figures",
    "missed_targets",
    "queue_breaches",
    "port_workload",
    "officer_workload",
    "daily_trend",
    "hit_rate_by_area",
    "seizures_by_kind",
)


def same(a: Any, b: Any, where: str = "") -> None:
    """Equal, floats (and Decimals against floats) to rounding: sums are taken in another order."""
    if isinstance(a, dict) and isinstance(b, dict):
        assert a.keys() == b.keys(), where
        for key in a:
            same(a[key], b[key], f"{where}.{key}")
    elif isinstance(a, list | tuple) and isinstance(b, list | tuple):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            same(x, y, f"{where}[{i}]")
    elif isinstance(a, float) or isinstance(b, float):
        assert a == pytest.approx(b, rel=1e-9, abs=1e-9), where
    else:
        assert a == b, where


def assert_summary_is_direct(user: Any, s: Slice) -> None:
    for name in TABLES:
        same(getattr(m, name)(user, s), getattr(direct, name)(user, s), f"{name} {s.describe()}")
    for full in (True, False):
        summary, live = m.headline(user, s, full=full), direct.headline(user, s, full=full)
        # The grouped rows the page's tables are made from, checked through those tables above.
        summary.pop("exam_groups", None), summary.pop("nomination_groups", None)
        # The page's headline leaves medians out (no page shows them); everything else is equal.
        same(summary, {k: v for k, v in live.items() if k in summary}, f"headline {s.describe()}")
        assert set(live) - set(summary) <= {"release_hours_targeted_median", "decision_hours_median"}


def slices(history: Any, world: Any, base: Slice) -> list[Slice]:
    return [
        base,
        base.previous(),
        replace(base, port_id=world.port_b.pk),
        replace(base, agency_id=world.customs.pk),
        replace(base, channel="red"),
        replace(base, channel="yellow", port_id=world.port_a.pk),
        replace(base, risk_area="revenue"),
        replace(base, rule_id=history.rule.pk),
        replace(base, officer_id=history.hana.pk),
        replace(base, officer_id=history.oscar.pk, risk_area="narcotics"),
    ]


def test_summary_matches_direct_on_the_known_history(history, manager, world):
    assert TargetStat.objects.count() == Target.objects.count() == 6
    for s in slices(history, world, PERIOD):
        assert_summary_is_direct(manager, s)


def test_summary_matches_direct_on_a_busy_history(world, customs_supervisor, port_officer, manager):
    built = build_busy_history(world, customs_supervisor, port_officer)
    s = Slice(start=FIRST + timedelta(days=14), end=LAST)
    assert m.examination_figures(manager, s)["examinations"] > 20  # a history worth comparing
    for rule, _version in built["rules"]:
        assert_summary_is_direct(manager, replace(s, rule_id=rule.pk))
    for area in ("narcotics", "revenue", "currency"):
        assert_summary_is_direct(manager, replace(s, risk_area=area))
    assert_summary_is_direct(manager, s)
    assert_summary_is_direct(manager, s.previous())


def test_other_agencies_see_only_what_they_may(history, manager, police_manager, outsider_manager):
    """A target counts for another agency only once shared with it, in the summary as directly."""
    for user in (police_manager, outsider_manager):
        assert_summary_is_direct(user, PERIOD)
        f = m.headline(user, PERIOD)
        assert (f["targets"], f["examinations"], f["missed"], f["breaches"]) == (0, 0, 0, 0)
        assert m.seizures_by_kind(user, PERIOD) == [] and m.officer_workload(user, PERIOD) == []
    # Sharing T1 (the random-control seizure) needs no rebuild: the summary is scoped like targets.
    TargetShare.objects.create(target=history.targets[0], agency=police_manager.membership.agency)
    f = m.headline(police_manager, PERIOD)
    assert (f["targets"], f["examinations"], f["findings"], f["seized_value"]) == (1, 1, 1, 100000)
    assert_summary_is_direct(police_manager, PERIOD)
    assert m.headline(outsider_manager, PERIOD)["targets"] == 0
    assert m.headline(manager, PERIOD)["targets"] == 5


def test_the_summary_follows_the_workflow_without_a_rebuild(
    world, manager, customs_analyst, customs_supervisor, port_officer, django_capture_on_commit_callbacks
):
    today = Slice.last_days(2)

    def step(call, **kwargs):
        # The summary row is rewritten once the service's transaction commits.
        with django_capture_on_commit_callbacks(execute=True):
            return call(**kwargs)

    subject = SubjectFactory(
        source__owner_agency=world.customs, port=world.port_a, arrival_at=timezone.now() + timedelta(hours=3)
    )
    target = step(
        targeting.nominate_target, actor=None, subject=subject, risk_area="narcotics",
        reasons=[{"kind": "rule", "text": "Cocaine route", "ref": ""}], by_engine=True,
    )  # fmt: skip
    assert m.targets_by_state(manager, today)["nominated"] == 1
    assert m.decision_figures(manager, today)["decided"] == 0
    target = step(targeting.start_review, actor=customs_analyst, target=target)
    target = step(targeting.submit_for_approval, actor=customs_analyst, target=target)
    target = step(targeting.approve_target, actor=customs_supervisor, target=target)
    assert m.targets_by_state(manager, today)["approved"] == 1
    assert m.decision_figures(manager, today)["decided"] == 1
    instruction = step(
        targeting.dispatch_target, actor=customs_supervisor, target=target, method="physical",
        instruction="Check the reefer.",
    )  # fmt: skip
    now = timezone.now()
    data = ResultInput(
        idempotency_key=uuid.uuid4(),
        method="physical",
        outcome="seizure",
        started_at=instruction.dispatched_at,
        ended_at=now,
        goods=[
            GoodsLine(kind="cocaine", quantity=Decimal("12.5"), unit="kg", estimated_value=Decimal(400000))
        ],
    )
    recorded = step(frontline.record_examination, actor=port_officer, instruction=instruction, data=data)
    f = m.examination_figures(manager, today)
    assert (f["examinations"], f["findings"], f["seized_value"]) == (1, 1, Decimal(400000))
    assert m.targets_by_state(manager, today)["result_recorded"] == 1
    assert [r["officer"] for r in m.officer_workload(manager, today)] == ["oscar"]
    assert_summary_is_direct(manager, today)

    # A supervisor's correction replaces the outcome: no finding, nothing seized, still one examination.
    correction = replace(data, idempotency_key=uuid.uuid4(), outcome="no_finding", goods=[])
    step(
        frontline.correct_examination, actor=customs_supervisor, result=recorded.result, data=correction,
        reason="Lab test negative",
    )  # fmt: skip
    f = m.examination_figures(manager, today)
    assert (f["examinations"], f["findings"], f["seized_value"]) == (1, 0, Decimal(0))
    assert m.officer_workload(manager, today)[0]["officer"] == "oscar"  # still his examination
    assert m.seizures_by_kind(manager, today) == []
    assert_summary_is_direct(manager, today)

    # A second target released before examination: missed, by the periodic task (no person).
    other = SubjectFactory(source__owner_agency=world.customs, port=world.port_a, arrival_at=now)
    second = step(
        targeting.nominate_target, actor=None, subject=other, risk_area="revenue",
        reasons=[{"kind": "rule", "text": "Undervalued", "ref": ""}], by_engine=True,
    )  # fmt: skip
    for call in (targeting.start_review, targeting.submit_for_approval):
        second = step(call, actor=customs_analyst, target=second)
    second = step(targeting.approve_target, actor=customs_supervisor, target=second)
    step(targeting.mark_missed, actor=None, target=second)
    assert m.missed_targets(manager, today) == 1
    assert m.headline(manager, today)["targets"] == 2
    assert_summary_is_direct(manager, today)


def test_a_re_assessment_moves_the_target_to_its_new_channel(
    world, manager, django_capture_on_commit_callbacks
):
    """A target nominated by hand, then assessed: the report counts it under the assessment's channel."""
    from apps.risk.models import Assessment
    from apps.risk.services import assess_subjects

    subject = SubjectFactory(source__owner_agency=world.customs, port=world.port_a)
    with django_capture_on_commit_callbacks(execute=True):
        target = targeting.nominate_target(
            actor=None, subject=subject, risk_area="narcotics", reasons=["tip-off"], by_engine=True
        )
    assert TargetStat.objects.get(target=target).channel == ""
    with django_capture_on_commit_callbacks(execute=True):
        assess_subjects([subject.pk])
    latest = Assessment.objects.filter(subject=subject).latest("created_at", "pk")
    assert latest.channel and TargetStat.objects.get(target=target).channel == latest.channel
    assert_summary_is_direct(manager, Slice.last_days(2))


def test_a_rolled_back_change_leaves_the_summary_alone(world, manager, django_capture_on_commit_callbacks):
    subject = SubjectFactory(source__owner_agency=world.customs, port=world.port_a)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            from django.db import transaction

            with transaction.atomic():
                targeting.nominate_target(
                    actor=None, subject=subject, risk_area="narcotics", reasons=["x"], by_engine=True
                )
                raise RuntimeError("the caller fails after nominating")
        except RuntimeError:
            pass
    assert callbacks == [] and not TargetStat.objects.exists()


def test_a_rebuild_writes_the_same_rows(history, manager):
    """The bulk rebuild and the one-target rewrite are one code path: rebuilding changes nothing."""
    from apps.reports.stats import refresh_target_stats

    before = {r["target_id"]: r for r in TargetStat.objects.values()}
    TargetStat.objects.all().delete()
    assert refresh_target_stats(Target.objects.values_list("pk", flat=True)) == len(before)
    after = {r["target_id"]: r for r in TargetStat.objects.values()}
    for row in (*before.values(), *after.values()):
        row.pop("refreshed_at")
    assert after == before


def test_the_changes_of_one_transaction_go_in_one_task(
    world, monkeypatch, django_capture_on_commit_callbacks
):
    """The risk engine nominates a batch in one transaction (a savepoint each): one rewrite of all."""
    from django.db import transaction

    from apps.reports import stats

    sent: list[list[int]] = []
    send = stats._send_changes
    monkeypatch.setattr(stats, "_send_changes", lambda ids: (sent.append(sorted(ids)), send(ids)))
    subjects = [SubjectFactory(source__owner_agency=world.customs, port=world.port_a) for _ in range(3)]
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        for subject in subjects:
            with transaction.atomic():
                targeting.nominate_target(
                    actor=None, subject=subject, risk_area="narcotics", reasons=["x"], by_engine=True
                )
    assert len(sent) == 1 and len(sent[0]) == 3
    assert TargetStat.objects.filter(state="nominated").count() == 3


def test_sharing_or_unsharing_a_source_changes_the_cached_report_at_once(
    history, world, police_manager, customs_admin, django_capture_on_commit_callbacks
):
    """The report is cached per agency for minutes; a source unshared from the police stops counting in
    the police's report at once (and a shared one starts)."""
    from apps.intake.models import Subject
    from apps.intake.services import share_source, unshare_source
    from apps.reports.services import cached_report
    from apps.reports.stats import refresh_daily_stats

    refresh_daily_stats(PERIOD.start, PERIOD.end)
    source = (
        Subject.objects.filter(source__owner_agency=world.customs, arrival_at__isnull=False).first().source
    )
    before = cached_report(police_manager, PERIOD).values["arrivals"]
    with django_capture_on_commit_callbacks(execute=True):
        share_source(actor=customs_admin, source=source, agency=world.police)
    assert cached_report(police_manager, PERIOD).values["arrivals"] > before
    with django_capture_on_commit_callbacks(execute=True):
        unshare_source(actor=customs_admin, source=source, agency=world.police)
    assert cached_report(police_manager, PERIOD).values["arrivals"] == before


def test_a_port_team_is_not_given_the_report_its_agency_left_in_the_cache(history, world, customs_supervisor):
    """The cached report is keyed by agency and role, and by the person and ports where the view of
    targets is narrowed further: a port team's supervisor, after a national supervisor of the same agency
    opened the same slice, gets his own figures, not the whole agency's."""
    from apps.agencies.roles import Role
    from apps.reports.services import build_report, cached_report
    from tests.factories import member

    pia = member("pia", world.customs, Role.SUPERVISOR, ports=[world.port_b])
    national = cached_report(customs_supervisor, PERIOD).values
    own = build_report(pia, PERIOD).values
    assert own["examinations"] != national["examinations"]
    assert cached_report(pia, PERIOD).values == own
    # And the other way round: the national page is not the port team's either.
    assert cached_report(customs_supervisor, PERIOD).values == national

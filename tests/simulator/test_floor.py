"""The tick: arrivals through the real intake, staff through the real services, idempotent, leased."""

from __future__ import annotations

import pytest
from django.db.models import Count

from apps.intake.models import Message, Outcome, Subject
from apps.risk.models import Assessment, Rule, RuleState
from apps.simulator.command import run_command
from apps.simulator.engine import Floor, Options
from apps.simulator.models import SimAction, SimArrival, SubjectTruth
from apps.simulator.setup import DEMO_RULES, ensure_setup
from apps.targeting.models import Target, Transition
from apps.targeting.models import TargetState as S
from tests.simulator.conftest import START

pytestmark = pytest.mark.django_db


def snapshot() -> dict[str, int]:
    from apps.frontline.models import ExaminationResult

    return {
        "messages": Message.objects.count(),
        "subjects": Subject.objects.count(),
        "assessments": Assessment.objects.count(),
        "targets": Target.objects.count(),
        "transitions": Transition.objects.count(),
        "actions": SimAction.objects.count(),
        "results": ExaminationResult.objects.count(),
        "truths": SubjectTruth.objects.count(),
    }


def run_for(tick, floor: Floor, clock, sim_minutes: float, step: float = 10) -> None:
    """Tick every ``step`` simulated minutes for ``sim_minutes``, moving the clock between ticks."""
    for _ in range(int(sim_minutes / step)):
        clock.move(step / floor.options.speed)
        tick()


def test_the_first_tick_sends_arrivals_through_intake_and_the_engine_assesses_them(floor, clock, tick):
    report = tick()
    assert report.planned > 10 and report.announced > 0 and report.subjects > 0
    assert Message.objects.filter(format="paxlst").exists()
    assert Message.objects.filter(format="pnrgov").exists()
    assert Message.objects.filter(format="json").exists()
    ports = set(Subject.objects.exclude(port=None).values_list("port__locode", flat=True))
    assert {"GBLHR", "GBDVR"} <= ports
    assert (
        Assessment.objects.count()
        >= Subject.objects.filter(kind__in=["consignment", "traveller"]).count() // 2
    )
    assert not Outcome.objects.exists(), (
        "no examination yet, and the hidden truth never becomes imported history"
    )


def test_the_same_tick_twice_changes_nothing(floor, clock, tick):
    run_for(tick, floor, clock, 120)
    now = clock.now()
    tick(now)
    before = snapshot()
    tick(now)
    tick(now)
    assert snapshot() == before


def test_a_day_on_the_floor_reaches_results_findings_and_misses(floor, clock, tick):
    from apps.frontline.models import ExaminationFeedback, ExaminationResult

    run_for(tick, floor, clock, 8 * 60)
    states = dict(Target.objects.values("state").annotate(n=Count("id")).values_list("state", "n"))
    assert states.get(S.RESULT_RECORDED, 0) + states.get(S.CLOSED, 0) > 0, states
    assert states.get(S.NOMINATED, 0) > 0, "some targets are left for the people on the floor"
    assert ExaminationResult.objects.exists()
    assert Outcome.objects.filter(origin=Outcome.Origin.EXAMINATION).exists()
    assert ExaminationFeedback.objects.filter(kind="rule").exists()
    # never recorded twice: one original result per target, and every result has its own key
    results = ExaminationResult.objects.filter(original=None)
    assert results.values("target").distinct().count() == results.count()
    # the truth decides: every finding recorded is a violation in the simulator's hidden table
    for result in results.exclude(outcome="no_finding").select_related("target__subject"):
        facts = result.target.subject.facts
        key = (
            f"doc:{facts['document_number']}"
            if result.target.subject.kind == "traveller"
            else f"decl:{facts['declaration_id']}"
        )
        assert SubjectTruth.objects.get(key=key).violation


def test_targets_a_person_touched_are_left_to_them(floor, clock, tick, django_user_model):
    from apps.targeting.services import start_review

    run_for(tick, floor, clock, 30)
    analyst = django_user_model.objects.get(username="analyst")
    target = Target.objects.filter(state=S.NOMINATED).order_by("created_at").first()
    assert target is not None
    start_review(actor=analyst, target=target, reason="I take this one")
    run_for(tick, floor, clock, 180)
    target.refresh_from_db()
    assert target.state == S.IN_REVIEW
    assert not SimAction.objects.filter(target_id=target.pk).exists()


def test_fresh_nominations_are_left_alone_for_a_while(floor, clock, tick):
    tick()
    fresh = Target.objects.filter(state=S.NOMINATED)
    assert fresh.exists()
    clock.move(floor.options.hands_off_minutes / floor.options.speed / 2)
    tick()
    assert not SimAction.objects.filter(target_id__in=fresh.values("pk")).exists()


def test_only_one_simulator_holds_the_floor(demo, clock):
    first = Floor(Options(seed=1, setup=False), owner="one")
    second = Floor(Options(seed=1, setup=False), owner="two")
    assert first.acquire()
    assert not second.acquire()
    first.release()
    assert second.acquire()


def test_setup_is_idempotent_and_leaves_rules_in_their_states(demo):
    ensure_setup(steps=("colleagues", "officers", "rules"))
    assert Rule.objects.filter(name__in=[r.name for r in DEMO_RULES]).count() == len(DEMO_RULES)
    for spec in DEMO_RULES:
        assert Rule.objects.get(name=spec.name).state == spec.state
    assert Rule.objects.filter(state=RuleState.ACTIVE).count() == sum(r.state == "active" for r in DEMO_RULES)


def test_stale_arrivals_are_skipped_after_a_pause(floor, clock, tick):
    floor.plan(clock.now())
    clock.move(60)  # an hour with no simulator running: many simulated hours at x60
    report = tick()
    assert report.skipped > 0
    assert SimArrival.objects.filter(skipped=True, sent_at=None).count() == report.skipped


def test_the_command_runs_one_tick(demo, clock):
    lines: list[str] = []
    ticks = run_command({"once": True, "no_setup": True, "seed": 3, "speed": 60}, echo=lines.append)
    assert ticks == 1
    assert any("Simulating the floor" in line for line in lines)
    assert Message.objects.exists()


def test_the_command_refuses_a_bad_speed(demo):
    with pytest.raises(ValueError, match="speed"):
        run_command({"once": True, "no_setup": True, "speed": 0})


def test_the_listed_traveller_is_found_by_the_watchlist_under_the_variant_name(demo, shared_data):
    from apps.simulator import generators as gen
    from apps.watchlists.screening import clear_cache, screen_name

    report = ensure_setup(steps=("watchlist",))
    assert "entries" in report["watchlist"], report
    person, listed_name = gen.listed_person(
        shared_data / "watchlists" / "un_consolidated.xml", 2026, START.date()
    )
    clear_cache()
    hits = screen_name(f"{person.given} {person.surname}", date_of_birth=person.born)
    assert hits, f"{person.given} {person.surname} ({person.born}) should match {listed_name}"


def test_without_beat_the_simulator_keeps_the_reports_arrivals_current(floor, clock, tick, settings):
    """The embedded mode has no Celery beat: a tick recounts the report's recent days once their minute
    is up, so a manager watching the demo sees the arrivals it announced. With beat, it leaves it."""
    from django.db.models import Sum

    from apps.reports.models import DailyStat

    settings.CELERY_TASK_ALWAYS_EAGER = True
    assert tick().reports_refreshed
    assert DailyStat.objects.aggregate(n=Sum("arrivals"))["n"] > 0
    clock.move(0.5)
    assert not tick().reports_refreshed  # the minute has not passed
    clock.move(0.6)
    assert tick().reports_refreshed
    settings.CELERY_TASK_ALWAYS_EAGER = False
    clock.move(2)
    assert not tick().reports_refreshed

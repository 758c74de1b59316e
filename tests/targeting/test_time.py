"""Time that matters: every open target reaches an end when its conveyance is released, claims expire,
and service levels follow the port's transport mode and the risk area."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.targeting import services
from apps.targeting.models import SERVICE_LEVELS, Target, TargetState, Transition, service_level
from apps.targeting.tasks import claim_idle, mark_missed_targets, missed_grace

S = TargetState


@pytest.fixture
def released(world):
    """An arrival time past the grace after which a conveyance counts as released."""
    return timezone.now() - missed_grace() - timedelta(minutes=5)


def test_a_target_in_review_after_release_ends_as_missed(make_target, customs_analyst, released):
    target = make_target(state="nominated", arrival_at=released)
    services.start_review(actor=customs_analyst, target=target)
    assert target.state == S.IN_REVIEW and target.claimed_by == customs_analyst
    assert mark_missed_targets() == 1
    target.refresh_from_db()
    assert target.state == S.MISSED and target.claimed_by is None and target.version == 3
    last = Transition.objects.filter(target=target).order_by("-at", "-id").first()
    assert (last.from_state, last.to_state, last.actor_id) == (S.IN_REVIEW, S.MISSED, None)
    assert last.reason == "Conveyance released before a decision was taken (system)"


@pytest.mark.parametrize("state", ["nominated", "in_review", "awaiting_approval", "approved", "dispatched"])
def test_every_open_state_ends_once_the_conveyance_is_released(make_target, released, state):
    gone = make_target(state=state, arrival_at=released)
    within_grace = make_target(state=state, arrival_at=timezone.now() - timedelta(minutes=10))
    assert mark_missed_targets() == 1
    assert Target.objects.get(pk=gone.pk).state == S.MISSED
    assert Target.objects.get(pk=within_grace.pk).state == state


@pytest.mark.parametrize("state", ["on_hold", "in_examination", "result_recorded", "closed", "rejected"])
def test_held_examined_and_final_targets_are_left_alone(make_target, released, state):
    target = make_target(state=state, arrival_at=released)
    assert mark_missed_targets() == 0
    assert Target.objects.get(pk=target.pk).state == state


def test_the_grace_is_a_setting(make_target, settings):
    settings.RATC_MISSED_GRACE_MINUTES = 30
    target = make_target(state="approved", arrival_at=timezone.now() - timedelta(minutes=45))
    assert mark_missed_targets() == 1
    assert Target.objects.get(pk=target.pk).state == S.MISSED


def test_the_system_goes_through_the_same_conditional_move(make_target, customs_supervisor, released):
    """A stale version is refused for the system as for a person, and the move is versioned and recorded."""
    target = make_target(state="approved", arrival_at=released)
    services.mark_missed(actor=None, target=target, reason="Conveyance released (system)")
    assert target.state == S.MISSED and target.version == 2
    with pytest.raises(services.TransitionRefused):
        services.mark_missed(actor=None, target=target, reason="again")
    other = make_target(state="approved", arrival_at=released)
    with pytest.raises(services.StaleChange):
        services.mark_missed(actor=None, target=other, expected_version=7)


def test_a_person_still_marks_only_approved_or_dispatched_risk_targets_missed(
    make_target, customs_supervisor
):
    with pytest.raises(services.TransitionRefused):
        services.mark_missed(actor=customs_supervisor, target=make_target(state="nominated"))
    target = make_target(state="dispatched")
    services.mark_missed(actor=customs_supervisor, target=target)
    assert target.state == S.MISSED


# --------------------------------------------------------------------------- claims


def test_a_stale_claim_expires(make_target, customs_analyst, settings):
    settings.RATC_CLAIM_IDLE_MINUTES = 60
    stale = make_target(state="nominated")
    fresh = make_target(state="nominated")
    services.claim_target(actor=customs_analyst, target=stale)
    services.claim_target(actor=customs_analyst, target=fresh)
    long_ago = timezone.now() - timedelta(minutes=61)
    Target.objects.filter(pk=stale.pk).update(claimed_at=long_ago, updated_at=long_ago)
    mark_missed_targets()
    stale.refresh_from_db()
    fresh.refresh_from_db()
    assert stale.claimed_by is None and stale.claimed_at is None and stale.state == S.NOMINATED
    assert fresh.claimed_by == customs_analyst


def test_a_claim_on_a_target_that_moved_lately_is_kept(make_target, customs_analyst):
    target = make_target(state="nominated")
    services.start_review(actor=customs_analyst, target=target)  # claims it
    long_ago = timezone.now() - claim_idle() - timedelta(minutes=1)
    Target.objects.filter(pk=target.pk).update(claimed_at=long_ago)  # claimed long ago, moved just now
    assert services.expire_claims(idle=claim_idle()) == 0
    target.refresh_from_db()
    assert target.claimed_by == customs_analyst


def test_the_claim_idle_time_is_read_from_the_environment(monkeypatch, settings):
    from django.core.exceptions import ImproperlyConfigured

    if hasattr(settings, "RATC_CLAIM_IDLE_MINUTES"):
        del settings.RATC_CLAIM_IDLE_MINUTES
    monkeypatch.setenv("RATC_CLAIM_IDLE_MINUTES", "15")
    assert claim_idle() == timedelta(minutes=15)
    monkeypatch.setenv("RATC_CLAIM_IDLE_MINUTES", "soon")
    with pytest.raises(ImproperlyConfigured, match="RATC_CLAIM_IDLE_MINUTES"):
        claim_idle()
    monkeypatch.delenv("RATC_CLAIM_IDLE_MINUTES")
    assert claim_idle() == timedelta(hours=2)


# --------------------------------------------------------------------------- service levels


def test_service_levels_follow_mode_and_risk_area():
    assert service_level("air", "narcotics") == timedelta(minutes=45)
    assert service_level("air", "security") == timedelta(minutes=20)
    assert service_level("sea", "revenue") == timedelta(days=2)
    assert service_level("sea", "narcotics") == timedelta(days=1)
    assert service_level("", "revenue") == timedelta(days=1)
    assert all(level["_"] > timedelta(0) for level in SERVICE_LEVELS.values())


def test_an_air_passenger_breaches_in_minutes_a_sea_container_in_days(world, make_target):
    now = timezone.now()
    far = now + timedelta(days=3)  # arrival far off: only the service level since nomination counts
    air = make_target(port=world.port_b, risk_area="immigration", arrival_at=far)
    sea = make_target(port=world.port_a, risk_area="revenue", arrival_at=far)
    assert air.sla_status(now) == "ok" and sea.sla_status(now) == "ok"
    assert air.sla_status(now + timedelta(minutes=25)) == "due"
    assert air.sla_status(now + timedelta(minutes=31)) == "breached"
    assert sea.sla_status(now + timedelta(minutes=31)) == "ok"
    assert sea.sla_status(now + timedelta(days=1, hours=13)) == "due"
    assert sea.sla_status(now + timedelta(days=2, minutes=1)) == "breached"
    later = now + timedelta(minutes=31)
    assert list(Target.objects.breaching(later)) == [air]
    assert set(Target.objects.breaching(now + timedelta(days=2, minutes=1))) == {air, sea}
    # Decided targets have no timer.
    Target.objects.filter(pk=air.pk).update(state=S.APPROVED)
    air.refresh_from_db()
    assert air.sla_status(later) == "" and list(Target.objects.breaching(later)) == []


def test_arrival_still_bounds_the_service_level(world, make_target):
    now = timezone.now()
    sea = make_target(port=world.port_a, risk_area="revenue", arrival_at=now + timedelta(minutes=90))
    assert sea.sla_status(now) == "breached" and list(Target.objects.breaching(now)) == [sea]
    assert sea.sla_deadline() == sea.arrival_at - timedelta(hours=2)


def test_the_status_and_the_queryset_agree(world, make_target):
    """Each area and mode: whatever ``sla_status`` says at a moment, ``breaching`` says the same."""
    now = timezone.now()
    made = [
        make_target(port=port, risk_area=area, arrival_at=now + timedelta(days=5))
        for port in (world.port_a, world.port_b)
        for area in ("security", "narcotics", "revenue", "immigration")
    ]
    for later in (timedelta(minutes=10), timedelta(minutes=35), timedelta(hours=13), timedelta(days=3)):
        at = now + later
        expected = {t.pk for t in made if t.sla_status(at) == "breached"}
        assert set(Target.objects.breaching(at).values_list("pk", flat=True)) == expected, later


def test_a_board_card_loaded_without_its_port_reads_no_more_rows(
    world, make_target, django_assert_num_queries
):
    make_target(port=world.port_b, risk_area="immigration")
    cards = list(Target.objects.select_related("port").only("pk", "state", "risk_area", "arrival_at",
                                                            "created_at", "port__locode"))  # fmt: skip
    cards[0].sla_status()  # the port modes are read once for the process
    with django_assert_num_queries(0):
        assert [c.sla_status() for c in cards] == ["ok"]


def test_without_beat_the_server_process_marks_missed_every_five_minutes(make_target, world, monkeypatch):
    import time_machine

    from apps.core import periodic
    from apps.core.schedule import job

    monkeypatch.setattr(periodic, "jobs", lambda: (job("mark-missed-targets"),))
    start = timezone.now()
    arrival = start - missed_grace() + timedelta(minutes=2)  # released two minutes from now
    target = make_target(state="awaiting_approval", arrival_at=arrival)
    with time_machine.travel(start, tick=False):
        assert periodic.run_due() == ["mark-missed-targets"]
    assert Target.objects.get(pk=target.pk).state == "awaiting_approval"  # not yet released
    with time_machine.travel(start + timedelta(minutes=4), tick=False):
        assert periodic.run_due() == []  # released, but the five minutes are not up
    assert Target.objects.get(pk=target.pk).state == "awaiting_approval"
    with time_machine.travel(start + timedelta(minutes=5), tick=False):
        assert periodic.run_due() == ["mark-missed-targets"]
    assert Target.objects.get(pk=target.pk).state == S.MISSED


def test_a_port_changed_in_this_process_is_timed_by_its_new_mode_at_once(world, make_target):
    """The in-process map of port modes forgets a port saved here: its key may even name another port
    later (SQLite hands a rolled-back row's key to the next new one, as between two tests)."""
    now = timezone.now()
    made = make_target(port=world.port_a, risk_area="security", arrival_at=now + timedelta(days=3))
    target = Target.objects.get(pk=made.pk)  # without its port: the mode comes from the map
    assert target.sla_status(now + timedelta(minutes=25)) == "ok"  # a sea port: twelve hours
    world.port_a.mode = "air"
    world.port_a.save(update_fields=["mode"])
    target = Target.objects.get(pk=target.pk)
    assert target.sla_status(now + timedelta(minutes=25)) == "breached"  # now an airport: 20 minutes

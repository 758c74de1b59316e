"""Random control kept honest: never rejected or withdrawn, only marked missed with a reason, and
dispatched first within a reserved share of capacity instead of being left out as "capacity full"."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from apps.targeting import services
from apps.targeting.dispatch import reserved_slots
from apps.targeting.models import HandlingCode, Target, TargetShare, TargetState, Transition
from apps.targeting.queries import allowed_actions
from tests.factories import PortCapacityFactory
from tests.targeting.factories import TravellerFactory

RANDOM_REASONS = [{"kind": "random", "text": "Selected by chance for random control", "ref": "random:1"}]


@pytest.fixture
def random_target(make_target):
    def make(state="awaiting_approval", **kwargs):
        kwargs.setdefault("reasons", RANDOM_REASONS)
        return make_target(state=state, random_control=True, by_engine=True, **kwargs)

    return make


def test_a_random_control_target_cannot_be_rejected_or_withdrawn(random_target, customs_supervisor):
    target = random_target()
    with pytest.raises(services.TransitionRefused, match="drawn for random control: it cannot be rejected"):
        services.reject_target(actor=customs_supervisor, target=target, reason="Looks clean")
    with pytest.raises(services.TransitionRefused, match="cannot be withdrawn"):
        services.withdraw_target(actor=customs_supervisor, target=target, reason="Not worth it")
    target.refresh_from_db()
    assert target.state == TargetState.AWAITING_APPROVAL and target.version == 1
    assert not Transition.objects.filter(target=target, to_state=TargetState.REJECTED).exists()


def test_a_risk_target_is_still_rejected_as_before(make_target, customs_supervisor):
    target = make_target(state="awaiting_approval")
    services.reject_target(actor=customs_supervisor, target=target, reason="Known trader")
    assert target.state == TargetState.REJECTED


def test_a_random_control_target_is_only_marked_missed_and_with_a_reason(random_target, customs_supervisor):
    target = random_target()
    with pytest.raises(ValidationError):
        services.run_action(actor=customs_supervisor, target=target, action="mark_missed", expected_version=1)
    target.refresh_from_db()
    assert target.state == TargetState.AWAITING_APPROVAL
    services.run_action(
        actor=customs_supervisor, target=target, action="mark_missed", expected_version=1,
        reason="Container released by the terminal before we could call it",
    )  # fmt: skip
    assert target.state == TargetState.MISSED
    last = Transition.objects.filter(target=target).order_by("-at", "-id").first()
    assert (last.from_state, last.to_state) == (TargetState.AWAITING_APPROVAL, TargetState.MISSED)
    assert last.reason.startswith("Container released") and last.actor == customs_supervisor


def test_an_analyst_may_not_end_a_random_control_target(random_target, customs_analyst):
    target = random_target(state="in_review")
    with pytest.raises(services.PermissionDenied):
        services.mark_missed(actor=customs_analyst, target=target, reason="Bored")
    target.refresh_from_db()
    assert target.state == TargetState.IN_REVIEW


def test_the_reject_button_is_not_offered_on_random_control(
    random_target, make_target, customs_supervisor, client_for
):
    target = random_target()
    assert allowed_actions(customs_supervisor, target) == ["approve", "mark_missed"]
    assert allowed_actions(customs_supervisor, make_target(state="awaiting_approval")) == [
        "approve", "reject", "withdraw",
    ]  # fmt: skip
    page = client_for(customs_supervisor).get(reverse("targeting:detail", args=[target.pk])).content.decode()
    assert 'data-action="approve"' in page and 'data-action="mark_missed"' in page
    assert 'data-action="reject"' not in page and 'data-action="withdraw"' not in page


def test_the_api_refuses_to_reject_random_control_and_says_why(random_target, customs_supervisor, client_for):
    target = random_target()
    client = client_for(customs_supervisor)
    url = reverse("target-transitions", args=[target.pk])
    assert client.get(url).json()["allowed"] == ["approve", "mark_missed"]
    answer = client.post(
        url, {"action": "reject", "expected_version": 1, "reason": "Clean"}, content_type="application/json"
    )
    assert answer.status_code == 409
    assert "random control" in answer.json()["detail"] and "cannot be rejected" in answer.json()["detail"]
    no_reason = client.post(
        url, {"action": "mark_missed", "expected_version": 1}, content_type="application/json"
    )
    assert no_reason.status_code == 400 and "reason" in no_reason.content.decode().lower()
    assert Target.objects.get(pk=target.pk).state == TargetState.AWAITING_APPROVAL


# --------------------------------------------------------------------------- dispatch


@pytest.fixture
def two_physical_slots(world):
    PortCapacityFactory(port=world.port_a, shift="early", method="physical", slots=2)


def test_random_control_is_dispatched_first_within_its_reserve(
    world, make_target, random_target, customs_supervisor, two_physical_slots, settings
):
    settings.RATC_RANDOM_RESERVE_PERCENT = 10
    strong = make_target(state="approved", score=0.9)
    middling = make_target(state="approved", score=0.6)
    # No score and priority 0: worth nothing to a score-driven plan, which used to leave it out.
    drawn = random_target(state="approved", priority=0, score=None)
    second_draw = random_target(state="approved", priority=0, score=None)
    proposal = services.propose_dispatch(actor=customs_supervisor, port=world.port_a, shift="early")
    chosen = [row["target"] for row in proposal.selected]
    assert chosen == [drawn.pk, strong.pk]
    assert proposal.selected[0]["random"] is True and proposal.selected[0]["method"] == "physical"
    reasons = {row["target"]: row["reason"] for row in proposal.left_out}
    assert "Random-control slots full" in reasons[second_draw.pk]
    assert "Capacity full" in reasons[middling.pk]
    done, problems = services.accept_proposal(actor=customs_supervisor, proposal=proposal)
    assert problems == [] and {i.target_id for i in done} == {drawn.pk, strong.pk}
    assert Target.objects.get(pk=drawn.pk).state == TargetState.DISPATCHED


def test_an_officer_at_the_port_is_never_told_which_target_was_drawn_by_chance(
    world,
    make_target,
    random_target,
    customs_supervisor,
    port_officer,
    two_physical_slots,
    client_for,
    settings,
):
    """The proposal names the random draws and what each target should find; the officer who examines
    them works from his instructions, which never say so (on the page or through the API)."""
    settings.RATC_RANDOM_RESERVE_PERCENT = 10
    make_target(state="approved", score=0.9)
    drawn = random_target(state="approved", priority=0, score=None)
    proposal = services.propose_dispatch(actor=customs_supervisor, port=world.port_a, shift="early")
    services.accept_proposal(actor=customs_supervisor, proposal=proposal)
    page = f"{reverse('targeting:dispatch')}?port={world.port_a.locode}&shift=early"
    assert "random control" in client_for(customs_supervisor).get(page).content.decode()

    officer = client_for(port_officer, purpose="examination")
    assert Target.objects.visible_to(port_officer).filter(pk=drawn.pk).exists()  # he examines it
    body = officer.get(page).content.decode()
    assert "random control" not in body.lower() and drawn.reference not in body
    listed = officer.get("/api/v1/dispatch-proposals/")
    assert listed.status_code in (200, 403)
    assert listed.status_code == 403 or listed.json()["results"] == []
    assert officer.get(f"/api/v1/dispatch-proposals/{proposal.pk}/").status_code in (403, 404)


def test_an_unused_reserve_goes_to_risk_targets(world, make_target, customs_supervisor, two_physical_slots):
    first, second = make_target(state="approved", score=0.9), make_target(state="approved", score=0.5)
    proposal = services.propose_dispatch(actor=customs_supervisor, port=world.port_a, shift="early")
    assert {row["target"] for row in proposal.selected} == {first.pk, second.pk}


def test_a_zero_reserve_still_sends_no_random_control_out_as_capacity_full(
    world, random_target, customs_supervisor, two_physical_slots, settings
):
    settings.RATC_RANDOM_RESERVE_PERCENT = 0
    drawn = random_target(state="approved", priority=0, score=None)
    proposal = services.propose_dispatch(actor=customs_supervisor, port=world.port_a, shift="early")
    assert proposal.selected == []
    assert (
        "Random-control slots full" in proposal.left_out[0]["reason"]
        and proposal.left_out[0]["target"] == drawn.pk
    )


def test_the_reserve_is_a_share_rounded_up_within_each_method():
    assert reserved_slots({"physical": 20, "scan": 3, "dog": 0}, 0.1) == {"physical": 2, "scan": 1}
    assert reserved_slots({"physical": 20}, 0.0) == {}
    assert reserved_slots({"physical": 1}, 1.0) == {"physical": 1}


def test_the_reserve_setting_is_read_from_the_environment(monkeypatch, settings):
    from django.core.exceptions import ImproperlyConfigured

    from apps.targeting.dispatch import random_reserve_share

    if hasattr(settings, "RATC_RANDOM_RESERVE_PERCENT"):
        del settings.RATC_RANDOM_RESERVE_PERCENT
    monkeypatch.setenv("RATC_RANDOM_RESERVE_PERCENT", "25")
    assert random_reserve_share() == 0.25
    monkeypatch.setenv("RATC_RANDOM_RESERVE_PERCENT", "250")
    with pytest.raises(ImproperlyConfigured, match="RATC_RANDOM_RESERVE_PERCENT"):
        random_reserve_share()


def test_a_random_traveller_goes_to_the_method_that_finds_most_in_its_area(
    world, random_target, customs_supervisor
):
    PortCapacityFactory(port=world.port_a, shift="early", method="documents", slots=5)
    PortCapacityFactory(port=world.port_a, shift="early", method="interview", slots=5)
    traveller = TravellerFactory(source__owner_agency=world.customs, port=world.port_a)
    drawn = random_target(state="approved", subject=traveller, risk_area="immigration", score=None)
    proposal = services.propose_dispatch(actor=customs_supervisor, port=world.port_a, shift="early")
    assert proposal.selected == [{**proposal.selected[0], "target": drawn.pk, "method": "interview"}]


def test_a_partner_agency_is_never_told_which_shared_target_was_drawn_by_chance(
    world, make_target, random_target, customs_analyst, police_liaison, client_for
):
    """A target shared with a partner agency reads the same to it whether it was drawn by chance or
    nominated for risk: its pages, lists, board, buttons and the API say nothing of the draw."""
    from apps.targeting.services.nomination import nominate

    def engine_nominates(*, random_control: bool) -> Target:
        reason = (
            Transition.RANDOM_NOMINATION_REASON if random_control else Transition.ENGINE_NOMINATION_REASON
        )
        return nominate(
            actor=None, subject=TravellerFactory(source__owner_agency=world.customs, port=world.port_a),
            risk_area="narcotics", reasons=RANDOM_REASONS if random_control else [{"kind": "rule", "text": "R"}],
            by_engine=True, random_control=random_control, reason=reason, scope="national",
        )[0]  # fmt: skip

    drawn, risk = engine_nominates(random_control=True), engine_nominates(random_control=False)
    for target in (drawn, risk):
        TargetShare.objects.create(target=target, agency=world.police, code=HandlingCode.SEE)

    liaison = client_for(police_liaison)
    for page in (
        reverse("targeting:detail", args=[drawn.pk]),
        reverse("targeting:list"),
        reverse("live:floor"),
    ):
        body = liaison.get(page).content.decode()
        assert drawn.reference in body, page  # he sees the target itself...
        assert "random control" not in body.lower() and 'class="pill">random<' not in body, page
        assert "· random" not in body, page

    def history(target: Target) -> str:
        answer = liaison.get(reverse("targeting:export_target", args=[target.pk]))
        assert answer.status_code == 200
        return b"".join(answer.streaming_content if answer.streaming else [answer.content]).decode()

    drawn_history, risk_history = history(drawn), history(risk)
    assert "random" not in drawn_history.lower()
    assert (
        drawn_history.replace(drawn.reference, "").split("\r\n")[1].split(",")[2:]
        == (risk_history.replace(risk.reference, "").split("\r\n")[1].split(",")[2:])
    )  # the nomination's line reads the same, whatever the liaison may read of it
    answer = liaison.get(f"/api/v1/targets/{drawn.pk}/").json()
    assert answer["random_control"] is None
    assert liaison.get(f"/api/v1/targets/{risk.pk}/").json()["random_control"] is None
    assert all(r.get("kind") != "random" for r in answer.get("reasons") or [])
    assert allowed_actions(police_liaison, drawn) == allowed_actions(police_liaison, risk)

    # The owner agency's floor is told, on the same pages and through the API.
    analyst = client_for(customs_analyst)
    assert "random control" in analyst.get(reverse("targeting:detail", args=[drawn.pk])).content.decode()
    assert 'class="pill">random<' in analyst.get(reverse("targeting:list")).content.decode()
    assert analyst.get(f"/api/v1/targets/{drawn.pk}/").json()["random_control"] is True
    assert analyst.get(f"/api/v1/targets/{risk.pk}/").json()["random_control"] is False


def test_the_score_is_told_only_to_whom_the_draw_is_told(
    world, random_target, make_target, customs_analyst, police_liaison, client_for
):
    """A draw's score is most often below the nomination threshold: shown to a partner agency, it would
    say "drawn" as plainly as the mark. The partner reads no score, for any target; the owner's floor does."""
    drawn = random_target(state="nominated", score=3.0)
    risk = make_target(state="nominated", by_engine=True, score=72.0)
    for target in (drawn, risk):
        TargetShare.objects.create(target=target, agency=world.police, code=HandlingCode.SEE)
    liaison = client_for(police_liaison)
    for target in (drawn, risk):
        assert liaison.get(f"/api/v1/targets/{target.pk}/").json()["score"] is None
        assert "risk score" not in liaison.get(reverse("targeting:detail", args=[target.pk])).content.decode()
    analyst = client_for(customs_analyst)  # the same test client, signed in as the owner's analyst
    assert analyst.get(f"/api/v1/targets/{drawn.pk}/").json()["score"] == 3.0
    assert "risk score 72.00" in analyst.get(reverse("targeting:detail", args=[risk.pk])).content.decode()

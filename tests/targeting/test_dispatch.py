"""Capacity-aware dispatch: never over capacity, better than first come first served, reasons shown."""

from __future__ import annotations

import random

import pytest

from apps.targeting import services
from apps.targeting.dispatch import Candidate, first_come_plan, optimal_plan
from apps.targeting.models import HandlingCode, Instruction, TargetShare, TargetState
from tests.factories import PortCapacityFactory
from tests.targeting.factories import TravellerFactory


def test_the_optimum_beats_first_come_first_served_with_known_probabilities():
    # Two scan slots, one physical. The first-come targets are weak; the late ones are strong, and only
    # the optimum gives the single physical slot to the target scanning cannot help.
    candidates = [
        Candidate(1, 1, 0.1, {"scan": 0.08, "physical": 0.09}, order=0),
        Candidate(2, 1, 0.1, {"scan": 0.08, "physical": 0.09}, order=1),
        Candidate(3, 1, 0.9, {"scan": 0.72, "physical": 0.81}, order=2),
        Candidate(4, 1, 0.8, {"scan": 0.10, "physical": 0.72}, order=3),
    ]
    capacity = {"scan": 2, "physical": 1}
    best, fcfs = optimal_plan(candidates, capacity), first_come_plan(candidates, capacity)
    assert best.chosen == {3: "scan", 4: "physical", 1: "scan"} or best.chosen == {
        3: "scan",
        4: "physical",
        2: "scan",
    }
    assert best.total == pytest.approx(0.72 + 0.72 + 0.08)
    assert fcfs.total == pytest.approx(0.09 + 0.08 + 0.72)
    assert best.total > fcfs.total


@pytest.mark.parametrize("seed", range(20))
def test_the_plan_never_exceeds_capacity_and_is_never_worse_than_fcfs(seed):
    rng = random.Random(seed)
    methods = ["scan", "physical", "dog", "documents", "interview"]
    capacity = {m: rng.randint(0, 4) for m in methods}
    candidates = [
        Candidate(
            i, 1, 0, {m: round(rng.random(), 3) for m in rng.sample(methods, rng.randint(1, 5))}, order=i
        )
        for i in range(rng.randint(0, 30))
    ]
    plan = optimal_plan(candidates, capacity)
    for method, slots in capacity.items():
        assert sum(1 for m in plan.chosen.values() if m == method) <= slots
    assert len(plan.chosen) == len(set(plan.chosen))
    assert plan.total >= first_come_plan(candidates, capacity).total - 1e-9


@pytest.fixture
def felixstowe_capacity(world):
    PortCapacityFactory(port=world.port_a, shift="early", method="physical", slots=1)
    PortCapacityFactory(port=world.port_a, shift="early", method="interview", slots=1)


def test_a_proposal_shows_what_was_left_out_and_why(
    world, make_target, customs_supervisor, police_liaison, felixstowe_capacity
):
    strong = make_target(state="approved", score=0.9)
    weak = make_target(state="approved", score=0.2)
    held = make_target(state="approved", score=0.99)
    TargetShare.objects.create(target=held, agency=world.police, code=HandlingCode.SEE)
    services.place_hold(actor=police_liaison, target=held, reason="Controlled delivery")
    proposal = services.propose_dispatch(actor=customs_supervisor, port=world.port_a, shift="early")
    assert [row["target"] for row in proposal.selected] == [strong.pk]
    assert proposal.selected[0]["method"] == "physical"
    reasons = {row["target"]: row["reason"] for row in proposal.left_out}
    assert reasons[held.pk].startswith("On hold by POL")
    assert "Capacity full" in reasons[weak.pk]
    assert proposal.capacity == {"physical": 1, "interview": 1}


def test_accepting_a_proposal_dispatches_it_and_edits_are_allowed(
    world, make_target, customs_supervisor, felixstowe_capacity
):
    consignment = make_target(state="approved", score=0.5)
    traveller = make_target(
        state="approved",
        score=0.4,
        subject=TravellerFactory(source__owner_agency=world.customs, port=world.port_a),
    )
    proposal = services.propose_dispatch(actor=customs_supervisor, port=world.port_a, shift="early")
    assert {r["target"]: r["method"] for r in proposal.selected} == {
        consignment.pk: "physical",
        traveller.pk: "interview",
    }
    with pytest.raises(services.ValidationError):
        services.accept_proposal(actor=customs_supervisor, proposal=proposal,
                                 choices={consignment.pk: "physical", traveller.pk: "physical"})  # fmt: skip
    done, problems = services.accept_proposal(
        actor=customs_supervisor, proposal=proposal, choices={traveller.pk: "interview"}
    )
    assert problems == [] and [i.target_id for i in done] == [traveller.pk]
    traveller.refresh_from_db()
    assert traveller.state == TargetState.DISPATCHED
    assert Instruction.objects.get(target=traveller).method == "interview"
    with pytest.raises(services.StaleChange):
        services.accept_proposal(actor=customs_supervisor, proposal=proposal)


def test_dispatch_announces_the_instruction_to_the_port(make_target, customs_supervisor, monkeypatch):
    sent = []
    monkeypatch.setattr(
        services.dispatching, "publish_on_commit", lambda group, event, **p: sent.append((group, event, p))
    )
    target = make_target(state="approved")
    instruction = services.dispatch_target(
        actor=customs_supervisor, target=target, method="dog", instruction="Dog at bay 4"
    )
    assert ("port-GBFXT", "instruction.dispatched", {"target": target.pk, "instruction": instruction.pk,
            "state": "dispatched", "version": 2}) in sent  # fmt: skip

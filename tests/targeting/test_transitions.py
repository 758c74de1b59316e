"""Every transition from every state, by every kind of person: who may move a target where."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from apps.targeting import services
from apps.targeting.models import HandlingCode, TargetShare, TargetState, Transition

S = TargetState

#: transition → (legal from-states, resulting state, the person who may do it)
TRANSITIONS = {
    "start_review": ({S.NOMINATED}, S.IN_REVIEW, "customs_analyst"),
    "submit_for_approval": ({S.IN_REVIEW}, S.AWAITING_APPROVAL, "customs_analyst"),
    "approve_target": ({S.AWAITING_APPROVAL}, S.APPROVED, "customs_supervisor"),
    "reject_target": ({S.NOMINATED, S.IN_REVIEW, S.AWAITING_APPROVAL}, S.REJECTED, "customs_supervisor"),
    "withdraw_target": (
        {S.NOMINATED, S.IN_REVIEW, S.AWAITING_APPROVAL, S.APPROVED},
        S.WITHDRAWN,
        "customs_analyst",
    ),
    "dispatch_target": ({S.APPROVED}, S.DISPATCHED, "customs_supervisor"),
    "start_examination": ({S.DISPATCHED}, S.IN_EXAMINATION, "port_officer"),
    "record_result": ({S.DISPATCHED, S.IN_EXAMINATION}, S.RESULT_RECORDED, "port_officer"),
    "close_target": ({S.RESULT_RECORDED}, S.CLOSED, "customs_analyst"),
    "mark_missed": ({S.APPROVED, S.DISPATCHED}, S.MISSED, "customs_supervisor"),
}


def do(name: str, actor, target):
    """Call the transition's service with the arguments it needs."""
    func = getattr(services, name)
    if name == "dispatch_target":
        return func(actor=actor, target=target, method="physical", instruction="Open and check the pallets.",
                    expected_version=target.version)  # fmt: skip
    return func(
        actor=actor, target=target, expected_version=target.version, reason="Because the test says so"
    )


CASES = [(name, state) for name in TRANSITIONS for state in S.values]


@pytest.mark.parametrize(("name", "state"), CASES)
def test_each_transition_from_each_state(name, state, request, make_target):
    legal, to_state, who = TRANSITIONS[name]
    actor = request.getfixturevalue(who)
    target = make_target(state=state)
    if state in legal:
        do(name, actor, target)
        target.refresh_from_db()
        assert target.state == to_state and target.version == 2
        last = Transition.objects.filter(target=target).latest("id")
        assert (last.from_state, last.to_state, last.actor, last.actor_agency.code) == (
            state,
            to_state,
            actor,
            "CUS",
        )
        assert last.reason
    else:
        # A frontline officer does not even see targets that are not yet at his port.
        with pytest.raises((services.TransitionRefused, Http404)):
            do(name, actor, target)
        target.refresh_from_db()
        assert target.state == state and target.version == 1


OK, FORBIDDEN, HIDDEN = "ok", "403", "404"
#: transition → expected answer per person, from a legal state, for a customs target shared "may see" with POL.
BY_PERSON = {
    "start_review": dict(customs_analyst=OK, customs_supervisor=OK, police_liaison=FORBIDDEN, port_officer=HIDDEN, outsider=HIDDEN),
    "submit_for_approval": dict(customs_analyst=OK, customs_supervisor=OK, police_liaison=FORBIDDEN, port_officer=HIDDEN, outsider=HIDDEN),
    "approve_target": dict(customs_analyst=FORBIDDEN, customs_supervisor=OK, police_liaison=FORBIDDEN, port_officer=HIDDEN, outsider=HIDDEN),
    "reject_target": dict(customs_analyst=FORBIDDEN, customs_supervisor=OK, police_liaison=FORBIDDEN, port_officer=HIDDEN, outsider=HIDDEN),
    "withdraw_target": dict(customs_analyst=OK, customs_supervisor=OK, police_liaison=FORBIDDEN, port_officer=HIDDEN, outsider=HIDDEN),
    "dispatch_target": dict(customs_analyst=FORBIDDEN, customs_supervisor=OK, police_liaison=FORBIDDEN, port_officer=HIDDEN, outsider=HIDDEN),
    "start_examination": dict(customs_analyst=FORBIDDEN, customs_supervisor=FORBIDDEN, police_liaison=FORBIDDEN, port_officer=OK, outsider=HIDDEN),
    "record_result": dict(customs_analyst=FORBIDDEN, customs_supervisor=FORBIDDEN, police_liaison=FORBIDDEN, port_officer=OK, outsider=HIDDEN),
    "close_target": dict(customs_analyst=OK, customs_supervisor=OK, police_liaison=FORBIDDEN, port_officer=FORBIDDEN, outsider=HIDDEN),
    "mark_missed": dict(customs_analyst=FORBIDDEN, customs_supervisor=OK, police_liaison=FORBIDDEN, port_officer=HIDDEN, outsider=HIDDEN),
}  # fmt: skip
PERSON_CASES = [(name, person, answer) for name, row in BY_PERSON.items() for person, answer in row.items()]


@pytest.mark.parametrize(("name", "person", "answer"), PERSON_CASES)
def test_each_transition_by_each_person(name, person, answer, request, make_target, world):
    legal, to_state, _ = TRANSITIONS[name]
    state = sorted(legal)[0]
    actor = request.getfixturevalue(person)
    target = make_target(state=state)
    TargetShare.objects.create(target=target, agency=world.police, code=HandlingCode.SEE)
    if answer == OK:
        do(name, actor, target)
        target.refresh_from_db()
        assert target.state == to_state
        return
    expected = Http404 if answer == HIDDEN else PermissionDenied
    with pytest.raises(expected):
        do(name, actor, target)
    target.refresh_from_db()
    assert target.state == state


def test_a_share_that_allows_action_lets_a_partner_withdraw(make_target, world, police_liaison):
    target = make_target()
    TargetShare.objects.create(target=target, agency=world.police, code=HandlingCode.ACT)
    services.withdraw_target(actor=police_liaison, target=target, reason="Our source retracted")
    assert target.state == S.WITHDRAWN


def test_owner_consent_is_needed_before_a_partner_acts(make_target, world, police_liaison, customs_analyst):
    target = make_target()
    share = TargetShare.objects.create(target=target, agency=world.police, code=HandlingCode.CONSENT)
    with pytest.raises(PermissionDenied):
        services.withdraw_target(actor=police_liaison, target=target, reason="Ours")
    services.give_consent(actor=customs_analyst, share=share, reason="Agreed by phone")
    target.refresh_from_db()
    services.withdraw_target(actor=police_liaison, target=target, reason="Ours")
    assert target.state == S.WITHDRAWN


def test_reject_and_withdraw_need_a_reason(make_target, customs_supervisor):
    target = make_target()
    with pytest.raises(services.ValidationError):
        services.reject_target(actor=customs_supervisor, target=target, reason="  ")
    assert target.state == S.NOMINATED


def test_the_history_is_append_only(make_target, customs_analyst):
    target = services.start_review(actor=customs_analyst, target=make_target(), reason="mine")
    record = target.transitions.latest("id")
    record.reason = "rewritten"
    with pytest.raises(PermissionDenied):
        record.save()
    with pytest.raises(PermissionDenied):
        record.delete()

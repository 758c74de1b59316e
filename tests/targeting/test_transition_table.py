"""One transition table: the services, the buttons and the API move a target exactly as ``transitions`` says.

Every (action, state) pair is tried through ``run_action`` (what pages and the API call) by a person whose
role and team may make the move: where the table has no row from that state the move is refused and
nothing changes; where it has one, the target ends in the row's state and the history says so.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from apps.targeting import services, transitions
from apps.targeting.models import TargetState, Transition
from apps.targeting.queries import TargetAccess
from tests.targeting.factories import TargetFactory

S = TargetState


def _actor(move_operation: str, customs_supervisor, port_officer):
    return port_officer if move_operation == "exam.record" else customs_supervisor


@pytest.mark.parametrize("action", transitions.buttons())
def test_every_action_from_every_state_goes_where_the_table_says(
    make_target, customs_supervisor, customs_analyst, port_officer, action
):
    for state in [s for s in S.values if s != S.ON_HOLD]:
        target = make_target(state=state, arrival_at=None)
        # Four eyes: the approver must not be the nominator; let a colleague have nominated it.
        target.nominated_by = customs_analyst
        target.save(update_fields=["nominated_by"])
        row = transitions.move_for(action, state, random_control=False, system=False)
        operation = row.operation if row else next(transitions.rows(action)).operation
        actor = _actor(operation, customs_supervisor, port_officer)
        before = Transition.objects.filter(target=target).count()
        kwargs = {"method": "physical", "instruction": "Open the container."} if action == "dispatch" else {}
        if row is None:
            # Refused: by the table, or before it by visibility (an officer never sees an undecided target).
            with pytest.raises((PermissionDenied, Http404)):
                services.run_action(
                    actor=actor, target=target, action=action, expected_version=target.version,
                    reason="Because", **kwargs,
                )  # fmt: skip
            target.refresh_from_db()
            assert target.state == state, (action, state)
            assert Transition.objects.filter(target=target).count() == before, (action, state)
            assert action not in TargetAccess(actor, target).actions(), (action, state)
            continue
        moved = services.run_action(
            actor=actor,
            target=target,
            action=action,
            expected_version=target.version,
            reason="Because",
            **kwargs,
        )
        assert moved.state == row.to_state, (action, state)
        last = Transition.objects.filter(target=target).order_by("-pk").first()
        assert (last.from_state, last.to_state, last.actor_id) == (state, row.to_state, actor.pk)


def test_a_reason_is_asked_exactly_where_the_table_asks_for_one(make_target, customs_supervisor):
    for action in ("reject", "withdraw"):
        target = make_target(state=S.NOMINATED)
        assert transitions.move_for(action, S.NOMINATED, random_control=False, system=False).reason_required
        with pytest.raises(Exception, match="reason"):
            services.run_action(actor=customs_supervisor, target=target, action=action, expected_version=None)
        target.refresh_from_db()
        assert target.state == S.NOMINATED


def test_the_buttons_are_the_tables_rows_for_the_state(make_target, customs_supervisor):
    target = make_target(state=S.NOMINATED)
    offered = TargetAccess(customs_supervisor, target).moves()
    assert {m.action for m in offered} == {"start_review", "reject", "withdraw"}
    assert all(S.NOMINATED in m.from_states for m in offered)
    random = make_target(state=S.NOMINATED, random_control=True)
    offered = {m.action: m for m in TargetAccess(customs_supervisor, random).moves()}
    # Random control is never rejected or withdrawn; a supervisor may end it only as missed, with a reason.
    assert set(offered) == {"start_review", "mark_missed"}
    assert offered["mark_missed"].reason_required


def test_the_system_moves_through_the_same_table(world, customs_supervisor):
    target = TargetFactory(subject__port=world.port_a, state=S.IN_REVIEW, claimed_by=customs_supervisor)
    services.mark_missed(actor=None, target=target, reason="Conveyance released")
    target.refresh_from_db()
    assert target.state == S.MISSED and target.claimed_by_id is None
    last = Transition.objects.filter(target=target).order_by("-pk").first()
    assert (last.from_state, last.to_state, last.actor_id) == (S.IN_REVIEW, S.MISSED, None)
    # A state the system's row does not start from is refused to it as to anyone.
    closed = TargetFactory(subject__port=world.port_a, state=S.CLOSED)
    with pytest.raises(services.TransitionRefused):
        services.mark_missed(actor=None, target=closed)


def test_the_board_columns_are_the_tables_flow(db):
    from apps.live.boards import COLUMN_STATES

    assert COLUMN_STATES == transitions.FLOW_STATES
    assert COLUMN_STATES[0] == S.NOMINATED
    assert not set(COLUMN_STATES) & {S.CLOSED, S.REJECTED, S.WITHDRAWN, S.MISSED, S.RESULT_RECORDED}
    reachable = {m.to_state for m in transitions.TABLE}
    assert set(COLUMN_STATES) - {S.NOMINATED} <= reachable

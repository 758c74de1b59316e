"""The target's state machine, written once: every move a target can make, by whom and under what condition.

Each :class:`Move` names an action (as pages, the API and the history name it), the operation the actor
needs (``apps.agencies.operations``: role, agency and the operating model's routing), the states it
starts from, the state it ends in, whether the actor must give a reason, and who it is for in words.
:func:`apps.targeting.services.moves._move` reads the table to check and make every change, person's or the
system's; the buttons of the target page, the API's ``allowed`` list, ``run_action`` and the board's
columns read the same table. A state the table does not lead out of cannot be left, and a move the table
does not hold cannot be made.

One action may have several rows when who may do it depends on the target: "mark missed" is a
dispatcher's move once a target is approved, a deciding supervisor's move (with a reason) for a
random-control target still undecided, and the system's move for any target whose conveyance has gone.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from apps.targeting.models import FINAL_STATES, UNDECIDED_STATES, TargetState

S = TargetState

#: ``to_state`` of a move that returns a target to where it was before a hold (``Target.resume_state``).
RESUME = "resume"


@dataclass(frozen=True)
class Move:
    """One row of the state machine."""

    action: str
    service: str
    operation: str
    from_states: frozenset[str]
    to_state: str
    label: str
    who: str
    reason_required: bool = False
    #: True: only for a random-control target; False: never for one; None: for any target.
    random_control: bool | None = None
    #: The move is the system's (a periodic task, ``actor=None``), not a person's.
    system: bool = False
    #: The move ends the claim (whoever worked the target no longer holds it).
    clears_claim: bool = False
    #: Offered as a button among the target's actions (holds have their own form).
    button: bool = True
    style: str = ""

    def fits(self, *, random_control: bool, system: bool) -> bool:
        return self.system == system and self.random_control in (None, random_control)


_DECIDING = "a supervisor of the team the operating model routes the target to"
_REVIEWING = "an analyst of the deciding team"
_PORT = "a frontline officer at the target's port"
_OPEN = frozenset(UNDECIDED_STATES)

TABLE: tuple[Move, ...] = (
    Move("start_review", "start_review", "target.review", frozenset({S.NOMINATED}), S.IN_REVIEW,
         "Start review", _REVIEWING + " (who then holds the claim)", style="primary"),
    Move("submit", "submit_for_approval", "target.review", frozenset({S.IN_REVIEW}), S.AWAITING_APPROVAL,
         "Submit for approval", _REVIEWING, style="primary"),
    Move("approve", "approve_target", "target.approve", frozenset({S.AWAITING_APPROVAL}), S.APPROVED,
         "Approve", _DECIDING + ", never the nominator or submitter when four eyes apply",
         clears_claim=True, style="primary"),
    Move("reject", "reject_target", "target.reject", _OPEN, S.REJECTED, "Reject", _DECIDING,
         reason_required=True, random_control=False, clears_claim=True, style="danger"),
    Move("withdraw", "withdraw_target", "target.withdraw", _OPEN | {S.APPROVED}, S.WITHDRAWN, "Withdraw",
         "the owner agency, or an agency that may act on it", reason_required=True, random_control=False,
         clears_claim=True),
    Move("hold", "place_hold", "target.hold", _OPEN | {S.APPROVED, S.DISPATCHED}, S.ON_HOLD, "Hold",
         "any agency that may see the target (deconfliction)", reason_required=True, button=False),
    Move("release_hold", "release_hold", "target.hold", frozenset({S.ON_HOLD}), RESUME, "Release hold",
         "the agency that placed the last hold still standing", button=False),
    Move("dispatch", "dispatch_target", "target.dispatch", frozenset({S.APPROVED}), S.DISPATCHED, "Dispatch",
         _DECIDING + ", with an examination method and an instruction", style="primary"),
    Move("start_examination", "start_examination", "exam.record", frozenset({S.DISPATCHED}),
         S.IN_EXAMINATION, "Start examination", _PORT, style="primary"),
    Move("record_result", "record_result", "exam.record", frozenset({S.DISPATCHED, S.IN_EXAMINATION}),
         S.RESULT_RECORDED, "Record result", _PORT, style="primary"),
    Move("close", "close_target", "target.review", frozenset({S.RESULT_RECORDED}), S.CLOSED, "Close",
         _REVIEWING, style="primary"),
    Move("mark_missed", "mark_missed", "target.dispatch", frozenset({S.APPROVED, S.DISPATCHED}), S.MISSED,
         "Mark missed", "the dispatching team, when the conveyance left unexamined", clears_claim=True),
    Move("mark_missed", "mark_missed", "target.reject", _OPEN, S.MISSED, "Mark missed",
         _DECIDING + ": a random-control target is never rejected, so it ends here with a reason",
         reason_required=True, random_control=True, clears_claim=True),
    Move("mark_missed", "mark_missed", "", _OPEN | {S.APPROVED, S.DISPATCHED}, S.MISSED, "Mark missed",
         "the system, once the conveyance is released (arrival plus RATC_MISSED_GRACE_MINUTES)",
         system=True, clears_claim=True),
)  # fmt: skip

#: Every action name, in the table's order.
ACTIONS: tuple[str, ...] = tuple(dict.fromkeys(m.action for m in TABLE))
#: States a hold may be placed from (the ``hold`` row).
HOLDABLE_STATES: frozenset[str] = next(m.from_states for m in TABLE if m.action == "hold")
#: States the system ends as missed once the conveyance is released.
SYSTEM_MISSABLE_STATES: frozenset[str] = next(
    m.from_states for m in TABLE if m.action == "mark_missed" and m.system
)
#: The board's columns: the states work passes through before a result, in the order the table's rows
#: first reach them (a result goes to the board's findings; a final state leaves the board).
FLOW_STATES: tuple[str, ...] = tuple(
    state
    for state in dict.fromkeys([S.NOMINATED, *(m.to_state for m in TABLE)])
    if state in S.values and state not in FINAL_STATES and state != S.RESULT_RECORDED
)


def rows(action: str) -> Iterator[Move]:
    return (m for m in TABLE if m.action == action)


def moves_for(action: str, *, random_control: bool, system: bool) -> list[Move]:
    """The rows of ``action`` that apply to this target and this kind of actor."""
    return [m for m in rows(action) if m.fits(random_control=random_control, system=system)]


def move_for(action: str, state: str, *, random_control: bool, system: bool) -> Move | None:
    """The row that governs ``action`` from ``state`` (None: the action does not start there)."""
    return next(
        (
            m
            for m in moves_for(action, random_control=random_control, system=system)
            if state in m.from_states
        ),
        None,
    )


def from_states(action: str, *, random_control: bool, system: bool) -> frozenset[str]:
    """Every state ``action`` may start from for this target and actor (for the "cannot go there" message)."""
    return frozenset().union(
        *(m.from_states for m in moves_for(action, random_control=random_control, system=system))
    )


def label(action: str) -> str:
    return next(rows(action)).label


def buttons() -> tuple[str, ...]:
    """Actions offered as buttons, in the table's order."""
    return tuple(dict.fromkeys(m.action for m in TABLE if m.button and not m.system))

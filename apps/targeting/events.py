"""Domain events of the workflow, for the apps above targeting: instructions (webhooks to port systems)
and changed targets (the report's summary rows).

Targeting sits below the apps that act on its instructions from outside (``apps.integrations``), so it
does not import them: the workflow services announce "instruction N was issued / changed" here, after the
transaction commits, and whoever listens (``IntegrationsConfig.ready`` connects the webhook fan-out) reads
what it may from the database. One signal, one sender, one listener per concern: the chain stops there.

Like the live events (``apps.core.events.publish_on_commit``) nothing is announced before the commit, so a
rolled-back dispatch notifies nobody; and a listener's failure is logged, never turned into an error of
the committed change (``on_commit(..., robust=True)``).
"""

from __future__ import annotations

from django.db import transaction
from django.dispatch import Signal

from apps.targeting.models import Instruction, Target, TargetState

__all__ = [
    "INSTRUCTED_STATES",
    "INSTRUCTION_EVENTS",
    "announce_target_changed",
    "instruction_event",
    "instruction_event_on_commit",
    "instruction_moved",
    "target_changed",
]

S = TargetState

#: Every instruction event, with what it means for the port that received the instruction.
INSTRUCTION_EVENTS: dict[str, str] = {
    "instruction.issued": "A target was dispatched to the port: examine it as instructed.",
    "instruction.updated": "The instructed target moved on: held (wait), released from the hold, examination "
    "started, result recorded, closed. Its state says which.",
    "instruction.cancelled": "The target was marked missed: the instruction no longer stands.",
}

#: States of a target that carries an instruction: a move out of one of them changes the instruction.
INSTRUCTED_STATES = frozenset({S.DISPATCHED, S.IN_EXAMINATION, S.RESULT_RECORDED, S.ON_HOLD})

#: Sent after commit with ``instruction_id`` and ``event`` (a key of ``INSTRUCTION_EVENTS``).
instruction_event = Signal()


def instruction_event_on_commit(instruction_id: int, event: str) -> None:
    """Announce ``event`` about the instruction once the current transaction commits (at once outside one)."""
    if event not in INSTRUCTION_EVENTS:
        raise ValueError(f"unknown instruction event {event!r}")
    transaction.on_commit(
        lambda: instruction_event.send(sender=Instruction, instruction_id=instruction_id, event=event),
        robust=True,
    )


def instruction_moved(target_id: int, from_state: str, to_state: str) -> None:
    """Called by ``services._move`` inside its transaction: a target that carries an instruction moved.

    Marked missed, the instruction is cancelled; any other move of an instructed target (a hold, its
    release, the examination's steps) updates it, and its ``state`` says which. Who is told is decided by
    the listener, by what each account may see (``Target.visibility_q``).
    """
    if from_state not in INSTRUCTED_STATES:
        return
    instruction_id = (
        Instruction.objects.filter(target_id=target_id)
        .order_by("-dispatched_at", "-id")
        .values_list("pk", flat=True)
        .first()
    )
    if instruction_id is None:  # held before it was ever dispatched
        return
    event = "instruction.cancelled" if to_state == S.MISSED else "instruction.updated"
    instruction_event_on_commit(instruction_id, event)


#: Sent inside the workflow's transaction with ``target_id`` whenever a target is nominated, moved,
#: decided or examined. Listeners defer their own work to the commit: ``ReportsConfig.ready`` connects
#: the rewrite of the target's summary row (``apps.reports.stats.target_changed``), so the workflow
#: feeds the reports without importing them.
target_changed = Signal()


def announce_target_changed(target_id: int) -> None:
    """Called by the workflow services (targeting, frontline, the risk engine's nominations) inside
    their transaction, once per target changed."""
    target_changed.send(sender=Target, target_id=target_id)

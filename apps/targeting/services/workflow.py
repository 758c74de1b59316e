"""The workflow's moves after nomination: review, approval, rejection, withdrawal, examination, result,
closing and missed (dispatch is ``dispatching``; holds are ``holds``).
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.utils import timezone

from apps.agencies.operations import check
from apps.targeting import transitions
from apps.targeting.models import Target
from apps.targeting.queries import known_visible
from apps.targeting.services.moves import StaleChange, TransitionRefused, _move


def _refuse_unruled_hits(target: Target) -> None:
    """A watchlist hit leads to action only once a person has ruled it a true match (or unsure)."""
    from apps.watchlists.services import hits_blocking_action

    if blocking := hits_blocking_action(target):
        raise TransitionRefused(f"{target.reference}: " + " ".join(blocking))


def start_review(
    *, actor: User, target: Target, expected_version: int | None = None, reason: str = ""
) -> Target:
    """Take a nominated target into review; the reviewer also claims it (unless someone else has)."""
    if target.claimed_by_id and target.claimed_by_id != actor.pk:
        raise StaleChange(f"{target.reference} is claimed by {target.claimed_by}; ask them or a supervisor.")
    now = timezone.now()
    return _move(
        actor=actor, target=target, action="start_review", expected_version=expected_version, reason=reason,
        extra={"claimed_by": actor, "claimed_at": now},
    )  # fmt: skip


def submit_for_approval(
    *, actor: User, target: Target, expected_version: int | None = None, reason: str = ""
) -> Target:
    """The reviewer proposes the target for approval."""
    if target.claimed_by_id and target.claimed_by_id != actor.pk:
        raise StaleChange(f"{target.reference} is claimed by {target.claimed_by}; ask them or a supervisor.")
    return _move(
        actor=actor, target=target, action="submit", expected_version=expected_version, reason=reason,
    )  # fmt: skip


def approve_target(
    *, actor: User, target: Target, expected_version: int | None = None, reason: str = ""
) -> Target:
    """A supervisor of the deciding team approves the target for examination.

    Four eyes (``routing``): never the person who nominated or submitted it. A watchlist hit behind it
    must have been ruled a true match (or unsure) by a person first.
    """
    check(actor, "target.approve", target, visible=known_visible(target, actor))
    _refuse_unruled_hits(target)
    return _move(
        actor=actor, target=target, action="approve", expected_version=expected_version, reason=reason,
        checked="target.approve",
    )  # fmt: skip


def reject_target(
    *, actor: User, target: Target, expected_version: int | None = None, reason: str = ""
) -> Target:
    """A supervisor of the deciding team rejects the nomination (a reason is required).

    Never a random-control target (the table has no such row): the random sample is what the centre's
    lift and base rates are measured against, so a person's judgement must not thin it.
    """
    return _move(
        actor=actor, target=target, action="reject", expected_version=expected_version, reason=reason
    )  # fmt: skip


def withdraw_target(
    *, actor: User, target: Target, expected_version: int | None = None, reason: str = ""
) -> Target:
    """The owner agency withdraws its target before it is dispatched (a reason is required).

    Not a random-control target, for the reason it cannot be rejected.
    """
    return _move(
        actor=actor, target=target, action="withdraw", expected_version=expected_version, reason=reason
    )  # fmt: skip


def start_examination(
    *, actor: User, target: Target, expected_version: int | None = None, reason: str = ""
) -> Target:
    """A frontline officer at the target's port starts the examination."""
    return _move(
        actor=actor, target=target, action="start_examination", expected_version=expected_version,
        reason=reason,
    )  # fmt: skip


def record_result(
    *, actor: User, target: Target, expected_version: int | None = None, reason: str = ""
) -> Target:
    """The examination's result is recorded (the frontline app stores the result itself and calls this)."""
    return _move(
        actor=actor, target=target, action="record_result", expected_version=expected_version,
        reason=reason,
    )  # fmt: skip


def close_target(
    *, actor: User, target: Target, expected_version: int | None = None, reason: str = ""
) -> Target:
    """The deciding team closes a target once its result is recorded."""
    return _move(
        actor=actor, target=target, action="close", expected_version=expected_version, reason=reason,
    )  # fmt: skip


def missable_states(target: Target) -> frozenset[str]:
    """The states from which a person may mark ``target`` missed (the table's ``mark_missed`` rows).

    A random-control target cannot be rejected or withdrawn, so "missed, with a reason" is also how a
    supervisor ends one still undecided (the ledger counts it as a random-control target not examined).
    """
    return transitions.from_states("mark_missed", random_control=target.random_control, system=False)


def mark_missed(
    *,
    actor: User | None,
    target: Target,
    expected_version: int | None = None,
    reason: str = "Released before examination",
) -> Target:
    """The conveyance was released before the target could be examined. ``actor=None`` is the periodic task,
    which ends every undecided, approved or dispatched target (``tasks.mark_missed_targets``).

    Which right a person needs, and whether a reason, is the table's: ``target.dispatch`` for an approved
    or dispatched target; ``target.reject`` and a reason to end an undecided random-control target.
    """
    return _move(
        actor=actor, target=target, action="mark_missed", expected_version=expected_version, reason=reason
    )  # fmt: skip

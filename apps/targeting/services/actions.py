"""A transition by the name pages and the API give it, run through its service function."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError

from apps.targeting import transitions
from apps.targeting.models import Target
from apps.targeting.services.dispatching import dispatch_target
from apps.targeting.services.holds import place_hold, release_hold
from apps.targeting.services.workflow import (
    approve_target,
    close_target,
    mark_missed,
    record_result,
    reject_target,
    start_examination,
    start_review,
    submit_for_approval,
    withdraw_target,
)

#: The service functions the transition table (``transitions.Move.service``) names.
_SERVICES: dict[str, Any] = {
    "approve_target": approve_target,
    "close_target": close_target,
    "dispatch_target": dispatch_target,
    "mark_missed": mark_missed,
    "place_hold": place_hold,
    "record_result": record_result,
    "reject_target": reject_target,
    "release_hold": release_hold,
    "start_examination": start_examination,
    "start_review": start_review,
    "submit_for_approval": submit_for_approval,
    "withdraw_target": withdraw_target,
}


def run_action(
    *,
    actor: User,
    target: Target,
    action: str,
    expected_version: int | None,
    reason: str = "",
    method: str = "",
    instruction: str = "",
) -> Target:
    """Run the named transition (as pages and the API name them) through its service function."""
    if action not in transitions.buttons():
        raise ValidationError({"action": f"Unknown action {action!r}."})
    func = _SERVICES[next(transitions.rows(action)).service]
    if action == "dispatch":
        func(actor=actor, target=target, method=method, instruction=instruction, expected_version=expected_version,
             reason=reason)  # fmt: skip
        target.refresh_from_db()
        return target
    if action == "mark_missed":
        # A random-control target is ended this way only with the person's own reason.
        default = "" if target.random_control else "Released before examination"
        return func(actor=actor, target=target, expected_version=expected_version,
                    reason=reason or default)  # fmt: skip
    return func(actor=actor, target=target, expected_version=expected_version, reason=reason)

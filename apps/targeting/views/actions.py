"""One view per action on a target, each at its own URL (``<pk>/<action>/``) with its own form.

Each returns what to tell the person; ``common.on_target`` loads the target in the person's scope and
turns a refusal or a stale version into a message on the target's page.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpResponseBase

from apps.core.actions import cleaned
from apps.core.requests import AuthedRequest
from apps.targeting import services
from apps.targeting.forms import (
    CommentForm,
    ConsentForm,
    DispatchForm,
    HoldForm,
    MoveForm,
    ReleaseHoldForm,
    ShareForm,
)
from apps.targeting.models import Target
from apps.targeting.views.common import on_target


def move(action: str) -> Callable[..., HttpResponseBase]:
    """The view of one transition button (``transitions.buttons()``: approve, reject, dispatch...)."""

    def view(request: AuthedRequest, target: Target) -> str:
        data = cleaned((DispatchForm if action == "dispatch" else MoveForm)(request.POST))
        target = services.run_action(
            actor=request.user, target=target, action=action, expected_version=data["version"],
            reason=data["reason"], method=data.get("method", ""), instruction=data.get("instruction", ""),
        )  # fmt: skip
        return f"{target.reference} is now “{target.get_state_display()}”."

    view.__name__ = view.__qualname__ = f"move_{action}"
    return on_target(view)


@on_target
def claim(request: AuthedRequest, target: Target) -> str:
    services.claim_target(actor=request.user, target=target)
    return f"You are working {target.reference}."


@on_target
def release(request: AuthedRequest, target: Target) -> str:
    services.release_claim(actor=request.user, target=target)
    return f"{target.reference} is back in the queue."


@on_target
def hold(request: AuthedRequest, target: Target) -> str:
    data = cleaned(HoldForm(request.POST))
    services.place_hold(
        actor=request.user, target=target, reason=data["reason"], expected_version=data["version"]
    )
    return f"{target.reference} is on hold under your agency's control."


@on_target
def release_hold(request: AuthedRequest, target: Target) -> str:
    data = cleaned(ReleaseHoldForm(request.POST, user=request.user, target=target))
    services.release_hold(actor=request.user, hold=data["hold"], reason=data["reason"])
    return "Hold released."


@on_target
def comment(request: AuthedRequest, target: Target) -> str:
    form = CommentForm(request.POST, request.FILES)
    data = cleaned(form)
    services.add_comment(
        actor=request.user,
        target=target,
        body=data["body"],
        attachments=form.uploads(),
        private=data["private"],
    )
    return "Comment added."


@on_target
def share(request: AuthedRequest, target: Target) -> str:
    data = cleaned(ShareForm(request.POST))
    services.share_target(actor=request.user, target=target, agency=data["agency"], code=data["code"])
    return f"Shared with {data['agency'].name}."


@on_target
def consent(request: AuthedRequest, target: Target) -> str:
    data = cleaned(ConsentForm(request.POST, target=target))
    services.give_consent(actor=request.user, share=data["share"], reason=data["reason"])
    return f"{data['share'].agency.name} may now act."

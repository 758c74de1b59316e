"""Dispatch: an approved target sent to its port as an examination instruction, one at a time or as a
capacity-bound proposal for a shift (``apps.targeting.dispatch`` builds the proposal).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from apps.agencies.models import ExaminationMethod, Port, Shift
from apps.agencies.operations import check
from apps.core.events import group_name, publish_on_commit
from apps.targeting.disclosure import disclose
from apps.targeting.events import instruction_event_on_commit
from apps.targeting.masking import WITHHELD
from apps.targeting.models import (
    DispatchProposal,
    ExaminationFocus,
    Hold,
    Instruction,
    Target,
)
from apps.targeting.queries import known_visible
from apps.targeting.services.moves import StaleChange, TransitionRefused, _move
from apps.targeting.services.workflow import _refuse_unruled_hits


def dispatch_target(
    *,
    actor: User,
    target: Target,
    method: str,
    instruction: str,
    expected_version: int | None = None,
    shift: str = "",
    proposal: DispatchProposal | None = None,
    reason: str = "",
) -> Instruction:
    """Send an approved, unheld target to its port as an examination instruction with ``method``.

    ``instruction`` is the intelligence the frontline officer may see (blank: ``default_instruction``);
    it is all he reads of why: the tablet lists none of the target's reasons (``disclose``).
    """
    check(actor, "target.dispatch", target, visible=known_visible(target, actor))
    if not instruction.strip():
        instruction = default_instruction(target, actor)
    if method not in ExaminationMethod.values:
        raise ValidationError({"method": f"Unknown examination method {method!r}."})
    if shift and shift not in Shift.values:
        raise ValidationError({"shift": f"Unknown shift {shift!r}."})
    if not instruction.strip():
        raise ValidationError({"instruction": "Tell the officer what to look for."})
    port = target.port  # None (and no query) when port_id is None
    if port is None:
        raise ValidationError({"port": "This target has no port to dispatch to."})
    if Hold.objects.filter(target=target, released_at__isnull=True).exists():
        raise TransitionRefused(f"{target.reference} is held by a partner agency and cannot be dispatched.")
    _refuse_unruled_hits(target)
    with transaction.atomic():
        target = _move(
            actor=actor, target=target, action="dispatch", expected_version=expected_version,
            reason=reason or f"{ExaminationMethod(method).label} at {port.locode}",
            checked="target.dispatch",
        )  # fmt: skip
        record = Instruction.objects.create(
            target=target, port=port, method=method, shift=shift, instruction=instruction.strip(),
            dispatched_by=actor, proposal=proposal,
        )  # fmt: skip
        locode = port.locode
        publish_on_commit(
            group_name("port", locode), "instruction.dispatched",
            target=target.pk, instruction=record.pk, state=target.state, version=target.version,
        )  # fmt: skip
        instruction_event_on_commit(record.pk, "instruction.issued")  # port systems' webhooks
    return record


def propose_dispatch(*, actor: User, port: Port, shift: str, date: Any = None) -> DispatchProposal:
    """Propose which approved targets at ``port`` to examine in ``shift`` of ``date`` (today by default),
    maximising expected findings within that day's capacity."""
    from apps.targeting.dispatch import build_proposal

    check(actor, "target.dispatch")
    if shift not in Shift.values:
        raise ValidationError({"shift": f"Unknown shift {shift!r}."})
    return build_proposal(actor=actor, port=port, shift=shift, date=date)


def accept_proposal(
    *,
    actor: User,
    proposal: DispatchProposal,
    choices: dict[int, str] | None = None,
    instruction: str = "",
    instructions: dict[int, str] | None = None,
) -> tuple[list[Instruction], list[str]]:
    """Dispatch the proposal's targets (``choices`` maps target id → method, to edit it).

    What each officer is told: ``instructions[target id]`` (the proposal page's box per target, which
    it prefills with ``default_instruction``), else ``instruction`` for all, else ``default_instruction``.

    Each target is dispatched by ``dispatch_target`` with the version seen when the proposal was made,
    so one moved in the meantime is skipped with its reason; returns the instructions and the problems.
    """
    check(actor, "target.dispatch")
    if not DispatchProposal.objects.visible_to(actor).filter(pk=proposal.pk).exists():
        from django.http import Http404

        raise Http404("Not found.")
    versions = {row["target"]: row["version"] for row in proposal.selected}
    versions.update({row["target"]: row.get("version") for row in proposal.left_out if "version" in row})
    if choices is None:
        choices = {row["target"]: row["method"] for row in proposal.selected}
    used: dict[str, int] = {}
    for method in choices.values():
        used[method] = used.get(method, 0) + 1
    over = [m for m, n in used.items() if n > proposal.capacity.get(m, 0)]
    if over:
        raise ValidationError({"choices": f"More targets than slots for {', '.join(over)}."})
    # Claim the proposal first: of two supervisors accepting it at once, one dispatches.
    if not DispatchProposal.objects.filter(pk=proposal.pk, accepted_at__isnull=True).update(
        accepted_by=actor, accepted_at=timezone.now()
    ):
        raise StaleChange("This proposal was already accepted; make a new one.")
    proposal.refresh_from_db()
    done: list[Instruction] = []
    problems: list[str] = []
    targets = Target.objects.visible_to(actor).select_related("port", "subject").in_bulk(list(choices))
    for target_id, method in choices.items():
        target = targets.get(target_id)
        if target is None:
            problems.append(f"Target {target_id} is not visible to you.")
            continue
        text = (
            (instructions or {}).get(target_id, "").strip()
            or instruction
            or default_instruction(target, actor)
        )
        try:
            done.append(
                dispatch_target(
                    actor=actor,
                    target=target,
                    method=method,
                    instruction=text,
                    shift=proposal.shift,
                    expected_version=versions.get(target_id, target.version),
                    proposal=proposal,
                )
            )
        except (StaleChange, PermissionDenied, ValidationError) as error:
            problems.append(f"{target.reference}: {error}")
    return done, problems


def default_instruction(target: Target, viewer: Any) -> str:
    """What the officer is told unless the dispatcher writes otherwise: the risk area, what to look for in
    an examination of that area (``ExaminationFocus.words``: the centre's words, else the product's),
    and the analyst's words for the port — what was written at nomination.

    Never the engine's reasons, not even in plain words: a target drawn for random control has none (or
    only those of a score below the threshold), so an instruction made of them would tell the officer
    which targets were drawn, and he would examine those less thoroughly. The dispatcher reads the plain
    lines on the target page and may add them by hand. The analyst's words are read through
    ``disclose(viewer, target)``: a dispatcher is never offered words he may not read himself.
    """
    words = [
        r["text"]
        for r in disclose(viewer, target).reasons
        if r.get("kind") == "person" and r.get("ref") != WITHHELD and str(r.get("text", "")).strip()
    ]
    focus = _focus_words(viewer).get(target.risk_area, "")
    lines = [f"{target.get_risk_area_display()} risk.", focus, *(w.strip() for w in words)]
    return "\n".join(line for line in lines if line)


def _focus_words(viewer: Any) -> dict[str, str]:
    """``ExaminationFocus.words``, read once per request: a proposal page offers an instruction per row.

    Remembered on the viewer, as the disclosure remembers the rules it may see: a page's user object
    lives for its request (a simulated colleague keeps his for a run, and with it the words it began with).
    """
    words: dict[str, str] | None = getattr(viewer, "_ratc_focus_words", None)
    if words is None:
        words = ExaminationFocus.words()
        viewer._ratc_focus_words = words
    return words

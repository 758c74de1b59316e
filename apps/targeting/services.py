"""Every change to a target, as one function with an actor: the only way pages, the API and tasks change one.

Each function checks the actor first (role, agency, routing), changes state by a conditional UPDATE on
``(pk, state, version)`` inside a transaction, writes an append-only ``Transition`` and publishes
ids-only events after commit. A change that lost a race raises ``StaleChange`` with a message that
names who moved the target first.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from apps.agencies.models import Agency, ExaminationMethod, Port, Shift
from apps.agencies.operations import check, membership_of
from apps.agencies.roles import Role
from apps.intake.models import Subject
from apps.live.events import group_name, publish_on_commit
from apps.reports.stats import target_changed
from apps.targeting import transitions
from apps.targeting.audience import audience_of
from apps.targeting.disclosure import ENGINE_REASON_KINDS, disclose, plain_reason
from apps.targeting.events import instruction_event_on_commit, instruction_moved
from apps.targeting.masking import WITHHELD
from apps.targeting.models import (
    FINAL_STATES,
    OPEN_STATES,
    Attachment,
    Comment,
    DispatchProposal,
    HandlingCode,
    Hold,
    Instruction,
    JointOperation,
    RiskArea,
    Scope,
    Target,
    TargetShare,
    TargetState,
    Transition,
)
from apps.targeting.routing import port_ids_of

S = TargetState
Proposal = DispatchProposal

__all__ = [
    "Proposal",
    "StaleChange",
    "TransitionRefused",
    "accept_proposal",
    "add_comment",
    "add_to_operation",
    "approve_target",
    "claim_target",
    "close_target",
    "create_operation",
    "default_instruction",
    "dispatch_target",
    "expire_claims",
    "give_consent",
    "mark_missed",
    "missable_states",
    "nominate",
    "nominate_target",
    "place_hold",
    "propose_dispatch",
    "record_result",
    "reject_target",
    "release_claim",
    "release_hold",
    "run_action",
    "share_target",
    "start_examination",
    "start_review",
    "submit_for_approval",
    "withdraw_target",
]

REASON_KINDS = {"rule", "watchlist", "model", "person", "random"}
HOLDABLE_STATES = transitions.HOLDABLE_STATES
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
ATTACHMENT_TYPES = {
    "application/pdf": b"%PDF-",
    "image/png": b"\x89PNG\r\n\x1a\n",
    "image/jpeg": b"\xff\xd8\xff",
    "text/plain": None,
    "text/csv": None,
}
MENTION = re.compile(r"(?<![\w.])@([\w.+-]+)")


class StaleChange(Exception):
    """Someone else changed the target first; the user must look again before acting."""


class TransitionRefused(PermissionDenied):
    """The transition is not allowed from the target's current state (or a hold forbids it)."""


# --------------------------------------------------------------------------- helpers


def _agency_of(actor: Any) -> Agency | None:
    membership = membership_of(actor)
    return membership.agency if membership else None


def _publish(target: Target, event_type: str = "target.changed", groups: list[str] | None = None) -> None:
    """Tell the target's audience (``apps.targeting.audience``) after commit, ids only."""
    for group in audience_of(target) if groups is None else groups:
        publish_on_commit(group, event_type, target=target.pk, state=target.state, version=target.version)


def _record(target: Target, actor: Any, from_state: str, to_state: str, reason: str) -> Transition:
    agency = _agency_of(actor)
    transition = Transition.objects.create(
        target=target,
        actor=actor if getattr(actor, "pk", None) else None,
        actor_agency=agency,
        from_state=from_state,
        to_state=to_state,
        version=target.version,
        reason=reason,
    )
    target_changed(target.pk)  # the report's summary row of the target, rewritten after the commit
    return transition


def _loaded_relations(obj: Any, prefix: str = "", depth: int = 2) -> list[str]:
    """``select_related`` names of the foreign keys already loaded on ``obj`` (and on those, ``depth`` deep)."""
    names = []
    for field in obj._meta.concrete_fields:
        if field.is_relation and field.is_cached(obj):
            names.append(prefix + field.name)
            related = field.get_cached_value(obj)
            if related is not None and depth > 1:
                names += _loaded_relations(related, f"{prefix}{field.name}__", depth - 1)
    return names


def _reload(target: Target) -> None:
    """Read ``target`` again after its conditional UPDATE, with the related rows the caller had loaded
    (read again in the same query), so that the page or answer that shows it next does not fetch its
    owner, port and subject one query at a time."""
    target.refresh_from_db(from_queryset=Target.objects.select_related(*_loaded_relations(target)))


def _stale_message(target_pk: int) -> str:
    fresh = Target.objects.filter(pk=target_pk).first()
    if fresh is None:
        return "This target no longer exists."
    last = (
        Transition.objects.filter(target_id=target_pk).select_related("actor").order_by("-at", "-id").first()
    )
    who = (last.actor.get_full_name() or last.actor.username) if last and last.actor else "the system"
    return (
        f"{fresh.reference} was changed by {who} before you (it is now "
        f"“{fresh.get_state_display()}”, version {fresh.version}). Reload it and decide again."
    )


def _move(
    *,
    actor: Any,
    target: Target,
    action: str,
    expected_version: int | None,
    reason: str,
    extra: dict[str, Any] | None = None,
    event: str = "target.changed",
    checked: str = "",
) -> Target:
    """The one conditional state change every transition uses, as the table (``transitions``) says.

    The row of ``action`` that fits the target (random control or not), the actor (a person, or
    ``actor=None``: the system, whose history line says so) and the target's state gives the operation to
    check, whether a reason is required, the state to go to and whether the claim ends. ``checked``: the
    operation the calling service has just checked on this target for this actor; the row's operation is
    not checked a second time when it is that one (a check reads visibility and configuration: two
    queries on the transition API's path), and is checked when it is any other.
    """
    system = actor is None
    rows = transitions.moves_for(action, random_control=target.random_control, system=system)
    if not rows:
        if not system and target.random_control and any(transitions.rows(action)):
            check(actor, next(transitions.rows(action)).operation, target)  # no right: told that, not why
            raise TransitionRefused(
                RANDOM_CONTROL_REFUSAL.format(
                    ref=target.reference, done=RANDOM_CONTROL_DONE.get(action, action)
                )
            )
        raise TransitionRefused(f"{target.reference}: “{action}” is not a move this target can make.")
    row = next((m for m in rows if target.state in m.from_states), None)
    if not system and (row or rows[0]).operation != checked:
        check(actor, (row or rows[0]).operation, target)
    if (row or rows[0]).reason_required and not reason.strip():
        raise ValidationError({"reason": "Give a reason for this decision."})
    version = target.version if expected_version is None else expected_version
    if target.version != version:
        raise StaleChange(_stale_message(target.pk))
    if row is None:
        to_state = rows[0].to_state
        going = S(to_state).label if to_state in S.values else "where it was before the hold"
        raise TransitionRefused(
            f"{target.reference} is “{target.get_state_display()}”: it cannot go to “{going}” from there."
        )
    to_state = row.to_state
    changes = dict(extra or {})
    if to_state == transitions.RESUME:
        to_state, changes["resume_state"] = target.resume_state or S.APPROVED, ""
    if row.clears_claim:
        changes.update(claimed_by=None, claimed_at=None)
    now = timezone.now()
    with transaction.atomic():
        updated = Target.objects.filter(pk=target.pk, version=version, state__in=row.from_states).update(
            state=to_state, version=F("version") + 1, updated_at=now, **changes
        )
        if updated != 1:
            raise StaleChange(_stale_message(target.pk))
        from_state = target.state
        _reload(target)
        # Who to tell is read before the history row is appended (appending locks nothing shared; rows
        # are linked into the chain after the commit: apps.compliance.chain).
        groups = audience_of(target)
        _record(target, actor, from_state, to_state, reason)
        _publish(target, event, groups)
        instruction_moved(target.pk, from_state, to_state)  # port systems' webhooks, after the commit
    return target


def _reasons(reasons: Any, fallback_text: str, *, by_engine: bool = False) -> list[dict[str, Any]]:
    """The nomination's reasons, checked, each ``{"kind", "text", "ref"}``.

    A rule or model reason also carries ``plain``: the line for those who may not read what fired (a
    frontline officer, a partner agency; ``disclosure.plain_reason``), as the engine wrote it, else made
    here, so that no renderer ever has to fall back on the condition. A watchlist reason keeps ``list``
    (which list matched), so that disclosure withholds it from agencies that may not see that list.
    """
    cleaned: list[dict[str, Any]] = []
    for i, item in enumerate(reasons or []):
        if isinstance(item, str):
            item = {"kind": "person", "text": item, "ref": ""}
        if (
            not isinstance(item, dict)
            or not isinstance(item.get("kind"), str)
            or item["kind"] not in REASON_KINDS
            or not isinstance(item.get("text", ""), str | int | float)
            or not str(item.get("text", "")).strip()
            or not isinstance(item.get("ref", ""), str | int)
        ):
            raise ValidationError(
                {"reasons": f"Reason {i + 1} needs a kind ({', '.join(sorted(REASON_KINDS))}) and a text."}
            )
        row: dict[str, Any] = {
            "kind": item["kind"],
            "text": str(item["text"]).strip(),
            "ref": str(item.get("ref", "")),
        }
        if row["kind"] in ENGINE_REASON_KINDS:
            row["plain"] = plain_reason({**row, "plain": item.get("plain") or ""}, by_engine=by_engine)
        if row["kind"] == "watchlist" and isinstance(item.get("list"), int):
            row["list"] = item["list"]
        cleaned.append(row)
    if not cleaned and fallback_text.strip():
        cleaned.append({"kind": "person", "text": fallback_text.strip(), "ref": ""})
    if not cleaned:
        raise ValidationError({"reasons": "Say why this subject should be targeted."})
    return cleaned


# --------------------------------------------------------------------------- nomination


def nominate_target(**kwargs: Any) -> Target:
    """Nominate (see ``nominate``); returns the target, new or the open one already there."""
    return nominate(**kwargs)[0]


def nominate(
    *,
    actor: Any,
    subject: Subject,
    risk_area: str,
    reasons: list[dict[str, str]] | list[str],
    priority: int = 50,
    score: float | None = None,
    by_engine: bool = False,
    random_control: bool = False,
    reason: str = "",
    scope: str | None = None,
) -> tuple[Target, bool]:
    """Nominate ``subject`` as a target in ``risk_area``: ``(target, created)``.

    When an open target on the subject and area already exists *and the nominator may see it*, that one
    is returned (``created`` False): nobody works the same subject twice. One of his own agency that he
    may not see (another team's) is refused with a reason: an agency has one open target per subject
    and area (a database constraint). Another agency's open target
    that is not shared with the nominator is never returned (its owner, reasons and claimant are not his
    to read): his agency gets a target of its own, and deconfliction happens through sharing and holds.

    The risk engine calls this server-side with ``actor=None, by_engine=True``; the owner agency is then
    the subject's. A person needs ``target.nominate`` and must see the subject; the owner agency is his.
    ``scope`` (hybrid model) defaults to ``port`` for a nominator who works at ports, else ``national``.
    When a partner agency nominates and a national agency runs the centre, the target is shared with
    it ("may act"), since the national centre routes and decides.
    """
    if actor is None:
        if not by_engine:
            raise PermissionDenied("Only the risk engine may nominate without a person.")
        owner_agency_id = subject.owner_agency_id
        membership = None
    else:
        check(actor, "target.nominate")
        if not Subject.objects.visible_to(actor).filter(pk=subject.pk).exists():
            from django.http import Http404

            raise Http404("Not found.")
        membership = membership_of(actor)
        owner_agency_id = membership.agency_id
    if risk_area not in RiskArea.values:
        # Name the field and the choices: an empty value is a forgotten choice, not an unknown area.
        choices = ", ".join(str(label) for label in RiskArea.labels)
        said = "Choose the risk area" if not risk_area else f"“{risk_area}” is not a risk area; choose one"
        raise ValidationError({"risk_area": f"Risk area: {said} ({choices})."})
    try:
        priority = int(priority)
    except (TypeError, ValueError):
        raise ValidationError({"priority": "Priority is a whole number between 0 and 100."}) from None
    if not 0 <= priority <= 100:
        raise ValidationError({"priority": "Priority is between 0 and 100."})
    cleaned = _reasons(reasons, reason, by_engine=by_engine)
    if scope is None:
        scope = Scope.PORT if membership is not None and port_ids_of(membership) else Scope.NATIONAL
    with transaction.atomic():
        # Lock the subject row so two nominations of the same subject and area cannot both create one.
        Subject.objects.select_for_update().filter(pk=subject.pk).first()
        open_ones = Target.objects.filter(subject=subject, risk_area=risk_area, state__in=OPEN_STATES)
        if actor is None:
            existing = open_ones.filter(owner_agency_id=owner_agency_id).first()
        else:
            existing = open_ones.visible_to(actor).first()
        if existing is not None:
            return existing, False
        if open_ones.filter(owner_agency_id=owner_agency_id).exists():
            # His own agency works it already, in a team he does not see (a port team beside the centre):
            # one agency never works the same subject twice in an area (the database refuses it too).
            # Nothing of that target is his to read; that it exists in his own agency is.
            raise ValidationError(
                {"risk_area": "Your agency already has an open target on this subject in this risk area."}
            )
        target = Target.objects.create(
            subject=subject,
            owner_agency_id=owner_agency_id,
            risk_area=risk_area,
            reasons=cleaned,
            priority=int(priority),
            score=score,
            scope=scope,
            port_id=subject.port_id,
            arrival_at=subject.arrival_at,
            nominated_by=actor,
            by_engine=by_engine,
            random_control=random_control,
        )
        _record(
            target, actor, "", S.NOMINATED, reason or ("Nominated by the risk engine" if by_engine else "")
        )
        from apps.agencies.models import CentreConfiguration

        national = CentreConfiguration.current().national_agency_id
        if national and national != owner_agency_id:
            TargetShare.objects.create(
                target=target, agency_id=national, code=HandlingCode.ACT, shared_by=actor
            )
        _publish(target, "target.created")
    return target, True


# --------------------------------------------------------------------------- the workflow


def _refuse_unruled_hits(target: Target) -> None:
    """A watchlist hit leads to action only once a person has ruled it a true match (or unsure)."""
    from apps.watchlists.services import hits_blocking_action

    if blocking := hits_blocking_action(target):
        raise TransitionRefused(f"{target.reference}: " + " ".join(blocking))


def start_review(
    *, actor: Any, target: Target, expected_version: int | None = None, reason: str = ""
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
    *, actor: Any, target: Target, expected_version: int | None = None, reason: str = ""
) -> Target:
    """The reviewer proposes the target for approval."""
    if target.claimed_by_id and target.claimed_by_id != actor.pk:
        raise StaleChange(f"{target.reference} is claimed by {target.claimed_by}; ask them or a supervisor.")
    return _move(
        actor=actor, target=target, action="submit", expected_version=expected_version, reason=reason,
    )  # fmt: skip


def approve_target(
    *, actor: Any, target: Target, expected_version: int | None = None, reason: str = ""
) -> Target:
    """A supervisor of the deciding team approves the target for examination.

    Four eyes (``routing``): never the person who nominated or submitted it. A watchlist hit behind it
    must have been ruled a true match (or unsure) by a person first.
    """
    check(actor, "target.approve", target)
    _refuse_unruled_hits(target)
    return _move(
        actor=actor, target=target, action="approve", expected_version=expected_version, reason=reason,
        checked="target.approve",
    )  # fmt: skip


RANDOM_CONTROL_REFUSAL = (
    "{ref} was drawn for random control: it cannot be {done}, or the centre's measure of what it misses "
    "would be biased. If it cannot be examined, mark it missed and say why."
)
#: How the refusal names each move the table does not allow on a random-control target.
RANDOM_CONTROL_DONE = {"reject": "rejected", "withdraw": "withdrawn"}


def reject_target(
    *, actor: Any, target: Target, expected_version: int | None = None, reason: str = ""
) -> Target:
    """A supervisor of the deciding team rejects the nomination (a reason is required).

    Never a random-control target (the table has no such row): the random sample is what the centre's
    lift and base rates are measured against, so a person's judgement must not thin it.
    """
    return _move(
        actor=actor, target=target, action="reject", expected_version=expected_version, reason=reason
    )  # fmt: skip


def withdraw_target(
    *, actor: Any, target: Target, expected_version: int | None = None, reason: str = ""
) -> Target:
    """The owner agency withdraws its target before it is dispatched (a reason is required).

    Not a random-control target, for the reason it cannot be rejected.
    """
    return _move(
        actor=actor, target=target, action="withdraw", expected_version=expected_version, reason=reason
    )  # fmt: skip


def dispatch_target(
    *,
    actor: Any,
    target: Target,
    method: str,
    instruction: str,
    expected_version: int | None = None,
    shift: str = "",
    proposal: DispatchProposal | None = None,
    reason: str = "",
) -> Instruction:
    """Send an approved, unheld target to its port as an examination instruction with ``method``.

    ``instruction`` is the intelligence the frontline officer may see (blank: ``default_instruction``,
    the analyst's words); of the target's reasons, the tablet shows no more than ``disclose`` gives him.
    """
    check(actor, "target.dispatch", target)
    if not instruction.strip():
        instruction = default_instruction(target, actor)
    if method not in ExaminationMethod.values:
        raise ValidationError({"method": f"Unknown examination method {method!r}."})
    if shift and shift not in Shift.values:
        raise ValidationError({"shift": f"Unknown shift {shift!r}."})
    if not instruction.strip():
        raise ValidationError({"instruction": "Tell the officer what to look for."})
    if target.port_id is None:
        raise ValidationError({"port": "This target has no port to dispatch to."})
    if Hold.objects.filter(target=target, released_at__isnull=True).exists():
        raise TransitionRefused(f"{target.reference} is held by a partner agency and cannot be dispatched.")
    _refuse_unruled_hits(target)
    with transaction.atomic():
        target = _move(
            actor=actor, target=target, action="dispatch", expected_version=expected_version,
            reason=reason or f"{ExaminationMethod(method).label} at {target.port_id and target.port.locode}",
            checked="target.dispatch",
        )  # fmt: skip
        record = Instruction.objects.create(
            target=target, port_id=target.port_id, method=method, shift=shift, instruction=instruction.strip(),
            dispatched_by=actor, proposal=proposal,
        )  # fmt: skip
        locode = target.port.locode
        publish_on_commit(
            group_name("port", locode), "instruction.dispatched",
            target=target.pk, instruction=record.pk, state=target.state, version=target.version,
        )  # fmt: skip
        instruction_event_on_commit(record.pk, "instruction.issued")  # port systems' webhooks
    return record


def start_examination(
    *, actor: Any, target: Target, expected_version: int | None = None, reason: str = ""
) -> Target:
    """A frontline officer at the target's port starts the examination."""
    return _move(
        actor=actor, target=target, action="start_examination", expected_version=expected_version,
        reason=reason,
    )  # fmt: skip


def record_result(
    *, actor: Any, target: Target, expected_version: int | None = None, reason: str = ""
) -> Target:
    """The examination's result is recorded (the frontline app stores the result itself and calls this)."""
    return _move(
        actor=actor, target=target, action="record_result", expected_version=expected_version,
        reason=reason,
    )  # fmt: skip


def close_target(
    *, actor: Any, target: Target, expected_version: int | None = None, reason: str = ""
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
    actor: Any,
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


def expire_claims(*, idle: timedelta, now: datetime | None = None) -> int:
    """Give back to the queue every claim on which nothing happened for ``idle``; how many were given back.

    Idle since the later of the claim and the target's last change; each release is conditional on the
    same claim still being there, so a claim renewed (or a move made) meanwhile is kept.
    """
    now = now or timezone.now()
    cutoff = now - idle
    stale = (
        Target.objects.filter(claimed_by__isnull=False, claimed_at__lt=cutoff, updated_at__lt=cutoff)
        .select_related("port")
        .only("pk", "state", "version", "owner_agency_id", "port__locode", "claimed_by_id", "claimed_at")
    )
    count = 0
    for target in stale.iterator(chunk_size=500):
        with transaction.atomic():
            released = Target.objects.filter(
                pk=target.pk, claimed_by_id=target.claimed_by_id, claimed_at=target.claimed_at,
                updated_at__lt=cutoff,
            ).update(claimed_by=None, claimed_at=None)  # fmt: skip
            if released:
                count += 1
                _publish(target)
    return count


# --------------------------------------------------------------------------- claims


def claim_target(*, actor: Any, target: Target) -> Target:
    """Claim the target so nobody else works it. Of two simultaneous claims exactly one wins."""
    check(actor, "target.claim", target)
    if target.state in FINAL_STATES:
        raise TransitionRefused(
            f"{target.reference} is {target.get_state_display().lower()}: nothing to work."
        )
    with transaction.atomic():
        won = Target.objects.filter(pk=target.pk, claimed_by__isnull=True).update(
            claimed_by=actor, claimed_at=timezone.now()
        )
        if not won:
            holder = Target.objects.filter(pk=target.pk).values_list("claimed_by_id", flat=True).first()
            if holder != actor.pk:
                user = get_user_model().objects.filter(pk=holder).first()
                name = (user.get_full_name() or user.username) if user else "someone else"
                raise StaleChange(f"{target.reference} is already being worked by {name}.")
        target.refresh_from_db()
        _publish(target)
    return target


def release_claim(*, actor: Any, target: Target) -> Target:
    """Give the target back to the queue; only the claimer or a supervisor of its agency may."""
    check(actor, "target.claim", target)
    membership = membership_of(actor)
    query = Target.objects.filter(pk=target.pk, claimed_by__isnull=False)
    if membership.role != Role.SUPERVISOR:
        query = query.filter(claimed_by=actor)
    with transaction.atomic():
        if not query.update(claimed_by=None, claimed_at=None):
            target.refresh_from_db()
            if target.claimed_by_id is None:
                return target
            raise PermissionDenied("Only the person who claimed it, or a supervisor, may release it.")
        target.refresh_from_db()
        _publish(target)
    return target


# --------------------------------------------------------------------------- deconfliction


def place_hold(*, actor: Any, target: Target, reason: str, expected_version: int | None = None) -> Hold:
    """An agency with a legitimate interest (it may see the target) asks that it is not examined.

    The target goes to ``on_hold`` (remembering where it was); further holds by other agencies stack,
    and it returns only when every hold is released.
    """
    check(actor, "target.hold", target)
    if not reason.strip():
        raise ValidationError({"reason": "Say why (e.g. “do not examine: controlled delivery”)."})
    agency = _agency_of(actor)
    with transaction.atomic():
        if Hold.objects.filter(target=target, agency=agency, released_at__isnull=True).exists():
            raise TransitionRefused(f"Your agency already holds {target.reference}.")
        if target.state == S.ON_HOLD:
            version = target.version if expected_version is None else expected_version
            if not Target.objects.filter(pk=target.pk, version=version).update(version=F("version") + 1):
                raise StaleChange(_stale_message(target.pk))
            target.refresh_from_db()
            _record(target, actor, S.ON_HOLD, S.ON_HOLD, f"Hold added by {agency.code}: {reason}")
            _publish(target)
        else:
            if target.state not in HOLDABLE_STATES:
                raise TransitionRefused(
                    f"{target.reference} is {target.get_state_display().lower()}: too late to hold."
                )
            target = _move(
                actor=actor, target=target, action="hold", expected_version=expected_version,
                reason=f"Hold by {agency.code}: {reason}", extra={"resume_state": target.state},
            )  # fmt: skip
        try:
            with transaction.atomic():
                hold = Hold.objects.create(
                    target=target, agency=agency, placed_by=actor, reason=reason.strip()
                )
        except IntegrityError:
            raise StaleChange("Your agency placed a hold on this target a moment ago.") from None
    return hold


def release_hold(*, actor: Any, hold: Hold, reason: str = "") -> Hold:
    """The holding agency (and only it) releases its hold; the last release returns the target."""
    target = hold.target
    check(actor, "target.hold", target)
    membership = membership_of(actor)
    if membership.agency_id != hold.agency_id:
        raise PermissionDenied(f"Only {hold.agency.name} may release its hold.")
    with transaction.atomic():
        released = Hold.objects.filter(pk=hold.pk, released_at__isnull=True).update(
            released_at=timezone.now(), released_by=actor, release_reason=reason
        )
        if not released:
            raise StaleChange("This hold was already released.")
        hold.refresh_from_db()
        target.refresh_from_db()
        if not Hold.objects.filter(target=target, released_at__isnull=True).exists():
            target = _move(
                actor=actor, target=target, action="release_hold", expected_version=target.version,
                reason=f"Hold released by {hold.agency.code}: {reason}".strip(": "),
            )  # fmt: skip
            return hold  # the move recorded and published it
        Target.objects.filter(pk=target.pk).update(version=F("version") + 1)
        target.refresh_from_db()
        _record(target, actor, S.ON_HOLD, S.ON_HOLD, f"Hold by {hold.agency.code} released; others remain")
        _publish(target)
    return hold


# --------------------------------------------------------------------------- sharing and comments


def share_target(*, actor: Any, target: Target, agency: Agency, code: str = HandlingCode.SEE) -> TargetShare:
    """Share the target with ``agency`` under a handling code.

    The owner agency may share with any code. A partner whose own share says "may pass on" may share
    further, but only with "may see" or "owner consent before action" (never wider than it was given).
    """
    check(actor, "target.share", target)
    if code not in HandlingCode.values:
        raise ValidationError({"code": f"Unknown handling code {code!r}."})
    membership = membership_of(actor)
    if membership.agency_id != target.owner_agency_id:
        own = TargetShare.objects.filter(target=target, agency_id=membership.agency_id).first()
        if own is None or own.code != HandlingCode.PASS_ON:
            raise PermissionDenied("Your agency may not pass this target on.")
        if code not in {HandlingCode.SEE, HandlingCode.CONSENT}:
            raise PermissionDenied("A passed-on target may only be shared to see, or with owner consent.")
    if agency.pk == target.owner_agency_id:
        raise ValidationError({"agency": "The owner agency already sees its target."})
    owner = membership.agency_id == target.owner_agency_id
    with transaction.atomic():
        share, created = TargetShare.objects.get_or_create(
            target=target, agency=agency, defaults={"code": code, "shared_by": actor}
        )
        if not created and share.code != code and not owner:
            # Passing on adds an agency; it never changes what the owner (or anyone) already granted it.
            raise PermissionDenied(
                f"{agency.code} already has this target ({share.get_code_display().lower()}); "
                "only the owner agency changes its handling code."
            )
        if not created and share.code != code:
            share.code = code
            share.save(update_fields=["code"])
        Target.objects.filter(pk=target.pk).update(version=F("version") + 1)
        target.refresh_from_db()
        _record(
            target,
            actor,
            target.state,
            target.state,
            f"Shared with {agency.code}: {HandlingCode(code).label}",
        )
        _publish(target)
    return share


def give_consent(*, actor: Any, share: TargetShare, reason: str = "") -> TargetShare:
    """The owner agency consents to action by an agency whose share requires consent."""
    target = share.target
    check(actor, "target.share", target)
    if membership_of(actor).agency_id != target.owner_agency_id:
        raise PermissionDenied("Only the owner agency gives consent.")
    with transaction.atomic():
        TargetShare.objects.filter(pk=share.pk).update(
            consent_given_by=actor, consent_given_at=timezone.now()
        )
        share.refresh_from_db()
        Target.objects.filter(pk=target.pk).update(version=F("version") + 1)
        target.refresh_from_db()
        _record(
            target,
            actor,
            target.state,
            target.state,
            f"Consent to {share.agency.code} to act. {reason}".strip(),
        )
        _publish(target)
    return share


def _check_attachment(upload: UploadedFile) -> tuple[str, str, int]:
    """Refuse an upload that is too large or not one of the allowed types (by content, not by name)."""
    size = upload.size or 0
    if size == 0:
        raise ValidationError({"attachment": f"{upload.name} is empty."})
    if size > MAX_ATTACHMENT_BYTES:
        raise ValidationError({"attachment": f"{upload.name} is larger than 10 MB."})
    head = upload.read(16)
    upload.seek(0)
    declared = (upload.content_type or "").split(";")[0].strip().lower()
    if declared not in ATTACHMENT_TYPES:
        raise ValidationError({"attachment": f"{upload.name}: only PDF, PNG, JPEG, text or CSV files."})
    magic = ATTACHMENT_TYPES[declared]
    if magic is not None and not head.startswith(magic):
        raise ValidationError({"attachment": f"{upload.name} is not really a {declared} file."})
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        if magic is None and b"\x00" in chunk:
            raise ValidationError({"attachment": f"{upload.name} is not a text file."})
        digest.update(chunk)
    upload.seek(0)
    return declared, digest.hexdigest(), size


def add_comment(
    *,
    actor: Any,
    target: Target,
    body: str,
    attachments: Iterable[UploadedFile] = (),
    private: bool = False,
) -> Comment:
    """Add a note to the target; ``@username`` mentions people who may see the target.

    The note is owned by the author's agency. Unless ``private``, it is shared with every agency that
    sees the target; a private note stays within the author's agency.
    """
    check(actor, "target.comment", target)
    if not body.strip():
        raise ValidationError({"body": "Write something."})
    checked = [(upload, *_check_attachment(upload)) for upload in attachments]
    agency = _agency_of(actor)
    with transaction.atomic():
        comment = Comment.objects.create(target=target, author=actor, owner_agency=agency, body=body.strip())
        if not private:
            audience = {target.owner_agency_id, *target.shares.values_list("agency_id", flat=True)} - {
                agency.pk
            }
            comment.shared_with.set(audience)
        names = set(MENTION.findall(body))
        if names:
            users = get_user_model().objects.filter(username__in=names, membership__isnull=False)
            audience_agencies = {agency.pk, *comment.shared_with.values_list("pk", flat=True)}
            mentioned = [u for u in users if u.membership.agency_id in audience_agencies]
            comment.mentions.set(mentioned)
            for user in mentioned:
                publish_on_commit(group_name("user", user.pk), "target.changed", target=target.pk, state=target.state,
                                  version=target.version)  # fmt: skip
        for upload, content_type, sha256, size in checked:
            Attachment.objects.create(
                comment=comment, file=upload, name=upload.name[:200], content_type=content_type, size=size,
                sha256=sha256,
            )  # fmt: skip
        _publish(target)
    return comment


# --------------------------------------------------------------------------- joint operations


def create_operation(
    *,
    actor: Any,
    name: str,
    starts_at: Any,
    ends_at: Any,
    agencies: Iterable[Agency] = (),
    description: str = "",
) -> JointOperation:
    """Open a joint operation owned by the actor's agency; the actor is its first member."""
    check(actor, "target.share")
    if ends_at <= starts_at:
        raise ValidationError({"ends_at": "The operation must end after it starts."})
    with transaction.atomic():
        operation = JointOperation.objects.create(
            name=name.strip(), owner_agency=_agency_of(actor), starts_at=starts_at, ends_at=ends_at,
            description=description,
        )  # fmt: skip
        operation.agencies.set(list(agencies))
        operation.members.add(actor)
    return operation


def add_to_operation(*, actor: Any, operation: JointOperation, target: Target) -> Target:
    """Group a target the actor's agency owns (or may act on) under a joint operation it takes part in."""
    check(actor, "target.withdraw", target)
    membership = membership_of(actor)
    if not JointOperation.objects.visible_to(actor).filter(pk=operation.pk).exists():
        from django.http import Http404

        raise Http404("Not found.")
    if membership.agency_id != target.owner_agency_id:
        raise PermissionDenied("Only the owner agency adds its target to an operation.")
    with transaction.atomic():
        Target.objects.filter(pk=target.pk).update(operation=operation, version=F("version") + 1)
        target.refresh_from_db()
        _record(target, actor, target.state, target.state, f"Added to operation {operation.name}")
        _publish(target)
    return target


# --------------------------------------------------------------------------- dispatch proposals


def propose_dispatch(*, actor: Any, port: Port, shift: str, date: Any = None) -> DispatchProposal:
    """Propose which approved targets at ``port`` to examine in ``shift`` of ``date`` (today by default),
    maximising expected findings within that day's capacity."""
    from apps.targeting.dispatch import build_proposal

    check(actor, "target.dispatch")
    if shift not in Shift.values:
        raise ValidationError({"shift": f"Unknown shift {shift!r}."})
    return build_proposal(actor=actor, port=port, shift=shift, date=date)


def accept_proposal(
    *,
    actor: Any,
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
    """What the officer is told unless the dispatcher writes otherwise: the risk area and the analyst's
    words — what was written at nomination for the port — or, on a target nobody wrote for (the
    engine's), the plain lines of its rule and model reasons.

    The analyst's words are read through ``disclose(viewer, target)``: a dispatcher is never offered
    words he may not read himself. Never a rule's condition, a model's features or probability, a
    watched identifier, nor that the target was drawn for random control (the examination would be
    less thorough).
    """
    words = [
        r["text"]
        for r in disclose(viewer, target).reasons
        if r.get("kind") == "person" and r.get("ref") != WITHHELD and str(r.get("text", "")).strip()
    ]
    if not words:
        words = list(
            dict.fromkeys(
                plain_reason(r, by_engine=target.by_engine)
                for r in target.reasons or []
                if r.get("kind") in ENGINE_REASON_KINDS
            )
        )
    return "\n".join([f"{target.get_risk_area_display()} risk.", *(w.strip() for w in words if w.strip())])


def run_action(
    *,
    actor: Any,
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
    func = globals()[next(transitions.rows(action)).service]
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

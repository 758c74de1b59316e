"""Recording an examination's result and correcting it, exactly once per idempotency key."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.agencies.operations import check, membership_of
from apps.agencies.roles import Role
from apps.frontline.models import (
    FINDING_OUTCOMES,
    SEVERITY,
    ExaminationOutcome,
    ExaminationPhoto,
    ExaminationResult,
    SeizedGoods,
)
from apps.frontline.photos import CheckedPhoto
from apps.frontline.services.checking import (
    Conflict,
    Recorded,
    ResultInput,
    _check_input,
    _check_photos,
    checked_times,
)
from apps.frontline.services.feedback import _feedback_for, _tell, _tell_followers
from apps.frontline.services.officers import OPEN_AT_PORT, S
from apps.intake.models import Outcome
from apps.targeting import services as targeting
from apps.targeting.events import announce_target_changed
from apps.targeting.models import Instruction, Target
from apps.targeting.routing import may_act_as_agency, port_ids_of


def _known(key: uuid.UUID, target: Target) -> ExaminationResult | None:
    """The result already stored under ``key`` (for this target), if any."""
    found = ExaminationResult.objects.filter(idempotency_key=key).first()
    if found is None:
        return None
    if found.target_id != target.pk:
        raise ValidationError({"idempotency_key": "This key was already used for another examination."})
    return found


def refuse_if_recorded(instruction: Instruction, key: Any) -> None:
    """Raise ``Conflict`` when the examination already has a result sent under another key.

    Called before the form is read, so that a second officer (or a second tablet) is told at once that
    the result is in, rather than first being asked to correct a form that could never be recorded. The
    same key is not refused: it is the same result, sent again, and ``record_examination`` returns it.
    """
    first = (
        ExaminationResult.objects.filter(target_id=instruction.target_id, original__isnull=True)
        .select_related("recorded_by")
        .first()
    )
    if first is None or str(first.idempotency_key) == str(key or "").strip().lower():
        return
    raise _already_recorded(first)


def begin_examination(*, actor: User, instruction: Instruction) -> Target:
    """The officer starts examining (the target moves to "in examination"); a second tap changes nothing."""
    target = instruction.target
    if target.state == S.IN_EXAMINATION:
        check(actor, "exam.record", target)
        return target
    return targeting.start_examination(actor=actor, target=target, reason="Examination started")


def record_examination(
    *, actor: User, instruction: Instruction, data: ResultInput, photos: Iterable[UploadedFile] = ()
) -> Recorded:
    """Record the result of the examination an instruction asked for; idempotent on ``data.idempotency_key``."""
    target = Target.objects.select_related("port").get(pk=instruction.target_id)
    existing = _known(data.idempotency_key, target)
    if existing is not None:
        check(actor, "exam.view", target)
        return Recorded(existing, False)
    check(actor, "exam.record", target)
    # A result recorded already (by a colleague, or by this tablet under another key) is said first:
    # nothing the officer could change in this form would let a second one through.
    first = (
        ExaminationResult.objects.filter(target=target, original__isnull=True)
        .select_related("recorded_by")
        .first()
    )
    if first is not None:
        raise _already_recorded(first)
    data = _check_input(data, not_before=instruction.dispatched_at)
    checked = _check_photos(photos)
    if target.state not in OPEN_AT_PORT:
        raise Conflict(
            {"outcome": f"{target.reference} is “{target.get_state_display()}”: nothing to record."}
        )
    membership = membership_of(actor)
    written: list[str] = []
    try:
        with transaction.atomic():
            if target.state == S.DISPATCHED:
                target = targeting.start_examination(
                    actor=actor,
                    target=target,
                    reason=f"Examination started {_local(data.started_at, target)}",
                )
            target = targeting.record_result(
                actor=actor, target=target, reason=f"{ExaminationOutcome(data.outcome).label} recorded"
            )
            outcome = Outcome.objects.create(
                subject_id=target.subject_id,
                origin=Outcome.Origin.EXAMINATION,
                finding=data.outcome in FINDING_OUTCOMES,
                severity=SEVERITY[ExaminationOutcome(data.outcome)],
                random_control=target.random_control,
                revenue_at_stake=data.revenue_at_stake,
                recorded_at=checked_times(data)[1],
            )
            result = _store(
                actor, membership, target, instruction, data, checked, original=None, outcome=outcome,
                written=written,
            )  # fmt: skip
            _feedback_for(result, target)
            _tell(target, result, "examination.recorded")
    except (IntegrityError, targeting.StaleChange) as error:
        _forget(written)
        # Two sends of the same result at once (or a colleague first): the loser returns the winner's row.
        again = ExaminationResult.objects.filter(idempotency_key=data.idempotency_key).first()
        if again is not None and again.target_id == target.pk:
            return Recorded(again, False)
        first = ExaminationResult.objects.filter(target=target, original__isnull=True).first()
        if first is not None:
            raise _already_recorded(first) from None
        raise Conflict({"outcome": str(error)}) from None
    except targeting.TransitionRefused as error:
        _forget(written)
        raise Conflict({"outcome": str(error)}) from None
    except BaseException:
        _forget(written)
        raise
    return Recorded(result, True)


def correct_examination(
    *,
    actor: User,
    result: ExaminationResult,
    data: ResultInput,
    reason: str,
    photos: Iterable[UploadedFile] = (),
) -> Recorded:
    """A supervisor corrects a result with a reason: a new row linked to the original, which stays."""
    target = Target.objects.select_related("port").get(pk=result.target_id)
    existing = _known(data.idempotency_key, target)
    if existing is not None:
        check(actor, "exam.view", target)
        return Recorded(existing, False)
    check(actor, "exam.correct", target)
    membership = membership_of(actor)
    if not may_act_as_agency(membership, target):
        raise PermissionDenied("Your agency may see this examination but not correct it.")
    ports = port_ids_of(membership)
    if ports and target.port_id not in ports:
        raise PermissionDenied("This examination was not made at one of your ports.")
    if not reason.strip():
        raise ValidationError({"reason": "Say why the result is corrected."})
    root = ExaminationResult.objects.get(pk=result.root_id)
    data = _check_input(data, not_before=None)
    checked = _check_photos(photos)
    written: list[str] = []
    try:
        with transaction.atomic():
            correction = _store(
                actor, membership, target, root.instruction, data, checked, original=root,
                outcome=root.outcome_record, reason=reason.strip(), written=written,
            )  # fmt: skip
            if root.outcome_record_id:
                Outcome.objects.filter(pk=root.outcome_record_id).update(
                    finding=data.outcome in FINDING_OUTCOMES,
                    severity=SEVERITY[ExaminationOutcome(data.outcome)],
                    revenue_at_stake=data.revenue_at_stake,
                    recorded_at=checked_times(data)[1],
                )
            _feedback_for(correction, target, root=root)
            _tell(target, correction, "examination.corrected")
            _tell_followers(target, correction, root=root, actor=actor)
    except IntegrityError:
        _forget(written)
        again = ExaminationResult.objects.filter(idempotency_key=data.idempotency_key).first()
        if again is not None and again.target_id == target.pk:
            return Recorded(again, False)
        raise
    except BaseException:
        _forget(written)
        raise
    return Recorded(correction, True)


def _already_recorded(first: ExaminationResult) -> Conflict:
    who = first.recorded_by.get_full_name() or first.recorded_by.username
    return Conflict(
        {
            "outcome": f"A result was already recorded by {who} at "
            f"{timezone.localtime(first.recorded_at):%H:%M}; a supervisor can correct it."
        }
    )


def _local(moment: datetime | None, target: Target) -> str:
    if moment is None:
        return ""
    try:
        tz = ZoneInfo(target.port.timezone) if target.port is not None else ZoneInfo("UTC")
    except (KeyError, ValueError):
        tz = ZoneInfo("UTC")
    return f"at {moment.astimezone(tz):%H:%M} on the tablet"


def _store(
    actor: User,
    membership: Any,
    target: Target,
    instruction: Instruction | None,
    data: ResultInput,
    photos: list[CheckedPhoto],
    *,
    original: ExaminationResult | None,
    outcome: Outcome | None,
    written: list[str],
    reason: str = "",
) -> ExaminationResult:
    started_at, ended_at = checked_times(data)
    result = ExaminationResult.objects.create(
        target=target,
        instruction=instruction,
        original=original,
        idempotency_key=data.idempotency_key,
        method=data.method,
        outcome=data.outcome,
        started_at=started_at,
        ended_at=ended_at,
        revenue_at_stake=data.revenue_at_stake,
        notes=data.notes.strip(),
        reason=reason,
        recorded_by=actor,
        recorded_by_agency=membership.agency,
        entered_at=data.entered_at,
        outcome_record=outcome,
    )
    SeizedGoods.objects.bulk_create(
        SeizedGoods(
            result=result, kind=g.kind, description=g.description.strip()[:200], quantity=g.quantity,
            unit=g.unit, estimated_value=g.estimated_value,
        )
        for g in data.goods
    )  # fmt: skip
    saved: list[ExaminationPhoto] = []
    try:
        for photo in photos:
            row = ExaminationPhoto(
                result=result, sha256=photo.sha256, content_type=photo.content_type, size=photo.size,
                width=photo.width, height=photo.height,
            )  # fmt: skip
            row.file.save(photo.sha256, photo.upload, save=True)
            saved.append(row)
    except Exception:
        for row in saved:
            row.file.delete(save=False)
        raise
    written.extend(row.file.name for row in saved if row.file.name)  # each has one: it was just saved
    announce_target_changed(target.pk)  # the report's summary row of the target, rewritten after the commit
    return result


def _forget(names: list[str]) -> None:
    """Photos are written before the commit: a result that was not stored must not leave them behind."""
    from apps.core.storage import uploads

    for name in names:
        uploads().delete(name)


def may_correct(user: Any, target: Target) -> bool:
    """Whether to offer the correction form (the service still checks)."""
    membership = membership_of(user)
    if membership is None or membership.role != Role.SUPERVISOR:
        return False
    ports = port_ids_of(membership)
    return may_act_as_agency(membership, target) and (not ports or target.port_id in ports)

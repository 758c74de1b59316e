"""Frontline examination: the officer's instructions, recording a result, correcting it, and feedback.

Pages and the API only parse input and call these functions. Recording:

1. a known idempotency key returns the result already stored for it (a retry never records twice);
2. the officer must be a frontline officer of the target's port (``exam.record``, via targeting);
3. the target moves through ``apps.targeting.services`` (``start_examination`` when it was not started
   online, then ``record_result``);
4. the result, its goods and photos are stored; one ``intake.Outcome`` row is written for the learning
   loop and reports; each rule version, watchlist entry and model version behind the target gets an
   ``ExaminationFeedback`` row; agencies the target is shared with are told (ids only), after commit.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q, QuerySet, Sum
from django.http import Http404
from django.utils import timezone

from apps.agencies.models import ExaminationMethod, Port, Shift
from apps.agencies.operations import check, membership_of
from apps.agencies.roles import Role
from apps.core.events import group_name, publish_on_commit
from apps.frontline.models import (
    FINDING_OUTCOMES,
    SEVERITY,
    ExaminationFeedback,
    ExaminationOutcome,
    ExaminationPhoto,
    ExaminationResult,
    GoodsKind,
    SeizedGoods,
    Unit,
)
from apps.frontline.photos import MAX_PHOTOS, CheckedPhoto, check_photo
from apps.intake.models import Outcome
from apps.targeting import services as targeting
from apps.targeting.audience import audience_of
from apps.targeting.disclosure import BRIEFING_FACTS, disclose
from apps.targeting.events import announce_target_changed
from apps.targeting.models import Instruction, Target, TargetState
from apps.targeting.routing import may_act_as_agency, port_ids_of

S = TargetState
#: Instructions still to be worked at the port.
OPEN_AT_PORT = (S.DISPATCHED, S.IN_EXAMINATION)
#: A tablet clock may run a little fast; a result "ending" further in the future is refused.
CLOCK_SKEW = timedelta(minutes=15)
#: An examination longer than this is a typing error.
MAX_DURATION = timedelta(hours=24)
#: Lines of goods one result may list.
MAX_GOODS = 20
SHIFT_HOURS = {Shift.EARLY: (6, 14), Shift.LATE: (14, 22)}


class Conflict(ValidationError):
    """The examination already has a result (recorded by a colleague, or on another tablet)."""


@dataclass(frozen=True, slots=True)
class GoodsLine:
    kind: str
    quantity: Decimal
    unit: str
    estimated_value: Decimal | None = None
    description: str = ""


@dataclass(slots=True)
class ResultInput:
    """A result as the officer entered it, parsed but not yet checked against the rules below."""

    idempotency_key: uuid.UUID
    method: str
    outcome: str
    started_at: datetime | None = None
    ended_at: datetime | None = None
    revenue_at_stake: Decimal | None = None
    notes: str = ""
    goods: list[GoodsLine] = field(default_factory=list)
    entered_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Recorded:
    """What a recording call returns: the stored row, and whether this call created it."""

    result: ExaminationResult
    created: bool


@dataclass(frozen=True, slots=True)
class Briefing:
    """What the officer may see of the intelligence behind an instruction, and nothing more."""

    instruction: Instruction
    target: Target
    risk_area: str
    method: str
    look_for: str
    reasons: list[str]
    withheld: int
    subject_kind: str
    subject_ref: str
    subject_title: str
    facts: list[tuple[str, str]]


# --------------------------------------------------------------------------- the officer's list


def current_shift(port: Port | None, now: datetime | None = None) -> str:
    """The shift running now at ``port`` (its local time): early 06-14, late 14-22, night 22-06."""
    now = now or timezone.now()
    try:
        tz = ZoneInfo(port.timezone) if port is not None and port.timezone else ZoneInfo("UTC")
    except (KeyError, ValueError):
        tz = ZoneInfo("UTC")
    hour = now.astimezone(tz).hour
    for shift, (start, end) in SHIFT_HOURS.items():
        if start <= hour < end:
            return shift
    return Shift.NIGHT


def officer_ports(user: Any) -> list[Port]:
    membership = membership_of(user)
    if membership is None:
        return []
    return list(Port.objects.filter(pk__in=port_ids_of(membership)).order_by("name"))


def _open_at_ports(user: Any) -> QuerySet[Instruction]:
    check(user, "exam.view")
    found = Instruction.objects.visible_to(user).filter(target__state__in=OPEN_AT_PORT)
    ports = port_ids_of(membership_of(user))
    return found.filter(port_id__in=ports) if ports else found


def other_shifts_count(user: Any, shift: str) -> int:
    """How many open instructions at the user's ports are for another shift (a count, not a list)."""
    return _open_at_ports(user).exclude(Q(shift=shift) | Q(shift="")).count()


def open_instructions(user: Any, *, shift: str | None = None) -> list[Instruction]:
    """Instructions still to be worked at the user's ports, by arrival (earliest first, unknown last).

    ``shift`` narrows to instructions for that shift (and those sent for no particular shift).
    Non-frontline viewers see every open instruction their agency may see.
    """
    found = _open_at_ports(user)
    if shift:
        found = found.filter(Q(shift=shift) | Q(shift=""))
    return list(
        found.select_related("target", "target__subject", "port").order_by(
            F("target__arrival_at").asc(nulls_last=True), "dispatched_at", "pk"
        )
    )


def recent_results(user: Any, *, hours: int = 24) -> list[ExaminationResult]:
    """Results recorded at the user's ports in the last ``hours`` (originals; the page shows the latest)."""
    check(user, "exam.view")
    since = timezone.now() - timedelta(hours=hours)
    found = ExaminationResult.objects.visible_to(user).filter(original__isnull=True, recorded_at__gte=since)
    ports = port_ids_of(membership_of(user))
    if ports:
        found = found.filter(target__port_id__in=ports)
    rows = list(found.select_related("target", "recorded_by").order_by("-recorded_at")[:50])
    latest = _latest_by_root([r.pk for r in rows])
    return [latest.get(r.pk, r) for r in rows]


def briefing(user: Any, instruction: Instruction) -> Briefing:
    """The instruction as the officer may see it: method, risk area, what to look for, rule and model reasons.

    Watchlist and free-text reasons can name people or documents: the officer is told that they exist,
    not what they say. Random-control selection is not revealed, so the examination is as thorough.
    """

    target = instruction.target
    seen = disclose(user, target, briefing=True)
    view = seen.subject
    facts = [
        (label, str(view.facts[key]))
        for key, label in BRIEFING_FACTS.items()
        if view.facts.get(key) not in (None, "", [], {})
    ]
    shown = [r["text"] for r in seen.reasons]
    withheld = seen.withheld_reasons
    return Briefing(
        instruction=instruction,
        target=target,
        risk_area=target.get_risk_area_display(),
        method=instruction.get_method_display(),
        look_for=instruction.instruction,
        reasons=shown,
        withheld=withheld,
        subject_kind=view.kind_label,
        subject_ref=view.external_id,
        subject_title=view.title,
        facts=facts,
    )


def get_instruction_for(user: Any, pk: Any) -> Instruction:
    """The instruction if the user may see it (a frontline officer: at his ports), else 404."""
    check(user, "exam.view")
    try:
        return (
            Instruction.objects.visible_to(user)
            .select_related("target", "target__subject", "target__port", "port", "dispatched_by")
            .get(pk=pk)
        )
    except (Instruction.DoesNotExist, ValueError, TypeError):
        raise Http404("Not found.") from None


def get_photo_for(user: Any, pk: Any) -> ExaminationPhoto:
    check(user, "exam.view")
    try:
        return ExaminationPhoto.objects.visible_to(user).get(pk=pk)
    except (ExaminationPhoto.DoesNotExist, ValueError, TypeError):
        raise Http404("Not found.") from None


# --------------------------------------------------------------------------- results as displayed


def _latest_by_root(root_ids: Sequence[int]) -> dict[int, ExaminationResult]:
    """The latest correction per original result (originals without correction are absent)."""
    latest: dict[int, ExaminationResult] = {}
    for row in ExaminationResult.objects.filter(original_id__in=root_ids).order_by("recorded_at", "pk"):
        latest[row.original_id] = row
    return latest


def history_of(target: Target) -> list[ExaminationResult]:
    """The original result of the target's examination and its corrections, oldest first."""
    return list(
        ExaminationResult.objects.filter(target=target)
        .select_related("recorded_by", "recorded_by_agency")
        .prefetch_related("goods", "photos")
        .order_by("recorded_at", "pk")
    )


def displayed_result(target: Target) -> ExaminationResult | None:
    """The result to show: the latest correction, else the original, else None."""
    return (
        ExaminationResult.objects.filter(target=target)
        .prefetch_related("goods", "photos")
        .order_by("-recorded_at", "-pk")
        .first()
    )


# --------------------------------------------------------------------------- checking input


def _check_input(data: ResultInput, *, not_before: datetime | None) -> ResultInput:
    """Apply the examination's rules; raise ``ValidationError`` naming the field."""
    errors: dict[str, str] = {}
    now = timezone.now()
    if data.method not in ExaminationMethod.values:
        errors["method"] = "Choose how you examined: documents, scan, physical, dog or interview."
    if data.outcome not in ExaminationOutcome.values:
        errors["outcome"] = "Choose the outcome: no finding, irregularity, seizure or refusal of entry."
    ended = data.ended_at or now
    started = data.started_at or ended
    if ended > now + CLOCK_SKEW:
        errors["ended_at"] = "The end time is in the future: check the tablet's clock."
    elif started > ended:
        errors["started_at"] = "The examination must start before it ends."
    elif ended - started > MAX_DURATION:
        errors["started_at"] = "An examination cannot last more than 24 hours: check the start time."
    elif not_before is not None and started < not_before - CLOCK_SKEW:
        errors["started_at"] = "The examination cannot start before the instruction was sent."
    if data.revenue_at_stake is not None and data.revenue_at_stake < 0:
        errors["revenue_at_stake"] = "Revenue at stake cannot be negative."
    if len(data.goods) > MAX_GOODS:
        errors["goods"] = f"At most {MAX_GOODS} lines of goods."
    for i, line in enumerate(data.goods, start=1):
        if line.kind not in GoodsKind.values:
            errors["goods"] = f"Goods line {i}: choose what was found from the list."
        elif line.unit not in Unit.values:
            errors["goods"] = f"Goods line {i}: choose a unit."
        elif line.quantity is None or line.quantity <= 0:
            errors["goods"] = f"Goods line {i}: the quantity must be more than zero."
        elif line.estimated_value is not None and line.estimated_value < 0:
            errors["goods"] = f"Goods line {i}: the value cannot be negative."
    if data.outcome == ExaminationOutcome.SEIZURE and not data.goods and "goods" not in errors:
        errors["goods"] = "A seizure needs at least one line of goods: what, how much."
    if data.outcome == ExaminationOutcome.NO_FINDING and data.goods:
        errors["goods"] = "No finding was chosen, but goods were entered: choose irregularity or seizure."
    if len(data.notes) > 5000:
        errors["notes"] = "Notes are limited to 5,000 characters."
    if errors:
        raise ValidationError(errors)
    data.started_at, data.ended_at = started, ended
    return data


def _check_photos(photos: Iterable[UploadedFile]) -> list[CheckedPhoto]:
    photos = [p for p in photos if p is not None]
    if len(photos) > MAX_PHOTOS:
        raise ValidationError({"photos": f"At most {MAX_PHOTOS} photos per result."})
    return [check_photo(p) for p in photos]


# --------------------------------------------------------------------------- recording


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
                recorded_at=data.ended_at,
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
                    recorded_at=data.ended_at,
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
        tz = ZoneInfo(target.port.timezone) if target.port_id else ZoneInfo("UTC")
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
    result = ExaminationResult.objects.create(
        target=target,
        instruction=instruction,
        original=original,
        idempotency_key=data.idempotency_key,
        method=data.method,
        outcome=data.outcome,
        started_at=data.started_at,
        ended_at=data.ended_at,
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
    written.extend(row.file.name for row in saved)
    announce_target_changed(target.pk)  # the report's summary row of the target, rewritten after the commit
    return result


def _forget(names: list[str]) -> None:
    """Photos are written before the commit: a result that was not stored must not leave them behind."""
    from apps.core.storage import uploads

    for name in names:
        uploads().delete(name)


# --------------------------------------------------------------------------- feedback and partners


def _reason_refs(target: Target) -> list[tuple[str, str]]:
    """``(kind, ref)`` of each rule version, watchlist entry and model version behind the target."""
    refs: list[tuple[str, str]] = []
    for reason in target.reasons or []:
        kind, ref = reason.get("kind"), str(reason.get("ref") or "")
        if kind in {"rule", "watchlist", "model"} and ref:
            refs.append((kind, ref))
        elif kind == "random":
            refs.append(("random", "random"))
    if target.random_control and ("random", "random") not in refs:
        refs.append(("random", "random"))
    from apps.risk.models import Hit

    for rule_id, number in (
        Hit.objects.filter(assessment__target_id=target.pk, shadow=True)
        .order_by()  # without it the default ordering's columns join the DISTINCT
        .values_list("rule_version__rule_id", "rule_version__number")
        .distinct()
    ):
        refs.append(("rule_shadow", f"rule:{rule_id}@v{number}"))
    return list(dict.fromkeys(refs))


def _feedback_for(
    result: ExaminationResult, target: Target, *, root: ExaminationResult | None = None
) -> None:
    """Write (or, for a correction, bring up to date) the feedback rows of the examination."""
    root = root or result
    seized = sum((g.estimated_value or Decimal(0)) for g in result.goods.all())
    values = {
        "target": target,
        "outcome": result.outcome,
        "finding": result.is_finding,
        "random_control": target.random_control,
        "revenue_at_stake": result.revenue_at_stake,
        "seized_value": seized,
        "examined_at": result.ended_at,
    }
    for kind, ref in _reason_refs(target):
        ExaminationFeedback.objects.update_or_create(examination=root, kind=kind, ref=ref, defaults=values)


def _tell(target: Target, result: ExaminationResult, event: str) -> None:
    """Ids only, after commit, to the target's audience: the agencies that see it, its page and its port."""
    for group in audience_of(target):
        publish_on_commit(group, event, target=target.pk, result=result.pk, version=target.version)


def followers_of(target: Target, root: ExaminationResult) -> set[int]:
    """Who is told personally that a result was corrected: the analyst who nominated the target, whoever
    works it, the officer who recorded the original, and the supervisors of the owner agency."""
    from apps.agencies.models import Membership

    people = {target.nominated_by_id, target.claimed_by_id, root.recorded_by_id}
    people.update(
        Membership.objects.filter(agency_id=target.owner_agency_id, role=Role.SUPERVISOR).values_list(
            "user_id", flat=True
        )
    )
    people.discard(None)
    return people


def _tell_followers(
    target: Target, correction: ExaminationResult, *, root: ExaminationResult, actor: User
) -> None:
    """Each follower's own group, after commit; the socket checks again that the person may see it."""
    for user_id in sorted(followers_of(target, root) - {actor.pk}):
        publish_on_commit(
            group_name("user", user_id), "examination.corrected",
            target=target.pk, result=correction.pk, version=target.version,
        )  # fmt: skip


def outcome_counts_for(kind: str, ref: str) -> dict[str, Any]:
    """Examinations and their outcomes for one rule version, watchlist entry or model version.

    ``kind`` is ``rule``, ``rule_shadow``, ``watchlist``, ``model`` or ``random``; ``ref`` as in the
    target's reasons (``rule:12@v3``); ``random`` / ``random`` gives the random-control base rate.
    Returns ``examinations``, ``findings``, one count per outcome, ``random_control`` examinations and
    findings, ``revenue_at_stake``, ``seized_value`` and ``hit_rate`` (None without examinations).
    """
    rows = ExaminationFeedback.objects.filter(kind=kind, ref=ref)
    sums = rows.aggregate(
        n=Count("pk"),
        n_findings=Count("pk", filter=Q(finding=True)),
        n_random=Count("pk", filter=Q(random_control=True)),
        n_random_findings=Count("pk", filter=Q(random_control=True, finding=True)),
        revenue=Sum("revenue_at_stake"),
        seized=Sum("seized_value"),
    )
    totals: dict[str, Any] = {
        "examinations": sums["n"],
        "findings": sums["n_findings"],
        "random_control": sums["n_random"],
        "random_findings": sums["n_random_findings"],
        "revenue_at_stake": sums["revenue"] or Decimal(0),
        "seized_value": sums["seized"] or Decimal(0),
    }
    by_outcome = dict(rows.values_list("outcome").annotate(n=Count("pk")).values_list("outcome", "n"))
    totals.update({o: by_outcome.get(o, 0) for o in ExaminationOutcome.values})
    n = totals["examinations"]
    totals["hit_rate"] = totals["findings"] / n if n else None
    return totals


def may_correct(user: Any, target: Target) -> bool:
    """Whether to offer the correction form (the service still checks)."""
    membership = membership_of(user)
    if membership is None or membership.role != Role.SUPERVISOR:
        return False
    ports = port_ids_of(membership)
    return may_act_as_agency(membership, target) and (not ports or target.port_id in ports)

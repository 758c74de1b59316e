"""The officer's list: the shift, the open instructions at his ports, recent results and the briefing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import F, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from apps.agencies.models import Port, Shift
from apps.agencies.operations import check, membership_of
from apps.frontline.models import (
    ExaminationPhoto,
    ExaminationResult,
)
from apps.frontline.services.displayed import _latest_by_root
from apps.targeting.disclosure import BRIEFING_FACTS, disclose
from apps.targeting.models import Instruction, Target, TargetState
from apps.targeting.routing import port_ids_of

S = TargetState


#: Instructions still to be worked at the port.
OPEN_AT_PORT = (S.DISPATCHED, S.IN_EXAMINATION)


SHIFT_HOURS = {Shift.EARLY: (6, 14), Shift.LATE: (14, 22)}


@dataclass(frozen=True, slots=True)
class Briefing:
    """What the officer may see of the intelligence behind an instruction, and nothing more."""

    instruction: Instruction
    target: Target
    risk_area: str
    method: str
    look_for: str
    subject_kind: str
    subject_ref: str
    subject_title: str
    facts: list[tuple[str, str]]


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
    """The instruction as the officer may see it: method, risk area, what to look for, the subject's facts.

    None of the target's reasons: a draw for random control has none of a risk target's, so listing them
    (even as plain lines, or as a count of withheld ones) would tell the officer which targets were drawn,
    and he would examine those less thoroughly. What he is told is the dispatcher's instruction.
    """

    target = instruction.target
    seen = disclose(user, target, briefing=True)
    view = seen.subject
    facts = [
        (label, str(view.facts[key]))
        for key, label in BRIEFING_FACTS.items()
        if view.facts.get(key) not in (None, "", [], {})
    ]
    return Briefing(
        instruction=instruction,
        target=target,
        risk_area=target.get_risk_area_display(),
        method=instruction.get_method_display(),
        look_for=instruction.instruction,
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

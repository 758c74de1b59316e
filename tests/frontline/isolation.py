"""Frontline routes that take a parameter, each with a maker of a customs object not shared with BIO."""

from __future__ import annotations

from typing import Any

from django.core.files.base import ContentFile
from django.utils import timezone

from apps.frontline.models import ExaminationPhoto, ExaminationResult
from apps.targeting.models import Instruction
from tests.factories import member
from tests.targeting.factories import SubjectFactory, TargetFactory


def _officer(world: Any):
    from django.contrib.auth import get_user_model

    existing = get_user_model().objects.filter(username="iso-officer").first()
    return existing or member("iso-officer", world.customs, "frontline", ports=[world.port_a])


def _instruction_obj(world: Any, state: str = "dispatched") -> Instruction:
    target = TargetFactory(
        subject=SubjectFactory(source__owner_agency=world.customs, port=world.port_a), state=state
    )
    return Instruction.objects.create(
        target=target, port=world.port_a, method="physical", instruction="x", dispatched_by=_officer(world)
    )


def _result(world: Any) -> ExaminationResult:
    import uuid

    found = _instruction_obj(world, state="result_recorded")
    now = timezone.now()
    return ExaminationResult.objects.create(
        target=found.target, instruction=found, idempotency_key=uuid.uuid4(), method="physical",
        outcome="no_finding", started_at=now, ended_at=now, recorded_by=_officer(world),
        recorded_by_agency=world.customs,
    )  # fmt: skip


def _instruction(world: Any) -> dict[str, int]:
    return {"pk": _instruction_obj(world).pk}


def _photo(world: Any) -> dict[str, int]:
    from tests.frontline.conftest import jpeg_bytes

    data = jpeg_bytes()
    photo = ExaminationPhoto(result=_result(world), sha256="0" * 64, content_type="image/jpeg", size=len(data),
                             width=64, height=48)  # fmt: skip
    photo.file.save("iso.jpg", ContentFile(data), save=True)
    return {"pk": photo.pk}


def _result_pk(world: Any) -> dict[str, int]:
    return {"pk": _result(world).pk}


SCOPED_ROUTES = {
    "frontline:instruction": _instruction,
    "frontline:photo": _photo,
    "examination-result-detail": _result_pk,
}

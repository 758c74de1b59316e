"""Frontline fixtures: a dispatched instruction at port_a, a second port's officer, real photos."""

from __future__ import annotations

import io
import uuid
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from apps.agencies.roles import Role
from apps.frontline.services import GoodsLine, ResultInput
from apps.targeting.models import Instruction
from tests.factories import member
from tests.targeting.factories import SubjectFactory, TargetFactory


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def other_port_officer(world):
    """A customs frontline officer at Heathrow (port_b): must not see Felixstowe's instructions."""
    return member("hana", world.customs, Role.FRONTLINE, ports=[world.port_b])


@pytest.fixture
def make_instruction(world, customs_supervisor):
    """``make_instruction(**target_kwargs)``: a customs target dispatched to port_a with its instruction."""

    def make(
        port=None, arrival_in_hours: float = 3, state: str = "dispatched", method: str = "physical", **kwargs
    ):
        port = port or world.port_a
        subject = SubjectFactory(
            source__owner_agency=world.customs,
            port=port,
            arrival_at=timezone.now() + timedelta(hours=arrival_in_hours),
            facts={"hs_code": "0803", "origin_country": "EC", "container_number": "MSCU1234567"},
        )
        target = TargetFactory(subject=subject, state=state, **kwargs)
        return Instruction.objects.create(
            target=target,
            port=port,
            method=method,
            instruction="Bananas from Guayaquil: check the reefer's evaporator and the pallet bases.",
            dispatched_by=customs_supervisor,
            dispatched_at=timezone.now() - timedelta(hours=1),
        )

    return make


@pytest.fixture
def instruction(make_instruction):
    return make_instruction()


def jpeg_bytes(size: tuple[int, int] = (64, 48), color: str = "orange") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


@pytest.fixture
def jpeg():
    def make(name: str = "seizure.jpg") -> SimpleUploadedFile:
        return SimpleUploadedFile(name, jpeg_bytes(), content_type="image/jpeg")

    return make


def seizure(key: uuid.UUID | None = None, **overrides) -> ResultInput:
    """A seizure of 12.5 kg of cocaine, examined physically for 40 minutes."""
    now = timezone.now()
    values = {
        "idempotency_key": key or uuid.uuid4(),
        "method": "physical",
        "outcome": "seizure",
        "started_at": now - timedelta(minutes=45),
        "ended_at": now - timedelta(minutes=5),
        "revenue_at_stake": None,
        "notes": "In the evaporator housing.",
        "goods": [GoodsLine(kind="cocaine", quantity=12.5, unit="kg", estimated_value=400000)],
    }
    values.update(overrides)
    return ResultInput(**values)

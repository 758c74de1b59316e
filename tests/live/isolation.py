"""Live routes that take a parameter: an operation board and a target's presence are scoped to agencies;
a port board is reference data (ports are), and shows each viewer only what his agency may see."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from apps.targeting.models import JointOperation
from tests.targeting.factories import SubjectFactory, TargetFactory


def _operation(world: Any) -> dict[str, int]:
    now = timezone.now()
    operation = JointOperation.objects.create(
        name="Op Harbour", owner_agency=world.customs, starts_at=now, ends_at=now + timezone.timedelta(days=1)
    )
    return {"pk": operation.pk}


def _target(world: Any) -> dict[str, int]:
    return {
        "pk": TargetFactory(subject=SubjectFactory(source__owner_agency=world.customs, port=world.port_a)).pk
    }


SCOPED_ROUTES = {
    "live:operation": _operation,
    "live:presence": _target,
}
REFERENCE_ROUTES = {"live:port"}

"""Joint operations: several agencies' targets grouped under one operation."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F

from apps.agencies.models import Agency
from apps.agencies.operations import check, membership_of
from apps.targeting.models import JointOperation, Target
from apps.targeting.services.moves import _member_agency, _publish, _record


def create_operation(
    *,
    actor: User,
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
            name=name.strip(), owner_agency=_member_agency(actor), starts_at=starts_at, ends_at=ends_at,
            description=description,
        )  # fmt: skip
        operation.agencies.set(list(agencies))
        operation.members.add(actor)
    return operation


def add_to_operation(*, actor: User, operation: JointOperation, target: Target) -> Target:
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

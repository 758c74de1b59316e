"""Deconfliction: an agency with a legitimate interest holds a target; holds stack, the last release
returns it.
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from apps.agencies.operations import check, membership_of
from apps.targeting import transitions
from apps.targeting.models import Hold, Target
from apps.targeting.services.moves import (
    S,
    StaleChange,
    TransitionRefused,
    _member_agency,
    _move,
    _publish,
    _record,
    _stale_message,
)

HOLDABLE_STATES = transitions.HOLDABLE_STATES


def place_hold(*, actor: User, target: Target, reason: str, expected_version: int | None = None) -> Hold:
    """An agency with a legitimate interest (it may see the target) asks that it is not examined.

    The target goes to ``on_hold`` (remembering where it was); further holds by other agencies stack,
    and it returns only when every hold is released.
    """
    check(actor, "target.hold", target)
    if not reason.strip():
        raise ValidationError({"reason": "Say why (e.g. “do not examine: controlled delivery”)."})
    agency = _member_agency(actor)
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


def release_hold(*, actor: User, hold: Hold, reason: str = "") -> Hold:
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

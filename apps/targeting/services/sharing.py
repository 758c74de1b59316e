"""Sharing a target with another agency under a handling code, and the owner's consent to act."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from apps.agencies.models import Agency
from apps.agencies.operations import check, membership_of
from apps.targeting.models import HandlingCode, Target, TargetShare
from apps.targeting.services.moves import _publish, _record


def may_pass_on(agency_id: int | None, target: Target, shares: Iterable[TargetShare] | None = None) -> bool:
    """The pass-on rule: the owner agency shares its target; another agency only if its own share of
    it says "may pass on". ``shares`` are the target's shares when the caller has them already (the
    page asks this for its Share button; :func:`share_target` enforces it)."""
    if agency_id == target.owner_agency_id:
        return True
    if agency_id is None:
        return False
    if shares is None:
        shares = TargetShare.objects.filter(target=target, agency_id=agency_id)
    return any(s.agency_id == agency_id and s.code == HandlingCode.PASS_ON for s in shares)


def share_target(*, actor: User, target: Target, agency: Agency, code: str = HandlingCode.SEE) -> TargetShare:
    """Share the target with ``agency`` under a handling code.

    The owner agency may share with any code. A partner whose own share says "may pass on" may share
    further, but only with "may see" or "owner consent before action" (never wider than it was given).
    """
    check(actor, "target.share", target)
    if code not in HandlingCode.values:
        raise ValidationError({"code": f"Unknown handling code {code!r}."})
    membership = membership_of(actor)
    if not may_pass_on(membership.agency_id, target):
        raise PermissionDenied("Your agency may not pass this target on.")
    if membership.agency_id != target.owner_agency_id and code not in {
        HandlingCode.SEE,
        HandlingCode.CONSENT,
    }:
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


def give_consent(*, actor: User, share: TargetShare, reason: str = "") -> TargetShare:
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

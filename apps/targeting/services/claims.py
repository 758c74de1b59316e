"""Claims: who works a target now, taken and given back (and given back by the system when idle)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from apps.agencies.operations import check, membership_of
from apps.agencies.roles import Role
from apps.targeting.models import FINAL_STATES, Target
from apps.targeting.services.moves import StaleChange, TransitionRefused, _publish


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


def claim_target(*, actor: User, target: Target) -> Target:
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
                user = get_user_model().objects.filter(pk=holder).first() if holder is not None else None
                name = (user.get_full_name() or user.username) if user else "someone else"
                raise StaleChange(f"{target.reference} is already being worked by {name}.")
        target.refresh_from_db()
        _publish(target)
    return target


def release_claim(*, actor: User, target: Target) -> Target:
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

"""Periodic work of the targeting workflow: every open target reaches an end, and no claim lasts for ever.

Beat runs ``targeting.mark_missed_targets`` every few minutes (the job ``mark-missed-targets`` of
``apps.core.schedule``); in the embedded mode (no broker, no beat) the server process runs it on the same
period (``apps.core.periodic``).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from apps.targeting.models import UNDECIDED_STATES, Target
from apps.targeting.transitions import SYSTEM_MISSABLE_STATES
from ratc_ops.env import env_int

log = logging.getLogger("apps.targeting.tasks")


def _minutes(name: str, default: int) -> timedelta:
    """A period in minutes: the Django setting when a deployment defines it, else the environment
    (``ratc_ops.env``: a value that is not a whole number of minutes ≥ 1 stops the task with its name)."""
    value = getattr(settings, name, None)
    if value is None:
        value = env_int(name, default, minimum=1)
    return timedelta(minutes=int(value))


def missed_grace() -> timedelta:
    """How long after its conveyance arrived an open target counts as released unexamined
    (``RATC_MISSED_GRACE_MINUTES``, 3 hours by default: time to clear the conveyance)."""
    return _minutes("RATC_MISSED_GRACE_MINUTES", 180)


def claim_idle() -> timedelta:
    """How long a claim may sit with nothing happening before it goes back to the queue
    (``RATC_CLAIM_IDLE_MINUTES``, 2 hours by default: longer than any review, shorter than a shift)."""
    return _minutes("RATC_CLAIM_IDLE_MINUTES", 120)


@shared_task(name="targeting.mark_missed_targets")
def mark_missed_targets() -> int:
    """End every open target whose conveyance arrived more than ``missed_grace()`` ago, and expire idle
    claims. Returns how many targets were marked missed.

    Nominated, in review, awaiting approval, approved or dispatched: each goes through
    ``services.mark_missed`` with no actor (the same conditional move, history and events as a person's,
    with a system reason); one moved by a person meanwhile is simply skipped. A held target is left to
    the holding agency. Then claims idle for ``claim_idle()`` are given back (``services.expire_claims``).
    """
    from apps.targeting.services import (
        StaleChange,
        TransitionRefused,
        expire_claims,
        mark_missed,
    )

    now = timezone.now()
    cutoff = now - missed_grace()
    late = (
        Target.objects.filter(state__in=SYSTEM_MISSABLE_STATES, arrival_at__lt=cutoff)
        .select_related("port")
        .only("pk", "state", "version", "owner_agency_id", "port__locode", "arrival_at", "random_control")
    )
    count = 0
    for target in late.iterator(chunk_size=500):
        reason = (
            "Conveyance released before a decision was taken"
            if target.state in UNDECIDED_STATES
            else "Conveyance released before examination"
        )
        try:
            mark_missed(actor=None, target=target, reason=f"{reason} (system)")
            count += 1
        except (StaleChange, TransitionRefused):
            continue
    expired = expire_claims(idle=claim_idle(), now=now)
    if count or expired:
        log.info("Marked %s targets missed, gave back %s idle claims", count, expired)
    return count

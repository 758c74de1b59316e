"""Worklists: the targets one person has to act on, named, so a home page can count them and the target
list can show them (``?work=<name>``, applied by ``queries.filter_targets``).

Each worklist is a ``Q`` applied on top of ``Target.objects.visible_to(user)``, never instead of it: a
count on a home page is a disclosure too, so it counts only what the viewer may see.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from apps.agencies.models import CentreConfiguration
from apps.agencies.operations import can, membership_of
from apps.targeting.models import (
    FINAL_STATES,
    OPEN_STATES,
    Target,
    TargetShare,
    TargetState,
    Transition,
    breach_q,
)
from apps.targeting.routing import in_deciding_team, may_act_as_agency

__all__ = ["WORKLISTS", "Worklist", "worklist", "worklist_q"]

S = TargetState
#: Awaiting approval are few at any time; past this many, the oldest are left for the full list.
APPROVAL_CANDIDATES = 500


@dataclass(frozen=True)
class Worklist:
    key: str
    label: str
    #: The operation the role needs for this list to be its work (hidden from the others).
    operation: str
    q: Callable[[Any, datetime], Q]


def _claimed(user: Any, now: datetime) -> Q:
    return Q(claimed_by=user, state__in=OPEN_STATES)


def _drafts(user: Any, now: datetime) -> Q:
    return Q(nominated_by=user, state__in=(S.NOMINATED, S.IN_REVIEW))


def _results(user: Any, now: datetime) -> Q:
    return Q(nominated_by=user, state=S.RESULT_RECORDED)


def _breaching(user: Any, now: datetime) -> Q:
    return breach_q(now)


def _held(user: Any, now: datetime) -> Q:
    return Q(state=S.ON_HOLD)


def _to_dispatch(user: Any, now: datetime) -> Q:
    return Q(state=S.APPROVED)


def _shared(user: Any, now: datetime) -> Q:
    membership = membership_of(user)
    if membership is None:
        return Q(pk__in=[])
    shared = TargetShare.objects.filter(agency_id=membership.agency_id).values("target_id")
    return Q(pk__in=shared) & ~Q(owner_agency_id=membership.agency_id) & ~Q(state__in=FINAL_STATES)


def _approvable(user: Any, now: datetime) -> Q:
    """Awaiting approval, and this supervisor may approve it: his agency may act, his team decides under
    the operating model (``routing``), and, with four eyes, he neither nominated nor submitted it."""
    membership = membership_of(user)
    if membership is None or not can(user, "target.approve"):
        return Q(pk__in=[])
    config = CentreConfiguration.current()
    candidates = list(
        Target.objects.visible_to(user)
        .filter(state=S.AWAITING_APPROVAL)
        .select_related("port")
        .prefetch_related("shares")
        .order_by("arrival_at")[:APPROVAL_CANDIDATES]
    )
    proposed: set[int] = set()
    if config.four_eyes:
        # ``routing.proposers_of`` for every candidate at once: nominated, or submitted for approval.
        proposed = {t.pk for t in candidates if t.nominated_by_id == user.pk}
        proposed |= set(
            Transition.objects.filter(
                target_id__in=[t.pk for t in candidates], to_state=S.AWAITING_APPROVAL, actor_id=user.pk
            ).values_list("target_id", flat=True)
        )
    ids = []
    for target in candidates:
        if (
            target.pk not in proposed
            and may_act_as_agency(membership, target)
            and in_deciding_team(membership, target, config)
        ):
            ids.append(target.pk)
    return Q(pk__in=ids)


WORKLISTS: dict[str, Worklist] = {
    w.key: w
    for w in (
        Worklist("claimed", "My claims", "target.claim", _claimed),
        Worklist("drafts", "My nominations not yet submitted", "target.nominate", _drafts),
        Worklist("results", "Results on targets I nominated", "target.nominate", _results),
        Worklist("approve", "Awaiting my approval", "target.approve", _approvable),
        Worklist("breaching", "Breaching the decision time", "target.view", _breaching),
        Worklist("held", "On hold", "target.view", _held),
        Worklist("dispatch", "Approved, to dispatch", "target.dispatch", _to_dispatch),
        Worklist("shared", "Shared with my agency, still open", "target.view", _shared),
    )
}


def worklist_q(key: str, user: Any, now: datetime | None = None) -> Q | None:
    """The worklist's condition for ``user`` (None for an unknown name: the list ignores it)."""
    found = WORKLISTS.get(key)
    if found is None:
        return None
    if not can(user, found.operation):
        return Q(pk__in=[])
    return found.q(user, now or timezone.now())


def worklist(user: Any, key: str, now: datetime | None = None) -> QuerySet[Target]:
    """The targets of one worklist the user may see (unordered)."""
    q = worklist_q(key, user, now)
    visible = Target.objects.visible_to(user)
    return visible.filter(q) if q is not None else visible.none()

"""Watchlists and their sharing: created, shared, unshared; a change bumps the list's version."""

from __future__ import annotations

import logging

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from guardian.shortcuts import assign_perm, remove_perm

from apps.agencies.models import Agency
from apps.agencies.operations import check, membership_of
from apps.watchlists.models import (
    HandlingCode,
    SourceFormat,
    Watchlist,
)

log = logging.getLogger("apps.watchlists.services")  # the name it had as one module


def create_watchlist(
    *,
    actor: User | None,
    name: str,
    description: str = "",
    source_kind: str = SourceFormat.MANUAL,
    default_handling: str = HandlingCode.NOTIFY,
    risk_area: str = "security",
    weight: int = 90,
    owner_agency: Agency | None = None,
    false_hit_rate: float = 0.001,
) -> Watchlist:
    """A new list owned by the actor's agency (``owner_agency`` only for system set-up, actor None).

    ``false_hit_rate``: the share of ordinary travellers its matches may flag; its threshold is set to
    keep it when entries arrive (``calibration``)."""
    if actor is not None:
        check(actor, "watchlist.manage")
        owner_agency = membership_of(actor).agency
    if owner_agency is None:
        raise ValueError("a watchlist needs an owner agency")
    watchlist = Watchlist(
        owner_agency=owner_agency,
        name=name,
        description=description,
        source_kind=source_kind,
        default_handling=default_handling,
        risk_area=risk_area,
        weight=weight,
        false_hit_rate=false_hit_rate,
    )
    watchlist.full_clean()
    watchlist.save()
    return watchlist


def share_watchlist(*, actor: User | None, watchlist: Watchlist, agency: Agency) -> None:
    """Let ``agency`` see and screen against ``watchlist``. Only the owner agency may share its list."""
    if actor is not None:
        check(actor, "watchlist.manage", watchlist)
    with transaction.atomic():
        assign_perm("watchlists.view_watchlist", agency.group, watchlist)
        mark_changed(watchlist.pk)


def unshare_watchlist(*, actor: User | None, watchlist: Watchlist, agency: Agency) -> None:
    if actor is not None:
        check(actor, "watchlist.manage", watchlist)
    with transaction.atomic():
        remove_perm("watchlists.view_watchlist", agency.group, watchlist)
        mark_changed(watchlist.pk)


def shared_with(watchlist: Watchlist) -> list[Agency]:
    """Agencies (other than the owner) granted sight of the list."""
    group_ids = watchlist.watchlistgroupobjectpermission_set.filter(
        permission__codename="view_watchlist"
    ).values("group_id")
    return list(Agency.objects.filter(group_id__in=group_ids).order_by("name"))


def mark_changed(watchlist_id: int) -> None:
    """Mark the list changed: every process rebuilds its screening index on its next screening."""
    Watchlist.objects.filter(pk=watchlist_id).update(version=F("version") + 1, updated_at=timezone.now())


def check_owner(actor: User, watchlist: Watchlist) -> None:
    """Raise unless the actor's agency owns the list (used by pages to show management controls)."""
    membership = membership_of(actor)
    if membership is None or membership.agency_id != watchlist.owner_agency_id:
        raise PermissionDenied("Only the owner agency may change this watchlist.")

"""Who hears about a target: the one answer for every publisher of a target's live events.

A change to a target (a transition, a result recorded or corrected, someone opening its page) is told
to the group of every agency that may see it (its owner and each agency it is shared with), to the
target's own page (``target-<pk>``) and to its port (``port-<LOCODE>``, where frontline officers'
boards listen). No group for everyone: each board listens to its viewer's agency (or ports) and checks
every event again before it forwards anything (``apps.live.consumers``).

It lives in ``targeting`` because it reads the target and its shares; it names groups only through
``apps.core.events.group_name``, so dependencies point from targeting to live's publishing module,
never back (``apps.live.consumers`` asks this module, as it asks ``Target.objects.visible_to``).
"""

from __future__ import annotations

from collections.abc import Iterable

from apps.core.events import group_name
from apps.targeting.models import Target, TargetShare

__all__ = ["audience_of", "audience_of_id"]


def audience_of(target: Target, *, shares: Iterable[TargetShare] | None = None) -> list[str]:
    """The groups told about a change to ``target``: agencies (sorted), then its page, then its port.

    Reads the shares (one query; none when the caller passes the target's current ``shares``, as
    ``moves._move`` does with the ones it loaded at the version it changed) and ``target.port`` (none
    when the caller loaded it with the target).
    """
    shared: Iterable[int]
    if shares is None:
        shared = TargetShare.objects.filter(target_id=target.pk).values_list("agency_id", flat=True)
    else:
        shared = [share.agency_id for share in shares]
    agency_ids = {target.owner_agency_id, *shared}
    groups = [*(group_name("agency", a) for a in sorted(agency_ids)), group_name("target", target.pk)]
    if target.port is not None:  # no query when port_id is None
        groups.append(group_name("port", target.port.locode))
    return groups


def audience_of_id(target_id: int) -> list[str]:
    """``audience_of`` for a target known by its id (presence); empty when there is no such target."""
    target = (
        Target.objects.filter(pk=target_id)
        .select_related("port")
        .only("pk", "owner_agency_id", "port_id", "port__locode")
        .first()
    )
    return [] if target is None else audience_of(target)

"""The disclosure decision: ``disclose(viewer, target)``, the one function every renderer asks.

Pages, htmx partials, the history page and CSV, the API's serializers, the tablet and exports render only
what it returned (``Disclosure``, whose parts are in this package's other modules).
"""

from __future__ import annotations

from typing import Any

from apps.agencies.operations import membership_of
from apps.agencies.roles import PORT_BOUND_ROLES
from apps.risk.random_control import random_control_told_to
from apps.targeting.disclosure.history import HistoryPart
from apps.targeting.disclosure.holds import HoldsPart
from apps.targeting.disclosure.reasons import ReasonsPart
from apps.targeting.disclosure.results import ResultsPart
from apps.targeting.masking import may_see_personal


class Disclosure(ReasonsPart, HistoryPart, HoldsPart, ResultsPart):
    """What ``viewer`` may read of ``target`` (made by ``disclose``)."""


def reads_briefing_only(viewer: Any) -> bool:
    """Whether the viewer reads targets only as the tablet briefs them (a frontline officer): lists and
    boards that show no single target's disclosure still hide random control and reasons from him."""
    membership = membership_of(viewer)
    return membership is not None and membership.role in PORT_BOUND_ROLES


def shows_random_control(agency_id: int | None, target: Any) -> bool:
    """A row or card of ``target`` says "random" for a viewer whose ``random_control_agency`` is ``agency_id``."""
    return bool(target.random_control) and random_control_told_to(agency_id, target)


def disclose(viewer: Any, target: Any, *, briefing: bool = False) -> Disclosure:
    """What ``viewer`` may read of ``target``; the caller has already checked that he may see it.

    ``briefing``: the tablet's view (what an officer at the port reads), whoever looks at it; a frontline
    officer always gets it. Cached on the target for the viewer, so a page and its partials ask once.
    """
    cache = target.__dict__.setdefault("_ratc_disclosures", {})
    key = (getattr(viewer, "pk", None), target.version, briefing)
    if key in cache:
        return cache[key]
    membership = membership_of(viewer)
    role = membership.role if membership is not None else None
    found = Disclosure(
        viewer=viewer,
        target=target,
        agency_id=membership.agency_id if membership is not None else None,
        role=role,
        personal=membership is not None and may_see_personal(viewer, target.subject),
        briefing_only=briefing or reads_briefing_only(viewer),
    )
    cache[key] = found
    return found

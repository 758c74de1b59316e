"""The report cached per user and slice, forgotten by bumping one generation key."""

from __future__ import annotations

from typing import Any

from apps.reports.services.report import Report, build_report
from apps.reports.slicing import Slice

#: How long a computed report is reused for the same agency, role and slice (seconds).
CACHE_SECONDS = 300


GENERATION_KEY = "reports:generation"


def _cache_key(user: Any, s: Slice, kind: str) -> str | None:
    from django.core.cache import cache

    from apps.agencies.operations import membership_of
    from apps.targeting.models import Target

    membership = membership_of(user)
    if membership is None:
        return None
    generation = cache.get_or_set(GENERATION_KEY, 1, None)
    query = "&".join(f"{k}={v}" for k, v in sorted(s.query().items()))
    # Scope follows the agency and role, and for a member whose view of targets is narrowed further
    # (a port-bound role, or a port team, who also sees what they nominated themselves) the person and
    # their ports: the key carries them all. Keyed by role alone, a port team's supervisor was given the
    # figures of the whole agency that a national supervisor's page had left in the cache.
    whose = ""
    if Target.narrows(membership):
        ports = ",".join(str(p) for p in sorted(membership.ports.values_list("pk", flat=True)))
        whose = f"u{membership.user_id}@{ports}"
    return f"reports:{kind}:{generation}:{membership.agency_id}:{membership.role}:{whose}:{query}"


def cached_report(user: Any, s: Slice) -> Report:
    """:func:`build_report`, reused for ``CACHE_SECONDS`` by people of the same agency and role.

    Two managers of one agency see the same figures, so one computation serves both; a refresh of the
    summary table (:func:`forget_reports`) starts a new generation of keys.
    """
    from django.core.cache import cache

    key = _cache_key(user, s, "page")
    if key is None:
        return build_report(user, s)
    report = cache.get(key)
    if report is None:
        report = build_report(user, s)
        cache.set(key, report, CACHE_SECONDS)
    return report


def forget_reports() -> None:
    """Drop every cached report (a new generation of keys)."""
    from django.core.cache import cache

    try:
        cache.incr(GENERATION_KEY)
    except ValueError:
        cache.set(GENERATION_KEY, 2, None)


def on_sharing_changed(sender: object, **kwargs: object) -> None:
    """An agency gained or lost sight of a source (``apps.intake.events.sharing_changed``): its cached
    reports would count what it may no longer see, or miss what it now may."""
    forget_reports()

"""Hits as the risk engine's components, and what of them a user may see."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from apps.watchlists.rulings import false_match_pairs

if TYPE_CHECKING:
    from apps.intake.models import Subject
    from apps.risk.providers import Component

from apps.watchlists.screening.bundle import Hit, ListInfo, bundle_for
from apps.watchlists.screening.names import visible_list_ids
from apps.watchlists.screening.subjects import screen_subjects


def _component(hit: Hit, info: ListInfo) -> Component:
    from apps.risk.providers import Component

    # The explanation is copied into target reasons and shown without a visibility check by other
    # apps, so it names neither the list nor the entry; ``details`` carries them for pages that filter
    # with ``visible_components``.
    return Component(
        kind="watchlist",
        ref=f"watchlist-entry:{hit.entry_pk}",
        score=round(min(100.0, hit.score * info.weight), 2),
        risk_area=info.risk_area,
        explanation=f"Watchlist match on the {hit.subject_field} (strength {hit.score:.2f}); "
        f"handling restricted to agencies that may see the list.",
        label="Watchlist match",
        details=hit.as_dict() | {"restricted_to_list_viewers": True},
    )


def provider(subjects: list[Subject]) -> dict[int, list[Component]]:
    """Risk-engine provider (``apps.risk.providers`` contract): watchlist components per subject id.

    Reads only; the whole batch is screened at once (:func:`screen_subjects`) against every active list. Each component's ``details``
    carries ``watchlist_id`` and ``owner_agency_id`` so that pages show it only to agencies that may
    see that list (:func:`visible_components`).
    """
    if not subjects:
        return {}
    bundle = bundle_for(None)
    if not bundle.size:
        return {}
    found = screen_subjects(subjects, bundle=bundle)
    # A person ruled these a false match (on the entry as it still reads): not raised again.
    ruled_false = false_match_pairs(found) if found else set()
    components = {
        pk: [_component(h, bundle.lists[h.watchlist_id]) for h in hits if (pk, h.entry_pk) not in ruled_false]
        for pk, hits in found.items()
    }
    return {pk: found_here for pk, found_here in components.items() if found_here}


def visible_components(user: Any, components: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Stored components (``Assessment.explanation["components"]``) that ``user`` may see.

    Watchlist components on a list the user's agency may not see are dropped entirely; other kinds
    pass through. For the risk and targeting pages, before anything is drawn.
    """
    components = list(components)
    if not any(c.get("kind") == "watchlist" for c in components):
        return components
    allowed = set(visible_list_ids(user))
    return [
        c
        for c in components
        if c.get("kind") != "watchlist" or (c.get("details") or {}).get("watchlist_id") in allowed
    ]

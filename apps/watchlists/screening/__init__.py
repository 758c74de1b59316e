"""Screening service: subjects and names against the stored watchlists, with a per-process index cache.

**Cache.** Building a :class:`~apps.watchlists.matching.ScreeningIndex` over UN + OFAC takes about a
second, screening one name a millisecond, so each process keeps the indexes it has built, keyed by the
set of lists and each list's ``version`` (bumped by every import or edit) and by today's date (an entry
stops being screened on its ``expires_on``). A changed key makes the next screening rebuild, lazily, in
whichever process screens; nothing has to be told. Only active, unexpired entries are indexed.

**Who learns what.** Screening for the risk engine (:func:`screen_subject`, :func:`provider`) uses every
active list, whoever owns it: a police lookout must be able to flag a customs declaration. But an agency
must never learn of an entry on a list it may not see. So every hit and every risk component carries
the list and its owner agency (``details["watchlist_id"]``, ``details["owner_agency_id"]``), its
explanation text names neither the list nor the entry, and pages filter with
:func:`visible_components` / :func:`visible_hits` before showing anything. Screening a name for a person
(the tool page, the API) uses only the lists that person may see (:func:`screen_name_for`).


One module per concern: ``bundle`` (the lists' index, built once per version and cached), ``names``
(screening a name), ``subjects`` (screening a subject's parties and identifiers) and ``engine`` (hits as
the risk engine's components).
"""

from __future__ import annotations

from apps.watchlists.screening.bundle import (
    CACHE_SIZE,
    PARTY_KINDS,
    Bundle,
    Hit,
    ListInfo,
    StoredEntry,
    bundle_for,
    clear_cache,
)
from apps.watchlists.screening.engine import provider, visible_components
from apps.watchlists.screening.names import EXACT_KEYS, screen_name, screen_name_for, visible_list_ids
from apps.watchlists.screening.subjects import screen_subject, screen_subjects, visible_hits

__all__ = [
    "CACHE_SIZE",
    "EXACT_KEYS",
    "PARTY_KINDS",
    "Bundle",
    "Hit",
    "ListInfo",
    "StoredEntry",
    "bundle_for",
    "clear_cache",
    "provider",
    "screen_name",
    "screen_name_for",
    "screen_subject",
    "screen_subjects",
    "visible_components",
    "visible_hits",
    "visible_list_ids",
]

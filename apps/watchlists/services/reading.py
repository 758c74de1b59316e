"""What an actor may read: lists, entries, their summaries and a search."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.db.models import Count, Max, Q, QuerySet
from django.utils import timezone

from apps.agencies.operations import check
from apps.agencies.scoping import get_object_for
from apps.watchlists.models import (
    EntryKind,
    ImportRun,
    Watchlist,
    WatchlistEntry,
)


def visible_watchlists(actor: User) -> QuerySet[Watchlist]:
    """Lists the actor may see: its agency's own and those granted to it."""
    check(actor, "watchlist.view")
    return Watchlist.objects.visible_to(actor).select_related("owner_agency")


def get_watchlist_for(actor: User, pk: Any, *, operation: str = "watchlist.view") -> Watchlist:
    """The list if visible (else 404) and the actor may perform ``operation`` on it (else 403)."""
    return get_object_for(actor, Watchlist.objects.select_related("owner_agency"), pk=pk, operation=operation)


def get_entry_for(actor: User, pk: Any, *, operation: str = "watchlist.view") -> WatchlistEntry:
    """The entry if its list is visible to the actor (else 404); ``operation`` is checked on the list."""
    entry = get_object_for(
        actor, WatchlistEntry.objects.select_related("watchlist", "watchlist__owner_agency"), pk=pk
    )
    check(actor, operation, entry.watchlist)
    return entry


def list_summaries(actor: User) -> list[dict[str, Any]]:
    """Each visible list with its live entry counts per kind and its last import (for the lists page)."""
    lists = list(visible_watchlists(actor))
    today = timezone.localdate()
    live = Q(active=True) & (Q(expires_on__isnull=True) | Q(expires_on__gt=today))
    counts: dict[int, dict[str, int]] = {w.pk: {} for w in lists}
    for row in (
        WatchlistEntry.objects.filter(live, watchlist_id__in=counts)
        .values("watchlist_id", "kind")
        .annotate(n=Count("pk"))
    ):
        counts[row["watchlist_id"]][row["kind"]] = row["n"]
    inactive = dict(
        WatchlistEntry.objects.filter(watchlist_id__in=counts)
        .exclude(live)
        .values("watchlist_id")
        .annotate(n=Count("pk"))
        .values_list("watchlist_id", "n")
    )
    last: dict[int, ImportRun] = {}
    latest = ImportRun.objects.filter(watchlist_id__in=counts).values("watchlist_id").annotate(m=Max("pk"))
    for run in ImportRun.objects.filter(pk__in=[r["m"] for r in latest]):
        last[run.watchlist_id] = run
    labels = dict(EntryKind.choices)
    return [
        {
            "watchlist": w,
            "total": sum(counts[w.pk].values()),
            "kinds": [(labels[k], n) for k, n in sorted(counts[w.pk].items(), key=lambda kv: -kv[1])],
            "inactive": inactive.get(w.pk, 0),
            "last_import": last.get(w.pk),
        }
        for w in lists
    ]


def search_entries(
    actor: User, watchlist: Watchlist, *, query: str = "", kind: str = "", show_inactive: bool = False
) -> QuerySet[WatchlistEntry]:
    """Entries of a visible list, filtered by a text (name, alias, id, document) and kind."""
    check(actor, "watchlist.view", watchlist)
    rows = WatchlistEntry.objects.filter(watchlist=watchlist)
    if not show_inactive:
        rows = rows.filter(active=True)
    if kind in EntryKind.values:
        rows = rows.filter(kind=kind)
    if query:
        # JSON fields are searched as text: good enough for a person's lookup, never for screening.
        rows = rows.filter(
            Q(name__icontains=query)
            | Q(external_id__icontains=query)
            | Q(reference__icontains=query)
            | Q(aliases__icontains=query)
            | Q(documents__icontains=query)
        )
    return rows.order_by("name", "pk")

"""Small builders for watchlist tests: a list owned by an agency, entries written through the services."""

from __future__ import annotations

import itertools
from typing import Any

from apps.watchlists.models import ImportRun, Watchlist, WatchlistEntry
from apps.watchlists.services import create_watchlist, entry_from_dict, entry_row, mark_changed

_n = itertools.count(1)


def make_list(agency, name: str | None = None, **kwargs: Any) -> Watchlist:
    return create_watchlist(actor=None, owner_agency=agency, name=name or f"List {next(_n)}", **kwargs)


def make_entry(watchlist: Watchlist, name: str, **data: Any) -> WatchlistEntry:
    """An entry stored as an import would store it (fingerprint and identifiers included)."""
    operational = {k: data.pop(k) for k in ("handling_code", "expires_on", "active") if k in data}
    ext = str(data.pop("id", f"E{next(_n)}"))
    entry = entry_from_dict({"id": ext, "name": name, **data}, source=watchlist.name)
    row = WatchlistEntry.objects.create(
        watchlist=watchlist, external_id=ext, **entry_row(entry), **operational
    )
    mark_changed(watchlist.pk)
    return row


def make_run(watchlist: Watchlist) -> ImportRun:
    return ImportRun.objects.create(watchlist=watchlist, format="csv", files=["x.csv"], counts={"read": 1})

"""Watchlist services: lists, entries and imports. Every function acting for a person checks first.

Imports run the same code for the command line, the upload page, the API and Celery:
``start_import`` (queued run) → ``run_import`` (read with the pure importers, then ``upsert_entries``).
``upsert_entries`` matches on ``external_id`` so a re-import updates and never duplicates; entries no
longer in a full list are deactivated, not deleted; rows are written with ``bulk_create`` and
``bulk_update`` in batches, each batch in its own transaction so a page can follow the progress. Every
change bumps ``Watchlist.version``, which makes each process rebuild its screening index lazily.


One module per concern: ``reading`` (what an actor may read), ``lists`` (lists and sharing),
``entries`` (an entry between its dataclass and its row, and a person's edits), ``importing`` (reading
files and upserting entries) and ``runs`` (an import run, queued, run and followed).
"""

from __future__ import annotations

from apps.watchlists.rulings import (
    get_hit_for,
    hits_blocking_action,
    pending_hits,
    precision_by_list,
    rule_hit,
)
from apps.watchlists.services.entries import (
    create_entry,
    entry_from_dict,
    entry_row,
    to_dataclass,
    update_entry,
)
from apps.watchlists.services.importing import (
    BATCH,
    IMPORT_FORMATS,
    IMPORTED_FIELDS,
    ImportCounts,
    Progress,
    read_entries,
    upsert_entries,
)
from apps.watchlists.services.lists import (
    check_owner,
    create_watchlist,
    log,
    mark_changed,
    share_watchlist,
    shared_with,
    unshare_watchlist,
)
from apps.watchlists.services.reading import (
    get_entry_for,
    get_watchlist_for,
    list_summaries,
    search_entries,
    visible_watchlists,
)
from apps.watchlists.services.runs import (
    import_error_text,
    import_path,
    recalibrate,
    run_import,
    shown_name,
    start_import,
    submit_import,
)

__all__ = [
    "BATCH",
    "IMPORTED_FIELDS",
    "IMPORT_FORMATS",
    "ImportCounts",
    "Progress",
    "check_owner",
    "create_entry",
    "create_watchlist",
    "entry_from_dict",
    "entry_row",
    "get_entry_for",
    "get_hit_for",
    "get_watchlist_for",
    "hits_blocking_action",
    "import_error_text",
    "import_path",
    "list_summaries",
    "log",
    "mark_changed",
    "pending_hits",
    "precision_by_list",
    "read_entries",
    "recalibrate",
    "rule_hit",
    "run_import",
    "search_entries",
    "share_watchlist",
    "shared_with",
    "shown_name",
    "start_import",
    "submit_import",
    "to_dataclass",
    "unshare_watchlist",
    "update_entry",
    "upsert_entries",
    "visible_watchlists",
]

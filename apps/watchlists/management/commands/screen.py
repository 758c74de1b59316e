"""``manage.py screen IN.csv --output OUT.csv [--list NAME ...]``: batch-screen a CSV of persons.

Input columns ``id, name`` and optionally ``date_of_birth, nationality, document, kind, imo``; output per
input row ``id, score, entry_id, alias`` (empty score when nothing reaches the threshold). A row with a
date of birth is screened against persons only, one with an IMO number against vessels. Screens against the
live entries of every list, or of the named ones. The logic is ``apps.watchlists.screen_csv``.
"""

from __future__ import annotations

import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from apps.watchlists.evidence import REVIEW_THRESHOLD
from apps.watchlists.importers.entries import WatchlistImportError
from apps.watchlists.models import Watchlist
from apps.watchlists.screen_csv import screen_csv
from apps.watchlists.screening import bundle_for


class Command(BaseCommand):
    help = "Screen a CSV of persons (id,name[,date_of_birth,nationality]) against the watchlists."

    def add_arguments(self, parser) -> None:
        parser.add_argument("input", help="CSV with a header row")
        parser.add_argument("--output", required=True, help="CSV to write: id,score,entry_id,alias")
        parser.add_argument("--list", action="append", dest="lists", help="a list name (repeatable)")
        parser.add_argument(
            "--threshold",
            type=float,
            default=REVIEW_THRESHOLD,
            help=f"lowest score written (default {REVIEW_THRESHOLD}: even odds, for review)",
        )

    def handle(self, *args, **options) -> None:
        source = Path(options["input"])
        if not source.is_file():
            raise CommandError(f"no such file: {source}")
        list_ids = None
        if options["lists"]:
            found = dict(Watchlist.objects.filter(name__in=options["lists"]).values_list("name", "pk"))
            missing = [n for n in options["lists"] if n not in found]
            if missing:
                raise CommandError(f"no watchlist named {', '.join(map(repr, missing))}")
            list_ids = list(found.values())
        bundle = bundle_for(list_ids)
        if not bundle.size:
            self.stderr.write("warning: no live watchlist entries to screen against")
        started = time.perf_counter()
        try:
            rows = screen_csv(bundle.index, source, options["output"], threshold=options["threshold"])
        except WatchlistImportError as exc:
            raise CommandError(str(exc)) from None
        took = time.perf_counter() - started
        self.stdout.write(
            f"Screened {rows} rows against {bundle.size} entries in {took:.1f}s; wrote {options['output']}"
        )

"""``manage.py import_watchlist --list NAME --format un|ofac|csv PATH``: import a list, with a progress bar.

Re-importing the same list updates what changed and deactivates entries no longer in the file (unless
``--keep-missing``); nothing is duplicated. ``--owner CODE`` creates the list for that agency if it
does not exist yet.
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from apps.agencies.models import Agency
from apps.watchlists.models import ImportRun, Watchlist
from apps.watchlists.services import create_watchlist, import_path


class Command(BaseCommand):
    help = "Import a watchlist file (UN XML, OFAC SDN CSV folder, generic CSV) into a named list."

    def add_arguments(self, parser) -> None:
        parser.add_argument("path", help="the UN XML, the OFAC folder (or its sdn.csv), or the CSV")
        parser.add_argument("--list", required=True, dest="list_name", help="name of the watchlist")
        parser.add_argument("--format", required=True, choices=("un", "ofac", "csv"))
        parser.add_argument("--owner", help="agency code: create the list for this agency if missing")
        parser.add_argument(
            "--keep-missing", action="store_true", help="a partial file: do not deactivate the rest"
        )

    def handle(self, *args, **options) -> None:
        path = Path(options["path"])
        if not path.exists():
            raise CommandError(f"no such file or folder: {path}")
        name = options["list_name"]
        watchlist = Watchlist.objects.filter(name=name).first()
        if watchlist is None:
            if not options["owner"]:
                known = ", ".join(Watchlist.objects.values_list("name", flat=True)) or "none"
                raise CommandError(
                    f"no watchlist named {name!r} (known: {known}); pass --owner CODE to create it"
                )
            agency = Agency.objects.filter(code__iexact=options["owner"]).first()
            if agency is None:
                raise CommandError(f"no agency with code {options['owner']!r}")
            watchlist = create_watchlist(
                actor=None, owner_agency=agency, name=name, source_kind=options["format"]
            )
        bar = tqdm(total=0, unit="entry", desc=f"import {name}", disable=options["verbosity"] == 0)

        def progress(run: ImportRun) -> None:
            bar.total = run.progress_total
            bar.n = run.progress_done
            bar.set_postfix(added=run.counts.get("added", 0), updated=run.counts.get("updated", 0))
            bar.refresh()

        try:
            run = import_path(
                actor=None,
                watchlist=watchlist,
                fmt=options["format"],
                path=path,
                deactivate_missing=not options["keep_missing"],
                progress=progress,
            )
        finally:
            bar.close()
        if run.status == ImportRun.Status.FAILED:
            raise CommandError(f"import {run.pk} failed: {run.error}")
        c = run.counts
        self.stdout.write(
            f"Import {run.pk} into {watchlist.name!r}: {c['read']} read, {c['added']} added, "
            f"{c['updated']} updated, {c['unchanged']} unchanged, {c['reactivated']} reactivated, "
            f"{c['deactivated']} deactivated, {c['duplicates']} duplicates skipped"
        )

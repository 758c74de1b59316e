"""Background work: imports (uploads and API pushes, progress written to their ImportRun) and the
calibration of a list's threshold that follows a changed list."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from celery import shared_task
from django.conf import settings

from apps.core.storage import uploads
from apps.watchlists.models import ImportRun
from apps.watchlists.services import run_import

#: A run in one of these has been recorded to its end: a redelivered task has nothing to do.
FINISHED = (ImportRun.Status.DONE, ImportRun.Status.FAILED)


@shared_task(acks_late=True)
def run_import_task(run_id: int, stored: list[str] | str) -> int:
    """Import uploaded files (one, or OFAC's three) kept in the uploads storage into the run's list.

    The files are copied to a folder of this worker's own for the readers (which read paths), and
    removed from the storage once the run's end is recorded: a worker killed half-way leaves them to the
    one the task is delivered to next. A finished run is not imported twice (an import is an upsert
    anyway: the same entries again change nothing).
    """
    run = ImportRun.objects.select_related("watchlist").get(pk=run_id)
    if isinstance(stored, str):  # queued by a process of the last release, before the uploads storage
        return _run_from_spool(run, stored)
    storage = uploads()
    if run.status in FINISHED:
        for name in stored:
            storage.delete(name)
        return run_id
    with tempfile.TemporaryDirectory(prefix="ratc-watchlist-") as folder:
        for name in stored:
            if not storage.exists(name):
                continue  # the import then fails naming the file, as for any unreadable one
            with storage.open(name, "rb") as source, (Path(folder) / Path(name).name).open("wb") as copy:
                shutil.copyfileobj(source, copy)
        local = folder if run.format == "ofac" else str(Path(folder) / Path(stored[0]).name)
        try:
            run_import(run, local)
        finally:
            for name in stored:
                storage.delete(name)
    return run_id


def _run_from_spool(run: ImportRun, stored_path: str) -> int:
    try:
        run_import(run, stored_path)
    finally:
        spool = Path(settings.MEDIA_ROOT) / "watchlist-spool" / str(run.pk)
        if Path(stored_path).resolve().is_relative_to(spool.resolve()):
            shutil.rmtree(spool, ignore_errors=True)
    return run.pk


@shared_task(acks_late=True)
def calibrate_task(watchlist_id: int) -> float | None:
    """Set the list's threshold anew on its stated false-hit rate (``calibration.calibrate``)."""
    from apps.watchlists.calibration import calibrate
    from apps.watchlists.models import Watchlist

    watchlist = Watchlist.objects.filter(pk=watchlist_id).first()
    if watchlist is None:
        return None
    calibrate(watchlist)
    return watchlist.match_threshold

"""Background work: imports (uploads and API pushes, progress written to their ImportRun) and the
calibration of a list's threshold that follows a changed list."""

from __future__ import annotations

import shutil
from pathlib import Path

from celery import shared_task
from django.conf import settings

from apps.watchlists.models import ImportRun
from apps.watchlists.services import run_import


@shared_task(acks_late=True)
def run_import_task(run_id: int, stored_path: str) -> int:
    """Import a spooled file (or OFAC folder) into the run's list; the run's spool folder goes afterwards."""
    run = ImportRun.objects.select_related("watchlist").get(pk=run_id)
    try:
        run_import(run, stored_path)
    finally:
        spool = Path(settings.MEDIA_ROOT) / "watchlist-spool" / str(run_id)
        if Path(stored_path).resolve().is_relative_to(spool.resolve()):
            shutil.rmtree(spool, ignore_errors=True)
    return run_id


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

"""An import run: queued, run (for the command line, the upload page, the API and Celery), followed."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from pathlib import Path

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from apps.agencies.operations import check
from apps.core.errors import scrub_paths
from apps.core.storage import keep, safe_name
from apps.watchlists.importers.entries import (
    WatchlistImportError,
)
from apps.watchlists.models import (
    ImportRun,
    SourceFormat,
    Watchlist,
)
from apps.watchlists.services.importing import IMPORT_FORMATS, Progress, read_entries, upsert_entries
from apps.watchlists.services.lists import log


def start_import(
    *, actor: User | None, watchlist: Watchlist, fmt: str, files: list[str], deactivate_missing: bool = True
) -> ImportRun:
    """Record a queued import; people need ``watchlist.manage`` on the list (its owner agency)."""
    if fmt not in IMPORT_FORMATS:
        raise ValueError(f"unknown format {fmt!r}; one of {', '.join(IMPORT_FORMATS)}")
    if actor is not None:
        check(actor, "watchlist.manage", watchlist)
    return ImportRun.objects.create(
        watchlist=watchlist,
        requested_by=actor,
        format=fmt,
        files=files,
        deactivate_missing=deactivate_missing,
    )


def shown_name(path: str | Path) -> str:
    """The name the uploader gave a file: its last part, without the spool's random prefix."""
    return Path(str(path)).name.split("__", 1)[-1]


def import_error_text(exc: Exception) -> str:
    """Why an import failed, as the page and the API show it: the uploaded file's name, never a path
    on the server (the spool folder, MEDIA_ROOT) that an exception's own text would carry."""
    if isinstance(exc, WatchlistImportError):
        return f"{shown_name(exc.path)}, {exc.where}, field {exc.field_name!r}: {exc.problem}"
    if isinstance(exc, OSError):
        name = shown_name(exc.filename) if exc.filename else "the file"
        return f"{name}: {exc.strerror or 'cannot be read'}"
    return scrub_paths(str(exc))


def run_import(run: ImportRun, path: str | Path, *, progress: Progress | None = None) -> ImportRun:
    """Read ``path`` with the run's format and upsert it into the run's list, recording progress.

    The whole file is read first (a bad line stops the import before anything is written, and the
    progress bar knows its total); lists of a few hundred thousand entries fit in memory easily.
    """
    watchlist = run.watchlist
    ImportRun.objects.filter(pk=run.pk).update(status=ImportRun.Status.RUNNING)
    run.status = ImportRun.Status.RUNNING
    try:
        entries = list(read_entries(run.format, path, source=watchlist.name))
        run.progress_total = len(entries)
        ImportRun.objects.filter(pk=run.pk).update(progress_total=run.progress_total)
        counts = upsert_entries(
            watchlist,
            entries,
            deactivate_missing=run.deactivate_missing,
            run=run,
            progress=progress,
            total=len(entries),
        )
    except (WatchlistImportError, ValueError, OSError) as exc:
        run.status, run.error = ImportRun.Status.FAILED, import_error_text(exc)
        run.finished_at = timezone.now()
        run.save(update_fields=["status", "error", "finished_at"])
        return run
    except Exception:
        log.exception("watchlist import %s failed", run.pk)
        ImportRun.objects.filter(pk=run.pk).update(
            status=ImportRun.Status.FAILED,
            error="Internal error: the import stopped; the details are in the server's log.",
            finished_at=timezone.now(),
        )
        raise
    run.counts = dict(counts)
    run.status, run.finished_at = ImportRun.Status.DONE, timezone.now()
    run.progress_done = run.progress_total = counts["read"]
    run.save(update_fields=["counts", "status", "finished_at", "progress_done", "progress_total"])
    if watchlist.source_kind == SourceFormat.MANUAL and run.format in {"un", "ofac", "csv"}:
        Watchlist.objects.filter(pk=watchlist.pk).update(source_kind=run.format)
    changed = any(counts.get(k) for k in ("added", "updated", "deactivated", "reactivated"))
    if changed or not watchlist.calibration:
        recalibrate(watchlist)
    return run


def recalibrate(watchlist: Watchlist) -> None:
    """Set the list's threshold anew on its stated false-hit rate, in the background once the change is
    committed (``tasks.calibrate_task``); a failure leaves the previous threshold in force and is logged,
    never failing the import that asked."""
    from apps.watchlists.tasks import calibrate_task

    def start() -> None:
        try:
            calibrate_task.delay(watchlist.pk)
        except Exception:
            log.exception("watchlist %s: threshold not recalibrated", watchlist.pk)

    transaction.on_commit(start)


def import_path(
    *,
    actor: User | None,
    watchlist: Watchlist,
    fmt: str,
    path: str | Path,
    deactivate_missing: bool = True,
    progress: Progress | None = None,
) -> ImportRun:
    """Import a file (or an OFAC folder) in this process: the command line and tests."""
    # The run lists the file's name only: its page is read by people who have no business with paths.
    run = start_import(
        actor=actor,
        watchlist=watchlist,
        fmt=fmt,
        files=[Path(path).name],
        deactivate_missing=deactivate_missing,
    )
    return run_import(run, path, progress=progress)


def submit_import(
    *,
    actor: User,
    watchlist: Watchlist,
    fmt: str,
    files: list[tuple[str, Iterable[bytes]]],
    deactivate_missing: bool = True,
) -> ImportRun:
    """Queue an import of uploaded files (the page and the API): keep them in the uploads storage, run
    Celery after commit.

    OFAC needs its three files (sdn.csv, alt.csv, add.csv) together; the other formats take one file.
    """
    from apps.watchlists.tasks import run_import_task

    names = [Path(n).name.casefold() for n, _ in files]
    if fmt == "ofac" and not {"sdn.csv", "alt.csv", "add.csv"} <= set(names):
        raise ValidationError({"files": "OFAC needs sdn.csv, alt.csv and add.csv together."})
    if fmt != "ofac" and len(files) != 1:
        raise ValidationError({"files": "Send exactly one file for this format."})
    with transaction.atomic():
        run = start_import(
            actor=actor,
            watchlist=watchlist,
            fmt=fmt,
            files=[Path(n).name for n, _ in files],
            deactivate_missing=deactivate_missing,
        )

        # Kept in the uploads storage, which the worker that imports reads wherever it runs; OFAC's
        # files keep their own names (the reader looks for sdn.csv, alt.csv and add.csv).
        def stored_name(name: str) -> str:
            own = safe_name(name)
            return f"watchlists/{run.pk}/" + (
                own.casefold() if fmt == "ofac" else f"{secrets.token_hex(4)}__{own}"
            )

        stored = [keep(stored_name(name), chunks) for name, chunks in files]
        transaction.on_commit(lambda: run_import_task.delay(run.pk, stored))
    return run

"""Background intake: uploads and API pushes run here, with progress written to their IntakeRun."""

from __future__ import annotations

import logging
import os
from contextlib import suppress
from pathlib import Path

from celery import shared_task
from django.db import connection
from django.utils import timezone

from apps.core.locks import session_lock
from apps.intake import uploads
from apps.intake.models import IntakeRun
from apps.intake.services import DATABASE_UNAVAILABLE, run_intake

log = logging.getLogger(__name__)

#: A run whose status is one of these has been recorded to its end: a redelivery has nothing to do.
FINISHED = (IntakeRun.Status.DONE, IntakeRun.Status.DONE_WITH_REJECTS, IntakeRun.Status.FAILED)
#: The first key of the session lock that one worker at a time holds on a run (the second is its id).
RUN_LOCK_SPACE = 21_001
#: Retries of a run the database interrupted; with the backoff capped at a minute, about a quarter of an
#: hour of outage is ridden out before the run is marked failed.
MAX_RETRIES = 20


@shared_task(
    bind=True,
    acks_late=True,
    autoretry_for=DATABASE_UNAVAILABLE,
    retry_backoff=2,
    retry_backoff_max=60,
    retry_jitter=True,
    max_retries=MAX_RETRIES,
)
def run_intake_task(self, run_id: int, stored_paths: list[str]) -> int:
    """Ingest files kept in the uploads storage by an upload or API call; they go once the run is over.

    Safe to deliver again (``acks_late``: a worker killed half-way leaves the message to another): a
    finished run is not run twice, a run cut short is run again from its first file and stores only
    what it had not (``store_messages`` skips a message already stored), and a run another worker is
    still working on is left to it. The files are removed only after the run's end is committed, so the
    worker that takes over from a killed one still finds them.

    A database that goes away mid-run (a restart, a fail-over) is not the run's fault: the task is
    retried with a growing delay and the files are kept for it. Only when the retries are spent is the
    run marked failed, so that nobody waits on a run no worker will finish.
    """
    try:
        with session_lock(RUN_LOCK_SPACE, run_id) as mine:
            if not mine:
                log.info(
                    "intake run %s is being worked by another worker; this delivery does nothing", run_id
                )
                return run_id
            run = IntakeRun.objects.select_related("source").get(pk=run_id)
            if run.status in FINISHED:
                uploads.discard(_kept(stored_paths))
                return run_id
            # Cut short (a worker killed, the database restarted): the files it finished are counted
            # in the run already and are not read again; the file under way is, and stores only what
            # it had not.
            resume = run.status == IntakeRun.Status.RUNNING
            todo = stored_paths[run.progress_done :] if resume else stored_paths
            try:
                run_intake(run, ((_name(p), _read(p)) for p in todo), resume=resume)
            except DATABASE_UNAVAILABLE:
                raise
            except Exception:
                uploads.discard(_kept(stored_paths))  # the run is marked failed: nothing will read them
                raise
            uploads.discard(_kept(stored_paths))
    except DATABASE_UNAVAILABLE:
        _close_broken_connection()
        if self.request.retries >= self.max_retries:
            log.error("intake run %s: database still unavailable after %s retries", run_id, self.max_retries)
            _give_up(run_id, stored_paths)
        raise
    return run_id


def _kept(stored_paths: list[str]) -> list[str]:
    return [p for p in stored_paths if not os.path.isabs(p)]


def _close_broken_connection() -> None:
    """Drop a connection the server closed, so that marking the run failed opens a fresh one. (Not
    inside a caller's transaction: that is the caller's to end; a worker runs tasks outside one.)"""
    if connection.in_atomic_block:
        return
    with suppress(*DATABASE_UNAVAILABLE):
        connection.close_if_unusable_or_obsolete()


def _give_up(run_id: int, stored_paths: list[str]) -> None:
    try:
        IntakeRun.objects.filter(pk=run_id).exclude(status__in=FINISHED).update(
            status=IntakeRun.Status.FAILED, finished_at=timezone.now()
        )
        uploads.discard(_kept(stored_paths))
    except DATABASE_UNAVAILABLE:
        log.error("intake run %s could not be marked failed: database unavailable", run_id)


def _name(stored: str) -> str:
    return uploads.shown_name(stored)


def _read(stored: str) -> bytes:
    if os.path.isabs(stored):  # queued before the uploads storage, by a process of the last release
        path = Path(stored)
        data = path.read_bytes()
        path.unlink(missing_ok=True)
        return data
    return uploads.read(stored)

"""The periodic jobs in the embedded mode (``make demo``: no broker, no beat), in one thread of the server.

On the real stack the one Celery beat runs the jobs of ``apps.core.schedule`` from django-celery-beat's
tables. Without a broker nothing would, so the server process (Daphne, or ``runserver``'s serving child;
never a management command, a worker or a test run) starts one daemon thread that reads the same rows and
runs each due job inline, on the row's period or crontab (so a time changed in the admin holds here too).
A job whose registry entry gives the embedded mode a period of its own (retention: a laptop is seldom up
at 01:15) keeps that.

Each job is claimed before it runs by moving its row's ``last_run_at`` with a conditional update: a second
server process finds the claim taken and skips it. A job that fails is logged; its next period tries again.
At exit the thread is told to stop and given :data:`STOP_TIMEOUT_SECONDS` to finish the job in hand.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import sys
import threading
from datetime import datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import close_old_connections
from django.db.models import F
from django.utils import timezone

from apps.core.schedule import Job, jobs

log = logging.getLogger("apps.core.periodic")

#: The first look waits this long after start, so that serving comes first.
FIRST_DELAY_SECONDS = 10.0
#: How often the thread looks for due jobs: the lateness of a job is at most this.
POLL_SECONDS = 5.0
#: At exit, how long the job in hand may take to finish before the process goes anyway.
STOP_TIMEOUT_SECONDS = 30.0


def embedded() -> bool:
    """No broker, so no beat: the mode in which the server must run the periodic work itself."""
    return bool(settings.CELERY_TASK_ALWAYS_EAGER)


def server_process() -> bool:
    """Daphne (``make demo``, or ``python -m apps.core.serve``) or the serving child of ``runserver``; never
    a command, a worker or tests."""
    # By the command line, not by what is imported: test runs import Daphne too (channels' testing).
    program = Path(sys.argv[0]).name if sys.argv else ""
    if program == "daphne" or (
        bool(sys.argv)
        and sys.argv[0].endswith(
            (os.path.join("daphne", "__main__.py"), os.path.join("apps", "core", "serve.py"))
        )
    ):
        return True
    return "runserver" in sys.argv and os.environ.get("RUN_MAIN") == "true"


def is_due(job: Job, row: Any, now: datetime) -> bool:
    """Whether ``row`` (the job's django-celery-beat row) is due at ``now``.

    A period counts from the last run; a job never run is due at once. A crontab is due when one of its
    times has passed since the last run (a laptop asleep at that time runs it once on waking), or, never
    run, since the row was written (a fresh demo does not send last Monday's report).
    """
    last = row.last_run_at
    if job.embedded_every is not None:
        every = job.embedded_every()
        return every is not None and (last is None or now - last >= every)
    if row.interval_id is not None:
        every = row.interval.schedule.run_every
        return last is None or now - last >= every
    if row.crontab_id is not None:
        schedule = row.crontab.schedule
        schedule.nowfun = lambda: now
        return bool(schedule.is_due(last or row.date_changed)[0])
    return False  # a solar or clocked row: not something the registry writes


def run_due(now: datetime | None = None, *, stopping: threading.Event | None = None) -> list[str]:
    """Run, inline, every registered and enabled job that is due; the names of those that ran.

    One failing job does not stop the others; it is logged, and tried again when next due. When
    ``stopping`` is set (the server is going down) no further job is begun.
    """
    from django_celery_beat.models import PeriodicTask

    from apps.core.beat import sync_tables

    now = now or timezone.now()
    registered = {j.name: j for j in jobs()}
    sync_tables(tuple(registered.values()))
    rows = PeriodicTask.objects.filter(name__in=registered, enabled=True).select_related(
        "interval", "crontab"
    )
    ran = []
    for row in rows.order_by("name"):
        if stopping is not None and stopping.is_set():
            break
        job = registered[row.name]
        if not is_due(job, row, now):
            continue
        claimed = PeriodicTask.objects.filter(pk=row.pk, last_run_at=row.last_run_at).update(
            last_run_at=now, total_run_count=F("total_run_count") + 1
        )
        if not claimed:  # another server process took it
            continue
        try:
            run_task(row.task, json.loads(row.args or "[]"), json.loads(row.kwargs or "{}"))
        except Exception:  # retried next period; the server keeps serving
            log.exception("Periodic job %s (%s) failed", row.name, row.task)
        else:
            ran.append(row.name)
    return ran


def run_task(name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
    """Run the task called ``name`` inline, as a worker would (its signals fire: failures are counted)."""
    from ratc_ops.celery import app

    if name not in app.tasks:
        app.loader.import_default_modules()  # every app's tasks module, as a worker imports them
    return app.tasks[name].apply(args=args, kwargs=kwargs, throw=True).get()


class Scheduler:
    """The one thread: wait :data:`FIRST_DELAY_SECONDS`, then :func:`run_due` every :data:`POLL_SECONDS`."""

    def __init__(self) -> None:
        self.stopping = threading.Event()
        self.thread: threading.Thread | None = None
        self.passes = 0

    def start(self) -> None:
        self.thread = threading.Thread(target=self.run, name="ratc-periodic", daemon=True)
        self.thread.start()

    def run(self, *, first_delay: float = FIRST_DELAY_SECONDS, poll: float = POLL_SECONDS) -> int:
        """Loop until :meth:`stop`; returns the passes made."""
        if self.stopping.wait(first_delay):
            return self.passes
        try:
            from ratc_ops.celery import app

            app.loader.import_default_modules()  # every app's tasks module, once, while all is well
        except Exception:
            log.exception("Task modules could not be imported; each job tries again when due")
        while not self.stopping.is_set():
            try:
                run_due(stopping=self.stopping)
            except Exception:  # the database is away: the next pass tries again
                log.exception("Periodic jobs could not be read")
            finally:
                close_old_connections()  # the thread lives as long as the server: give the connection back
            self.passes += 1
            self.stopping.wait(poll)
        return self.passes

    def stop(self, timeout: float = STOP_TIMEOUT_SECONDS) -> bool:
        """Ask the thread to stop after the job in hand and wait for it; whether it stopped in time."""
        self.stopping.set()
        if self.thread is None or not self.thread.is_alive():
            return True
        self.thread.join(timeout)
        stopped = not self.thread.is_alive()
        if not stopped:
            log.warning("Periodic job still running after %.0f s at exit; it is abandoned", timeout)
        return stopped


_lock = threading.Lock()
_scheduler: Scheduler | None = None


def start_in_server() -> bool:
    """Start the one scheduler thread in an embedded server process, once; False when it does not apply."""
    global _scheduler
    with _lock:
        if _scheduler is not None:
            return True
        if not (embedded() and server_process() and settings.EMBEDDED_JOBS):
            return False
        _scheduler = Scheduler()
        _scheduler.start()
    # Daphne's reactor going down (SIGTERM) tells the thread to begin no further job; interpreter exit
    # then waits for the job in hand.
    if "twisted.internet.reactor" in sys.modules:  # never install a reactor from here
        from twisted.internet import reactor

        # Twisted's reactor interfaces are zope ones (methods without self): without the mypy-zope plugin
        # mypy reads each argument one place off.
        reactor.addSystemEventTrigger("before", "shutdown", request_stop)  # type: ignore[arg-type]
    atexit.register(_scheduler.stop)
    log.info("Periodic jobs run in this server process (%d registered)", len(jobs()))
    return True


def request_stop() -> None:
    """Begin no further job (the server is draining); does not wait."""
    if _scheduler is not None:
        _scheduler.stopping.set()


def stop_in_server(timeout: float = STOP_TIMEOUT_SECONDS) -> bool:
    """Stop the scheduler thread if this process started one; whether it stopped in time."""
    return _scheduler.stop(timeout) if _scheduler is not None else True

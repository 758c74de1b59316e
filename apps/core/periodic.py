"""Periodic work inside the server process, for the embedded mode (``make demo``: no broker, no beat).

Where there is a broker, Celery beat runs each periodic task. Without one, the server process runs the
same task on the same period in a daemon thread. The apps' ``schedule`` modules (compliance's retention,
reports' recount, targeting's missed-marking) each name their tick and period; the loop and the start
are here, once.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from django.conf import settings

log = logging.getLogger("apps.core.periodic")


def embedded() -> bool:
    """No broker, so no beat: the mode in which the server must run the periodic work itself."""
    return bool(settings.CELERY_TASK_ALWAYS_EAGER)


def run_every(
    stop: threading.Event,
    tick: Callable[[], object],
    period: Callable[[], timedelta],
    *,
    first_delay: float,
    what: str,
    after: Callable[[], object],
) -> int:
    """Call ``tick`` every ``period()`` until ``stop`` is set, ``after`` each (closing the thread's
    database connection); a failure is logged and retried next period. Returns the ticks made."""
    ticks = 0
    if stop.wait(first_delay):
        return ticks
    while not stop.is_set():
        try:
            tick()
        except Exception:  # retried next period; the server keeps serving
            log.exception("In-process %s failed", what)
        finally:
            after()
        ticks += 1
        stop.wait(period().total_seconds())
    return ticks


def server_process() -> bool:
    """Daphne (``make demo``) or the serving child of ``runserver``; never a command, a worker or tests."""
    # By the command line, not by what is imported: test runs import Daphne too (channels' testing).
    program = Path(sys.argv[0]).name if sys.argv else ""
    if program == "daphne" or (
        bool(sys.argv) and sys.argv[0].endswith(os.path.join("daphne", "__main__.py"))
    ):
        return True
    return "runserver" in sys.argv and os.environ.get("RUN_MAIN") == "true"


def start_thread(started: threading.Event, run: Callable[[], object], *, name: str, message: str) -> bool:
    """Start ``run`` in a daemon thread once, in an embedded server process; False when it does not apply."""
    if started.is_set():
        return True
    if not (embedded() and server_process()):
        return False
    started.set()
    threading.Thread(target=run, name=name, daemon=True).start()
    log.info(message)
    return True

"""Ticking the running exercises: inside the Daphne server of a training floor, or ``training_floor run``.

Every ``TICK_SECONDS`` each running exercise sends what is due (``services.tick``). Two runners (two
Daphne processes, or a server and the command) may tick at once: an arrival is claimed by a conditional
update before it is sent, so nothing is sent twice.
"""

from __future__ import annotations

import logging
import sys
import threading
from typing import Any

from django.db import close_old_connections

log = logging.getLogger("apps.training")

TICK_SECONDS = 2.0
_started = threading.Event()
_stop = threading.Event()


def tick_all() -> int:
    """One tick of every running exercise; returns the arrivals sent. A failing exercise is logged."""
    from apps.training import services

    sent = 0
    for exercise in services.running_exercises():
        try:
            sent += services.tick(exercise)
        except Exception:
            log.exception("training exercise %s: tick failed", exercise.pk)
    return sent


def run(stop: threading.Event, *, once: bool = False, echo: Any = None) -> None:
    """Tick until ``stop`` is set (or once)."""
    from apps.core.exercise import refuse_live_centre

    # A live centre, which runs without the simulator, is refused before anything of it is loaded.
    refuse_live_centre(what="The training floor's runner")
    from apps.simulator.guard import ensure_exercise_database

    ensure_exercise_database(what="The training floor's runner")
    while not stop.is_set():
        close_old_connections()
        sent = tick_all()
        if sent and echo:
            echo(f"sent {sent} arrival(s)")
        if once:
            break
        stop.wait(TICK_SECONDS)
    close_old_connections()


def start_in_server() -> bool:
    """Start ticking when Daphne's reactor runs; False when this process is not a Daphne server."""
    if _started.is_set():
        return True
    if "twisted.internet.reactor" not in sys.modules or "daphne.server" not in sys.modules:
        return False
    from twisted.internet import reactor as installed

    # Daphne's reactor; twisted types the module's name as the bare interface, without ``self``.
    reactor: Any = installed
    _started.set()

    def launch() -> None:
        import asyncio

        from asgiref.sync import sync_to_async

        task = asyncio.ensure_future(sync_to_async(run, thread_sensitive=False)(_stop))
        task.add_done_callback(_report_end)

    reactor.callWhenRunning(launch)
    reactor.addSystemEventTrigger("before", "shutdown", _stop.set)
    return True


def _report_end(task: Any) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("Training floor runner stopped: %s", task.exception())

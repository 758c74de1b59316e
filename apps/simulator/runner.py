"""Running the simulator: inside the Daphne process (embedded demo) or as its own command.

**Why inside Daphne for the embedded demo.** With the in-memory channel layer a published event reaches
only websockets served by the *same process*. A simulator in a second process would change the database
but no board would move until reloaded. So ``make demo`` starts Daphne with ``RATC_SIMULATE=1`` and the
simulator runs there, in a worker thread started from the server's event loop through
``sync_to_async``: every ``async_to_sync(group_send)`` the services make after commit is then handed back
to that loop, thread-safely, and reaches the sockets within a second. With ``REDIS_URL`` (the real stack)
events cross processes, so ``manage.py simulate_floor`` in its own process (or beside Celery workers)
works just as well; a lease in ``SimState`` keeps two simulators from both acting.
"""

from __future__ import annotations

import logging
import sys
import threading
from typing import Any

from apps.simulator.engine import Floor, Options

log = logging.getLogger("apps.simulator")

_started = threading.Event()
_stop = threading.Event()


def start_in_server(options: Options | None = None) -> bool:
    """Schedule the simulator to start when Daphne's reactor runs; False when not under Daphne."""
    if _started.is_set():
        return True
    reactor = _twisted_reactor()
    if reactor is None:
        log.warning(
            "RATC_SIMULATE=1 but this is not a Daphne server process: not simulating here "
            "(run `manage.py simulate_floor` instead)."
        )
        return False
    _started.set()
    options = options or Options.from_env()

    def launch() -> None:
        import asyncio

        from asgiref.sync import sync_to_async

        floor = Floor(options)
        log.info("Floor simulator starting in the server process (x%g, seed %s)", options.speed, options.seed)
        runner = sync_to_async(floor.run, thread_sensitive=False)
        task = asyncio.ensure_future(runner(stop=_stop))
        task.add_done_callback(_report_end)

    reactor.callWhenRunning(launch)
    reactor.addSystemEventTrigger("before", "shutdown", _stop.set)
    return True


def stop_in_server() -> None:
    """Ask the in-process simulator to stop after its current tick (the server's shutdown does this)."""
    _stop.set()


def _report_end(task: Any) -> None:
    if task.cancelled():
        return
    error = task.exception()
    if error is not None:
        log.error("Floor simulator stopped: %r", error)
    else:
        log.info("Floor simulator stopped after %s ticks", task.result())


def _twisted_reactor() -> Any:
    """Daphne's reactor when this process is a Daphne server (Daphne installs it before loading the app)."""
    if "twisted.internet.reactor" not in sys.modules or "daphne.server" not in sys.modules:
        return None
    from twisted.internet import reactor

    return reactor

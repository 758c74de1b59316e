"""The ``simulate_floor`` command's logic, as a plain function (the command class only parses options)."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from typing import Any

from django.conf import settings

from apps.simulator.engine import Floor, Options
from apps.simulator.guard import ensure_exercise_database
from apps.simulator.setup import ensure_setup


def options_from(raw: dict[str, Any]) -> Options:
    """Command options over ``RATC_SIMULATE_*`` environment defaults."""
    options = Options.from_env(
        speed=raw.get("speed"),
        seed=raw.get("seed"),
        tick_seconds=raw.get("tick"),
        history_rows=raw.get("history"),
    )
    options.setup = not raw.get("no_setup")
    options.staff = not raw.get("no_staff")
    return options


def run_command(
    raw: dict[str, Any], *, echo: Callable[[str], None] = print, stop: threading.Event | None = None
) -> int:
    """Run the simulator until Ctrl-C / SIGTERM, ``--duration`` or ``--once``; returns the ticks made."""
    options = options_from(raw)
    # Before anything is written, set-up included: a live centre's database is refused.
    ensure_exercise_database(what="The floor simulator")
    if raw.get("setup_only"):
        for step, message in ensure_setup(history_rows=options.history_rows).items():
            echo(f"set-up {step}: {message}")
        return 0
    layer = settings.CHANNEL_LAYERS.get("default", {}).get("BACKEND", "")
    if "InMemory" in layer:
        echo(
            "Note: the in-memory channel layer does not cross processes, so boards served by another process "
            "update on reload only. For a moving board, run the server with RATC_SIMULATE=1 (make demo does), "
            "or set REDIS_URL."
        )
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
    floor = Floor(options)
    echo(f"Simulating the floor at x{options.speed:g} (seed {options.seed}); Ctrl-C to stop.")
    try:
        return floor.run(
            stop=stop, duration_minutes=raw.get("duration"), once=bool(raw.get("once")), echo=echo
        )
    except KeyboardInterrupt:
        stop.set()
        echo("Stopped.")
        return 0

"""The floor simulator: a day of a real centre, moving (arrivals, staff, frontline outcomes)."""

from __future__ import annotations

import os

from django.apps import AppConfig


class SimulatorConfig(AppConfig):
    name = "apps.simulator"
    label = "simulator"
    verbose_name = "Floor simulator (demo)"

    def ready(self) -> None:
        """Under Daphne with ``RATC_SIMULATE=1``, run the simulator inside the server process.

        With the in-memory channel layer only events published in the Daphne process reach its
        websockets, so the embedded demo simulates in-process; see :mod:`apps.simulator.runner`.
        """
        if os.environ.get("RATC_SIMULATE") == "1":
            from apps.simulator.runner import start_in_server

            start_in_server()

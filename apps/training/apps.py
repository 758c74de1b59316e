"""The training floor: scenarios, exercises and the trainer's scoreboard (``docs/training.md``)."""

from __future__ import annotations

from django.apps import AppConfig
from django.conf import settings


class TrainingConfig(AppConfig):
    name = "apps.training"
    label = "training"
    verbose_name = "Training floor"

    def ready(self) -> None:
        """On a training floor served by Daphne, the exercises' arrivals are sent from inside the server.

        As with the demo simulator (``apps.simulator.runner``), the in-memory channel layer reaches only
        the sockets of its own process, so the embedded training floor ticks in-process.
        """
        if getattr(settings, "RATC_TRAINING", False):
            from apps.training.runner import start_in_server

            start_in_server()

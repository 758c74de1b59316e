"""``manage.py simulate_floor [--speed 60] [--seed N] [--duration MINUTES] [--once] [--setup-only]``."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from apps.simulator.command import run_command
from apps.simulator.guard import LiveCentreRefused


class Command(BaseCommand):
    help = (
        "Simulate a day on the floor: arrivals and their data through intake, analysts, supervisors and "
        "port officers at work. Stop with Ctrl-C or SIGTERM."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--speed", type=float, help="simulated seconds per real second (default 60)")
        parser.add_argument("--seed", type=int, help="random seed: the same seed gives the same day")
        parser.add_argument("--duration", type=float, help="stop after this many simulated minutes")
        parser.add_argument("--once", action="store_true", help="one tick, then stop")
        parser.add_argument("--tick", type=float, help="real seconds between ticks (default 2)")
        parser.add_argument("--history", type=int, help="labelled declarations loaded to train the model")
        parser.add_argument("--setup-only", action="store_true", help="first-start set-up only, then stop")
        parser.add_argument("--no-setup", action="store_true", help="skip the first-start set-up")
        parser.add_argument("--no-staff", action="store_true", help="arrivals only: no simulated staff")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            run_command(options, echo=self.stdout.write)
        except (ValueError, LiveCentreRefused) as exc:
            raise CommandError(str(exc)) from None

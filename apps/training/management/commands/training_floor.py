"""``manage.py training_floor setup|scenarios|check FILE|start KEY|run`` — the training floor from a shell."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from apps.core.exercise import LiveCentreRefused
from apps.training import scenario as scenarios


class Command(BaseCommand):
    help = (
        "The training floor: `setup` (people and ports, on a training database), `scenarios` (list), "
        "`check FILE` (validate a scenario), `start KEY` (start an exercise), `run` (send due arrivals)."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("action", choices=("setup", "scenarios", "check", "start", "run"))
        parser.add_argument("target", nargs="?", help="the scenario file (check) or key (start)")
        parser.add_argument("--speed", type=float, help="simulated seconds per real second")
        parser.add_argument("--trainer", default="supervisor", help="the trainer's username (start)")
        parser.add_argument("--trainees", default="", help="comma-separated usernames (start; default all)")
        parser.add_argument("--accounts", type=int, default=4, help="trainee accounts to make (setup)")
        parser.add_argument("--once", action="store_true", help="one tick, then stop (run)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            getattr(self, f"do_{options['action']}")(options)
        except (LiveCentreRefused, scenarios.ScenarioError) as exc:
            raise CommandError(str(exc)) from None
        except Exception as exc:
            from apps.training.services import TrainingRefused

            if isinstance(exc, TrainingRefused):
                raise CommandError(str(exc)) from None
            raise

    def do_setup(self, options: dict[str, Any]) -> None:
        from apps.training.setup import ensure_training_floor

        for line in ensure_training_floor(accounts=options["accounts"]):
            self.stdout.write(line)

    def do_scenarios(self, options: dict[str, Any]) -> None:
        for path in scenarios.available():
            try:
                script = scenarios.parse(path.read_text(encoding="utf-8"), name=path.name)
            except scenarios.ScenarioError as exc:
                self.stdout.write(f"{path.stem}: INVALID — {exc}")
                continue
            self.stdout.write(f"{path.stem}: {script.title} ({len(script.planted())} answers)")

    def do_check(self, options: dict[str, Any]) -> None:
        if not options["target"]:
            raise CommandError("Name the scenario file to check.")
        path = Path(options["target"])
        if not path.exists():
            path = scenarios.SCENARIO_DIR / f"{options['target']}.yaml"
        if not path.exists():
            raise CommandError(f"No file {options['target']}")
        script = scenarios.parse(path.read_text(encoding="utf-8"), name=path.name)
        self.stdout.write(f"{path.name}: valid — {script.title}, {len(script.arrivals)} arrivals, "
                          f"{len(script.planted())} answers")  # fmt: skip

    def do_start(self, options: dict[str, Any]) -> None:
        from apps.training.services import start_exercise

        User = get_user_model()
        trainer = User.objects.filter(username=options["trainer"]).first()
        if trainer is None:
            raise CommandError(f"No user {options['trainer']!r}")
        names = [n.strip() for n in options["trainees"].split(",") if n.strip()]
        trainees = list(User.objects.filter(username__in=names)) if names else None
        exercise = start_exercise(
            actor=trainer, scenario_key=options["target"] or "", speed=options["speed"], trainees=trainees
        )
        self.stdout.write(f"Exercise {exercise.pk} started: {exercise.title} at x{exercise.speed:g}")

    def do_run(self, options: dict[str, Any]) -> None:
        from apps.training.runner import run
        from apps.training.services import is_training_floor

        if not is_training_floor():
            raise CommandError("Not a training floor: set RATC_TRAINING=1 (see docs/training.md).")
        stop = threading.Event()
        self.stdout.write("Sending the running exercises' arrivals; Ctrl-C to stop.")
        try:
            run(stop, once=options["once"], echo=self.stdout.write)
        except KeyboardInterrupt:
            stop.set()

"""Training floor routes that take a parameter: a finished customs exercise, not BIO's to see."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone

from apps.training.models import Exercise
from tests.factories import member


def _exercise(world: Any) -> Exercise:
    """A finished exercise of customs; its trainees are customs' analysts (the isolation test's owner
    signs in as one, and may read a finished exercise and his own answers, the page's default)."""
    users = get_user_model().objects
    trainer = users.filter(username="iso-trainer").first() or member(
        "iso-trainer", world.customs, "supervisor"
    )
    exercise = Exercise.objects.create(
        scenario="short_drill", title="Isolation drill", scenario_text="", agency=world.customs, trainer=trainer,
        speed=60, state=Exercise.State.FINISHED, started_at=timezone.now(), finished_at=timezone.now(),
    )  # fmt: skip
    analysts = users.filter(membership__agency=world.customs, membership__role="analyst")
    exercise.trainees.set(analysts or [member("iso-trainee", world.customs, "analyst")])
    return exercise


SCOPED_ROUTES = {
    "training:exercise": lambda world: {"pk": _exercise(world).pk},
    "training:finish": lambda world: {"pk": _exercise(world).pk},
    "training:answers": lambda world: {"pk": _exercise(world).pk},
}

"""A training floor's people and places: the demo world's agencies, ports and people, the simulated
colleagues, and trainee accounts ``trainee.1`` … ``trainee.N`` (analysts of customs)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction

TRAINEE_PREFIX = "trainee."


def ensure_training_floor(*, accounts: int = 4) -> list[str]:
    """Idempotent; refuses a database that is not (or cannot become) a training database."""
    from apps.agencies.models import Agency, Membership
    from apps.agencies.roles import Role
    from apps.core.demo import DEMO_PASSWORD, ensure_demo_world
    from apps.simulator.guard import ensure_exercise_database
    from apps.simulator.setup import ensure_setup
    from apps.training.services import _check_floor

    _check_floor("Setting up the training floor")
    ensure_exercise_database(what="Setting up the training floor")
    lines = [f"world: {ensure_demo_world()}"]
    for step, message in ensure_setup(steps=("colleagues", "officers")).items():
        lines.append(f"{step}: {message}")
    customs = Agency.objects.get(code="CUS")
    User = get_user_model()
    made = 0
    for n in range(1, accounts + 1):
        with transaction.atomic():
            user, new = User.objects.get_or_create(
                username=f"{TRAINEE_PREFIX}{n}",
                defaults={"first_name": "Trainee", "last_name": str(n), "email": f"trainee.{n}@ratc.invalid"},
            )
            if new:
                user.set_password(DEMO_PASSWORD)
                user.save()
                made += 1
            Membership.objects.get_or_create(
                user=user,
                defaults={"agency": customs, "role": Role.ANALYST, "title": "Targeting analyst (trainee)"},
            )
    lines.append(f"trainees: +{made} (trainee.1 … trainee.{accounts}, password {DEMO_PASSWORD})")
    return lines

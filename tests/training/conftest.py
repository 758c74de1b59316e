"""Training floor fixtures: a training installation (settings) on the test database, set up as
``manage.py training_floor setup`` does, with the test scenarios offered beside the shipped ones."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model

SCENARIOS = Path(__file__).resolve().parent / "scenarios"


@pytest.fixture
def training(db, settings):
    from apps.training.setup import ensure_training_floor

    settings.RATC_TRAINING = True
    settings.RATC_DEMO = False
    settings.RATC_TRAINING_SCENARIOS = str(SCENARIOS)
    ensure_training_floor(accounts=2)
    users = get_user_model().objects
    return SimpleNamespace(
        trainer=users.get(username="supervisor"),
        one=users.get(username="trainee.1"),
        two=users.get(username="trainee.2"),
        police=users.get(username="police.liaison"),
        outsider=users.get(username="biosecurity.liaison"),
    )

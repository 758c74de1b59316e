"""The simulator refuses a live centre's database: by the installation's settings, and by the database."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from apps.simulator.command import run_command
from apps.simulator.guard import LiveCentreRefused, ensure_exercise_database
from apps.simulator.models import ExerciseDatabase, SimArrival
from tests.targeting.factories import SubjectFactory


@pytest.fixture
def live(db, settings):
    settings.RATC_DEMO = False
    settings.RATC_TRAINING = False


def test_the_simulator_refuses_a_live_centre_and_writes_nothing(live):
    with pytest.raises(LiveCentreRefused, match="live centre"):
        run_command({"once": True, "no_setup": True, "speed": 60}, echo=lambda _: None)
    with pytest.raises(CommandError, match="refused to run: this installation is a live centre"):
        call_command("simulate_floor", "--setup-only", "--skip-checks")
    assert not SimArrival.objects.exists()
    assert not ExerciseDatabase.objects.exists()


def test_a_database_holding_subjects_is_refused_even_when_the_settings_say_demo(live, settings):
    SubjectFactory()  # somebody's real work, in a database never marked as an exercise's
    settings.RATC_DEMO = True
    with pytest.raises(LiveCentreRefused, match="holds 1 subjects and was never marked"):
        ensure_exercise_database(what="The floor simulator")
    settings.RATC_DEMO, settings.RATC_TRAINING = False, True
    with pytest.raises(LiveCentreRefused, match="RATC_TRAINING_DATABASE_URL"):
        ensure_exercise_database(what="The training floor")
    assert not ExerciseDatabase.objects.exists()


def test_an_empty_database_is_marked_and_the_demo_and_a_training_floor_never_share_one(live, settings):
    settings.RATC_TRAINING = True
    assert ensure_exercise_database(what="test").kind == "training"
    SubjectFactory()  # its own exercise data from now on: still its own
    assert ensure_exercise_database(what="test").kind == "training"
    settings.RATC_TRAINING, settings.RATC_DEMO = False, True
    with pytest.raises(LiveCentreRefused, match="belongs to a training floor"):
        ensure_exercise_database(what="The floor simulator")

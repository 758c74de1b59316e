"""Simulator fixtures: its tables (even before the app is in INSTALLED_APPS), the demo world, a clock.

Until the lead adds ``apps.simulator`` to ``INSTALLED_APPS`` the test database has no simulator tables;
the session fixture below creates them once, outside any test transaction, from the models themselves.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.apps import apps as django_apps
from django.db import connection, transaction

from apps.simulator.engine import Floor, Options
from apps.simulator.models import SimAction, SimArrival, SimState, SubjectTruth

SIM_MODELS = (SimState, SimArrival, SubjectTruth, SimAction)
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def _simulator_tables(django_db_setup, django_db_blocker):
    if django_apps.is_installed("apps.simulator"):
        return
    with django_db_blocker.unblock():
        existing = set(connection.introspection.table_names())
        with connection.schema_editor() as editor:
            for model in SIM_MODELS:
                if model._meta.db_table not in existing:
                    editor.create_model(model)


@pytest.fixture(scope="module")
def _demo_world(_simulator_tables, django_db_blocker):
    """The demo world, built once per test module inside a transaction that is rolled back at the end;
    each test runs in a savepoint of it, so what one test changes is gone for the next (as in
    tests/security/conftest.py). The simulator's modules have no transactional test."""
    from django.test import override_settings

    from apps.core.demo import ensure_demo_world
    from apps.simulator.guard import ensure_exercise_database
    from apps.simulator.setup import ensure_setup

    fast = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with (
        django_db_blocker.unblock(),
        override_settings(RATC_DEMO=True, PASSWORD_HASHERS=fast),
        transaction.atomic(),
    ):
        ensure_exercise_database(what="the simulator tests")  # an empty database: marked as the demo's
        ensure_demo_world()
        ensure_setup(steps=("colleagues", "officers", "rules"))
        yield
        transaction.set_rollback(True)


@pytest.fixture
def demo(_demo_world, db, settings):
    """The demo world, with the simulated colleagues, rules and officers of the simulator's first start
    (no watchlist, no model, no aged passengers)."""
    settings.RATC_DEMO = True


@pytest.fixture
def clock():
    """The wall clock, travelling: ``clock.move(minutes)`` moves it on by real minutes."""
    import time_machine

    with time_machine.travel(START, tick=False) as traveller:

        class Clock:
            def now(self) -> datetime:
                from django.utils import timezone

                return timezone.now()

            def move(self, minutes: float) -> None:
                traveller.shift(minutes * 60)

        yield Clock()


@pytest.fixture
def floor(demo, clock) -> Floor:
    return Floor(Options(seed=7, speed=60, setup=False), owner="test-floor")


@pytest.fixture
def tick(floor, django_capture_on_commit_callbacks):
    """``floor.tick`` with the after-commit work (assessment, nomination, events) run as in production."""

    def run(now=None):
        with django_capture_on_commit_callbacks(execute=True):
            return floor.tick(now)

    return run

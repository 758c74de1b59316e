"""A live centre runs without the floor simulator: it is installed only for the demo, a training floor
and the tools (tests, type checker). Each case loads the settings in a process of its own, with a clean
environment, as a server would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# What the live floor imports of the training floor: its pages, services, scoring, runner, set-up and
# command. None of them may load the simulator's models or its guard there.
PROBE = """
import json, os, sys
import django
django.setup()
from django.conf import settings
import apps.training.views, apps.training.services, apps.training.scoring, apps.training.runner
import apps.training.setup, apps.training.management.commands.training_floor
print(json.dumps({
    "installed": "apps.simulator" in settings.INSTALLED_APPS,
    "loaded": sorted(m for m in sys.modules if m in ("apps.simulator.models", "apps.simulator.guard")),
}))
"""


def _probe(tmp_path: Path, **env: str) -> dict:
    drop = ("DJANGO_", "RATC_", "DATABASE_URL", "REDIS_URL", "CELERY_", "SQLITE_PATH", "PYTEST_")
    environment = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    environment.update(
        DJANGO_SETTINGS_MODULE="ratc_ops.settings",
        PYTHONPATH=str(ROOT),
        SQLITE_PATH=str(tmp_path / "db.sqlite3"),
        RATC_SHARED_DATA=os.environ.get("RATC_SHARED_DATA", str(ROOT.parent / "shared" / "data")),
        **env,
    )
    done = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_live_centre_has_no_simulator_and_its_training_pages_load_none_of_it(tmp_path):
    found = _probe(tmp_path)
    assert found == {"installed": False, "loaded": []}


@pytest.mark.parametrize("variable", ["RATC_DEMO", "RATC_TRAINING"])
def test_the_demo_and_a_training_floor_install_the_simulator(tmp_path, variable):
    assert _probe(tmp_path, **{variable: "1"})["installed"] is True


def test_the_test_suite_runs_with_the_simulator():
    from django.conf import settings

    assert "apps.simulator" in settings.INSTALLED_APPS

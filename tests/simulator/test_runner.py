"""Starting the simulator: only inside a Daphne server process, with options from the environment."""

from __future__ import annotations

import pytest

from apps.simulator import runner
from apps.simulator.engine import Options


def test_outside_daphne_the_server_hook_does_not_start_a_simulator(monkeypatch, caplog):
    monkeypatch.setattr(runner, "_twisted_reactor", lambda: None)
    assert runner.start_in_server(Options()) is False
    assert "not a Daphne server process" in caplog.text


def test_options_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("RATC_SIMULATE_SPEED", "120")
    monkeypatch.setenv("RATC_SIMULATE_SEED", "9")
    options = Options.from_env(tick_seconds=0.5)
    assert (options.speed, options.seed, options.tick_seconds) == (120.0, 9, 0.5)


def test_a_bad_environment_value_names_the_variable(monkeypatch):
    monkeypatch.setenv("RATC_SIMULATE_SPEED", "fast")
    with pytest.raises(ValueError, match="RATC_SIMULATE_SPEED"):
        Options.from_env()

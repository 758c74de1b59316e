"""Configuration from the environment: typed helpers fail loudly; production passes --deploy checks."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from ratc_ops.env import env_bool, env_choice, env_int, env_list, env_secret

ROOT = Path(__file__).resolve().parents[1]


def test_env_bool_parses_and_refuses_nonsense():
    assert env_bool("X", environ={"X": "yes"}) is True
    assert env_bool("X", environ={"X": "0"}) is False
    assert env_bool("X", True, environ={}) is True
    with pytest.raises(ImproperlyConfigured, match="X='maybe'"):
        env_bool("X", environ={"X": "maybe"})


def test_env_int_bounds():
    assert env_int("N", 5, environ={"N": " 42 "}) == 42
    with pytest.raises(ImproperlyConfigured, match="not a whole number"):
        env_int("N", 5, environ={"N": "4x"})
    with pytest.raises(ImproperlyConfigured, match="below the minimum"):
        env_int("N", 5, minimum=10, environ={"N": "3"})


def test_env_list_and_choice():
    assert env_list("H", environ={"H": "a.example, b.example ,"}) == ["a.example", "b.example"]
    with pytest.raises(ImproperlyConfigured, match="not one of"):
        env_choice("M", "x", ("x", "y"), environ={"M": "z"})


def test_env_secret_requires_a_strong_key_in_production():
    with pytest.raises(ImproperlyConfigured, match="must be set"):
        env_secret("K", required=True, environ={})
    with pytest.raises(ImproperlyConfigured, match="too weak"):
        env_secret("K", required=True, environ={"K": "short"})
    assert env_secret("K", required=False, fallback="dev", environ={}) == "dev"


def _run_manage(*args, **env):
    environment = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    environment.pop("DATABASE_URL", None)
    environment.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_mode_passes_deploy_checks(tmp_path):
    result = _run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_ENV="production",
        DJANGO_SECRET_KEY="k9!" + "x7Lq2vZ0pR4sT8wY1bN6cM3dF5gH9jK2lA0qW4eR7tY1uI3oP6",
        DJANGO_ALLOWED_HOSTS="ratc.example.gov",
        RATC_CHAIN_KEY="c4!" + "Zq8mW2xR7tY5uP1oL9kJ3hG6fD0sA4eQ8wE2rT6yU0iO5pL",
        SQLITE_PATH=str(tmp_path / "db.sqlite3"),
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_mode_refuses_to_start_without_a_secret(tmp_path):
    result = _run_manage("check", DJANGO_ENV="production", SQLITE_PATH=str(tmp_path / "db.sqlite3"))
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set in production" in result.stderr


def test_bad_value_names_the_variable(tmp_path):
    result = _run_manage("check", DJANGO_DEBUG="perhaps", SQLITE_PATH=str(tmp_path / "db.sqlite3"))
    assert result.returncode != 0 and "DJANGO_DEBUG='perhaps'" in result.stderr


def _settings_value(expression: str, **env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DB_", "DATABASE_"))}
    environment.update(env)
    return subprocess.run(
        [sys.executable, "-c", f"import ratc_ops.settings as s; print({expression})"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_db_pool_size_pools_postgresql_connections_per_process():
    url = "postgres://ratc@127.0.0.1:5432/ratc_ops"
    pool = 'repr(s.DATABASES["default"]["OPTIONS"].get("pool"))'
    assert _settings_value(pool, DATABASE_URL=url).stdout.strip() == "None"
    pooled = _settings_value(pool, DATABASE_URL=url, DB_POOL_SIZE="6")
    assert pooled.stdout.strip() == "{'min_size': 1, 'max_size': 6, 'timeout': 10}", pooled.stderr
    refused = _settings_value(pool, DATABASE_URL=url, DB_POOL_SIZE="6", DB_CONN_MAX_AGE="60")
    assert refused.returncode != 0 and "DB_POOL_SIZE or DB_CONN_MAX_AGE" in refused.stderr
    assert "not a whole number" in _settings_value(pool, DATABASE_URL=url, DB_POOL_SIZE="many").stderr


def test_the_demo_runs_without_debug():
    """``make demo`` is shown to people: no tracebacks. DEBUG is off by default with RATC_DEMO."""
    assert _settings_value("s.DEBUG", RATC_DEMO="1").stdout.strip() == "False"
    assert _settings_value("s.DEBUG", RATC_DEMO="1", DJANGO_DEBUG="1").stdout.strip() == "True"
    assert _settings_value("s.DEBUG").stdout.strip() == "True"  # a developer's laptop
    makefile = (ROOT / "Makefile").read_text()
    daphne = next(line for line in makefile.splitlines() if "daphne -b" in line)
    assert "DJANGO_DEBUG=0" in daphne


def test_trusted_proxies_is_a_typed_setting():
    assert _settings_value("s.RATC_TRUSTED_PROXIES").stdout.strip() == "0"
    assert _settings_value("s.RATC_TRUSTED_PROXIES", RATC_TRUSTED_PROXIES="1").stdout.strip() == "1"
    assert "not a whole number" in _settings_value("1", RATC_TRUSTED_PROXIES="lb").stderr

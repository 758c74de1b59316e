"""Upgrades without surprises: every migration can be undone, or says why it cannot, and an empty
database goes all the way forward, all the way back and forward again.

The round trip runs in a separate process on a database of its own (a throwaway PostgreSQL database
when the suite runs on PostgreSQL, as CI does; a SQLite file otherwise), so the suite's test database
is never migrated under the other tests' feet.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db.migrations.loader import MigrationLoader

ROOT = Path(__file__).resolve().parents[2]


def _our_migrations():
    loader = MigrationLoader(None, ignore_no_migrations=True)
    for (app_label, name), migration in sorted(loader.disk_migrations.items()):
        if migration.__module__.startswith("apps."):
            yield app_label, name, migration


def test_every_migration_can_be_undone_or_says_why_not():
    """An operation that cannot run backwards (a RunPython without reverse code, a RunSQL without
    reverse SQL) is allowed only in a migration that declares ``irreversible_reason``, so that an
    operator reading the release notes knows which step a rollback stops at."""
    silent = [
        f"{app_label}.{name}: {operation.describe()}"
        for app_label, name, migration in _our_migrations()
        for operation in migration.operations
        if not operation.reversible and not getattr(migration, "irreversible_reason", "")
    ]
    assert not silent, f"Give these a reverse, or declare irreversible_reason on the migration: {silent}"


#: Run in the child process: forward, every app of ours back to zero (the last installed first; Django
#: also unapplies what depends on each), then forward again, and the models still match the migrations.
ROUND_TRIP = """
import django
django.setup()
from django.core.management import call_command
from django.db.migrations.recorder import MigrationRecorder
from django.db import connection
labels = %r
call_command("migrate", interactive=False, verbosity=0)
for label in reversed(labels):
    call_command("migrate", label, "zero", interactive=False, verbosity=0)
left = MigrationRecorder(connection).migration_qs.filter(app__in=labels).values_list("app", "name")
assert not left, f"still applied after migrating to zero: {sorted(left)}"
call_command("migrate", interactive=False, verbosity=0)
call_command("makemigrations", check=True, dry_run=True, verbosity=0)
"""


@pytest.fixture
def empty_database(tmp_path):
    """The environment of a process whose database is new and empty."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DB_"))}
    environment.pop("DATABASE_URL", None)
    url = os.environ.get("DATABASE_URL", "")
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql" or not url:
        environment["SQLITE_PATH"] = str(tmp_path / "migrations.sqlite3")
        yield environment
        return
    import psycopg

    name = f"ratc_migrations_{uuid.uuid4().hex[:12]}"
    admin = dict(settings.DATABASES["default"], NAME="postgres")
    conninfo = psycopg.conninfo.make_conninfo(
        host=admin["HOST"] or "", port=str(admin["PORT"] or ""), user=admin["USER"] or "", dbname="postgres",
        password=admin["PASSWORD"] or "",
    )  # fmt: skip
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    environment["DATABASE_URL"] = url.rsplit("/", 1)[0] + "/" + name
    try:
        yield environment
    finally:
        with psycopg.connect(conninfo, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_an_empty_database_migrates_forward_back_and_forward(empty_database):
    labels = list(dict.fromkeys(label for label, _name, _migration in _our_migrations()))
    result = subprocess.run(
        [sys.executable, "-c", ROUND_TRIP % (labels,)],
        cwd=ROOT,
        env={**empty_database, "DJANGO_SETTINGS_MODULE": "ratc_ops.settings"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr

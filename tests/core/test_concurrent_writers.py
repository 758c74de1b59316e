"""Two threads of one process writing at once wait for each other; neither meets an OperationalError.

The live server's request threads, Daphne's worker threads, the simulator and a background sealer each
have a connection of their own. On SQLite a writer that finds another's transaction open must wait
for it (the busy timeout), not fail: the failure would reach the person as our 503 page
(``apps.core.unavailable``). Checked on the test database (what browser tests serve from) and on the
embedded default that ``make demo`` runs (``ratc_ops.settings`` without DATABASE_URL).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.db import connection, transaction

ROOT = Path(__file__).resolve().parents[2]
HOLD_SECONDS = 0.5


def _second_writes_while_first_holds_its_transaction(
    first: Callable[[], object], second: Callable[[], object]
) -> list[BaseException]:
    """``first`` writes in a transaction it keeps open for ``HOLD_SECONDS``; ``second`` writes meanwhile,
    each on a thread (and a connection) of its own. Returns what either raised."""
    holding = threading.Event()
    errors: list[BaseException] = []

    def run_first() -> None:
        try:
            with transaction.atomic():
                first()
                holding.set()
                time.sleep(HOLD_SECONDS)
        except BaseException as error:  # reported to the test
            errors.append(error)
        finally:
            holding.set()
            connection.close()

    def run_second() -> None:
        holding.wait(30)
        try:
            with transaction.atomic():
                second()
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run_first), threading.Thread(target=run_second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return errors


@pytest.mark.django_db(transaction=True)
def test_two_threads_writing_at_once_on_the_test_database_wait_for_each_other():
    errors = _second_writes_while_first_holds_its_transaction(
        lambda: Group.objects.create(name="first"), lambda: Group.objects.create(name="second")
    )
    assert errors == []
    assert set(Group.objects.values_list("name", flat=True)) == {"first", "second"}


_EMBEDDED = """
import threading, time
import django
django.setup()
from django.db import connection, transaction
from tests.core.test_concurrent_writers import _second_writes_while_first_holds_its_transaction

def insert(who):
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO written (who) VALUES (%s)", [who])

with connection.cursor() as cursor:
    cursor.execute("CREATE TABLE written (id integer PRIMARY KEY, who text)")
connection.close()
errors = _second_writes_while_first_holds_its_transaction(lambda: insert("first"), lambda: insert("second"))
with connection.cursor() as cursor:
    cursor.execute("SELECT who FROM written ORDER BY id")
    print(connection.vendor, [row[0] for row in cursor.fetchall()], [repr(e) for e in errors])
"""


def test_two_threads_writing_at_once_on_the_embedded_default_wait_for_each_other(tmp_path):
    """What a laptop runs (``make demo``): the settings with no DATABASE_URL, a SQLite file."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DB_", "DATABASE_"))}
    environment.update(
        DJANGO_SETTINGS_MODULE="ratc_ops.settings", SQLITE_PATH=str(tmp_path / "embedded.sqlite3")
    )
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(_EMBEDDED)],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().splitlines()[-1] == "sqlite ['first', 'second'] []"

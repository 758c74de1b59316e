"""A real Daphne server on 127.0.0.1 for browser tests and benchmarks (pytest-django's live_server is WSGI).

``DaphneServer`` prepares its own SQLite file (migrated once, then seeded by ``seed.py``), picks a free
port, starts ``daphne`` as a subprocess with the same environment (the Redis channel layer when
``REDIS_URL`` is set, else the in-memory one), waits until it answers, and stops it on ``stop()``. A
subprocess, not a thread: Playwright's event loop in the test thread and Twisted's reactor cannot share
a process, and the server gets a core of its own. The database is a file, not the pytest test database,
so that the server and the test never fight over a transaction; the test changes data only through
the browser, or through ``run_python`` in the server's environment.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: Environment variables that do not change what ``migrate`` makes of an empty file: the file itself,
#: whether Celery runs tasks inline (migrating an empty database sends none), and the test pytest is on.
_NOT_SCHEMA = {"SQLITE_PATH", "CELERY_TASK_ALWAYS_EAGER", "PYTEST_CURRENT_TEST"}
#: Migrated empty SQLite files of this process, one per environment (see ``migrate_sqlite``).
_MIGRATED: dict[tuple[tuple[str, str], ...], Path] = {}


#: Prepended to a seed script (``DaphneServer.seed``): ``set_password`` hashes each password once.
_ONE_HASH_PER_PASSWORD = """
import functools
from django.contrib.auth import base_user, hashers
base_user.make_password = functools.cache(hashers.make_password)
"""


def migrate_sqlite(env: dict[str, str], *args: str) -> None:
    """``manage.py migrate`` for the SQLite file ``env["SQLITE_PATH"]``.

    A new file is a copy of the first one this process migrated for the same environment (in a scratch
    folder of its own): the same empty, fully migrated database (tables, indexes, content types,
    permissions) that another ``migrate`` would make, without a minute of a busy machine's time per
    server. A file that exists already is migrated in place. ``args``: more options for ``migrate``.
    """
    target = Path(env["SQLITE_PATH"])
    if target.exists():
        _run_migrate(env, args)
        return
    key = tuple(sorted((k, v) for k, v in env.items() if k not in _NOT_SCHEMA)) + tuple(("", a) for a in args)
    template = _MIGRATED.get(key)
    if template is None or not template.exists():
        folder = tempfile.mkdtemp(prefix="ratc-migrated-")
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        template = Path(folder) / "migrated.sqlite3"
        _run_migrate({**env, "SQLITE_PATH": str(template)}, args)
        with sqlite3.connect(template) as db:  # everything in the main file, none left in the WAL
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        _MIGRATED[key] = template
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template, target)


def _run_migrate(env: dict[str, str], args: tuple[str, ...]) -> None:
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0", *args],
        cwd=ROOT, env=env, check=True, timeout=900,
    )  # fmt: skip


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class DaphneServer:
    """One or more Daphne processes on 127.0.0.1 sharing one SQLite file (and Redis, when configured)."""

    def __init__(self, workdir: Path, *, processes: int = 1, extra_env: dict[str, str] | None = None) -> None:
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.env = {
            k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}
        }
        self.env.update(
            DJANGO_SETTINGS_MODULE="ratc_ops.settings",
            SQLITE_PATH=str(self.workdir / "live.sqlite3"),
            PYTHONPATH=str(ROOT),
            # An embedded server would run every periodic job ten seconds after it starts (never run, so
            # due), during the test; a test that wants them passes RATC_EMBEDDED_JOBS=1.
            RATC_EMBEDDED_JOBS="0",
            **(extra_env or {}),
        )
        # The browser tests allow sync ORM calls in their own process; the server must not inherit that.
        self.env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        self.processes = processes
        self.ports: list[int] = []
        self.procs: list[subprocess.Popen] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.ports[0]}"

    def run_python(self, code: str, timeout: float = 600) -> str:
        """Run ``code`` after ``django.setup()`` in the server's environment; return its stdout."""
        script = "import django; django.setup()\n" + code
        done = subprocess.run(
            [sys.executable, "-c", script],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if done.returncode:
            raise RuntimeError(f"server-side script failed:\n{done.stderr[-3000:]}")
        return done.stdout

    def seed(self, code: str, timeout: float = 600) -> str:
        """``run_python`` for a seed that makes many people with one password: it is hashed once, with
        the server's real hasher, and every one of them gets that hash (a valid one, with its own salt
        shared), instead of a deliberately slow hashing per person."""
        return self.run_python(_ONE_HASH_PER_PASSWORD + code, timeout=timeout)

    def migrate(self) -> None:
        """The file database, migrated (``migrate_sqlite``)."""
        migrate_sqlite(self.env)

    def prepare(self, seed: str = "board") -> dict:
        """Migrate the file database and seed it; returns what the seed reports (JSON)."""
        self.migrate()
        out = self.seed(
            f"from tests.live.seed import seed_{seed}; import json; print(json.dumps(seed_{seed}()))"
        )
        return json.loads(out.strip().splitlines()[-1])

    def start(self, timeout: float = 90) -> None:
        for _ in range(self.processes):
            port = free_port()
            log = open(self.workdir / f"daphne-{port}.log", "w")  # noqa: SIM115  (closed with the process)
            proc = subprocess.Popen(
                [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "ratc_ops.asgi:application"],
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
            self.ports.append(port)
            self.procs.append(proc)
        deadline = time.monotonic() + timeout
        for port, proc in zip(self.ports, self.procs, strict=True):
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(
                        f"daphne on {port} exited: {(self.workdir / f'daphne-{port}.log').read_text()[-2000:]}"
                    )
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=5).read()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"daphne on {port} did not answer in {timeout:.0f} s") from None
                    time.sleep(0.3)

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        self.procs.clear()

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

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


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

    def prepare(self, seed: str = "board") -> dict:
        """Migrate the file database and seed it; returns what the seed reports (JSON)."""
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
            cwd=ROOT, env=self.env, check=True, timeout=900,
        )  # fmt: skip
        out = self.run_python(
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

"""What the HTTP benchmarks share: Daphne processes serving a bench database, signed-in keep-alive
clients, and latency percentiles.

Production serves pages from several Daphne processes, each with its own pool of PostgreSQL
connections; a benchmark that served from a thread of its own process would measure its clients'
contention for the GIL as much as the application. So the servers are separate processes, started
exactly as the README starts them, and the clients only send requests and read the answers.
"""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent


def database_url(name: str) -> str:
    """``DATABASE_URL`` with its database name replaced by ``name``."""
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path=f"/{name}"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


#: The Redis database index the servers' Celery messages go to unless ``BENCH_REDIS`` names one (nobody's
#: worker reads it; ``drop_bench_queue`` empties it at the end).
BENCH_REDIS_DB = 15


def require_real_stack() -> None:
    """Stop unless ``REDIS_URL`` is set, and send what this process queues to the bench's own broker.

    The servers must run as a deployment of several Daphne processes does: with a broker and a shared
    channel layer. Without one they run in the embedded mode, where Celery tasks run inline in the
    request that queues them (an approval would refresh the reports in its own request) and every process
    runs the periodic jobs itself (the sweep of missed targets, the reports' refresh) while it is measured.
    """
    if not os.environ.get("REDIS_URL"):
        sys.exit("Run against the real stack: set REDIS_URL=redis://... as well (channel layer and broker).")
    os.environ["CELERY_BROKER_URL"] = bench_broker_url()


def bench_broker_url() -> str:
    """``BENCH_REDIS`` when set (a Redis database of the caller's own, on a machine shared with others),
    else database ``BENCH_REDIS_DB`` of ``REDIS_URL``'s server."""
    if given := os.environ.get("BENCH_REDIS"):
        return given
    return urlunsplit(urlsplit(os.environ["REDIS_URL"])._replace(path=f"/{BENCH_REDIS_DB}"))


def drop_bench_queue() -> None:
    """Delete the Celery queue (and kombu's bindings) the bench and its servers made in its Redis database."""
    import redis
    from django.conf import settings

    # The broker's keys carry the deployment's prefix (``CELERY_BROKER_TRANSPORT_OPTIONS``).
    prefix = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("global_keyprefix", "")
    client = redis.Redis.from_url(bench_broker_url())
    client.delete(f"{prefix}celery", *client.keys(f"{prefix}_kombu.*"))


def start_servers(
    count: int, pool: int, db_url: str, logdir: Path, extra_env: dict[str, str] | None = None
) -> list[tuple[subprocess.Popen, int]]:
    """Start ``count`` Daphne processes on free ports against ``db_url``; wait until each answers.

    Their Celery messages go to the bench's own broker (``bench_broker_url``): call
    ``require_real_stack`` first."""
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "DB_POOL_SIZE": str(pool),
        "DB_CONN_MAX_AGE": "0",
        "DJANGO_DEBUG": "0",
        # PostgreSQL without DEBUG needs a chain key: the servers share the bench process's key file.
        "RATC_CHAIN_KEY_FILE": os.environ.get("RATC_CHAIN_KEY_FILE", str(ROOT / "var" / "chain.key")),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "RATC_SIMULATE": "0",
        "CELERY_BROKER_URL": bench_broker_url(),
        **(extra_env or {}),
    }
    servers = []
    for i in range(count):
        port = free_port()
        log = open(logdir / f"daphne-{i}.log", "wb")  # noqa: SIM115 (open while the server runs)
        process = subprocess.Popen(
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "ratc_ops.asgi:application"],
            env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT,
        )  # fmt: skip
        servers.append((process, port))
    try:
        _wait_until_answering(servers, logdir, deadline=time.monotonic() + 120)
    except BaseException:
        # A bench that gives up must not leave its servers running on a machine others measure on.
        stop_servers(servers)
        raise
    return servers


def _wait_until_answering(servers: list[tuple[subprocess.Popen, int]], logdir: Path, deadline: float) -> None:
    for process, port in servers:
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"Daphne on port {port} stopped; see {logdir}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    conn.close()
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"Daphne on port {port} did not answer; see {logdir}")
            time.sleep(0.3)


def stop_servers(servers: list[tuple[subprocess.Popen, int]]) -> None:
    for process, _ in servers:
        process.terminate()
    for process, _ in servers:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def session_cookie(username: str, purpose: str = "risk_analysis") -> str:
    """A session made server-side for ``username`` (in the database every server reads), with a purpose
    of access declared, as a person declares it once per session: without one the personal-data gate
    sends the target page to the purpose form (a 302, which the benchmark counted as an error)."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    from apps.compliance.services import SESSION_KEY

    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    if purpose:
        session = client.session
        session[SESSION_KEY] = {"code": purpose, "text": ""}
        session.save()
    return client.cookies[settings.SESSION_COOKIE_NAME].value


class Browser:
    """One person's keep-alive connection to one server, with a session per role (``{role: username}``)."""

    def __init__(self, port: int, sessions: dict[str, str], csrf: str) -> None:
        from django.conf import settings

        self.port = port
        self.csrf = csrf
        self.cookies = {
            role: f"{settings.SESSION_COOKIE_NAME}={session}; {settings.CSRF_COOKIE_NAME}={csrf}"
            for role, session in sessions.items()
        }
        self.default_role = next(iter(sessions))
        self.conn: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, role: str | None = None, body: bytes | None = None) -> int:
        """Send one request and read the whole answer; returns the HTTP status."""
        headers = {"Cookie": self.cookies[role or self.default_role], "Host": "127.0.0.1"}
        if body is not None:
            headers |= {"Content-Type": "application/json", "X-CSRFToken": self.csrf,
                        "Referer": f"http://127.0.0.1:{self.port}/"}  # fmt: skip
        for attempt in (1, 2):  # a keep-alive connection the server closed is opened again once
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                response.read()
                if response.will_close:
                    self.conn.close()
                    self.conn = None
                return response.status
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")


def percentile(sorted_values: list[float], q: float) -> float | None:
    """The ``q`` quantile (nearest rank) of already sorted values, rounded to 0.1; ``None`` if empty."""
    if not sorted_values:
        return None
    return round(sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))], 1)

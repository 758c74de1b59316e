"""Fault drill: a small cluster on this machine, faults injected under load, nothing lost or doubled.

``python -m bench.drill`` (root: it makes network namespaces) builds hosts as network namespaces on a
bridge of their own: PostgreSQL (its own ``initdb`` in a temporary folder, run as ``postgres``), Redis
(its own server, append-only file in the temporary folder so that a restart keeps the queues, as a
broker's Redis must), two Daphne hosts behind HAProxy (Debian's; health checks on ``/readyz``), two
Celery worker hosts, one beat, and two tablet hosts. The system's own PostgreSQL and Redis are never
touched. It seeds the centre with the product's commands (``migrate``, ``demo_world``), then puts it
under a steady load:

* board clients on ``/ws/boards/floor/`` through HAProxy, speaking as ``static/js/live.js`` does
  (reconnect with growing jittered delays; a hello, a gap in the sequence or a ``resync`` message means
  "re-fetch the whole board"), while the driver commits one transition every ``--event-gap`` seconds;
* tablets posting examination results to ``/api/v1/examination-results/`` with a session and an
  ``idempotency_key`` made on the tablet, kept in an outbox until the server answers 200/201 (what the
  tablet's service worker does offline), replayed with the same key;
* an intake of 50,000 declarations (the shared CSV topped up with copies under new ids, as
  ``bench/intake.py`` does) submitted as runs of ``--chunk`` declarations through
  ``apps.intake.services.submit_files``, so that the Celery workers do the work.

Faults, one after the other, each with its time to recover: kill -9 a Celery worker host while it holds
an intake run (started again by its "supervisor" a second later); kill -9 a Daphne host (its sockets
reconnect through HAProxy to the other and resync); restart Redis; restart PostgreSQL (requests answer
503 meanwhile, never 500); cut a tablet's network for 10 minutes of simulated time (``--sim-speed``
simulated seconds per real second), then restore it. ``--short`` (CI): one worker kill and one Redis
restart under a small intake.

Prints ONE JSON object: per fault the time to recover; declarations stored exactly once (in the
database vs expected); results lost and doubled; board events missed after resync; goals 0 lost,
0 doubled, recovery < 10 s; ``met`` per goal and at the top. Everything it made (namespaces, veths,
the bridge, processes, the temporary folder) is removed at the end, also on Ctrl-C or an error.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import csv
import hashlib
import io
import json
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
DATA = Path(os.environ.get("RATC_SHARED_DATA", ROOT.parent / "shared" / "data"))
CSV_FILE = DATA / "declarations" / "df_syn_valid_eng.csv"
GOAL_RECOVERY_S = 10.0
WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
# host -> last octet of its address on the drill's bridge
HOSTS = {"lb": 5, "pg": 10, "redis": 11, "web1": 21, "web2": 22, "worker1": 31, "worker2": 32, "beat": 33,
         "tablet1": 41, "tablet2": 42}  # fmt: skip


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--short", action="store_true", help="CI: one worker kill, one Redis restart")
    parser.add_argument("--declarations", type=int, default=None, help="intake size (50,000; short 4,000)")
    parser.add_argument("--chunk", type=int, default=1000, help="declarations per intake run (one task)")
    parser.add_argument("--boards", type=int, default=None, help="board clients (40; short 10)")
    parser.add_argument("--event-gap", type=float, default=0.5, help="seconds between board events")
    parser.add_argument("--result-gap", type=float, default=1.0, help="seconds between a tablet's results")
    parser.add_argument("--sim-speed", type=float, default=60.0, help="simulated seconds per real second")
    parser.add_argument("--cut-minutes", type=float, default=10.0, help="simulated minutes a tablet is cut")
    parser.add_argument(
        "--visibility", type=int, default=6, help="seconds before a dead worker's task returns"
    )
    parser.add_argument("--pg-down", type=float, default=12.0, help="seconds PostgreSQL stays down")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs) at the end")
    # Internal roles: the same file runs as a tablet inside its namespace and as the board clients.
    parser.add_argument("--role", choices=["tablet", "boards", "seed"], help=argparse.SUPPRESS)
    parser.add_argument("--config", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def log(message: str) -> None:
    print(f"[drill {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def sh(*cmd: str, check: bool = True, quiet: bool = False) -> subprocess.CompletedProcess:
    done = subprocess.run(cmd, capture_output=True, text=True)
    if check and done.returncode:
        raise RuntimeError(f"{' '.join(cmd)} failed: {done.stderr.strip()[-1500:]}")
    return done


# ------------------------------------------------------------------------------------------ cluster


class Cluster:
    """Namespaces on a bridge, and the processes on them; ``down()`` removes all of it."""

    def __init__(self, workdir: Path, visibility: int) -> None:
        self.workdir = workdir
        self.tag = f"{os.getpid() % 10000:04d}"
        self.octet = 100 + os.getpid() % 150
        self.net = f"10.231.{self.octet}"
        self.bridge = f"rdbr{self.tag}"
        self.namespaces: list[str] = []
        self.procs: dict[str, subprocess.Popen] = {}
        self.logs: dict[str, Any] = {}
        self.visibility = visibility
        self.pg_bin = sorted(Path("/usr/lib/postgresql").glob("*/bin"))[-1]
        self.pg_data = workdir / "pg"
        self.chain_key = secrets.token_hex(32)

    def ip(self, host: str) -> str:
        return f"{self.net}.{HOSTS[host]}"

    def ns(self, host: str) -> str:
        return f"ratcd{self.tag}-{host}"

    def veth(self, host: str) -> str:
        return f"rd{self.tag}b{HOSTS[host]}"  # the bridge end, in the root namespace

    # --- network
    def network_up(self) -> None:
        if sh("ip", "route", "show", f"{self.net}.0/24").stdout.strip():
            raise RuntimeError(f"{self.net}.0/24 is already routed here: another drill running?")
        sh("ip", "link", "add", self.bridge, "type", "bridge")
        sh("ip", "addr", "add", f"{self.net}.1/24", "dev", self.bridge)
        sh("ip", "link", "set", self.bridge, "up")
        for host in HOSTS:
            ns, inside, outside = self.ns(host), f"rd{self.tag}h{HOSTS[host]}", self.veth(host)
            sh("ip", "netns", "add", ns)
            self.namespaces.append(ns)
            sh("ip", "link", "add", inside, "type", "veth", "peer", "name", outside)
            sh("ip", "link", "set", inside, "netns", ns)
            sh("ip", "link", "set", outside, "master", self.bridge)
            sh("ip", "link", "set", outside, "up")
            sh("ip", "netns", "exec", ns, "ip", "addr", "add", f"{self.ip(host)}/24", "dev", inside)
            sh("ip", "netns", "exec", ns, "ip", "link", "set", inside, "up")
            sh("ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up")

    def link(self, host: str, up: bool) -> None:
        sh("ip", "link", "set", self.veth(host), "up" if up else "down")

    # --- processes
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "REDIS_", "CELERY_"))}
        allowed = ",".join([self.ip("lb"), self.ip("web1"), self.ip("web2"), "127.0.0.1", "localhost"])
        env.update(
            DJANGO_SETTINGS_MODULE="ratc_ops.settings",
            PYTHONPATH=str(ROOT),
            DATABASE_URL=f"postgres://postgres@{self.ip('pg')}:5432/ratc_drill",
            REDIS_URL=f"redis://{self.ip('redis')}:6379/0",
            RATC_REDIS_PREFIX="drill",
            DJANGO_DEBUG="0",
            DJANGO_ALLOWED_HOSTS=allowed,
            RATC_CHAIN_KEY=self.chain_key,
            RATC_CHAIN_ANCHOR_DIR=str(self.workdir / "anchors"),
            MEDIA_ROOT=str(self.workdir / "media"),
            STATIC_ROOT=str(self.workdir / "static"),
            SQLITE_PATH=str(self.workdir / "unused.sqlite3"),
            RATC_TRUSTED_PROXIES="1",
            RATC_SIMULATE="0",
            CELERY_VISIBILITY_TIMEOUT=str(self.visibility),
            DB_POOL_SIZE="8",
            LOG_FORMAT="plain",
        )
        env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        return env

    def start(
        self, name: str, host: str, cmd: list[str], env: dict[str, str] | None = None
    ) -> subprocess.Popen:
        if name in self.logs:
            self.logs[name].close()
        handle = open(self.workdir / f"{name}.log", "a")  # noqa: SIM115 (closed in down())
        self.logs[name] = handle
        proc = subprocess.Popen(
            ["ip", "netns", "exec", self.ns(host), *cmd], cwd=ROOT, env=env or self.env(),
            stdout=handle, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        self.procs[name] = proc
        return proc

    def kill(self, name: str, sig: int = signal.SIGKILL, wait: float = 30.0) -> None:
        proc = self.procs.get(name)
        if proc is None or proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        if sig != signal.SIGKILL:  # the group's stragglers (a prefork child) go too
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)

    # --- PostgreSQL
    def pg_init(self) -> None:
        self.pg_data.mkdir()
        shutil.chown(self.pg_data, "postgres", "postgres")
        (self.workdir / "pgsock").mkdir()
        shutil.chown(self.workdir / "pgsock", "postgres", "postgres")
        sh("runuser", "-u", "postgres", "--", str(self.pg_bin / "initdb"), "-D", str(self.pg_data), "-A", "trust",
           "-U", "postgres", "--no-sync", "-E", "UTF8", "--locale=C")  # fmt: skip
        with open(self.pg_data / "pg_hba.conf", "a") as hba:
            hba.write(f"host all all {self.net}.0/24 trust\n")

    def pg_start(self) -> None:
        self.start("postgres", "pg", [
            "runuser", "-u", "postgres", "--", str(self.pg_bin / "postgres"), "-D", str(self.pg_data), "-p", "5432",
            "-c", f"listen_addresses={self.ip('pg')}", "-c", f"unix_socket_directories={self.workdir / 'pgsock'}",
            "-c", "max_connections=300", "-c", "fsync=off", "-c", "synchronous_commit=off",
            "-c", "full_page_writes=off", "-c", "shared_buffers=128MB",
        ], env=dict(os.environ))  # fmt: skip
        wait_port(self.ip("pg"), 5432, 60)
        deadline = time.monotonic() + 60
        while sh(
            str(self.pg_bin / "pg_isready"), "-q", "-h", self.ip("pg"), "-p", "5432", check=False
        ).returncode:
            if time.monotonic() > deadline:
                raise RuntimeError("the drill's PostgreSQL did not start")
            time.sleep(0.2)

    def pg_stop(self) -> None:
        pid_file = self.pg_data / "postmaster.pid"
        if pid_file.exists():
            pid = int(pid_file.read_text().split()[0])
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGINT)  # fast shutdown: sessions cut, as a restart does
            deadline = time.monotonic() + 30
            while pid_file.exists() and time.monotonic() < deadline:
                time.sleep(0.05)
        self.kill("postgres", signal.SIGTERM, wait=10)

    # --- Redis
    def redis_start(self) -> None:
        folder = self.workdir / "redis"
        folder.mkdir(exist_ok=True)
        self.start("redis", "redis", [
            "redis-server", "--bind", self.ip("redis"), "--port", "6379", "--protected-mode", "no", "--save", "",
            "--appendonly", "yes", "--appendfsync", "always", "--dir", str(folder), "--daemonize", "no",
        ], env=dict(os.environ))  # fmt: skip
        wait_port(self.ip("redis"), 6379, 30)

    def redis_stop(self) -> None:
        self.kill("redis", signal.SIGTERM, wait=20)

    # --- the application
    def daphne(self, host: str) -> None:
        self.start(host, host, [str(BIN / "daphne"), "-b", self.ip(host), "-p", "8000", "--proxy-headers",
                                "ratc_ops.asgi:application"])  # fmt: skip

    def worker(self, host: str) -> None:
        self.start(host, host, [str(BIN / "celery"), "-A", "ratc_ops", "worker", "-l", "info", "-c", "1",
                                "-n", f"{host}@drill", "--without-mingle", "--without-gossip"])  # fmt: skip

    def beat(self) -> None:
        self.start("beat", "beat", [str(BIN / "celery"), "-A", "ratc_ops", "beat", "-l", "info",
                                    "-s", str(self.workdir / "beat-schedule")])  # fmt: skip

    def haproxy(self) -> None:
        config = self.workdir / "haproxy.cfg"
        config.write_text(HAPROXY_CONFIG.format(lb=self.ip("lb"), web1=self.ip("web1"), web2=self.ip("web2")))
        sh("haproxy", "-c", "-q", "-f", str(config))
        self.start("haproxy", "lb", ["haproxy", "-db", "-f", str(config)], env=dict(os.environ))
        wait_port(self.ip("lb"), 80, 20)

    def down(self) -> None:
        for name in list(self.procs):
            if name == "postgres":
                self.pg_stop()
            else:
                self.kill(name, signal.SIGTERM, wait=5)
        for handle in self.logs.values():
            handle.close()
        for ns in self.namespaces:  # deleting a namespace deletes its veth end and so the pair
            sh("ip", "netns", "del", ns, check=False)
        for host in HOSTS:  # a pair made but not yet moved (a failure half-way through network_up)
            if Path(f"/sys/class/net/{self.veth(host)}").exists():
                sh("ip", "link", "del", self.veth(host), check=False)
        sh("ip", "link", "del", self.bridge, check=False)


HAPROXY_CONFIG = """\
global
    maxconn 4000
defaults
    mode http
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    timeout tunnel 1h
    timeout check 3s
    option redispatch
    retries 3
    option forwardfor
frontend web
    bind {lb}:80
    default_backend daphne
backend daphne
    balance leastconn
    option httpchk GET /readyz
    http-check expect status 200
    default-server inter 1s fall 2 rise 1
    server web1 {web1}:8000 check
    server web2 {web2}:8000 check
"""


def wait_port(host: str, port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host, port), timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{host}:{port} did not open in {timeout:.0f} s") from None
            time.sleep(0.1)


def wait_for(check: Callable[[], bool], timeout: float, step: float = 0.1) -> float | None:
    """Seconds until ``check()`` holds, or None after ``timeout``."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        with contextlib.suppress(Exception):
            if check():
                return time.monotonic() - start
        time.sleep(step)
    return None


def http_status(url: str, timeout: float = 1.5, headers: dict[str, str] | None = None) -> int:
    """The status of a GET, or 0 when nothing answered."""
    import requests

    try:
        return requests.get(url, headers=headers or {}, timeout=timeout, allow_redirects=False).status_code
    except requests.RequestException:
        return 0


# ------------------------------------------------------------------------------------------ seed


def seed(config: dict[str, Any]) -> dict[str, Any]:
    """Inside the cluster's database: board analysts with sessions, targets, tablets' instructions."""
    import django

    django.setup()
    from datetime import timedelta

    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    call_command("demo_world", verbosity=0)
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
    from django.utils import timezone

    from apps.agencies.models import Port
    from apps.intake.models import DataSource, Subject, SubjectKind
    from apps.targeting.models import Instruction, RiskArea, Target, TargetState
    from tests.live.seed import seed_bench

    bench = seed_bench(users=config["boards"], targets=config["events"])
    User = get_user_model()
    store_class = import_module(settings.SESSION_ENGINE).SessionStore

    def session_of(user: Any) -> str:
        store = store_class()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.create()
        return store.session_key

    officer = User.objects.get(username="officer.felixstowe")
    supervisor = User.objects.get(username="supervisor.felixstowe")
    source = DataSource.objects.get(name="Import declarations")
    port = Port.objects.get(locode="GBFXT")
    now = timezone.now()
    tablets = []
    for t in range(config["tablets"]):
        subjects = Subject.objects.bulk_create(
            [
                Subject(kind=SubjectKind.CONSIGNMENT, source=source, owner_agency=source.owner_agency,
                        external_id=f"DEC-DRILL-{t}-{i:04d}", title=f"Drill container {t}-{i}", port=port,
                        arrival_at=now + timedelta(hours=2), received_at=now)
                for i in range(config["results"])
            ]
        )  # fmt: skip
        targets = Target.objects.bulk_create(
            [
                Target(subject=s, owner_agency=source.owner_agency, state=TargetState.DISPATCHED,
                       risk_area=RiskArea.NARCOTICS, port=port, arrival_at=s.arrival_at)
                for s in subjects
            ]
        )  # fmt: skip
        instructions = Instruction.objects.bulk_create(
            [
                Instruction(target=target, port=port, method="physical", instruction="Drill: open and check.",
                            dispatched_by=supervisor, dispatched_at=now - timedelta(minutes=30))
                for target in targets
            ]
        )  # fmt: skip
        tablets.append({"session": session_of(officer), "instructions": [i.pk for i in instructions]})
    return {"sessions": [s[1] for s in bench["sessions"]], "events": bench["targets"], "tablets": tablets}


# ------------------------------------------------------------------------------------------ tablet


def tablet_main(config: dict[str, Any]) -> None:
    """A tablet: one result per ``gap`` seconds into an outbox, the outbox sent in order, each until 2xx.

    What ``static/frontline/tablet.js`` does offline: the key is made when the officer records, kept
    with the result, and the same request is sent again until the server answers. Writes one JSON line
    per result (key, instruction, times, answers) to ``config["out"]`` when told to stop.
    """
    import requests

    base = config["base"]
    stop_file = Path(config["stop"])
    csrf = secrets.token_hex(16)
    session = requests.Session()
    session.cookies.set("sessionid", config["session"])
    session.cookies.set("csrftoken", csrf)
    session.headers.update(
        {"X-CSRFToken": csrf, "Accept": "application/json", "X-Access-Purpose": "examination"}
    )
    pending = list(config["instructions"])
    outbox: list[dict[str, Any]] = []
    made: list[dict[str, Any]] = []
    next_result = time.monotonic()
    rng = random.Random(config["seed"])
    while True:
        now = time.monotonic()
        stopping = stop_file.exists()
        if pending and not stopping and now >= next_result:
            item = {
                "instruction": pending.pop(0),
                "key": str(uuid.uuid4()),
                "made": time.time(),
                "answers": [],
                "outcome": rng.choice(["no_finding", "irregularity"]),
            }
            made.append(item)
            outbox.append(item)
            next_result = now + config["gap"]
        if outbox:
            item = outbox[0]
            # The times are the officer's, taken when he recorded: a replay an hour later says the same.
            ended = datetime.fromtimestamp(item["made"], UTC).isoformat()
            body = {"instruction": item["instruction"], "idempotency_key": item["key"], "method": "physical",
                    "outcome": item["outcome"], "started_at": ended, "ended_at": ended}  # fmt: skip
            try:
                answer = session.post(f"{base}/api/v1/examination-results/", json=body, timeout=3)
                code = answer.status_code
            except requests.RequestException:
                code = 0
            item["answers"].append([round(time.time(), 3), code])
            if 400 <= code < 500:
                item["refusal"] = answer.text[:300]
            if code in (200, 201) or (400 <= code < 500 and code not in (408, 409, 429)):
                item["sent"] = time.time()
                outbox.pop(0)
                continue
            time.sleep(0.5)  # offline or the server busy: try again shortly (the service worker's sync)
            continue
        if stopping and not outbox:
            break
        time.sleep(0.05)
    Path(config["out"]).write_text("\n".join(json.dumps(m) for m in made))


# ------------------------------------------------------------------------------------------ boards


class BoardClient:
    """One board, as ``static/js/live.js``: reconnects (0.5 s doubling to 15 s, jittered), resyncs."""

    def __init__(self, host: str, port: int, cookie: str) -> None:
        self.host, self.port, self.cookie = host, port, cookie
        self.arrivals: dict[int, float] = {}
        self.resyncs: list[float] = []
        self.disconnects: list[float] = []
        self.connects: list[float] = []
        self.connected = False

    async def run(self, stop: asyncio.Event) -> None:
        attempt = 0
        while not stop.is_set():
            try:
                await self._session(stop)
                attempt = 0
            except (OSError, asyncio.IncompleteReadError, ConnectionError, ValueError):
                pass
            if self.connected:
                self.connected = False
                self.disconnects.append(time.time())
            if stop.is_set():
                break
            attempt += 1
            delay = min(15.0, 0.5 * 2 ** (attempt - 1))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay / 2 + random.random() * delay / 2)

    async def _session(self, stop: asyncio.Event) -> None:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(self.host, self.port), 3)
        try:
            key = base64.b64encode(os.urandom(16)).decode()
            writer.write(
                (f"GET /ws/boards/floor/ HTTP/1.1\r\nHost: {self.host}\r\nUpgrade: websocket\r\n"
                 f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                 f"Origin: http://{self.host}\r\nCookie: sessionid={self.cookie}\r\n\r\n").encode()
            )  # fmt: skip
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
            if b" 101 " not in head.split(b"\r\n", 1)[0] + b" ":
                raise ConnectionError(head.split(b"\r\n", 1)[0].decode("latin-1"))
            accept = base64.b64encode(hashlib.sha1((key + WS_GUID).encode(), usedforsecurity=False).digest())
            if accept not in head:
                raise ConnectionError("bad accept key")
            last_seq: int | None = None
            last_ping = time.monotonic()
            while not stop.is_set():
                if time.monotonic() - last_ping > 20:  # the page pings every 20 s
                    self._send(writer, 0x1, b'{"ping": 1}')
                    last_ping = time.monotonic()
                try:
                    opcode, payload = await asyncio.wait_for(self._frame(reader), 1.0)
                except TimeoutError:
                    continue
                if opcode == 0x8:
                    raise ConnectionError("closed by the server")
                if opcode == 0x9:
                    self._send(writer, 0xA, payload)
                    continue
                if opcode != 0x1:
                    continue
                message = json.loads(payload)
                now = time.time()
                kind = message.get("kind")
                if kind == "pong":
                    continue
                if kind == "hello":
                    last_seq = 0
                    if not self.connected:
                        self.connected = True
                        self.connects.append(now)
                    self.resyncs.append(now)  # the page re-fetches its board on every hello
                    continue
                seq = message.get("seq")
                if isinstance(seq, int):
                    gap = last_seq is not None and seq != last_seq + 1
                    last_seq = seq
                    if gap:
                        self.resyncs.append(now)
                        continue
                if kind == "resync":
                    self.resyncs.append(now)
                    continue
                if kind == "target.changed" and isinstance(message.get("target"), int):
                    self.arrivals.setdefault(message["target"], now)
        finally:
            writer.close()

    @staticmethod
    async def _frame(reader: asyncio.StreamReader) -> tuple[int, bytes]:
        b0, b1 = await reader.readexactly(2)
        size = b1 & 0x7F
        if size == 126:
            size = int.from_bytes(await reader.readexactly(2), "big")
        elif size == 127:
            size = int.from_bytes(await reader.readexactly(8), "big")
        payload = await reader.readexactly(size)
        return b0 & 0x0F, payload

    @staticmethod
    def _send(writer: asyncio.StreamWriter, opcode: int, payload: bytes) -> None:
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        writer.write(bytes([0x80 | opcode, 0x80 | len(payload)]) + mask + masked)


def boards_main(config: dict[str, Any]) -> None:
    """The board clients, in a process of their own; a status file says how many are connected."""

    async def run() -> None:
        stop = asyncio.Event()
        clients = [BoardClient(config["host"], 80, cookie) for cookie in config["sessions"]]
        tasks = [asyncio.ensure_future(c.run(stop)) for c in clients]
        status, stop_file = Path(config["status"]), Path(config["stop"])
        while not stop_file.exists():
            status.write_text(json.dumps({"connected": sum(c.connected for c in clients), "at": time.time(),
                                          "last_connect": max((c.connects[-1] for c in clients if c.connects),
                                                              default=0)}))  # fmt: skip
            await asyncio.sleep(0.1)
        stop.set()
        await asyncio.wait(tasks, timeout=10)
        Path(config["out"]).write_text(json.dumps([
            {"arrivals": c.arrivals, "resyncs": c.resyncs, "connects": c.connects, "disconnects": c.disconnects,
             "connected": c.connected}
            for c in clients
        ]))  # fmt: skip

    asyncio.run(run())


# ------------------------------------------------------------------------------------------ driver


class Probe:
    """Clients asking every 0.25 s, each on its own thread: ``/readyz`` and an API page through the load
    balancer, and the same API page straight from web2 (what the application itself answers)."""

    COLUMNS = ("readyz", "api", "direct")

    def __init__(self, base: str, direct: str, session: str) -> None:
        headers = {"Cookie": f"sessionid={session}", "Accept": "application/json"}
        self.targets = {
            "readyz": (f"{base}/readyz", {}),
            "api": (f"{base}/api/v1/me/", headers),
            "direct": (f"{direct}/api/v1/me/", headers),
        }
        self.samples: dict[str, list[tuple[float, float, int]]] = {k: [] for k in self.COLUMNS}
        self.halt = threading.Event()
        self.threads = [threading.Thread(target=self._ask, args=(k,), daemon=True) for k in self.COLUMNS]

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def _ask(self, column: str) -> None:
        url, headers = self.targets[column]
        while not self.halt.is_set():
            asked = time.time()
            status = http_status(url, timeout=15, headers=headers)
            self.samples[column].append((asked, time.time(), status))
            self.halt.wait(0.25)

    def statuses_between(self, start: float, end: float, column: str = "api") -> dict[str, int]:
        """How often each status was answered (0: no answer) to requests made between two moments."""
        seen: dict[str, int] = {}
        for asked, _answered, status in list(self.samples[column]):
            if start <= asked <= end:
                seen[str(status)] = seen.get(str(status), 0) + 1
        return dict(sorted(seen.items()))

    def slowest_between(self, start: float, end: float, column: str = "api") -> float:
        return round(
            max((b - a for a, b, _ in list(self.samples[column]) if start <= a <= end), default=0.0), 2
        )

    def healthy_since(self, since: float) -> float | None:
        """Seconds from ``since`` until readyz and the API each answered 200 three times in a row."""
        moments = []
        for column in ("readyz", "api"):
            run = 0
            for asked, answered, status in list(self.samples[column]):
                if asked < since:
                    continue
                run = run + 1 if status == 200 else 0
                if run == 3:
                    moments.append(answered - since)
                    break
            else:
                return None
        return max(moments)


class Publisher(threading.Thread):
    """Commits one board event (a nominated target taken into review) every ``gap`` seconds."""

    def __init__(self, targets: list[int], gap: float) -> None:
        super().__init__(daemon=True)
        self.targets, self.gap = list(targets), gap
        self.committed: dict[int, float] = {}
        self.failed = 0
        self.halt = threading.Event()

    def run(self) -> None:
        from django.contrib.auth import get_user_model
        from django.db import close_old_connections, transaction

        from apps.targeting import services
        from apps.targeting.models import Target

        actor = None
        while self.targets and not self.halt.is_set():
            target_id = self.targets[0]
            try:
                actor = actor or get_user_model().objects.get(username="analyst")
                with transaction.atomic():
                    stamp: list[float] = []
                    transaction.on_commit(lambda s=stamp: s.append(time.time()))
                    services.start_review(actor=actor, target=Target.objects.get(pk=target_id))
                self.committed[target_id] = stamp[0]
                self.targets.pop(0)
            except Exception:  # the database or Redis down: the analyst tries again in a moment
                self.failed += 1
                close_old_connections()
                from django.db import connection

                connection.close()
            self.halt.wait(self.gap)


def split_intake(total: int, chunk: int, start: int = 0) -> list[bytes]:
    """Declarations ``start`` to ``total`` (the shared CSV, then copies under new ids) as CSV files of
    ``chunk``: the same declaration has the same id whatever ``start``, so ranges never overlap."""
    with open(CSV_FILE, newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        rows = list(reader)
    out = list(rows[:total])
    copy = 0
    while len(out) < total:
        row = rows[copy % len(rows)]
        out.append([f"8{copy:08d}", *row[1:]])
        copy += 1
    files = []
    for first in range(start, total, chunk):
        buffer = io.StringIO()
        csv.writer(buffer).writerows([header, *out[first : min(first + chunk, total)]])
        files.append(buffer.getvalue().encode())
    return files


class Drill:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.submitted = 0  # declarations submitted for intake (the load, and any top-up runs)
        self.workdir = Path(tempfile.mkdtemp(prefix="ratc-drill-"))
        self.workdir.chmod(0o755)  # postgres reads and writes its folder under it
        self.cluster = Cluster(self.workdir, args.visibility)
        self.report: dict[str, Any] = {
            "bench": "drill",
            "mode": "short" if args.short else "full",
            "faults": {},
        }
        self.helpers: dict[str, subprocess.Popen] = {}

    def python(self, *argv: str, host: str | None = None, timeout: float = 900) -> str:
        cmd = [sys.executable, *argv]
        if host:
            cmd = ["ip", "netns", "exec", self.cluster.ns(host), *cmd]
        done = subprocess.run(
            cmd, cwd=ROOT, env=self.cluster.env(), capture_output=True, text=True, timeout=timeout
        )
        if done.returncode:
            raise RuntimeError(f"{' '.join(argv)} failed:\n{done.stderr[-3000:]}")
        return done.stdout

    def helper(self, name: str, role: str, config: dict[str, Any], host: str | None = None) -> None:
        path = self.workdir / f"{name}.json"
        path.write_text(json.dumps(config))
        cmd = [sys.executable, "-m", "bench.drill", "--role", role, "--config", str(path)]
        if host:
            cmd = ["ip", "netns", "exec", self.cluster.ns(host), *cmd]
        handle = open(self.workdir / f"{name}.log", "w")  # noqa: SIM115 (lives as long as the helper)
        self.helpers[name] = subprocess.Popen(cmd, cwd=ROOT, env=self.cluster.env(), stdout=handle,
                                              stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip

    def boards_connected(self) -> int:
        with contextlib.suppress(Exception):
            return json.loads((self.workdir / "boards-status.json").read_text())["connected"]
        return 0

    # --- the run
    def run(self) -> dict[str, Any]:
        args, c = self.args, self.cluster
        short = args.short
        declarations = args.declarations or (4000 if short else 50_000)
        boards = args.boards or (10 if short else 40)
        started = time.monotonic()
        c.network_up()
        c.pg_init()
        c.pg_start()
        sh(str(c.pg_bin / "psql"), "-h", c.ip("pg"), "-U", "postgres", "-qc", "CREATE DATABASE ratc_drill")
        c.redis_start()
        log("migrate, demo world and seed (manage.py migrate, demo_world)")
        results_per_tablet = 40 if not short else 20
        seeded = json.loads(self.python("-m", "bench.drill", "--role", "seed", "--config", json.dumps(
            {"boards": boards, "events": 400, "tablets": 2, "results": results_per_tablet})).strip().splitlines()[-1])  # fmt: skip
        log("start the hosts")
        for host in ("web1", "web2"):
            c.daphne(host)
        for host in ("worker1", "worker2"):
            c.worker(host)
        c.beat()
        for host in ("web1", "web2"):
            wait_port(c.ip(host), 8000, 90)
        c.haproxy()
        base = f"http://{c.ip('lb')}"
        if wait_for(lambda: http_status(f"{base}/readyz") == 200, 60) is None:
            raise RuntimeError("the load balancer never answered /readyz 200")
        self.report["setup_seconds"] = round(time.monotonic() - started, 1)

        # The driver's own Django: it submits the intake and commits board events like a web process.
        os.environ.update(c.env())
        import django

        django.setup()
        from ratc_ops.celery import app as celery_app

        if wait_for(lambda: len(celery_app.control.ping(timeout=0.5) or []) == 2, 60, 0.5) is None:
            raise RuntimeError("the two Celery workers never answered")

        # --- load
        self.helper("boards", "boards", {"host": c.ip("lb"), "sessions": seeded["sessions"],
                                         "status": str(self.workdir / "boards-status.json"),
                                         "stop": str(self.workdir / "stop-boards"),
                                         "out": str(self.workdir / "boards-out.json")})  # fmt: skip
        if wait_for(lambda: self.boards_connected() == boards, 60, 0.2) is None:
            raise RuntimeError(f"only {self.boards_connected()} of {boards} board clients connected")
        for i, tablet in enumerate(seeded["tablets"], start=1):
            self.helper(f"tablet{i}", "tablet", {
                "base": base, "session": tablet["session"], "instructions": tablet["instructions"], "gap": args.result_gap,
                "stop": str(self.workdir / "stop-tablets"), "out": str(self.workdir / f"tablet{i}-out.jsonl"), "seed": i,
            }, host=f"tablet{i}")  # fmt: skip
        probe = Probe(base, f"http://{c.ip('web2')}:8000", seeded["tablets"][0]["session"])
        probe.start()
        publisher = Publisher(seeded["events"], args.event_gap)
        publisher.start()
        runs = self.submit_intake(declarations, args.chunk)
        log(f"load running: {boards} boards, 2 tablets, intake of {declarations} in {len(runs)} runs")
        self.submitted = declarations

        # --- faults
        self.fault_worker_kill(runs)
        if not short:
            self.fault_daphne_kill(probe)
        self.fault_redis_restart(probe)
        if not short:
            self.fault_postgres_restart(probe)
            self.fault_tablet_cut()

        # --- drain and count
        intake_done = self.wait_intake(runs)
        self.report["intake_seconds_after_faults"] = None if intake_done is None else round(intake_done, 1)
        self.report["boards_connected_before_stop"] = self.boards_connected()
        publisher.halt.set()
        (self.workdir / "stop-tablets").touch()
        for name in ("tablet1", "tablet2"):
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.helpers[name].wait(timeout=90)
        time.sleep(3)  # the last events reach the boards
        (self.workdir / "stop-boards").touch()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.helpers["boards"].wait(timeout=30)
        probe.halt.set()
        publisher.join(timeout=10)
        self.count(runs, self.submitted, seeded, publisher)  # with any runs the worker kill added
        self.report["seconds"] = round(time.monotonic() - started, 1)
        return self.report

    def submit_intake(self, total: int, chunk: int, start: int = 0) -> list[int]:
        from apps.intake import services
        from apps.intake.models import DataSource

        source = DataSource.objects.get(name="Import declarations")
        self.source_id = source.pk
        files = split_intake(total, chunk, start)
        first = start // chunk
        return [
            services.submit_files(actor=None, source=source, files=[(f"drill-{first + i:03d}.csv", [data])],
                                  fmt="declarations-csv").pk
            for i, data in enumerate(files)
        ]  # fmt: skip

    def top_up(self, runs: list[int]) -> None:
        """Two more runs of new declarations (one for each worker, so worker1 gets one to hold), counted
        with the rest: a fast machine can finish the first runs before the kill comes."""
        chunk = self.args.chunk
        runs += self.submit_intake(self.submitted + 2 * chunk, chunk, start=self.submitted)
        self.submitted += 2 * chunk
        log(f"two more runs submitted for worker1 to hold ({self.submitted} declarations in all)")

    def wait_intake(self, runs: list[int], stall: float = 60.0) -> float | None:
        """Seconds until every run has finished, or None once none has finished for ``stall`` seconds."""
        from django.db import close_old_connections

        from apps.intake.models import IntakeRun

        start = last_change = time.monotonic()
        seen = -1
        while time.monotonic() - last_change < stall:
            with contextlib.suppress(Exception):
                close_old_connections()
                if self.runs_finished(runs):
                    return time.monotonic() - start
                done = IntakeRun.objects.filter(pk__in=runs, finished_at__isnull=False).count()
                if done != seen:
                    seen, last_change = done, time.monotonic()
            time.sleep(1.0)
        log(f"intake stalled: no run finished for {stall:.0f} s")
        return None

    def runs_finished(self, runs: list[int]) -> bool:
        from django.db import close_old_connections

        from apps.intake.models import IntakeRun

        close_old_connections()
        finished = IntakeRun.objects.filter(pk__in=runs, finished_at__isnull=False).count()
        failed = IntakeRun.objects.filter(pk__in=runs, status=IntakeRun.Status.FAILED).count()
        return finished + failed >= len(runs)

    def _kill_worker_holding_a_run(
        self, wait_s: float
    ) -> tuple[list[tuple[str, int]], dict[str, int], float] | None:
        """Wait up to ``wait_s`` until worker1 holds an intake run's task, then kill -9 it and start it
        again after 1 s: the (task, run) pairs it held, each worker log's size before the kill, and the
        kill's time."""
        from ratc_ops.celery import app as celery_app

        held: list[tuple[str, int]] = []

        def holding() -> bool:
            active = celery_app.control.inspect(destination=["worker1@drill"], timeout=0.5).active() or {}
            held[:] = [(t["id"], t["args"][0]) for t in active.get("worker1@drill", [])
                       if "run_intake" in t.get("name", "")]  # fmt: skip
            return bool(held)

        if wait_for(holding, wait_s, 0.2) is None:
            return None
        time.sleep(0.2)  # into the run (a run of a thousand takes about a second on a quiet machine)
        logs = {name: self.workdir / f"{name}.log" for name in ("worker1", "worker2")}
        offsets = {name: path.stat().st_size for name, path in logs.items()}
        killed = time.time()
        self.cluster.kill("worker1", signal.SIGKILL)
        time.sleep(1.0)
        self.cluster.worker("worker1")
        return held, offsets, killed

    def fault(self, name: str, **figures: Any) -> None:
        recovery = figures.get("recovery_s")
        figures["goal_recovery_s"] = GOAL_RECOVERY_S
        figures["met"] = recovery is not None and recovery < GOAL_RECOVERY_S
        self.report["faults"][name] = figures
        log(f"{name}: {figures}")

    def fault_worker_kill(self, runs: list[int]) -> None:
        """kill -9 the worker host that holds an intake run; its supervisor starts it again after 1 s.

        Recovery: from the kill until the task it held is taken again by a worker (its "received" line
        in a worker's log after the kill); the run's finishing is reported beside it. A kill that came
        after the run it aimed at had finished (its task done and acknowledged, nothing to take again)
        tested nothing: the drill aims again at the next run the worker holds.
        """
        from django.db import close_old_connections

        from apps.intake.models import IntakeRun

        kills = 0
        for attempt in range(4):
            aimed = self._kill_worker_holding_a_run(60 if attempt == 0 else 30)
            if aimed is None and attempt < 3:
                # Every run finished, or worker2 took them: give worker1 something to hold.
                log("worker1 holds no intake run: aiming at new ones")
                self.top_up(runs)
                continue
            if aimed is None:
                self.fault("celery_worker_kill", recovery_s=None, note="worker1 never held an intake run")
                return
            held, offsets, killed = aimed
            kills += 1
            close_old_connections()
            ended_first = IntakeRun.objects.filter(
                pk__in=[run_id for _, run_id in held],
                finished_at__lt=datetime.fromtimestamp(killed, tz=UTC),
            ).count()
            if ended_first < len(held):
                break
            log("the run worker1 held had finished before the kill: aiming at the next one")
            if self.runs_finished(runs):
                self.top_up(runs)
        logs = {name: self.workdir / f"{name}.log" for name in ("worker1", "worker2")}
        task_ids = [task_id for task_id, _ in held]
        run_ids = [run_id for _, run_id in held]

        def taken_again() -> bool:
            for name, path in logs.items():
                with open(path, "rb") as handle:
                    handle.seek(offsets[name])
                    text = handle.read().decode("utf-8", "replace")
                if all(f"[{task_id}] received" in text for task_id in task_ids):
                    return True
            return False

        def finished() -> bool:
            close_old_connections()
            return (
                not IntakeRun.objects.filter(pk__in=run_ids, finished_at__isnull=True)
                .exclude(status=IntakeRun.Status.FAILED)
                .exists()
            )

        redelivered = wait_for(taken_again, 120, 0.05)
        redelivered_s = None if redelivered is None else round(time.time() - killed, 2)
        done = wait_for(finished, 120, 0.2)
        statuses = dict(IntakeRun.objects.filter(pk__in=run_ids).values_list("pk", "status"))
        self.fault(
            "celery_worker_kill", kills=kills, killed_holding_runs=run_ids, run_status_after=statuses,
            recovery_s=redelivered_s, visibility_timeout_s=self.args.visibility,
            run_finished_s=None if done is None else round(time.time() - killed, 2),
            recovery_means="from the kill until a worker took the task it held again (redelivered)",
        )  # fmt: skip

    def fault_daphne_kill(self, probe: Probe) -> None:
        """kill -9 web1: its boards reconnect through HAProxy to web2 and resync; then web1 comes back."""
        boards = self.args.boards or 40
        killed = time.time()
        self.cluster.kill("web1", signal.SIGKILL)
        # Every board connected again (on web2) after the kill, and the API answering through HAProxy.
        waited = wait_for(
            lambda: self.boards_connected() == boards and self._last_connect() > killed, 60, 0.1
        )
        sockets_s = None if waited is None else round(self._last_connect() - killed, 2)
        time.sleep(1.5)
        http_s = probe.healthy_since(killed)
        self.fault(
            "daphne_kill", recovery_s=None if sockets_s is None or http_s is None else round(max(sockets_s, http_s), 2),
            sockets_reconnected_s=sockets_s, http_ok_s=None if http_s is None else round(http_s, 2),
            api_statuses_meanwhile=probe.statuses_between(killed, killed + (sockets_s or 10)),
        )  # fmt: skip
        self.cluster.daphne("web1")
        wait_port(self.cluster.ip("web1"), 8000, 60)
        time.sleep(2)  # HAProxy sees it ready again

    def _last_connect(self) -> float:
        with contextlib.suppress(Exception):
            return json.loads((self.workdir / "boards-status.json").read_text())["last_connect"]
        return 0.0

    def fault_redis_restart(self, probe: Probe) -> None:
        """Stop Redis (it writes its append-only file) and start it again at once."""
        from ratc_ops.celery import app as celery_app

        # Injected into a healthy cluster: both workers answering (one may just have been restarted).
        wait_for(lambda: len(celery_app.control.ping(timeout=0.5) or []) == 2, 60, 0.5)
        time.sleep(2)
        stopped = time.time()
        self.cluster.redis_stop()
        self.cluster.redis_start()
        back = time.time()
        workers = wait_for(lambda: len(celery_app.control.ping(timeout=0.5) or []) == 2, 60, 0.2)
        time.sleep(1.5)
        http_s = probe.healthy_since(back)
        boards = wait_for(
            lambda: self.boards_connected() == (self.args.boards or (10 if self.args.short else 40)), 30
        )
        parts = [x for x in (workers, http_s, boards) if x is not None]
        self.fault(
            "redis_restart", down_s=round(back - stopped, 2),
            recovery_s=None if len(parts) < 3 else round(back - stopped + max(parts), 2),
            workers_answer_s=None if workers is None else round(workers, 2),
            http_ok_s=None if http_s is None else round(http_s, 2),
            api_statuses_meanwhile=probe.statuses_between(stopped, back + 2),
        )  # fmt: skip

    def fault_postgres_restart(self, probe: Probe) -> None:
        """Fast shutdown, ``--pg-down`` seconds down, then start again.

        Requests made meanwhile must answer 503 (or wait for the database and succeed), never 500. The
        default outlasts the connection pool's wait (10 s), so that requests do get their 503.
        """
        stopped = time.time()
        self.cluster.pg_stop()
        time.sleep(self.args.pg_down)
        self.cluster.pg_start()
        back = time.time()
        time.sleep(1.5)
        waited = wait_for(lambda: probe.healthy_since(back) is not None, 30, 0.2)
        http_s = probe.healthy_since(back)
        meanwhile = probe.statuses_between(stopped, back + (http_s or 0))
        direct = probe.statuses_between(stopped, back + (http_s or 0), column="direct")
        slowest = probe.slowest_between(stopped, back + (http_s or 0), column="direct")
        self.fault(
            "postgres_restart", down_s=round(back - stopped, 2),
            recovery_s=None if waited is None else round(http_s, 2),
            api_statuses_meanwhile=meanwhile, app_statuses_meanwhile=direct, app_slowest_answer_s=slowest,
            server_errors_500=meanwhile.get("500", 0) + direct.get("500", 0),
        )  # fmt: skip

    def fault_tablet_cut(self) -> None:
        """tablet1's link down for ``--cut-minutes`` simulated minutes; then its outbox must empty."""
        cut_s = self.args.cut_minutes * 60 / self.args.sim_speed
        cut = time.time()
        self.cluster.link("tablet1", up=False)
        time.sleep(cut_s)
        self.cluster.link("tablet1", up=True)
        restored = time.time()
        self.tablet_cut = (cut, restored)
        # Recovery: until the results made while offline have all been answered (read from the log
        # the tablet writes at the end, so measured in count()).
        self.report["faults"]["tablet_cut"] = {"cut_real_s": round(cut_s, 1),
                                               "cut_simulated_min": self.args.cut_minutes}  # fmt: skip

    # --- figures
    def count(self, runs: list[int], declarations: int, seeded: dict[str, Any], publisher: Publisher) -> None:
        from django.db import close_old_connections
        from django.db.models import Count

        from apps.frontline.models import ExaminationResult
        from apps.intake.models import IntakeRun, Message

        close_old_connections()
        # Declarations: one message per declaration id, none twice (a redelivered task must not double).
        messages = Message.objects.filter(source_id=self.source_id, run_id__in=runs)
        stored = messages.count()
        distinct = messages.values("message_key").distinct().count()
        statuses: dict[str, int] = {}
        for status in IntakeRun.objects.filter(pk__in=runs).values_list("status", flat=True):
            statuses[status] = statuses.get(status, 0) + 1
        intake = {"expected": declarations, "stored": stored, "distinct": distinct,
                  "lost": max(0, declarations - distinct), "doubled": stored - distinct, "runs": statuses}  # fmt: skip
        unfinished = IntakeRun.objects.filter(pk__in=runs, finished_at__isnull=True).values_list(
            "pk", "status"
        )
        intake["unfinished_runs"] = [{"run": pk, "status": status} for pk, status in unfinished]
        intake["met"] = intake["lost"] == 0 and intake["doubled"] == 0
        self.report["declarations"] = intake

        # Results: every result the tablets made is in the database once (by key and by instruction).
        made: list[dict[str, Any]] = []
        for i in (1, 2):
            path = self.workdir / f"tablet{i}-out.jsonl"
            if path.exists() and path.read_text().strip():
                made.extend(json.loads(line) for line in path.read_text().splitlines())
        keys = [m["key"] for m in made]
        instructions = [i for t in seeded["tablets"] for i in t["instructions"]]
        rows = ExaminationResult.objects.filter(instruction_id__in=instructions)
        stored_keys = {str(k) for k in rows.values_list("idempotency_key", flat=True)}
        per_instruction = rows.values("instruction_id").annotate(n=Count("id")).filter(n__gt=1).count()
        unanswered = sum(1 for m in made if "sent" not in m)
        refused = [m for m in made if m.get("answers") and m["answers"][-1][1] not in (200, 201)]
        results = {
            "made": len(made), "stored": rows.count(),
            "lost": sum(1 for k in keys if k not in stored_keys),
            "doubled": rows.count() - len(stored_keys) + per_instruction,
            "unanswered_at_end": unanswered, "refused": len(refused),
            "replayed_after_timeout": sum(1 for m in made if len(m.get("answers", [])) > 1),
        }  # fmt: skip
        results["met"] = results["lost"] == 0 and results["doubled"] == 0
        self.report["results"] = results
        if "tablet_cut" in self.report["faults"]:
            cut, restored = self.tablet_cut
            offline = [m for m in made if m.get("answers") and m["made"] <= restored
                       and any(cut <= a[0] <= restored for a in m["answers"])]  # fmt: skip
            last = max((m.get("sent", 0) for m in offline), default=restored)
            queued = len(offline)
            recovery = round(max(0.0, last - restored), 2) if all("sent" in m for m in offline) else None
            entry = self.report["faults"]["tablet_cut"]
            entry.update(results_queued_offline=queued, recovery_s=recovery,
                         recovery_means="from the link's return until the outbox was empty")  # fmt: skip
            entry["goal_recovery_s"] = GOAL_RECOVERY_S
            entry["met"] = recovery is not None and recovery < GOAL_RECOVERY_S

        # Board events: each committed event reached each board, or a resync after its commit covered it.
        out = self.workdir / "boards-out.json"
        clients = json.loads(out.read_text()) if out.exists() else []
        missed = received = covered = 0
        for client in clients:
            arrivals = {int(k): v for k, v in client["arrivals"].items()}
            for target, at in publisher.committed.items():
                if target in arrivals:
                    received += 1
                elif any(r >= at for r in client["resyncs"]):
                    covered += 1
                else:
                    missed += 1
        boards = {
            "clients": len(clients), "events_committed": len(publisher.committed),
            "deliveries_expected": len(clients) * len(publisher.committed), "received": received,
            "covered_by_resync": covered, "missed_after_resync": missed,
            "reconnects": sum(len(c["connects"]) - 1 for c in clients),
            "connected_before_stop": self.report.pop("boards_connected_before_stop", None),
        }  # fmt: skip
        boards["met"] = missed == 0 and len(clients) > 0
        self.report["boards"] = boards
        faults_met = all(f.get("met") for f in self.report["faults"].values())
        self.report["goals"] = {"lost": 0, "doubled": 0, "recovery_s_below": GOAL_RECOVERY_S,
                                "board_events_missed_after_resync": 0}  # fmt: skip
        self.report["met"] = bool(faults_met and intake["met"] and results["met"] and boards["met"])

    def close(self) -> None:
        for proc in self.helpers.values():
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        self.cluster.down()
        if self.args.keep:
            log(f"logs kept in {self.workdir}")
        else:
            shutil.rmtree(self.workdir, ignore_errors=True)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.role:
        config = json.loads(Path(args.config).read_text() if args.role != "seed" else args.config)
        if args.role == "seed":
            print(json.dumps(seed(config)))
        elif args.role == "tablet":
            tablet_main(config)
        else:
            boards_main(config)
        return
    if os.geteuid() != 0:
        sys.exit("bench.drill makes network namespaces: run it as root")
    for tool in ("ip", "haproxy", "redis-server", "runuser"):
        if shutil.which(tool) is None:
            sys.exit(f"bench.drill needs {tool} (apt-get install -y haproxy redis-server iproute2)")

    def terminate(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, terminate)
    drill = Drill(args)
    try:
        report = drill.run()
    except BaseException as error:
        drill.report["error"] = f"{type(error).__name__}: {error}"[:2000]
        drill.report["met"] = False
        report = drill.report
    finally:
        drill.close()
    print(json.dumps(report))
    sys.exit(0 if report.get("met") else 1)


if __name__ == "__main__":
    main()

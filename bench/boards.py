"""Benchmark of live boards: a committed transition's arrival at N websocket clients, and messages lost.

For each N (default 1,000, 2,000 and 5,000: a national floor) it connects N signed-in analysts, spread
over real Daphne processes (2 by default) on 127.0.0.1 sharing the Redis channel layer, then commits ``--events`` transitions, one every
``--gap`` seconds, through ``apps.targeting.services.start_review``. It measures, per client and event,
the time from the commit (an ``on_commit`` hook registered before the service's own) to the arrival of
the ``target.changed`` message, and counts messages lost. Beside it, the same run through a plain
per-client fan-out: each client on its personal socket, the publisher sending one ``group_send`` per
client (``user-<id>``), each socket checking access on its own: what a board without shared groups and
shared checks would cost. Prints ONE JSON object.

Clients are ``LeanSocket`` objects (a minimal RFC 6455 client on asyncio protocols, no extra package): one
event loop per client process, no task per socket, one clock read per TCP read, so the client side takes
as little of the shared cores as it can. ``--client-procs`` 0 (the default) runs one client process per
``CLIENTS_PER_PROC`` sockets, so that one loop reading 5,000 sockets does not stamp arrivals late; the
JSON says how the clients ran (processes, sockets each, their CPU time) and how much CPU each Daphne
process spent during the events, the figure least disturbed by other work on a shared machine. The
bench raises its open-file limit to the hard limit (the Daphne processes and clients inherit it): 5,000
sockets need 5,000 descriptors on each side. A message counts as lost only
if it never arrives before the deadline (``--drain`` seconds after the last commit); resyncs are counted
apart, and so are losses no resync covered. The server database is a throw-away SQLite file; Redis is
``REDIS_URL`` (default ``redis://127.0.0.1:6379/0``). Bounded: every wait has a deadline; it stops by itself.

    python -m bench.boards
    python -m bench.boards --clients 100,1000 --events 10 --daphne 2
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import hashlib
import json
import math
import multiprocessing as mp
import os
import queue
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
#: Issue 25 item 3: a committed transition reaches every screen of a national floor within these (p95).
GOALS_P95_MS = {1000: 150.0, 2000: 300.0, 5000: 300.0}
#: Sockets per client process when ``--client-procs`` is 0 (auto).
CLIENTS_PER_PROC = 2500
#: Handshakes one client process keeps in flight while connecting.
CONNECTING_PER_PROC = 12


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", default="1000,2000,5000", help="comma-separated numbers of clients")
    parser.add_argument("--events", type=int, default=10, help="transitions per run")
    parser.add_argument("--gap", type=float, default=1.0, help="seconds between transitions")
    parser.add_argument("--daphne", type=int, default=2, help="Daphne processes")
    parser.add_argument(
        "--client-procs", type=int, default=0, help=f"client processes (0: one per {CLIENTS_PER_PROC})"
    )
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--drain", type=float, default=20.0, help="seconds to wait for stragglers")
    return parser.parse_args()


# ----------------------------------------------------------------------------------------- clients


WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class LeanSocket(asyncio.Protocol):
    """A minimal websocket client for many sockets in one process: no task per socket, no per-message
    coroutine; frames are cut out of each TCP read in ``data_received`` and stamped with one clock read.

    It speaks just what the benchmark needs (RFC 6455): the opening handshake (checking the accept
    key), unmasked server frames (text, close, ping answered by a masked pong, fragments joined).
    """

    def __init__(self, host: str, path: str, cookie: str, expect: int) -> None:
        self.key = base64.b64encode(os.urandom(16)).decode()
        self.request = (
            f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {self.key}\r\nSec-WebSocket-Version: 13\r\n"
            f"Origin: http://127.0.0.1\r\nCookie: sessionid={cookie}\r\n\r\n"
        ).encode()
        self.expect = expect
        self.buffer = bytearray()
        self.upgraded = False
        self.fragments: list[bytes] = []
        self.hello: asyncio.Future = asyncio.get_running_loop().create_future()
        self.done: asyncio.Future = asyncio.get_running_loop().create_future()
        self.arrivals: list[tuple[int, float]] = []
        self.resyncs: list[float] = []
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        now = time.time()  # one clock read per TCP read: every frame in it arrived at this moment
        buf = self.buffer
        buf += data
        if not self.upgraded:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(buf[:end]).decode("latin-1").split("\r\n")
            del buf[: end + 4]
            accept = base64.b64encode(
                hashlib.sha1((self.key + WS_GUID).encode(), usedforsecurity=False).digest()
            ).decode()
            headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in head[1:])}
            if " 101 " not in head[0] + " " or headers.get("sec-websocket-accept") != accept:
                self._finish(f"handshake refused: {head[0]}")
                return
            self.upgraded = True
        while len(buf) >= 2:
            b0, b1 = buf[0], buf[1]
            size, offset = b1 & 0x7F, 2
            if size == 126:
                if len(buf) < 4:
                    return
                size, offset = int.from_bytes(buf[2:4], "big"), 4
            elif size == 127:
                if len(buf) < 10:
                    return
                size, offset = int.from_bytes(buf[2:10], "big"), 10
            if b1 & 0x80:
                self._finish("masked frame from the server")
                return
            if len(buf) < offset + size:
                return
            payload = bytes(buf[offset : offset + size])
            del buf[: offset + size]
            opcode = b0 & 0x0F
            if opcode in (0x0, 0x1, 0x2):
                self.fragments.append(payload)
                if b0 & 0x80:
                    self._message(b"".join(self.fragments), now)
                    self.fragments = []
            elif opcode == 0x9:  # ping → pong (Daphne pings idle sockets)
                self._send(0xA, payload)
            elif opcode == 0x8:
                self._finish("closed by the server")
                return

    def _message(self, raw: bytes, now: float) -> None:
        message = json.loads(raw)
        kind = message.get("kind")
        if kind == "target.changed":
            self.arrivals.append((message["target"], now))
            if len(self.arrivals) >= self.expect and not self.done.done():
                self.done.set_result(True)
        elif kind == "resync":
            self.resyncs.append(now)
        elif kind == "hello" and not self.hello.done():
            self.hello.set_result(True)

    def _send(self, opcode: int, payload: bytes) -> None:
        """A masked frame (clients must mask), small payloads only (pongs, close)."""
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(bytes([0x80 | opcode, 0x80 | len(payload)]) + mask + masked)

    def _finish(self, reason: str) -> None:
        for future in (self.hello, self.done):
            if not future.done():
                future.set_exception(ConnectionError(reason))
                future.exception()  # retrieved: nobody may be waiting any more
        if self.transport is not None:
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self._finish("connection lost")

    def close(self) -> None:
        self._send(0x8, (1000).to_bytes(2, "big"))
        if self.transport is not None:
            self.transport.close()


def client_main(urls: list[str], cookies: list[str], expect: int, ready: Any, stop: Any, out: Any) -> None:
    """One client process: open its sockets, report ready, collect arrivals until done or told to stop."""
    raise_open_files()
    asyncio.run(_clients(urls, cookies, expect, ready, stop, out))


async def _clients(urls: list[str], cookies: list[str], expect: int, ready: Any, stop: Any, out: Any) -> None:
    loop = asyncio.get_running_loop()
    stats = {"closed": 0, "failed": 0, "complete": 0}
    # Few handshakes in flight: a server given more than it accepts within Daphne's handshake timeout
    # (5 s) rejects them, and the retries only add to the storm (seen at 5,000 on a loaded machine).
    gate = asyncio.Semaphore(CONNECTING_PER_PROC)

    async def open_one(url: str, cookie: str) -> LeanSocket | None:
        host_port, _, path = url.removeprefix("ws://").partition("/")
        host, _, port = host_port.partition(":")
        async with gate:
            for _ in range(5):
                try:
                    _, sock = await asyncio.wait_for(
                        loop.create_connection(lambda: LeanSocket(host_port, "/" + path, cookie, expect), host, int(port)),
                        60,
                    )  # fmt: skip
                    await asyncio.wait_for(asyncio.shield(sock.hello), 60)
                    return sock
                except Exception:
                    await asyncio.sleep(0.5)
            stats["failed"] += 1
            return None

    opened = await asyncio.gather(*(open_one(u, c) for u, c in zip(urls, cookies, strict=True)))
    sockets = [sock for sock in opened if sock is not None]
    ready.put(len(sockets))
    cpu_at_ready = time.process_time()

    async def stopper() -> None:
        while not stop.is_set():
            await asyncio.sleep(0.1)

    stop_task = asyncio.ensure_future(stopper())
    all_done = asyncio.ensure_future(asyncio.gather(*(s.done for s in sockets), return_exceptions=True))
    await asyncio.wait({all_done, stop_task}, return_when=asyncio.FIRST_COMPLETED)
    stop_task.cancel()
    for sock in sockets:
        if sock.done.done() and sock.done.exception() is None:
            stats["complete"] += 1
        elif sock.done.done():
            stats["closed"] += 1
        sock.close()
    # Per socket: the (target, arrival time) of each event and the arrival time of each resync.
    cpu = round(time.process_time() - cpu_at_ready, 3)
    out.put({"sockets": [(s.arrivals, s.resyncs) for s in sockets], "cpu_s": cpu, **stats})


# ----------------------------------------------------------------------------------------- publisher


def commit_transition(
    target_id: int, actor: Any, stamps: dict[int, float], baseline_users: list[int] | None
) -> None:
    """Commit one transition; stamp the commit; publish as the board does, or per client (baseline)."""
    from django.db import transaction
    from django.db.models import F

    from apps.core.events import publish_on_commit
    from apps.targeting import services
    from apps.targeting.models import Target, TargetState

    with transaction.atomic():
        transaction.on_commit(lambda: stamps.__setitem__(target_id, time.time()))
        if baseline_users is None:
            services.start_review(actor=actor, target=Target.objects.get(pk=target_id))
        else:
            Target.objects.filter(pk=target_id, state=TargetState.NOMINATED).update(
                state=TargetState.IN_REVIEW, version=F("version") + 1
            )
            for uid in baseline_users:
                publish_on_commit(
                    f"user-{uid}", "target.changed", target=target_id, state="in_review", version=2
                )


def raise_open_files() -> int:
    """Raise this process's soft limit of open files to its hard limit (children inherit it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        wanted = 1_048_576 if hard == resource.RLIM_INFINITY else hard
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used so far (``/proc/<pid>/stat``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def client_procs_for(n: int, args: argparse.Namespace) -> int:
    return args.client_procs if args.client_procs > 0 else max(1, math.ceil(n / CLIENTS_PER_PROC))


def run_one(
    *, n: int, path: str, ports: list[int], sessions: list[list], targets: list[int], args: argparse.Namespace,
    actor: Any, baseline: bool, server_pids: list[int],
) -> dict[str, Any]:  # fmt: skip
    """Connect ``n`` clients to ``path``, commit ``len(targets)`` transitions, gather latencies."""
    ctx = mp.get_context("spawn")
    ready, out, stop = ctx.Queue(), ctx.Queue(), ctx.Event()
    chosen = sessions[:n]
    procs = []
    client_procs = client_procs_for(n, args)
    per = math.ceil(n / client_procs)
    connect_started = time.monotonic()
    server_cpu_at_start = [cpu_seconds(pid) for pid in server_pids]
    for p in range(client_procs):
        part = chosen[p * per : (p + 1) * per]
        if not part:
            continue
        urls = [f"ws://127.0.0.1:{ports[(p * per + i) % len(ports)]}{path}" for i in range(len(part))]
        proc = ctx.Process(
            target=client_main, args=(urls, [s[1] for s in part], len(targets), ready, stop, out)
        )
        proc.start()
        procs.append(proc)
    connected = 0
    for _ in procs:
        connected += ready.get(timeout=600)
    connect_seconds = time.monotonic() - connect_started
    connect_cpu = [cpu_seconds(pid) - c for pid, c in zip(server_pids, server_cpu_at_start, strict=True)]
    time.sleep(2.0)  # let the handshakes' follow-up work settle
    # Warm the publisher (imports, its first event loop, its first Redis connection), as a running
    # web or Celery process is: otherwise the first event of the first run measures a cold start.
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    async_to_sync(get_channel_layer().group_send)("bench-warmup", {"type": "live.event"})
    stamps: dict[int, float] = {}
    users = [s[0] for s in chosen] if baseline else None
    server_cpu_before = [cpu_seconds(pid) for pid in server_pids]
    for target_id in targets:
        started = time.monotonic()
        commit_transition(target_id, actor, stamps, users)
        time.sleep(max(0.0, args.gap - (time.monotonic() - started)))
    deadline = time.monotonic() + args.drain
    results = []
    while len(results) < len(procs) and time.monotonic() < deadline:
        with contextlib.suppress(queue.Empty):
            results.append(out.get(timeout=0.5))
    stop.set()
    # What the servers spent on the events: fan-out, checks, writes, and the watchdog's ticks meanwhile.
    server_cpu = [cpu_seconds(pid) - c for pid, c in zip(server_pids, server_cpu_before, strict=True)]
    while len(results) < len(procs):
        try:
            results.append(out.get(timeout=30))
        except queue.Empty:
            break
    for proc in procs:
        proc.join(timeout=30)
        if proc.is_alive():
            proc.terminate()
    latencies: list[float] = []
    lost = uncovered = resyncs = 0
    for r in results:
        for arrivals, resync_times in r["sockets"]:
            got = set()
            for target, arrived in arrivals:
                if target in stamps:
                    latencies.append((arrived - stamps[target]) * 1000)
                    got.add(target)
            resyncs += len(resync_times)
            for target in targets:
                if target in got:
                    continue
                lost += 1  # never arrived before the deadline
                # A resync after the commit made the browser re-fetch the whole board, so the change
                # still reached its screen; a loss without one would leave the screen wrong.
                if not any(t >= stamps.get(target, math.inf) for t in resync_times):
                    uncovered += 1
    # Sockets that never reported (their process died) lost everything.
    reported = sum(len(r["sockets"]) for r in results)
    lost += (connected - reported) * len(targets)
    uncovered += (connected - reported) * len(targets)
    expected = connected * len(targets)
    return {
        "clients": n,
        "connected": connected,
        "events": len(targets),
        "messages_expected": expected,
        "messages_received": len(latencies),
        "lost": lost,
        "lost_without_resync": uncovered,
        "resyncs": resyncs,
        "closed": sum(r["closed"] for r in results),
        "client_processes": len(procs),
        "sockets_per_client_process": per,
        "client_cpu_s_during_events": [r.get("cpu_s") for r in results],
        "connect_s": round(connect_seconds, 1),
        "server_cpu_ms_per_connect": [round(c * 1000 / max(1, n / len(server_pids)), 2) for c in connect_cpu],
        "server_cpu_s_during_events": [round(c, 2) for c in server_cpu],
        "server_cpu_ms_per_event": [round(c * 1000 / max(1, len(targets)), 1) for c in server_cpu],
        "p50_ms": round(statistics.median(latencies), 1) if latencies else None,
        "p95_ms": round(_pct(latencies, 95), 1) if latencies else None,
        "max_ms": round(max(latencies), 1) if latencies else None,
    }


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(p / 100 * len(ordered)) - 1)]


# ----------------------------------------------------------------------------------------- main


def main() -> None:
    args = parse_args()
    load_at_start = os.getloadavg()
    open_files = raise_open_files()
    counts = [int(x) for x in args.clients.split(",") if x.strip()]
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
    sys.path.insert(0, str(ROOT))
    from tests.live.server import DaphneServer

    workdir = Path(tempfile.mkdtemp(prefix="bench-boards-"))
    server = DaphneServer(
        workdir, processes=args.daphne, extra_env={"DJANGO_DEBUG": "false", "DB_CONN_MAX_AGE": "60"}
    )
    runs_needed = len(counts) * (1 if args.no_baseline else 2)
    started = time.monotonic()
    server.prepare("board")  # migrate and the demo world
    seeded = json.loads(
        server.run_python(
            f"from tests.live.seed import seed_bench; import json; "
            f"print(json.dumps(seed_bench(users={max(counts)}, targets={runs_needed * args.events})))"
        )
        .strip()
        .splitlines()[-1]
    )
    os.environ.update(server.env)
    import django

    django.setup()
    from django.contrib.auth import get_user_model

    actor = get_user_model().objects.get(username="analyst")
    targets = iter(seeded["targets"])
    report: dict[str, Any] = {
        "bench": "boards",
        "transport": (
            f"lean asyncio websocket client, {args.client_procs or f'one process per {CLIENTS_PER_PROC}'} "
            f"client process(es) (see each run); {args.daphne} Daphne processes"
        ),
        "daphne_processes": args.daphne,
        "cpu_cores": os.cpu_count(),
        "load_average_at_start": [round(x, 2) for x in load_at_start],
        "open_files_limit": open_files,
        "channel_layer": "redis",
        "redis": os.environ["REDIS_URL"],
        "database": "sqlite file (throw-away)",
        "events_per_run": args.events,
        "gap_s": args.gap,
        "goals_p95_ms": {str(k): v for k, v in GOALS_P95_MS.items()},
        "runs": [],
    }
    try:
        server.start()
        for n in counts:
            run: dict[str, Any] = {"clients": n}
            batch = [next(targets) for _ in range(args.events)]
            run["board"] = run_one(
                n=n, path="/ws/boards/floor/", ports=server.ports, sessions=seeded["sessions"], targets=batch,
                args=args, actor=actor, baseline=False, server_pids=[p.pid for p in server.procs],
            )  # fmt: skip
            if not args.no_baseline:
                batch = [next(targets) for _ in range(args.events)]
                run["baseline_per_client_group_send"] = run_one(
                    n=n, path="/ws/notifications/", ports=server.ports, sessions=seeded["sessions"], targets=batch,
                    args=args, actor=actor, baseline=True, server_pids=[p.pid for p in server.procs],
                )  # fmt: skip
            goal = GOALS_P95_MS.get(n)
            board = run["board"]
            run["goal_p95_ms"] = goal
            run["met"] = (
                None
                if goal is None
                else bool(board["p95_ms"] is not None and board["p95_ms"] <= goal and board["lost"] == 0)
            )
            report["runs"].append(run)
    finally:
        server.stop()
    report["seconds"] = round(time.monotonic() - started, 1)
    report["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    report["met"] = (
        bool(report["runs"])
        and all(r["met"] for r in report["runs"] if r["goal_p95_ms"] is not None)
        and {r["clients"] for r in report["runs"]} >= set(GOALS_P95_MS)
    )
    print(json.dumps(report))


if __name__ == "__main__":
    main()

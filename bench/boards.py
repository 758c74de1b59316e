"""Benchmark of live boards: a committed transition's arrival at N websocket clients, and messages lost.

For each N (default 100, 1,000 and 2,000) it connects N signed-in analysts, spread over real Daphne
processes on 127.0.0.1 sharing the Redis channel layer, then commits ``--events`` transitions, one every
``--gap`` seconds, through ``apps.targeting.services.start_review``. It measures, per client and event,
the time from the commit (an ``on_commit`` hook registered before the service's own) to the arrival of
the ``target.changed`` message, and counts messages lost. Beside it, the same run through a plain
per-client fan-out: each client on its personal socket, the publisher sending one ``group_send`` per
client (``user-<id>``), each socket checking access on its own: what a board without shared groups and
shared checks would cost. Prints ONE JSON object.

Clients use the ``websockets`` package (installed in the venv for this benchmark: ``pip install
websockets``), in ``--client-procs`` processes. The server database is a throw-away SQLite file; Redis is
``REDIS_URL`` (default ``redis://127.0.0.1:6379/0``). Bounded: every wait has a deadline; it stops by itself.

    python -m bench.boards
    python -m bench.boards --clients 100,1000 --events 10 --daphne 2
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import multiprocessing as mp
import os
import queue
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
GOALS_P95_MS = {1000: 150.0, 2000: 500.0}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", default="100,1000,2000", help="comma-separated numbers of clients")
    parser.add_argument("--events", type=int, default=10, help="transitions per run")
    parser.add_argument("--gap", type=float, default=1.0, help="seconds between transitions")
    parser.add_argument("--daphne", type=int, default=2, help="Daphne processes")
    parser.add_argument("--client-procs", type=int, default=2, help="client processes")
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--drain", type=float, default=20.0, help="seconds to wait for stragglers")
    return parser.parse_args()


# ----------------------------------------------------------------------------------------- clients


def client_main(urls: list[str], cookies: list[str], expect: int, ready: Any, stop: Any, out: Any) -> None:
    """One client process: open its sockets, report ready, collect arrivals until done or told to stop."""
    asyncio.run(_clients(urls, cookies, expect, ready, stop, out))


async def _clients(urls: list[str], cookies: list[str], expect: int, ready: Any, stop: Any, out: Any) -> None:
    import websockets

    arrivals: list[tuple[int, float]] = []
    stats = {"resync": 0, "closed": 0, "failed": 0, "complete": 0}
    sockets: list[Any] = []
    gate = asyncio.Semaphore(50)

    async def open_one(url: str, cookie: str) -> Any:
        async with gate:
            for _ in range(5):
                try:
                    ws = await websockets.connect(
                        url, additional_headers={"Cookie": f"sessionid={cookie}"}, origin="http://127.0.0.1",
                        open_timeout=60, ping_interval=None, max_queue=None,
                    )  # fmt: skip
                    hello = json.loads(await asyncio.wait_for(ws.recv(), 60))
                    if hello.get("kind") == "hello":
                        return ws
                    await ws.close()
                except Exception:
                    await asyncio.sleep(0.5)
            stats["failed"] += 1
            return None

    opened = await asyncio.gather(*(open_one(u, c) for u, c in zip(urls, cookies, strict=True)))
    sockets = [ws for ws in opened if ws is not None]
    ready.put(len(sockets))

    async def listen(ws: Any) -> None:
        got = 0
        try:
            while got < expect:
                raw = await ws.recv()
                now = time.time()
                message = json.loads(raw)
                if message.get("kind") == "target.changed":
                    arrivals.append((message["target"], now))
                    got += 1
                elif message.get("kind") == "resync":
                    stats["resync"] += 1
            stats["complete"] += 1
        except Exception:
            stats["closed"] += 1

    async def stopper() -> None:
        while not stop.is_set():
            await asyncio.sleep(0.1)

    listeners = [asyncio.ensure_future(listen(ws)) for ws in sockets]
    stop_task = asyncio.ensure_future(stopper())
    done_all = asyncio.ensure_future(asyncio.gather(*listeners, return_exceptions=True))
    await asyncio.wait({done_all, stop_task}, return_when=asyncio.FIRST_COMPLETED)
    for task in listeners:
        task.cancel()
    stop_task.cancel()
    await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
    out.put({"arrivals": arrivals, **stats})


# ----------------------------------------------------------------------------------------- publisher


def commit_transition(
    target_id: int, actor: Any, stamps: dict[int, float], baseline_users: list[int] | None
) -> None:
    """Commit one transition; stamp the commit; publish as the board does, or per client (baseline)."""
    from django.db import transaction
    from django.db.models import F

    from apps.live.events import publish_on_commit
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


def run_one(
    *, n: int, path: str, ports: list[int], sessions: list[list], targets: list[int], args: argparse.Namespace,
    actor: Any, baseline: bool,
) -> dict[str, Any]:  # fmt: skip
    """Connect ``n`` clients to ``path``, commit ``len(targets)`` transitions, gather latencies."""
    ctx = mp.get_context("spawn")
    ready, out, stop = ctx.Queue(), ctx.Queue(), ctx.Event()
    chosen = sessions[:n]
    procs = []
    per = math.ceil(n / args.client_procs)
    for p in range(args.client_procs):
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
    time.sleep(2.0)  # let the handshakes' follow-up work settle
    stamps: dict[int, float] = {}
    users = [s[0] for s in chosen] if baseline else None
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
    while len(results) < len(procs):
        try:
            results.append(out.get(timeout=30))
        except queue.Empty:
            break
    for proc in procs:
        proc.join(timeout=30)
        if proc.is_alive():
            proc.terminate()
    latencies = [
        (arrived - stamps[target]) * 1000
        for r in results
        for target, arrived in r["arrivals"]
        if target in stamps
    ]
    expected = connected * len(targets)
    received = len(latencies)
    return {
        "clients": n,
        "connected": connected,
        "events": len(targets),
        "messages_expected": expected,
        "messages_received": received,
        "lost": expected - received,
        "resyncs": sum(r["resync"] for r in results),
        "closed": sum(r["closed"] for r in results),
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
        "transport": f"websockets client, {args.client_procs} client processes; {args.daphne} Daphne processes",
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
                args=args, actor=actor, baseline=False,
            )  # fmt: skip
            if not args.no_baseline:
                batch = [next(targets) for _ in range(args.events)]
                run["baseline_per_client_group_send"] = run_one(
                    n=n, path="/ws/notifications/", ports=server.ports, sessions=seeded["sessions"], targets=batch,
                    args=args, actor=actor, baseline=True,
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
    print(json.dumps(report))


if __name__ == "__main__":
    main()

"""Benchmark of the targeting workflow: 50 floor users against several Daphne processes, on PostgreSQL.

Measures p50/p95/p99 latency (ms) of the queue page, the target page and the transition API with
1,000,000 subjects and 100,000 targets, each beside a baseline measured in the same phase (the trivial
``/healthz`` view through the same servers, clients and load). Prints ONE JSON object.

The goals (issue 25), each with its own ``met``; the top-level ``met`` only when all three hold:

- ``one_client``: at one client (the saturation level of 1 client, always run), each of the three
  requests' p50 is at most 4 x the p50 of ``/healthz`` of that same level (the page costs at most four
  trivial requests through the same stack, on this machine, now);
- ``capacity``: the mix's saturation throughput (the highest of the levels) is at least 2.5 x the load
  the ``--users`` people offer (``users / think`` requests per second: what they would ask for if every
  answer were instant), so the floor has headroom, not just a queue;
- ``think``: with the people thinking, each of the three p95s is under 100 ms, without errors.

How it serves: a throw-away database (``test_<name>_bench_targeting``) is loaded with COPY and vacuumed
(autovacuum does that to a production table; a freshly copied one has no visibility map yet), then
``--servers`` Daphne processes serve ``ratc_ops.asgi:application`` on their own ports, each with a pool
of ``--pool`` PostgreSQL connections (``DB_POOL_SIZE``), as production runs several Daphne processes
behind one address. Virtual user ``u`` talks to server ``u % servers`` over one keep-alive connection.

The load model (stated again in the JSON):

- ``think`` phase, the acceptance figure: ``--users`` (50) people, each in a loop of: think for an
  exponentially distributed time (mean ``--think``, 1 s), then make one request, chosen uniformly at
  random among the queue page of a random port, the page of a random target, an approval through the
  transition API (a supervisor's session, a target awaiting approval used once) and ``/healthz``, so that
  the baseline sees exactly the load the three measured requests see. ``--requests`` requests per user.
- ``saturation`` phases, so nobody takes the think-time figure for capacity: the same mix in a closed
  loop with no think time at each of ``--saturation`` concurrent clients; each level reports its
  throughput and p95s, and ``max_rps_with_p95_under_goal`` is the highest throughput at which all three
  p95s stayed under the goal.

The machine is shared: ``load_avg_before`` says how busy it was when the run started.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ratc_ops REDIS_URL=redis://127.0.0.1:6379/0 \\
        flock /tmp/bench.lock python -m bench.targeting
    DATABASE_URL=... REDIS_URL=... python -m bench.targeting --subjects 100000 --targets 10000 --requests 10
    DATABASE_URL=... REDIS_URL=... python -m bench.targeting --keep   # load once, keep it, reuse it next time

Both are required: the servers run as a deployment does, on PostgreSQL with a broker and a shared channel
layer (without one, each approval would refresh the reports inline and every process would run the
periodic jobs). The Celery tasks the requests queue (report refreshes) go to a Redis database of the
bench's own that no worker reads: their work is not in the figures.

``--keep`` keeps the database after the run and reuses it while it holds the asked number of subjects
and enough targets still awaiting approval (each run approves a few thousand).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.serving import (
    Browser,
    database_url,
    drop_bench_queue,
    percentile,
    require_real_stack,
    session_cookie,
    start_servers,
    stop_servers,
)

GOAL_P95_MS = 100.0
#: At one client, each request's p50 at most this many times ``/healthz``'s p50 of the same level.
GOAL_X_HEALTHZ_P50 = 4.0
#: The mix's saturation throughput at least this many times the people's offered load.
GOAL_CAPACITY_X_OFFERED = 2.5
KINDS = ("queue_page", "target_page", "transition_api", "baseline_healthz")
PORTS = ("GBFXT", "GBLHR", "GBDVR", "GBMNC", "GBCOV")
#: How long a run may last at most: awaiting targets the sweep would release within it are not approved.
RUN_MARGIN = timedelta(hours=1)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subjects", type=int, default=1_000_000)
    parser.add_argument("--targets", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=50, help="people on the floor at once")
    parser.add_argument("--think", type=float, default=1.0, help="mean think time in seconds (exponential)")
    parser.add_argument("--requests", type=int, default=40, help="requests per user in the think phase")
    parser.add_argument("--servers", type=int, default=4, help="Daphne processes")
    parser.add_argument("--pool", type=int, default=8, help="PostgreSQL connections pooled per process")
    parser.add_argument(
        "--saturation", default="1,2,4,8,16,50", help="closed-loop client counts, no think time"
    )
    parser.add_argument("--saturation-requests", type=int, default=300, help="requests per saturation level")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep the database; reuse it when loaded")
    return parser.parse_args()


def load(subjects: int, targets: int, seed: int) -> dict[str, object]:
    """Load demo reference data, then subjects, targets and their first transition with COPY."""
    from django.db import connection

    from apps.agencies.models import Agency, Port
    from apps.compliance.models import ChainHead
    from apps.core.demo import ensure_demo_world
    from apps.intake.models import DataSource

    ensure_demo_world()
    rng = random.Random(seed)
    ports = list(Port.objects.values_list("pk", flat=True))
    source = DataSource.objects.get(name="Import declarations")
    customs = Agency.objects.get(code="CUS")
    now = datetime.now(UTC)
    areas = ["narcotics", "weapons", "revenue", "ipr", "cites", "sps", "currency"]
    states = (
        ["nominated"] * 4 + ["in_review"] * 2 + ["awaiting_approval"] * 2 + ["approved", "closed", "rejected"]
    )
    with connection.cursor() as c:
        raw = c.cursor
        cols = "kind, source_id, owner_agency_id, external_id, version, status, title, port_id, arrival_at, facts, details, received_at"
        with raw.copy(f"COPY intake_subject ({cols}) FROM STDIN") as copy:
            for i in range(subjects):
                copy.write_row((
                    "consignment", source.pk, customs.pk, f"BENCH-{i:08d}", 1, "current", f"Consignment {i}",
                    rng.choice(ports), now + timedelta(minutes=rng.randint(-600, 4000)),
                    json.dumps({"hs_code": f"{rng.randint(100000, 999999)}", "value_per_kg": rng.random() * 50}),
                    "{}", now - timedelta(minutes=rng.randint(0, 100000)),
                ))  # fmt: skip
        c.execute(
            "SELECT id, port_id, arrival_at FROM intake_subject WHERE external_id LIKE 'BENCH-%%' ORDER BY id"
        )
        rows = rng.sample(c.fetchall(), targets)
        cols = ("subject_id, owner_agency_id, state, version, resume_state, risk_area, reasons, priority, score, scope, "
                "port_id, arrival_at, by_engine, random_control, created_at, updated_at")  # fmt: skip
        with raw.copy(f"COPY targeting_target ({cols}) FROM STDIN") as copy:
            for subject_id, port_id, arrival in rows:
                created = now - timedelta(minutes=rng.randint(0, 20000))
                reasons = json.dumps([{"kind": "rule", "text": "Bench rule", "ref": "R-1"}])
                copy.write_row((
                    subject_id, customs.pk, rng.choice(states), 1, "", rng.choice(areas), reasons, rng.randint(10, 90),
                    rng.random(), "national", port_id, arrival, True, False, created, created,
                ))  # fmt: skip
        c.execute(
            # Bench rows carry sequence numbers but no real hashes: this throw-away database is never checked.
            "INSERT INTO targeting_transition (target_id, from_state, to_state, version, reason, at, seq, prev_hash, hash) "
            "SELECT id, '', 'nominated', 1, 'bench', created_at, id, '', '' FROM targeting_target"
        )
        # The chain's head must follow the copied rows, or the first approval would reuse sequence 1.
        c.execute("SELECT COALESCE(MAX(seq), 0) FROM targeting_transition")
        ChainHead.objects.update_or_create(
            chain="targeting.transition", defaults={"seq": c.fetchone()[0], "hash": ""}
        )
        c.execute("VACUUM ANALYZE")
    return {"subjects": subjects, "targets": targets}


def sweep() -> int:
    """End the open targets whose conveyance has gone, as the periodic sweep of a running centre has.

    The world's arrivals start ten hours back, so a fresh or kept database holds open targets that beat
    (or, with no broker, the servers' own periodic thread) would mark missed a few minutes into the run:
    thousands of system moves measured as the floor's load, and approvals refused. A centre's floor never
    holds those; the bench's should not either. Returns how many it ended, then vacuums what it moved."""
    from django.db import connection

    from apps.targeting.tasks import mark_missed_targets

    ended = mark_missed_targets()
    if ended:  # as autovacuum soon would: the queue's index-only scans read the heap of every moved row
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE targeting_target")
    return ended


class Workload:
    """The request mix; each call returns the kind it made and raises on an error answer."""

    def __init__(self, target_ids: list[int], awaiting: list[tuple[int, int]]) -> None:
        self.target_ids = target_ids
        self.awaiting = iter(awaiting)
        self.lock = threading.Lock()

    def next_awaiting(self) -> tuple[int, int]:
        with self.lock:
            found = next(self.awaiting, None)
        if found is None:
            raise RuntimeError("ran out of targets awaiting approval")
        return found

    def do(self, browser: Browser, kind: str, rng: random.Random) -> None:
        if kind == "queue_page":
            status = browser.request("GET", f"/targets/queues/work/?port={rng.choice(PORTS)}")
        elif kind == "target_page":
            status = browser.request("GET", f"/targets/{rng.choice(self.target_ids)}/")
        elif kind == "transition_api":
            pk, version = self.next_awaiting()
            body = json.dumps({"action": "approve", "expected_version": version, "reason": "bench"}).encode()
            status = browser.request("POST", f"/api/v1/targets/{pk}/transitions/", "supervisor", body)
        else:
            status = browser.request("GET", "/healthz")
        if status != 200:
            raise RuntimeError(f"{kind}: HTTP {status}")


def run_phase(browsers: list[Browser], work: Workload, per_user: int, think: float, seed: int) -> dict:
    """Each browser makes ``per_user`` requests of the mix, thinking ``Exp(think)`` seconds before each."""
    timings: dict[str, list[float]] = {kind: [] for kind in KINDS}
    errors: dict[str, list[str]] = {kind: [] for kind in KINDS}
    lock = threading.Lock()

    def user(u: int) -> None:
        rng = random.Random(seed * 1000 + u)
        if think:
            time.sleep(rng.uniform(0, think))  # people do not all click at the same instant
        for _ in range(per_user):
            if think:
                time.sleep(rng.expovariate(1 / think))
            kind = rng.choice(KINDS)
            start = time.perf_counter()
            try:
                work.do(browsers[u], kind, rng)
            except Exception as error:
                with lock:
                    errors[kind].append(str(error)[:200])
                continue
            with lock:
                timings[kind].append((time.perf_counter() - start) * 1000)

    threads = [threading.Thread(target=user, args=(u,)) for u in range(len(browsers))]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    out: dict[str, object] = {}
    for kind in KINDS:
        values = sorted(timings[kind])
        out[kind] = {
            "p50_ms": percentile(values, 0.50),
            "p95_ms": percentile(values, 0.95),
            "p99_ms": percentile(values, 0.99),
            "n": len(values),
            "errors": len(errors[kind]),
            **({"first_error": errors[kind][0]} if errors[kind] else {}),
        }
    done = sum(len(v) for v in timings.values())
    out["throughput_rps"] = round(done / elapsed, 1)
    out["duration_s"] = round(elapsed, 1)
    return out


def meets(result: dict) -> bool:
    return all(
        result[k]["p95_ms"] is not None and result[k]["p95_ms"] < GOAL_P95_MS and not result[k]["errors"]
        for k in ("queue_page", "target_page", "transition_api")
    )


def one_client(level: dict) -> dict:
    """Each request's p50 against ``/healthz``'s p50, both measured at the same one-client level."""
    base = level["baseline_healthz"]["p50_ms"]
    figures = {}
    for kind in ("queue_page", "target_page", "transition_api"):
        p50 = level[kind]["p50_ms"]
        ratio = round(p50 / base, 2) if p50 is not None and base else None
        figures[kind] = {
            "p50_ms": p50,
            "x_healthz": ratio,
            "met": ratio is not None and ratio <= GOAL_X_HEALTHZ_P50 and not level[kind]["errors"],
        }
    return {
        "goal": {"p50_at_most_x_healthz_p50": GOAL_X_HEALTHZ_P50},
        "baseline_healthz_p50_ms": base,
        **figures,
        "met": all(f["met"] for f in figures.values()),
    }


def capacity(saturation: list[dict], users: int, think: float) -> dict:
    """The mix's saturation throughput (the best level) against what the people offer (users / think)."""
    offered = users / think if think else None
    best = max(saturation, key=lambda level: level["throughput_rps"])
    ratio = round(best["throughput_rps"] / offered, 2) if offered else None
    best_errors = sum(best[kind]["errors"] for kind in KINDS)
    return {
        "goal": {"saturation_rps_at_least_x_offered": GOAL_CAPACITY_X_OFFERED},
        "offered_rps": offered,
        "saturation_rps": best["throughput_rps"],
        "at_clients": best["clients"],
        "x_offered": ratio,
        "errors": best_errors,
        "met": bool(ratio is not None and ratio >= GOAL_CAPACITY_X_OFFERED and not best_errors),
    }


def main() -> None:
    args = parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ratc_ops.settings")
    # A stop by signal (Ctrl-C, a time-out's TERM) still stops the servers and drops the database.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    require_real_stack()  # what this process queues (the sweep's refreshes) goes to the bench's broker too
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import setup_databases, setup_test_environment, teardown_databases

    if connection.vendor != "postgresql":
        sys.exit("Run against PostgreSQL: set DATABASE_URL=postgres://...")
    load_avg = [round(x, 2) for x in os.getloadavg()]
    setup_test_environment()
    # Our own throw-away database, so that a test run elsewhere on the same server is not disturbed.
    name = f"test_{connection.settings_dict['NAME']}_bench_targeting"
    connection.settings_dict.setdefault("TEST", {})["NAME"] = name
    # No serialized copy of the database (for test rollbacks): with a kept million rows it takes minutes.
    old = setup_databases(verbosity=0, interactive=False, keepdb=args.keep, serialized_aliases=set())
    servers: list[tuple[subprocess.Popen, int]] = []
    logdir = Path(tempfile.mkdtemp(prefix="bench-targeting-"))
    try:
        from apps.intake.models import Subject

        loaded = Subject.objects.filter(external_id__startswith="BENCH-").count()
        if loaded and loaded != args.subjects:
            sys.exit(f"The kept database holds {loaded} subjects, not {args.subjects}: drop {name} first.")
        started = time.perf_counter()
        data = (
            {"subjects": loaded, "reused": True} if loaded else load(args.subjects, args.targets, args.seed)
        )
        data["load_s"] = round(time.perf_counter() - started, 1)
        from django.db.models import Q
        from django.middleware.csrf import _get_new_csrf_string
        from django.utils import timezone

        from apps.targeting.models import Target
        from apps.targeting.tasks import missed_grace

        data["swept_before_measuring"] = sweep()
        rng = random.Random(args.seed)
        target_ids = rng.sample(list(Target.objects.values_list("pk", flat=True)), 2000)
        # Only targets whose conveyance the periodic sweep cannot release while the bench runs: an
        # approval of one it marked missed meanwhile would be a correct 409, counted as an error.
        safe = Q(arrival_at__isnull=True) | Q(arrival_at__gte=timezone.now() - missed_grace() + RUN_MARGIN)
        awaiting = list(Target.objects.filter(safe, state="awaiting_approval").values_list("pk", "version"))
        rng.shuffle(awaiting)
        levels = [int(x) for x in args.saturation.split(",") if x.strip()]
        if 1 not in levels:  # the one-client goal is read from it
            levels.insert(0, 1)
        needed = args.users * (args.requests + 3) + len(levels) * args.saturation_requests
        if len(awaiting) < needed:  # a quarter of the requests are approvals; this is an upper bound
            sys.exit(f"Need up to {needed} targets awaiting approval; got {len(awaiting)}.")
        connection.close()  # the servers are the database's clients from here on

        servers = start_servers(args.servers, args.pool, database_url(name), logdir)
        most = max([args.users, *levels])
        browsers = [
            Browser(servers[u % len(servers)][1],
                    {"analyst": session_cookie("analyst"), "supervisor": session_cookie("supervisor")},
                    _get_new_csrf_string())
            for u in range(most)
        ]  # fmt: skip
        connection.close()
        work = Workload(target_ids, awaiting)
        # Warm up every process (templates, URL resolvers, pools) before measuring.
        run_phase(browsers[: len(servers) * 2], work, 8, 0, args.seed + 1)

        think = run_phase(browsers[: args.users], work, args.requests, args.think, args.seed)
        saturation = []
        for clients in levels:
            per_user = max(2, args.saturation_requests // clients)
            result = run_phase(browsers[:clients], work, per_user, 0, args.seed + clients)
            saturation.append({"clients": clients, **result})
        passing = [level["throughput_rps"] for level in saturation if meets(level)]
        one = one_client(next(level for level in saturation if level["clients"] == 1))
        cap = capacity(saturation, args.users, args.think)
        think_goal = {
            "goal": {"p95_ms_below": GOAL_P95_MS},
            **{kind: {"p95_ms": think[kind]["p95_ms"], "errors": think[kind]["errors"]}
               for kind in ("queue_page", "target_page", "transition_api")},
            "met": meets(think),
        }  # fmt: skip
        print(json.dumps({
            "benchmark": "targeting",
            "data": data,
            "servers": {"processes": args.servers, "server": "daphne ratc_ops.asgi:application",
                        "db_pool_size_per_process": args.pool},
            "load_avg_before": load_avg,
            "goals": {"one_client": one, "capacity": cap, "think": think_goal},
            "met": one["met"] and cap["met"] and think_goal["met"],
            "model": {
                "users": args.users,
                "think_time": f"exponential, mean {args.think} s, before every request",
                "requests_per_user": args.requests,
                "mix": "uniform over queue page (random port), target page (random target), "
                       "transition API (approve, supervisor), baseline /healthz",
                "connections": "one keep-alive HTTP connection per user; user u on server u % processes",
            },
            "results": think,
            "saturation": {
                "model": "closed loop, no think time, the same mix; throughput in requests/s of the whole mix",
                "levels": saturation,
                "max_rps_with_p95_under_goal": max(passing) if passing else None,
            },
        }))  # fmt: skip
    finally:
        stop_servers(servers)
        from django.db import connections

        connections.close_all()
        teardown_databases(old, verbosity=0, keepdb=args.keep)
        drop_bench_queue()


if __name__ == "__main__":
    main()

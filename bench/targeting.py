"""Benchmark of the targeting workflow under concurrent users, on PostgreSQL.

Measures p95 latency (ms) of the queue page, the target page and the transition API with many subjects
and targets, each beside a baseline measured in the same run (the trivial ``/healthz`` view through the
same server, client and concurrency). Goal: p95 < 100 ms. Prints ONE JSON object.

It creates a throw-away database (``test_<name>_bench_targeting``), loads the data with COPY, serves the app from
a threaded WSGI server in this process and drives it with concurrent HTTP clients.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ratc_ops python -m bench.targeting
    DATABASE_URL=... python -m bench.targeting --subjects 1000000 --targets 100000   # the large run
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import random
import statistics
import sys
import threading
import time
import urllib.request
from datetime import UTC, datetime, timedelta

GOAL_P95_MS = 100.0


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subjects", type=int, default=100_000)
    parser.add_argument("--targets", type=int, default=10_000)
    parser.add_argument("--users", type=int, default=8, help="concurrent users")
    parser.add_argument("--requests", type=int, default=40, help="requests per user per measurement")
    parser.add_argument("--seed", type=int, default=7)
    return parser.parse_args()


def load(subjects: int, targets: int, seed: int) -> dict[str, object]:
    """Load demo reference data, then subjects, targets and their first transition with COPY."""
    from django.db import connection

    from apps.agencies.models import Agency, Port
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
        c.execute("ANALYZE")
    return {"subjects": subjects, "targets": targets}


def session_opener(base: str, username: str) -> tuple[urllib.request.OpenerDirector, str]:
    """An HTTP client signed in as ``username`` (a session made server-side), and its CSRF token."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.middleware.csrf import _get_new_csrf_string
    from django.test import Client

    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    jar = http.cookiejar.CookieJar()
    csrf = _get_new_csrf_string()
    host = base.split("//")[1].split(":")[0]
    for name, value in ((settings.SESSION_COOKIE_NAME, client.cookies[settings.SESSION_COOKIE_NAME].value),
                        (settings.CSRF_COOKIE_NAME, csrf)):  # fmt: skip
        jar.set_cookie(http.cookiejar.Cookie(0, name, value, None, False, host, False, False, "/", True, False,
                                             None, True, None, None, {}))  # fmt: skip
    return urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar)), csrf


def measure(users: int, per_user: int, make_request) -> dict[str, float]:
    """Run ``make_request(user_index, i)`` from ``users`` threads; latency percentiles in ms."""
    timings: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(users)

    def run(u: int) -> None:
        barrier.wait()
        for i in range(per_user):
            start = time.perf_counter()
            try:
                make_request(u, i)
            except Exception as error:
                with lock:
                    errors.append(str(error)[:200])
                continue
            with lock:
                timings.append((time.perf_counter() - start) * 1000)

    threads = [threading.Thread(target=run, args=(u,)) for u in range(users)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    timings.sort()
    p95 = timings[int(0.95 * (len(timings) - 1))] if timings else float("nan")
    return {
        "p50_ms": round(statistics.median(timings), 1) if timings else None,
        "p95_ms": round(p95, 1),
        "n": len(timings),
        "errors": len(errors),
        **({"first_error": errors[0]} if errors else {}),
    }


def main() -> None:
    args = parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ratc_ops.settings")
    import django

    django.setup()
    from django.db import connection
    from django.test.testcases import LiveServerThread
    from django.test.utils import setup_databases, setup_test_environment, teardown_databases

    if connection.vendor != "postgresql":
        sys.exit("Run against PostgreSQL: set DATABASE_URL=postgres://...")
    setup_test_environment()
    from django.conf import settings

    settings.ALLOWED_HOSTS = ["*"]
    settings.DEBUG = False
    # Our own throw-away database, so that a test run elsewhere on the same server is not disturbed.
    connection.settings_dict.setdefault("TEST", {})["NAME"] = (
        f"test_{connection.settings_dict['NAME']}_bench_targeting"
    )
    old = setup_databases(verbosity=0, interactive=False)
    server = None
    try:
        started = time.perf_counter()
        data = load(args.subjects, args.targets, args.seed)
        data["load_s"] = round(time.perf_counter() - started, 1)
        server = LiveServerThread(
            "127.0.0.1", static_handler=lambda app: app, connections_override={}, port=0
        )
        server.daemon = True
        server.start()
        server.is_ready.wait()
        base = f"http://127.0.0.1:{server.port}"
        from apps.targeting.models import Target

        analysts = [session_opener(base, "analyst") for _ in range(args.users)]
        supervisors = [session_opener(base, "supervisor") for _ in range(args.users)]
        target_ids = list(Target.objects.values_list("pk", flat=True)[:2000])
        awaiting = list(Target.objects.filter(state="awaiting_approval").values_list("pk", "version"))
        needed = args.users * args.requests
        if len(awaiting) < needed:
            sys.exit(
                f"Need {needed} targets awaiting approval for the transition measurement; got {len(awaiting)}."
            )
        rng = random.Random(args.seed)

        def get(opener, path: str) -> None:
            with opener.open(base + path, timeout=30) as response:
                response.read()

        def baseline(u: int, i: int) -> None:
            get(analysts[u][0], "/healthz")

        def queue_page(u: int, i: int) -> None:
            port = rng.choice(["GBFXT", "GBLHR", "GBDVR", "GBMNC", "GBCOV"])
            get(analysts[u][0], f"/targets/queues/work/?port={port}")

        def target_page(u: int, i: int) -> None:
            get(analysts[u][0], f"/targets/{rng.choice(target_ids)}/")

        def transition(u: int, i: int) -> None:
            pk, version = awaiting[u * args.requests + i]
            opener, csrf = supervisors[u]
            body = json.dumps({"action": "approve", "expected_version": version, "reason": "bench"}).encode()
            request = urllib.request.Request(  # noqa: S310 (our own http:// server)
                f"{base}/api/v1/targets/{pk}/transitions/", data=body, method="POST",
                headers={"Content-Type": "application/json", "X-CSRFToken": csrf, "Referer": base + "/"},
            )  # fmt: skip
            with opener.open(request, timeout=30) as response:
                if response.status != 200:
                    raise RuntimeError(f"HTTP {response.status}")
                response.read()

        # Warm up (connections, template caches) before measuring.
        measure(args.users, 3, lambda u, i: (baseline(u, i), queue_page(u, i), target_page(u, i)))
        results = {
            "baseline_healthz": measure(args.users, args.requests, baseline),
            "queue_page": measure(args.users, args.requests, queue_page),
            "target_page": measure(args.users, args.requests, target_page),
            "transition_api": measure(args.users, args.requests, transition),
        }
        ok = all(results[k]["p95_ms"] < GOAL_P95_MS and not results[k]["errors"]
                 for k in ("queue_page", "target_page", "transition_api"))  # fmt: skip
        print(json.dumps({
            "benchmark": "targeting",
            "data": data,
            "concurrent_users": args.users,
            "requests_per_user": args.requests,
            "goal": {"p95_ms_below": GOAL_P95_MS},
            "results": results,
            "meets_goal": ok,
        }))  # fmt: skip
    finally:
        if server is not None:
            server.terminate()
        from django.db import connections

        connections.close_all()
        teardown_databases(old, verbosity=0)


if __name__ == "__main__":
    main()

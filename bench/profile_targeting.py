"""Where the time of one request of ``bench.targeting`` goes: queries, their time, and the hottest code.

Not a benchmark with a goal (``bench.targeting`` is that): a measuring tool for the engineer who asks
why a page costs what it costs. It loads the same world as ``bench.targeting`` (smaller by default:
the per-request constant and the per-row costs show at any size) into a throw-away database, then makes
each of the three requests and ``/healthz`` in this process through the whole middleware stack
(Django's test client, signed in with a real session), and prints ONE JSON object: per request the
in-process p50 (wall and CPU) over ``--repeat`` runs, the number of SQL queries, their time and the slowest of them,
and with ``--profile`` the functions with the most cumulative time (cProfile).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ratc_ops REDIS_URL=redis://127.0.0.1:6379/12 \\
        python -m bench.profile_targeting --subjects 100000 --targets 10000 --profile
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import random
import statistics
import time
from typing import Any


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subjects", type=int, default=100_000)
    parser.add_argument("--targets", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=30, help="requests of each kind timed")
    parser.add_argument("--profile", action="store_true", help="add cProfile's hottest functions")
    parser.add_argument("--top", type=int, default=25, help="functions listed per request with --profile")
    parser.add_argument("--keep", action="store_true", help="keep the database; reuse it when loaded")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--show-queries", action="store_true", help="list the SQL of one request of each kind"
    )
    return parser.parse_args()


def hottest(profile: cProfile.Profile, top: int) -> list[str]:
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out)
    stats.sort_stats("cumulative").print_stats(top)
    return [line.rstrip() for line in out.getvalue().splitlines() if line.strip()][-top:]


def main() -> None:
    args = parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ratc_ops.settings")
    from bench.serving import drop_bench_queue, require_real_stack

    # As a deployment runs: an approval queues its report refresh for a worker instead of running it
    # inline (15 statements instead of 7), and what it queues goes to the bench's own Redis database.
    require_real_stack()
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import (
        CaptureQueriesContext,
        setup_databases,
        setup_test_environment,
        teardown_databases,
    )

    from bench.targeting import PORTS, load, sweep

    setup_test_environment()
    name = f"test_{connection.settings_dict['NAME']}_bench_profile"
    connection.settings_dict.setdefault("TEST", {})["NAME"] = name
    old = setup_databases(verbosity=0, interactive=False, keepdb=args.keep, serialized_aliases=set())
    try:
        from django.contrib.auth import get_user_model
        from django.test import Client

        from apps.intake.models import Subject
        from apps.targeting.models import Target

        if not Subject.objects.filter(external_id__startswith="BENCH-").exists():
            load(args.subjects, args.targets, args.seed)
        sweep()  # as in bench.targeting: no open target whose conveyance has gone
        rng = random.Random(args.seed)
        users = get_user_model().objects
        analyst, supervisor = Client(), Client()
        from apps.compliance.services import SESSION_KEY

        for client, username in ((analyst, "analyst"), (supervisor, "supervisor")):
            client.force_login(users.get(username=username))
            session = client.session  # a purpose declared once per session, as a person does
            session[SESSION_KEY] = {"code": "risk_analysis", "text": ""}
            session.save()
        target_ids = list(Target.objects.values_list("pk", flat=True)[:2000])
        awaiting = iter(Target.objects.filter(state="awaiting_approval").values_list("pk", "version"))

        def approve() -> Any:
            pk, version = next(awaiting)
            body = {"action": "approve", "expected_version": version, "reason": "bench"}
            return supervisor.post(
                f"/api/v1/targets/{pk}/transitions/", body, content_type="application/json"
            )

        kinds = {
            "queue_page": lambda: analyst.get(f"/targets/queues/work/?port={rng.choice(PORTS)}"),
            "target_page": lambda: analyst.get(f"/targets/{rng.choice(target_ids)}/"),
            "transition_api": approve,
            "baseline_healthz": lambda: analyst.get("/healthz"),
        }
        result: dict[str, Any] = {}
        for kind, call in kinds.items():
            for _ in range(3):  # warm: templates, URL resolvers, caches
                r = call()
                assert r.status_code == 200, (kind, r.status_code, r.get("Location"), r.content[:300])
            times, cpu, counts, sql_ms = [], [], [], []
            slowest: dict[str, float] = {}
            for _ in range(args.repeat):
                with CaptureQueriesContext(connection) as queries:
                    start, start_cpu = time.perf_counter(), time.process_time()
                    response = call()
                    times.append((time.perf_counter() - start) * 1000)
                    cpu.append((time.process_time() - start_cpu) * 1000)
                assert response.status_code == 200, (kind, response.status_code)
                counts.append(len(queries.captured_queries))
                sql_ms.append(sum(float(q["time"]) for q in queries.captured_queries) * 1000)
                for q in queries.captured_queries:
                    key = q["sql"][:160]
                    slowest[key] = max(slowest.get(key, 0.0), float(q["time"]) * 1000)
            entry: dict[str, Any] = {
                "p50_ms": round(statistics.median(times), 2),
                # This process's CPU only (not PostgreSQL's, not waiting): steadier than wall time on a
                # machine shared with others, and what bounds a Daphne process's throughput.
                "cpu_ms_p50": round(statistics.median(cpu), 2),
                "queries": max(counts),
                "sql_ms_p50": round(statistics.median(sql_ms), 2),
                "slowest_queries_ms": sorted(
                    ({"sql": s, "ms": round(t, 2)} for s, t in slowest.items()), key=lambda x: -x["ms"]
                )[:6],
            }
            if args.show_queries:
                with CaptureQueriesContext(connection) as queries:
                    call()
                entry["sql"] = [q["sql"][:200] for q in queries.captured_queries]
            if args.profile:
                profile = cProfile.Profile()
                profile.enable()
                for _ in range(10):
                    call()
                profile.disable()
                entry["cprofile_cumulative_10_requests"] = hottest(profile, args.top)
            result[kind] = entry
        base = result["baseline_healthz"]["p50_ms"]
        base_cpu = result["baseline_healthz"]["cpu_ms_p50"]
        for kind in ("queue_page", "target_page", "transition_api"):
            result[kind]["x_healthz"] = round(result[kind]["p50_ms"] / base, 1)
            result[kind]["cpu_x_healthz"] = round(result[kind]["cpu_ms_p50"] / base_cpu, 1)
        print(json.dumps({"benchmark": "profile_targeting", "subjects": args.subjects,
                          "targets": args.targets, "repeat": args.repeat, "results": result}, indent=1))  # fmt: skip
    finally:
        from django.db import connections

        connections.close_all()
        teardown_databases(old, verbosity=0, keepdb=args.keep)
        drop_bench_queue()


if __name__ == "__main__":
    main()

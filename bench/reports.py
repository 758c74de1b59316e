"""Benchmark of performance reporting over many subjects, on PostgreSQL.

Measures p95 latency (ms) of the main report page (30 days, all filters open) freshly computed, and of
a CSV export (the measures table, which counts this period and the previous one), each beside a
baseline measured in the same run (the trivial ``/healthz`` view through the same server, client and
concurrency). Goals (issue 25, item 5): p95 of the freshly computed page under 100 ms, and at most
ten times the p95 of ``/healthz`` in the same run. Prints ONE JSON object; ``met`` beside each goal, and
at the top only when all hold.

"Freshly computed": the page keeps a computed report for a few minutes per agency, role and slice
(``apps.reports.services.cache``). The bench starts a new generation of those keys
(``forget_reports``) before measuring, and every measured request asks for a 30-day period not asked
before, so no request is answered from that cache. The same page asked again (the cached path) is
measured beside it, for information.

It creates a throw-away database (``test_<name>_bench_reports``), loads subjects arriving over 90 days,
their assessments, targets, transitions, instructions, examinations and seized goods with COPY
(``apps.intake.bulk.bulk_insert_rows``), rebuilds the summary tables (timed), serves the app from
``--servers`` Daphne processes with pooled connections (``bench.serving``, as production runs it) and
drives them with ``--users`` managers at once, each on a keep-alive connection. Before the servers
start, ``--split`` periods are built one at a time in the bench's own process (``data.in_process``):
``build_report``'s wall and CPU time, each of its statements' and the whole view's, that is where one
page's time goes without the queueing of the served figures. Beside the served fresh pages, the CPU
the servers and the PostgreSQL backends spent per page, the backends' wait for a core, and what they
were doing (sampled), so that their wall time can be told apart (``Accounting``).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ratc_ops REDIS_URL=redis://127.0.0.1:6379/0 python -m bench.reports
    DATABASE_URL=... REDIS_URL=... python -m bench.reports --subjects 100000      # a quick run
    DATABASE_URL=... REDIS_URL=... python -m bench.reports --keep   # load once, reuse, keep it

Both are required: the servers run as a deployment does, with a broker (``bench.serving.require_real_stack``).

``--keep`` keeps the database after the run and reuses it when it already holds the asked number of
subjects (loading a million takes minutes), and the summary tables when they were rebuilt the same
day: the history is dated relative to the day it was loaded, so reuse it the same day, or drop
``test_<name>_bench_reports`` to load afresh.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import signal
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

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
#: The page may cost at most this many times the trivial view, measured in the same run.
GOAL_RATIO_TO_HEALTHZ = 10.0
DAYS = 90


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subjects", type=int, default=1_000_000)
    parser.add_argument("--target-share", type=float, default=0.03, help="share of subjects targeted")
    parser.add_argument("--users", type=int, default=4, help="concurrent users")
    parser.add_argument("--requests", type=int, default=10, help="requests per user per measurement")
    parser.add_argument("--servers", type=int, default=2, help="Daphne processes")
    parser.add_argument("--pool", type=int, default=4, help="PostgreSQL connections pooled per process")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep the database; reuse it when loaded")
    parser.add_argument(
        "--split",
        type=int,
        default=10,
        help="fresh periods built in this process first, to say where a page's time goes (0: none)",
    )
    return parser.parse_args()


def load(subjects: int, target_share: float, seed: int) -> dict[str, object]:
    """Demo reference data, then the operational history with COPY, in batches."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    from apps.agencies.models import Agency, Port
    from apps.compliance.chain import ChainHead
    from apps.core.demo import ensure_demo_world
    from apps.frontline.models import ExaminationResult, SeizedGoods
    from apps.intake.bulk import bulk_insert_rows
    from apps.intake.models import DataSource, Subject
    from apps.risk.models import Assessment
    from apps.targeting.models import Instruction, Target, Transition

    ensure_demo_world()
    rng = random.Random(seed)
    ports = list(Port.objects.values_list("pk", flat=True))
    source = DataSource.objects.get(name="Import declarations")
    customs = Agency.objects.get(code="CUS")
    users = get_user_model()
    supervisor = users.objects.get(username="supervisor")
    officer = users.objects.get(username="officer.felixstowe")
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    areas = ["narcotics", "weapons", "revenue", "ipr", "cites", "currency"]
    counts = {"subjects": 0, "assessments": 0, "targets": 0, "examinations": 0}
    chain = ChainHead.objects.get_or_create(chain=Transition._meta.label_lower)[0]
    batch = 50_000
    for first in range(0, subjects, batch):
        size = min(batch, subjects - first)
        rows = []
        for i in range(first, first + size):
            arrival = today - timedelta(minutes=rng.randint(-1440, DAYS * 1440))
            rows.append(
                {
                    "kind": "consignment",
                    "source_id": source.pk,
                    "owner_agency_id": customs.pk,
                    "external_id": f"BENCH-{i:08d}",
                    "version": 1,
                    "status": "current",
                    "title": f"Consignment {i}",
                    "port_id": rng.choice(ports),
                    "arrival_at": arrival,
                    "facts": {"hs_code": "8471"},
                    "details": {},
                    "received_at": arrival - timedelta(hours=30),
                }
            )
        ids = bulk_insert_rows(Subject, rows)
        counts["subjects"] += len(ids)
        assessments, targets = [], []
        for sid, row in zip(ids, rows, strict=True):
            roll = rng.random()
            random_control = roll > 0.995
            targeted = random_control or roll < target_share
            channel = "red" if targeted else ("yellow" if roll < 0.15 else "green")
            assessments.append(
                {
                    "subject_id": sid,
                    "score": 70.0 if targeted else 10.0,
                    "channel": channel,
                    "risk_area": rng.choice(areas),
                    "explanation": {},
                    "random_control": random_control,
                    "nominated": targeted,
                    "created_at": row["arrival_at"] - timedelta(hours=rng.choice([-1, 2, 5])),
                }
            )
            if targeted:
                created = row["arrival_at"] - timedelta(hours=6)
                state = rng.choice(["result_recorded"] * 6 + ["rejected", "missed", "closed", "nominated"])
                targets.append(
                    {
                        "subject_id": sid,
                        "owner_agency_id": customs.pk,
                        "state": state,
                        "version": 3,
                        "resume_state": "",
                        "risk_area": rng.choice(areas),
                        "reasons": [{"kind": "rule", "text": "Bench rule", "ref": "rule:1@v1"}],
                        "priority": 60,
                        "score": 70.0,
                        "scope": "national",
                        "port_id": row["port_id"],
                        "arrival_at": row["arrival_at"],
                        "by_engine": True,
                        "random_control": random_control,
                        "created_at": created,
                        "updated_at": created,
                    }
                )
        bulk_insert_rows(Assessment, assessments)
        counts["assessments"] += len(assessments)
        target_ids = bulk_insert_rows(Target, targets)
        counts["targets"] += len(target_ids)
        transitions, instructions, exam_targets = [], [], []
        for tid, t in zip(target_ids, targets, strict=True):
            transitions.append(
                {
                    "target_id": tid,
                    "from_state": "",
                    "to_state": "nominated",
                    "version": 1,
                    "reason": "bench",
                    "at": t["created_at"],
                }
            )
            decided = "rejected" if t["state"] == "rejected" else "approved"
            transitions.append(
                {
                    "target_id": tid,
                    "from_state": "nominated",
                    "to_state": decided,
                    "version": 2,
                    "reason": "bench",
                    "at": t["created_at"] + timedelta(hours=rng.choice([1, 3, 5])),
                }
            )
            if t["state"] in {"result_recorded", "closed"}:
                instructions.append(
                    {
                        "target_id": tid,
                        "port_id": t["port_id"],
                        "method": "physical",
                        "shift": "early",
                        "instruction": "Check.",
                        "dispatched_by_id": supervisor.pk,
                        "dispatched_at": t["arrival_at"] - timedelta(hours=1),
                    }
                )
                exam_targets.append((tid, t))
        bulk_insert_rows(Transition, chained(transitions, chain))
        instruction_ids = bulk_insert_rows(Instruction, instructions)
        results = []
        for iid, (tid, t) in zip(instruction_ids, exam_targets, strict=True):
            found = rng.random() < (0.08 if t["random_control"] else 0.3)
            start = t["arrival_at"] + timedelta(minutes=rng.randint(10, 180))
            results.append(
                {
                    "target_id": tid,
                    "instruction_id": iid,
                    "idempotency_key": uuid.UUID(int=rng.getrandbits(128)),
                    "method": "physical",
                    "outcome": rng.choice(["seizure", "irregularity"]) if found else "no_finding",
                    "started_at": start,
                    "ended_at": start + timedelta(minutes=rng.randint(20, 120)),
                    "revenue_at_stake": Decimal(rng.randint(100, 5000)) if found else None,
                    "notes": "",
                    "reason": "",
                    "recorded_by_id": officer.pk,
                    "recorded_by_agency_id": customs.pk,
                    "recorded_at": start,
                }
            )
        result_ids = bulk_insert_rows(ExaminationResult, results)
        counts["examinations"] += len(result_ids)
        goods = [
            {
                "result_id": rid,
                "kind": rng.choice(["cocaine", "tobacco", "counterfeit"]),
                "description": "",
                "quantity": Decimal(rng.randint(1, 50)),
                "unit": "kg",
                "estimated_value": Decimal(rng.randint(100, 90000)),
            }
            for rid, r in zip(result_ids, results, strict=True)
            if r["outcome"] == "seizure"
        ]
        bulk_insert_rows(SeizedGoods, goods)
    ChainHead.objects.filter(pk=chain.pk).update(seq=chain.seq, hash=chain.hash)
    with connection.cursor() as c:
        c.execute("ANALYZE")
    return counts


def chained(rows: list[dict[str, object]], head: object) -> list[dict[str, object]]:
    """Give each transition its link of the hash chain (as ``compliance.chain`` would), advancing ``head``."""
    from apps.targeting.models import Transition

    for row in rows:
        link = Transition(**row, seq=head.seq + 1, prev_hash=head.hash)
        row.update(seq=link.seq, prev_hash=link.prev_hash, hash=link.compute_hash())
        head.seq, head.hash = link.seq, row["hash"]
    return rows


def where_time_goes(periods: int, today: date) -> dict[str, object]:
    """Where a freshly computed page's time goes, measured in this process before the servers start (one
    request at a time: no queueing, unlike the served figures): ``build_report`` for ``periods`` 30-day
    periods (the ones the servers are asked for), wall and CPU; each of its statements (the database's
    share, 1 ms resolution); and the whole view of the same period through the middleware (test client;
    beyond ``build_report`` it draws the filter form, the template and the session). Medians, in ms;
    and where ``Accounting`` can read it, the database's CPU a page (the backend's clock, 10 ms ticks,
    so a mean over the periods)."""
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from apps.reports.services import build_report, forget_reports
    from apps.reports.slicing import Slice

    forget_reports()  # a kept database's earlier run cached these very periods
    manager = get_user_model().objects.get(username="manager")
    client = Client()
    client.force_login(manager)
    walls, cpus, views, view_cpus, statements = [], [], [], [], {}
    backend = {"build_report": 0.0, "whole_view": 0.0}
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    for i in range(periods):
        end = today - timedelta(days=1 + i)  # as the servers are asked (whose cache is forgotten later)
        s = Slice(start=end - timedelta(days=29), end=end)
        wall, cpu, database = time.perf_counter(), time.process_time(), Accounting.cpu_ms(pid)
        with CaptureQueriesContext(connection) as queries:
            build_report(manager, s)
        backend["build_report"] += Accounting.cpu_ms(pid) - database
        walls.append((time.perf_counter() - wall) * 1000)
        cpus.append((time.process_time() - cpu) * 1000)
        for q in queries.captured_queries:  # each statement named by its start, dates and numbers left out
            name = re.sub(r"'[^']*'|\b\d+\b", "?", q["sql"])[:80]
            statements.setdefault(name, []).append(float(q["time"]) * 1000)
        wall, cpu, database = time.perf_counter(), time.process_time(), Accounting.cpu_ms(pid)
        response = client.get(f"/reports/?start={s.start}&end={s.end}")  # build_report caches nothing
        backend["whole_view"] += Accounting.cpu_ms(pid) - database
        if response.status_code != 200:
            raise RuntimeError(f"/reports/ answered HTTP {response.status_code}")
        views.append((time.perf_counter() - wall) * 1000)
        view_cpus.append((time.process_time() - cpu) * 1000)

    def median(values: list[float]) -> float | None:
        return percentile(sorted(values), 0.5)

    return {
        "periods": periods,
        "build_report_wall_ms": median(walls),
        "build_report_cpu_ms": median(cpus),
        "statements_ms": {sql: median(times) for sql, times in statements.items()},
        "whole_view_wall_ms": median(views),
        "whole_view_cpu_ms": median(view_cpus),
        **(
            {f"{part}_postgres_cpu_ms_mean": round(total / periods, 1) for part, total in backend.items()}
            if Accounting.available() and Path(f"/proc/{pid}").exists()
            else {}
        ),
    }


class Accounting:
    """Where the served pages' wall time goes, beside their latencies: the CPU the Daphne processes
    and the PostgreSQL backends serving them spent per page, how long those backends waited for a core
    (the runqueue, from ``/proc/<pid>/schedstat``), and what they were doing, sampled every few
    milliseconds from ``pg_stat_activity`` (on a core or runnable, or waiting on a lock or an IO, or
    idle, waiting for the application's next statement). Linux and a database on this machine only:
    elsewhere left out. The backends are those open when it starts (after the warm-up opened the
    pools'); one opened during the measurement is counted from zero, without its runqueue wait."""

    def __init__(self, db_url: str, pids: list[int]) -> None:
        self.db_url, self.pids = db_url, pids
        self.samples: dict[str, int] = {}
        self.stop = threading.Event()

    @staticmethod
    def available() -> bool:
        return Path("/proc/self/schedstat").exists()

    @staticmethod
    def cpu_ms(pid: int) -> float:
        """User and system CPU of a process (its ended threads too), ms."""
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            return 0.0
        return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")

    @staticmethod
    def runqueue_ms(pid: int) -> float:
        """Time a (single-threaded) process waited for a core, ms."""
        try:
            return int(Path(f"/proc/{pid}/schedstat").read_text().split()[1]) / 1e6
        except (FileNotFoundError, ProcessLookupError):
            return 0.0

    def backends(self) -> list[int]:
        import psycopg

        with psycopg.connect(self.db_url, autocommit=True) as conn:
            rows = conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
            ).fetchall()
        return [pid for (pid,) in rows if Path(f"/proc/{pid}").exists()]

    def _sample(self) -> None:
        import psycopg

        with psycopg.connect(self.db_url, autocommit=True) as conn:
            while not self.stop.is_set():
                for state, kind, event in conn.execute(
                    "SELECT state, wait_event_type, wait_event FROM pg_stat_activity WHERE datname = "
                    "current_database() AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
                ):
                    if state == "active":
                        key = f"waiting: {kind} {event}" if kind else "on a core or runnable"
                    else:
                        key = "idle (the application's turn)"
                    self.samples[key] = self.samples.get(key, 0) + 1
                time.sleep(0.005)

    def around(self, pages: int, run) -> dict[str, Any]:
        """``run()``, and what the servers and backends spent on its ``pages``."""
        backends = self.backends()
        cpu0 = {pid: self.cpu_ms(pid) for pid in self.pids + backends}
        queue0 = {pid: self.runqueue_ms(pid) for pid in backends}
        sampler = threading.Thread(target=self._sample)
        sampler.start()
        try:
            out = run()
        finally:
            self.stop.set()
            sampler.join()
        backends = sorted(set(backends) | set(self.backends()))

        def per_page(total: float) -> float:
            return round(total / pages, 1)

        return out | {
            "per_page_ms": {
                "daphne_cpu": per_page(sum(self.cpu_ms(pid) - cpu0[pid] for pid in self.pids)),
                "postgres_cpu": per_page(sum(self.cpu_ms(pid) - cpu0.get(pid, 0.0) for pid in backends)),
                "postgres_runqueue_wait": per_page(
                    sum(self.runqueue_ms(pid) - queue0[pid] for pid in queue0)
                ),
            },
            "postgres_backend_samples": dict(sorted(self.samples.items(), key=lambda kv: -kv[1])),
        }


def measure(users: int, per_user: int, make_request) -> dict[str, Any]:
    """Run ``make_request(user_index, i)`` (returns an HTTP status) from ``users`` threads at once;
    latency percentiles in ms."""
    timings: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(users)

    def run(u: int) -> None:
        barrier.wait()
        for i in range(per_user):
            start = time.perf_counter()
            try:
                status = make_request(u, i)
                if status != 200:
                    raise RuntimeError(f"HTTP {status}")
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
    return {
        "p50_ms": percentile(timings, 0.50),
        "p95_ms": percentile(timings, 0.95),
        "n": len(timings),
        "errors": len(errors),
        **({"first_error": errors[0]} if errors else {}),
    }


def main() -> None:
    args = parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ratc_ops.settings")
    # A stop by signal (Ctrl-C, a time-out's TERM) still stops the servers and drops the database.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    require_real_stack()
    import django

    django.setup()
    from django.db import connection
    from django.middleware.csrf import _get_new_csrf_string
    from django.test.utils import setup_databases, setup_test_environment, teardown_databases

    if connection.vendor != "postgresql":
        sys.exit("Run against PostgreSQL: set DATABASE_URL=postgres://...")
    setup_test_environment()
    load_avg = [round(x, 2) for x in os.getloadavg()]
    name = f"test_{connection.settings_dict['NAME']}_bench_reports"
    connection.settings_dict.setdefault("TEST", {})["NAME"] = name
    # No serialized copy of the database (for test rollbacks): with a kept million rows it takes minutes.
    old = setup_databases(verbosity=0, interactive=False, keepdb=args.keep, serialized_aliases=set())
    servers: list = []
    logdir = Path(tempfile.mkdtemp(prefix="bench-reports-"))
    try:
        from apps.intake.models import Subject

        loaded = Subject.objects.filter(external_id__startswith="BENCH-").count()
        if loaded and loaded != args.subjects:
            sys.exit(f"The kept database holds {loaded} subjects, not {args.subjects}: drop it first.")
        started = time.perf_counter()
        data: dict[str, object]
        if loaded:
            data = {"subjects": loaded, "reused": True}
        else:
            data = load(args.subjects, args.target_share, args.seed)
        data["load_s"] = round(time.perf_counter() - started, 1)
        from apps.reports.models import StatRefresh
        from apps.reports.stats import refresh_daily_stats

        today = datetime.now(UTC).date()
        first_day, last_day = today - timedelta(days=DAYS + 1), today + timedelta(days=1)
        done = (
            StatRefresh.objects.filter(first_day__lte=first_day, last_day__gte=last_day)
            .order_by("-pk")
            .first()
        )
        if data.get("reused") and done is not None and done.finished_at.date() == today:
            data |= {"summary_refresh_s": done.seconds, "summary_rows": done.rows, "summary_reused": True}
        else:
            started = time.perf_counter()
            refreshed = refresh_daily_stats(first_day, last_day)
            data["summary_refresh_s"] = round(time.perf_counter() - started, 1)
            data["summary_rows"] = refreshed.rows
            with connection.cursor() as c:
                # The rewrite left dead rows and stale statistics; autovacuum would clean up soon.
                c.execute("VACUUM ANALYZE reports_dailystat")
                c.execute("VACUUM ANALYZE reports_targetstat")
        if args.split:
            data["in_process"] = where_time_goes(args.split, today)
        connection.close()  # the servers are the database's clients from here on
        servers = start_servers(args.servers, args.pool, database_url(name), logdir)
        browsers = [
            Browser(
                servers[u % len(servers)][1], {"manager": session_cookie("manager")}, _get_new_csrf_string()
            )
            for u in range(args.users)
        ]
        connection.close()
        query = f"start={today - timedelta(days=29)}&end={today}"

        def cold(u: int, i: int) -> str:
            end = today - timedelta(days=1 + u * args.requests + i)
            return f"/reports/?start={end - timedelta(days=29)}&end={end}"

        for browser in browsers:  # warm every process (templates, pools) and its cache of the period
            browser.request("GET", f"/reports/?{query}")
            browser.request("GET", cold(args.users, args.requests))
        # Once all at once too, so that each process's pool holds the connections the measurement uses.
        measure(args.users, 1, lambda u, i: browsers[u].request("GET", cold(args.users, args.requests)))
        from apps.reports.services import forget_reports

        # A new generation of cache keys: a kept database's earlier run cached these very periods.
        forget_reports()

        def cold_pages() -> dict[str, Any]:
            def pages() -> dict[str, Any]:
                return measure(args.users, args.requests, lambda u, i: browsers[u].request("GET", cold(u, i)))

            if not Accounting.available():
                return pages()
            accounting = Accounting(database_url(name), [process.pid for process, _ in servers])
            return accounting.around(args.users * args.requests, pages)

        results = {
            "baseline_healthz": measure(
                args.users, args.requests, lambda u, i: browsers[u].request("GET", "/healthz")
            ),
            # Every request a different 30-day period: nothing is reused from the cache.
            "report_page_cold": cold_pages(),
            # The same period again (managers of one agency opening the same report): the cached path.
            "report_page_cached": measure(
                args.users, args.requests, lambda u, i: browsers[u].request("GET", f"/reports/?{query}")
            ),
            "csv_export": measure(
                args.users,
                args.requests,
                lambda u, i: browsers[u].request("GET", f"/reports/export/?table=summary&format=csv&{query}"),
            ),
        }
        page_p95 = results["report_page_cold"]["p95_ms"]
        healthz_p95 = results["baseline_healthz"]["p95_ms"]
        ratio = round(page_p95 / healthz_p95, 2) if page_p95 is not None and healthz_p95 else None
        errors = sum(r["errors"] for r in results.values())
        goals = {
            "report_page_cold_p95_ms": {
                "goal": GOAL_P95_MS,
                "value": page_p95,
                "met": page_p95 is not None and page_p95 < GOAL_P95_MS,
            },
            "report_page_cold_p95_over_healthz_p95": {
                "goal": GOAL_RATIO_TO_HEALTHZ,
                "value": ratio,
                "met": ratio is not None and ratio <= GOAL_RATIO_TO_HEALTHZ,
            },
            "no_errors": {"goal": 0, "value": errors, "met": errors == 0},
        }
        print(
            json.dumps(
                {
                    "benchmark": "reports",
                    "database": "postgresql",
                    "data": data,
                    "users": args.users,
                    "servers": {
                        "processes": args.servers,
                        "server": "daphne ratc_ops.asgi:application",
                        "db_pool_size_per_process": args.pool,
                    },
                    "load_avg_before": load_avg,
                    "load_avg_after": [round(x, 2) for x in os.getloadavg()],
                    "requests_per_user": args.requests,
                    "results": results,
                    "page_cache": "bypassed: new key generation, every measured period asked once",
                    "goals": goals,
                    "met": all(g["met"] for g in goals.values()),
                },
                indent=2,
            )
        )
    finally:
        stop_servers(servers)
        from django.db import connections

        connections.close_all()
        teardown_databases(old, verbosity=0, keepdb=args.keep)
        drop_bench_queue()


if __name__ == "__main__":
    main()

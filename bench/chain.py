"""Benchmark of the keyed chains: floor transitions during a batch assessment, and the oversight page.

Two figures, each beside a baseline measured in the same run. Prints ONE JSON object.

1. ``transitions_during_batch``: ``--users`` (8) people take nominated targets into review
   (``targeting.services.start_review``, each its own database connection, an exponential think time of
   mean ``--think`` s before each) while another process assesses a batch of ``--batch`` (10,000)
   consignments in one ``risk.services.assess_subjects`` call (which commits every 500 subjects) that
   nominates every one of them (one
   active rule fires on all). Goal: p95 < 200 ms. Baseline: the same people, the same transitions, no
   batch running. With ``--legacy`` a third phase emulates the old lock-to-commit append: the batch
   takes the transitions' chain-head row lock in its transaction and every floor transition takes it
   first, as ``compliance.chain`` did before.
2. ``oversight_verification``: the integrity page (``compliance:oversight``, both chains verified
   incrementally) with the access log at each of ``--lengths`` (10,000 and 100,000 rows); before each of
   ``--visits`` visits ``--between`` new rows are logged (the floor keeps working). Goal: the median at
   the longest log within 1.5 x the median at the shortest ("independent of length"). Baseline: a full
   verification of the access log at each length (what every visit cost before).

A throw-away database ``test_<name>_bench_chain`` is made and dropped (``--keep`` keeps it).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ratc_bench_chain python -m bench.chain
    DATABASE_URL=... python -m bench.chain --batch 2000 --lengths 2000,20000   # quick
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta

from bench.serving import database_url, percentile

GOAL_P95_MS = 200.0
GOAL_RATIO = 1.5
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch", type=int, default=10_000, help="consignments assessed in one batch")
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--think", type=float, default=0.25, help="mean think time in seconds (exponential)")
    parser.add_argument("--baseline-per-user", type=int, default=40)
    parser.add_argument("--pool-per-user", type=int, default=600, help="targets each person may take")
    parser.add_argument("--lengths", default="10000,100000", help="access-log lengths for the oversight page")
    parser.add_argument("--visits", type=int, default=7)
    parser.add_argument("--between", type=int, default=100, help="rows logged before each visit")
    parser.add_argument("--legacy", action="store_true", help="also emulate the old lock-to-commit append")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument(
        "--redis", default="redis://127.0.0.1:6379/15", help="queue Celery tasks here ('' runs them inline)"
    )
    parser.add_argument("--batch-child", help=argparse.SUPPRESS)  # "<legacy 0|1>:<prefix>": run a batch
    return parser.parse_args()


# --- data --------------------------------------------------------------------------------------------


def consignments(count: int, prefix: str, rng: random.Random) -> list[int]:
    from apps.agencies.models import Agency, Port
    from apps.intake.bulk import bulk_insert_rows
    from apps.intake.models import DataSource, Subject

    ports = list(Port.objects.values_list("pk", flat=True))
    source = DataSource.objects.get(name="Import declarations")
    customs = Agency.objects.get(code="CUS")
    now = datetime.now(UTC)
    rows = [
        {
            "kind": "consignment",
            "source_id": source.pk,
            "owner_agency_id": customs.pk,
            "external_id": f"{prefix}-{i:07d}",
            "version": 1,
            "status": "current",
            "title": f"Consignment {i}",
            "port_id": rng.choice(ports),
            "arrival_at": now + timedelta(hours=rng.randint(2, 48)),
            "facts": {
                "hs_code": "93020000",
                "hs6": "930200",
                "hs_chapter": "93",
                "declared_value": 1000,
                "net_mass_kg": 10,
            },
            "received_at": now,
        }
        for i in range(count)
    ]
    return bulk_insert_rows(Subject, rows)


def prepare(args: argparse.Namespace) -> dict[str, object]:
    """The demo world, a rule that nominates every bench consignment, nominated targets for the floor
    and the batch's consignments."""
    from django.contrib.auth import get_user_model

    from apps.agencies.operations import membership_of
    from apps.core.demo import ensure_demo_world
    from apps.intake.bulk import bulk_insert_rows
    from apps.intake.models import Subject
    from apps.risk import services as risk
    from apps.targeting.models import Target

    ensure_demo_world()
    rng = random.Random(args.seed)
    users = get_user_model().objects
    manager = users.get(username="riskmanager")
    rule = risk.create_rule(
        actor=manager, name="Bench: weapons chapter", subject_kind="consignment", text='hs_chapter = "93"',
        risk_area="weapons", weight=80, rationale="Benchmark: fires on every bench consignment.",
    )  # fmt: skip
    risk.publish_rule_to_shadow(actor=manager, rule=rule, reason="bench")
    risk.activate_rule(actor=manager, rule=rule, reason="bench")
    floor_count = args.users * (args.baseline_per_user + args.pool_per_user * (2 if args.legacy else 1))
    floor_subjects = consignments(floor_count, "FLOOR", rng)
    customs = membership_of(users.get(username="analyst")).agency_id
    now = datetime.now(UTC)
    targets = [
        {
            "subject_id": sid,
            "owner_agency_id": customs,
            "state": "nominated",
            "version": 1,
            "risk_area": "weapons",
            "reasons": [{"kind": "rule", "text": "Bench", "ref": "R-1"}],
            "priority": 50,
            "score": 80.0,
            "scope": "national",
            "by_engine": True,
            "random_control": False,
            "port_id": port,
            "arrival_at": arrival,
            "created_at": now,
            "updated_at": now,
        }
        for sid, port, arrival in Subject.objects.filter(pk__in=floor_subjects).values_list(
            "pk", "port_id", "arrival_at"
        )
    ]
    bulk_insert_rows(Target, targets)
    batch = consignments(args.batch, "BATCH", rng)
    return {"floor_targets": len(targets), "batch_subjects": len(batch), "rule": rule.pk}


def grow_access_log(to_rows: int) -> None:
    """Bring the access log to ``to_rows`` rows, keyed and linked exactly as append and seal do."""
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.utils import timezone

    from apps.agencies.operations import membership_of
    from apps.compliance import anchors
    from apps.compliance.chain import ChainHead, seal
    from apps.compliance.models import AccessLogEntry

    seal(AccessLogEntry)
    head = ChainHead.objects.get_or_create(chain="compliance.accesslogentry")[0]
    have = AccessLogEntry.objects.count()
    auditor = get_user_model().objects.get(username="auditor")
    agency = membership_of(auditor).agency_id
    key_id, key = anchors.current_key()
    now = timezone.now()
    while have < to_rows:
        size = min(5000, to_rows - have)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence('compliance_accesslogentry', 'id')) "
                "FROM generate_series(1, %s)",
                [size],
            )
            ids = [i for (i,) in cursor.fetchall()]
        rows = []
        for pk in ids:
            row = AccessLogEntry(
                pk=pk, at=now, user_id=auditor.pk, agency_id=agency, action="view", purpose="audit",
                object_type="subject:traveller", object_id=str(pk), summary="bench", key_id=key_id,
            )  # fmt: skip
            row.mac = row.compute_mac(key)
            row.seq, row.prev_hash = head.seq + 1, head.hash
            row.hash = row.compute_hash(key)
            head.seq, head.hash = row.seq, row.hash
            rows.append(row)
        AccessLogEntry.objects.bulk_create(rows)
        ChainHead.objects.filter(pk=head.pk).update(seq=head.seq, hash=head.hash)
        have += size
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE compliance_accesslogentry")


# --- the floor ---------------------------------------------------------------------------------------


def floor_phase(
    args: argparse.Namespace, pools: list[list[int]], *, per_user: int | None, until: threading.Event | None,
    legacy: bool, seed: int,
) -> dict[str, object]:  # fmt: skip
    """Each person takes targets of their pool into review until ``per_user`` are done or ``until`` is
    set; latency of each service call (its commit and the seal after it included)."""
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from apps.compliance.chain import ChainHead
    from apps.targeting import services
    from apps.targeting.models import Target

    analyst = get_user_model().objects.get(username="analyst")
    timings: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def person(u: int) -> None:
        rng = random.Random(seed * 100 + u)
        done = 0
        try:
            for pk in pools[u]:
                if (per_user is not None and done >= per_user) or (until is not None and until.is_set()):
                    break
                time.sleep(rng.expovariate(1 / args.think))
                start = time.perf_counter()
                try:
                    target = Target.objects.get(pk=pk)
                    if legacy:  # the old append: one head row, locked until the commit
                        with transaction.atomic():
                            ChainHead.objects.select_for_update().get(chain="targeting.transition")
                            services.start_review(actor=analyst, target=target)
                    else:
                        services.start_review(actor=analyst, target=target)
                except Exception as error:
                    with lock:
                        errors.append(f"{type(error).__name__}: {error}"[:200])
                    continue
                with lock:
                    timings.append((time.perf_counter() - start) * 1000)
                done += 1
        finally:
            connection.close()

    threads = [threading.Thread(target=person, args=(u,)) for u in range(args.users)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    values = sorted(timings)
    return {
        "transitions": len(values),
        "p50_ms": percentile(values, 0.50),
        "p95_ms": percentile(values, 0.95),
        "p99_ms": percentile(values, 0.99),
        "max_ms": round(values[-1], 1) if values else None,
        "errors": len(errors),
        **({"first_error": errors[0]} if errors else {}),
        "duration_s": round(time.perf_counter() - started, 1),
    }


def batch_child(legacy: bool, prefix: str) -> None:
    """In its own process: assess the batch's consignments in one call; print how long it took."""
    from django.db import transaction

    from apps.compliance.chain import ChainHead
    from apps.intake.models import Subject
    from apps.risk.services import assess_subjects

    ids = list(Subject.objects.filter(external_id__startswith=f"{prefix}-").values_list("pk", flat=True))
    started = time.perf_counter()
    if legacy:
        with transaction.atomic():
            ChainHead.objects.select_for_update().get(chain="targeting.transition")
            assessed = assess_subjects(ids)
    else:
        assessed = assess_subjects(ids)
    print(json.dumps({
        "subjects": len(ids), "nominated": sum(a.nominated for a in assessed),
        "seconds": round(time.perf_counter() - started, 1),
    }))  # fmt: skip


def run_batch_with_floor(
    args: argparse.Namespace, name: str, pools: list[list[int]], *, legacy: bool, prefix: str
) -> dict[str, object]:
    from django.db import connections

    connections.close_all()
    env = {**os.environ, "DATABASE_URL": database_url(name)}
    child = subprocess.Popen(
        [sys.executable, "-m", "bench.chain", "--batch-child", f"{int(legacy)}:{prefix}"],
        env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    finished = threading.Event()
    outcome: dict[str, str] = {}

    def wait() -> None:
        outcome["stdout"], outcome["stderr"] = child.communicate()
        finished.set()

    threading.Thread(target=wait, daemon=True).start()
    time.sleep(1.0)  # the child is loading; the floor starts as the assessment does
    floor = floor_phase(args, pools, per_user=None, until=finished, legacy=legacy, seed=args.seed + 2)
    finished.wait()
    if child.returncode != 0:
        raise RuntimeError(f"the batch failed: {outcome['stderr'][-2000:]}")
    batch = json.loads(outcome["stdout"].strip().splitlines()[-1])
    return {"floor": floor, "batch": batch}


# --- the oversight page ------------------------------------------------------------------------------


def oversight(args: argparse.Namespace) -> dict[str, object]:
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone

    from apps.agencies.operations import membership_of
    from apps.compliance.chain import append
    from apps.compliance.models import AccessLogEntry
    from apps.compliance.registry import chained_models
    from apps.compliance.verification import verify_chain

    auditor = get_user_model().objects.get(username="auditor")
    agency = membership_of(auditor).agency_id
    client = Client()
    client.force_login(auditor)
    url = reverse("compliance:oversight")

    def log_rows(count: int, summary: str) -> None:
        for i in range(count):
            append(
                AccessLogEntry, at=timezone.now(), user=auditor, agency_id=agency, action="view",
                purpose="audit", object_type="subject:traveller", object_id=str(i), summary=summary,
            )  # fmt: skip

    out = []
    for length in [int(x) for x in args.lengths.split(",") if x.strip()]:
        grow_access_log(length)
        started = time.perf_counter()
        full = verify_chain(AccessLogEntry, full=True)  # also the checkpoint the visits start from
        full_ms = (time.perf_counter() - started) * 1000
        pages, verifications = [], []
        for v in range(args.visits):
            log_rows(args.between, f"visit {v}")
            started = time.perf_counter()
            response = client.get(url)
            pages.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200 or b"Broken" in response.content:
                broken = [
                    r.reason for r in (verify_chain(m, full=False) for m in chained_models()) if not r.ok
                ]
                raise RuntimeError(f"oversight page: HTTP {response.status_code}; broken: {broken}")
            log_rows(args.between, f"visit {v}b")
            started = time.perf_counter()
            reports = [verify_chain(m, full=False) for m in chained_models()]  # what the page runs
            verifications.append((time.perf_counter() - started) * 1000)
            if not all(r.ok for r in reports):
                raise RuntimeError(f"a chain is broken: {[r.reason for r in reports]}")
        out.append({
            "log_rows": AccessLogEntry.objects.count(),
            "verification_ms_median": round(statistics.median(verifications), 1),
            "verification_ms_max": round(max(verifications), 1),
            "page_ms_median": round(statistics.median(pages), 1),
            "rows_new_per_visit": args.between,
            "baseline_full_verify_ms": round(full_ms, 1),
            "full_verify_ok": full.ok,
        })  # fmt: skip
    ratio = out[-1]["verification_ms_median"] / out[0]["verification_ms_median"]
    baseline_ratio = out[-1]["baseline_full_verify_ms"] / out[0]["baseline_full_verify_ms"]
    return {
        "lengths": out,
        "goal": {"ratio_longest_to_shortest_below": GOAL_RATIO},
        "what": "both chains verified incrementally, as the oversight page does; the page's own time beside it",
        "ratio": round(ratio, 2),
        "page_ratio": round(out[-1]["page_ms_median"] / out[0]["page_ms_median"], 2),
        "baseline_full_verify_ratio": round(baseline_ratio, 2),
        "met": ratio < GOAL_RATIO and all(x["full_verify_ok"] for x in out),
    }


# --- main --------------------------------------------------------------------------------------------


def main() -> None:
    args = parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ratc_ops.settings")
    anchor_dir = None
    if args.batch_child is None:
        # Anchors outlive a database: a throw-away database gets throw-away anchors (the batch's
        # process inherits the folder), or this run's database would contradict the last run's.
        anchor_dir = tempfile.mkdtemp(prefix="bench-chain-anchors-")
        os.environ["RATC_CHAIN_ANCHOR_DIR"] = anchor_dir
        if args.redis:
            # As in production, the report refresh a transition asks for is queued for a worker, not
            # run inside the request: to a Redis database of the bench's own that no worker reads.
            os.environ["REDIS_URL"] = args.redis
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    import django

    django.setup()
    if args.batch_child is not None:
        legacy, _, prefix = args.batch_child.partition(":")
        batch_child(legacy == "1", prefix)
        return
    from django.db import connection
    from django.test.utils import setup_databases, setup_test_environment, teardown_databases

    if connection.vendor != "postgresql":
        sys.exit("Run against PostgreSQL: set DATABASE_URL=postgres://...")
    load_avg = [round(x, 2) for x in os.getloadavg()]
    setup_test_environment()
    name = f"test_{connection.settings_dict['NAME']}_bench_chain"
    connection.settings_dict.setdefault("TEST", {})["NAME"] = name
    old = setup_databases(verbosity=0, interactive=False, keepdb=False, serialized_aliases=set())
    try:
        from apps.compliance.verification import verify_chain
        from apps.targeting.models import Target, Transition

        started = time.perf_counter()
        data = prepare(args)
        data["load_s"] = round(time.perf_counter() - started, 1)
        floor_ids = list(
            Target.objects.filter(subject__external_id__startswith="FLOOR-")
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        rng = random.Random(args.seed)
        rng.shuffle(floor_ids)
        n = len(floor_ids) // args.users
        pools = [floor_ids[u * n : (u + 1) * n] for u in range(args.users)]
        connection.close()

        baseline = floor_phase(args, [p[: args.baseline_per_user] for p in pools],
                               per_user=args.baseline_per_user, until=None, legacy=False, seed=args.seed + 1)  # fmt: skip
        rest = [p[args.baseline_per_user :] for p in pools]
        half = args.pool_per_user
        during = run_batch_with_floor(args, name, [p[:half] for p in rest], legacy=False, prefix="BATCH")
        legacy = None
        if args.legacy:
            consignments(args.batch, "LEGACY", random.Random(args.seed + 9))  # a second, fresh batch
            connection.close()
            legacy = run_batch_with_floor(args, name, [p[half:] for p in rest], legacy=True, prefix="LEGACY")
        transitions = verify_chain(Transition, full=True)
        page = oversight(args)
        p95 = during["floor"]["p95_ms"]
        transitions_met = p95 is not None and p95 < GOAL_P95_MS and not during["floor"]["errors"]
        print(json.dumps({
            "benchmark": "chain",
            "database": "postgresql",
            "celery": f"tasks queued to {args.redis}, not run (a worker's work)" if args.redis else "inline",
            "load_avg_before": load_avg,
            "data": data,
            "transitions_during_batch": {
                "model": f"{args.users} people, start_review on their own nominated targets, think "
                         f"Exp(mean {args.think} s); the batch: assess_subjects over {args.batch} "
                         "consignments in another process, every one nominated",
                "goal": {"p95_ms_below": GOAL_P95_MS},
                "during_batch": during["floor"],
                "batch": during["batch"],
                "baseline_no_batch": baseline,
                **({"legacy_lock_to_commit_during_batch": legacy} if legacy else {}),
                "chain_intact_after": transitions.ok,
                "met": transitions_met and transitions.ok,
            },
            "oversight_verification": page,
            "met": transitions_met and transitions.ok and page["met"],
        }))  # fmt: skip
    finally:
        from django.db import connections

        connections.close_all()
        teardown_databases(old, verbosity=0, keepdb=args.keep)
        if not args.keep:
            shutil.rmtree(anchor_dir, ignore_errors=True)
        if args.redis:
            import redis

            client = redis.Redis.from_url(args.redis)
            client.delete("celery", *client.keys("_kombu.*"))


if __name__ == "__main__":
    main()

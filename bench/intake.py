"""Benchmark: intake speed per format, parse only and parse + store, on SQLite and PostgreSQL.

Run from the project root: ``python -m bench.intake`` (PostgreSQL at ``BENCH_PG`` or
postgres://postgres@127.0.0.1:5432, user with CREATEDB). Prints one JSON object:

* ``parse_only``: the EDIFACT figures against the reference parser pydifact (``bench.intake_edifact``)
  and the cargo figures against raw lxml / csv (``bench.intake_cargo``), each measured in its own run;
* ``parse_and_store``: records per second through ``store_messages`` for each format, on a fresh SQLite
  file and a fresh PostgreSQL database, each beside its own parse-only rate measured in the same worker;
* ``declarations_50k_postgresql``: seconds to parse and store 50,000 declarations (the shared CSVs, topped
  up with copies under new ids), goal < 30 s on a 2-core machine; beside the wall time, the CPU seconds
  of the worker and of its PostgreSQL backend, which other people's load on a shared machine disturbs
  far less than the wall time.

``--baseline PATH`` (another checkout, e.g. the commit before a change) runs the same 50,000-declaration
figure on that checkout's code too, interleaved with this one (``--repeat`` times each, a fresh database
every run), with this file's harness, so that both are measured the same way under the same load; the
report gives each run, the medians and the ratio, and ``met`` asks current <= baseline as well.

Each store figure runs in a child process with its own settings, so the two databases never share a
connection or a cache.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")

SAMPLES = {
    "paxlst": sorted((DATA / "passenger-messages" / "paxlst").glob("*.[et][dx][it]")),
    "pnrgov": sorted((DATA / "passenger-messages" / "pnrgov").glob("*.[et][dx][it]")),
    "wco-dec": sorted((DATA / "cargo" / "wco-dec").glob("*.xml")),
    "xfwb": sorted((DATA / "cargo" / "xfwb").glob("*.xml")),
    "declarations-csv": [DATA / "declarations" / "df_syn_valid_eng.csv"],
}


def _env(database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(
        DATABASE_URL=database_url, DJANGO_SETTINGS_MODULE="ratc_ops.settings", CELERY_TASK_ALWAYS_EAGER="1"
    )
    return env


def _json_of(command: list[str], env: dict[str, str] | None = None) -> dict:
    out = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def _fresh_database(kind: str) -> tuple[str, callable]:
    if kind == "sqlite":
        folder = tempfile.mkdtemp(prefix="ratc-bench-")
        url = f"sqlite:///{folder}/bench.sqlite3"
        return url, lambda: None
    name = f"ratc_bench_{uuid.uuid4().hex[:8]}"
    subprocess.run(
        ["psql", f"{PG}/postgres", "-qc", f"CREATE DATABASE {name}"], check=True, capture_output=True
    )
    return f"{PG}/{name}", lambda: subprocess.run(
        ["psql", f"{PG}/postgres", "-qc", f"DROP DATABASE IF EXISTS {name}"], capture_output=True
    )


# --- Worker (runs inside a child process with DATABASE_URL set) -------------------------------------


def _worker(task: str) -> dict:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from apps.agencies.models import Agency
    from apps.intake import services
    from apps.intake.models import DataSource

    services.request_assessment = lambda ids: None  # intake alone: the risk engine has its own bench
    agency = Agency.objects.create(code="CUS", name="Customs", kind="customs")
    results: dict[str, dict] = {}
    if task == "formats":
        for fmt, files in SAMPLES.items():
            payloads = [(str(f), f.read_bytes()) for f in files]
            start = time.perf_counter()
            parsed = [services.parse_payload(data, name=name, fmt=fmt) for name, data in payloads]
            parse_seconds = time.perf_counter() - start
            records = sum(len(r.messages) for r in parsed)
            source = DataSource.objects.create(
                name=fmt, kind="declaration", owner_agency=agency, legal_basis="bench"
            )
            start = time.perf_counter()
            for result in parsed:
                messages = [(m, result.file) for m in result.messages]
                for i in range(0, len(messages), 2000):
                    services.store_messages(source=source, parsed=messages[i : i + 2000])
            store_seconds = time.perf_counter() - start
            results[fmt] = {
                "records": records,
                "parse_only_per_s": round(records / parse_seconds, 1),
                "parse_and_store_per_s": round(records / (parse_seconds + store_seconds), 1),
            }
        return results
    # task == "declarations-50k"
    import csv
    import io

    rows = []
    header = None
    for name in ("df_syn_train_eng.csv", "df_syn_valid_eng.csv"):
        with open(DATA / "declarations" / name, newline="") as handle:
            reader = csv.reader(handle)
            header = next(reader)
            rows.extend(reader)
    extra = 50_000 - len(rows)
    rows.extend([f"9{i:08d}", *row[1:]] for i, row in enumerate(rows[:extra]))
    buffer = io.StringIO()
    csv.writer(buffer).writerows([header, *rows])
    data = buffer.getvalue().encode()
    source = DataSource.objects.create(
        name="50k", kind="declaration", owner_agency=agency, legal_basis="bench"
    )
    run = services.start_run(actor=None, source=source, files=["50k.csv"], fmt="declarations-csv")
    backend = _backend_cpu()
    cpu = time.process_time()
    start = time.perf_counter()
    services.run_intake(run, [("50k.csv", data)])
    seconds = time.perf_counter() - start
    cpu = time.process_time() - cpu
    backend = _backend_cpu() - backend
    return {"declarations": run.counts["messages"], "seconds": round(seconds, 2),
            "cpu_seconds": round(cpu, 2), "db_cpu_seconds": round(backend, 2), "goal_seconds": 30,
            "met": seconds < 30 and run.counts["messages"] == 50_000}  # fmt: skip


def _backend_cpu() -> float:
    """CPU seconds (user + system) of this connection's PostgreSQL backend so far, read from /proc (the
    server runs on this machine in the bench); NaN when it cannot be read."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _declarations(checkout: Path) -> dict:
    """The 50,000-declaration figure of the code in ``checkout``, on a fresh database, with this harness."""
    url, drop = _fresh_database("postgresql")
    env = _env(url) | {"PYTHONPATH": str(checkout)}
    try:
        command = [sys.executable, str(Path(__file__).resolve()), "--worker", "declarations-50k"]
        out = subprocess.run(command, cwd=checkout, env=env, capture_output=True, text=True, check=True)
        return json.loads(out.stdout.strip().splitlines()[-1])
    finally:
        drop()


def _compare(baseline: Path, repeat: int) -> dict:
    """This checkout and ``baseline`` in turn, ``repeat`` times each, and their medians."""
    runs: dict[str, list[dict]] = {"current": [], "baseline": []}
    for _ in range(repeat):
        runs["current"].append(_declarations(ROOT))
        runs["baseline"].append(_declarations(baseline))
    median = {
        name: {
            k: round(statistics.median(r[k] for r in rs), 2)
            for k in ("seconds", "cpu_seconds", "db_cpu_seconds")
        }
        for name, rs in runs.items()
    }
    ratio = median["current"]["seconds"] / median["baseline"]["seconds"]
    complete = all(r["declarations"] == 50_000 for r in runs["current"])
    return {
        "baseline_checkout": str(baseline),
        "runs": runs,
        "median": median,
        "current_over_baseline": round(ratio, 3),
        "cpu_current_over_baseline": round(
            (median["current"]["cpu_seconds"] + median["current"]["db_cpu_seconds"])
            / (median["baseline"]["cpu_seconds"] + median["baseline"]["db_cpu_seconds"]),
            3,
        ),
        "goal": "current <= baseline in the same run, and < 30 s",
        "met": complete and ratio <= 1.0 and median["current"]["seconds"] < 30,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", choices=["formats", "declarations-50k"], help=argparse.SUPPRESS)
    # Only one part (the same keys of the report, the others left out): the parts take minutes each.
    parser.add_argument("--only", choices=["parse", "formats", "declarations"], help="run one part only")
    parser.add_argument("--baseline", type=Path, help="checkout whose 50,000-declaration figure to compare")
    parser.add_argument("--repeat", type=int, default=2, help="runs of each checkout with --baseline")
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(_worker(args.worker)))
        return
    report: dict[str, object] = {}
    if args.only in (None, "parse"):
        report["parse_only"] = {
            "edifact_vs_pydifact": _json_of([sys.executable, "-m", "bench.intake_edifact"]),
            "cargo": _json_of([sys.executable, "-m", "bench.intake_cargo"]),
        }
    if args.only in (None, "formats"):
        report["parse_and_store"] = {}
    for backend in ("sqlite", "postgresql") if args.only in (None, "formats") else ():
        url, drop = _fresh_database(backend)
        try:
            report["parse_and_store"][backend] = _json_of(
                [sys.executable, "-m", "bench.intake", "--worker", "formats"], env=_env(url)
            )
        finally:
            drop()
    if args.only in (None, "declarations"):
        if args.baseline:
            report["declarations_50k_postgresql"] = _compare(args.baseline.resolve(), args.repeat)
        else:
            report["declarations_50k_postgresql"] = _declarations(ROOT)
    if "declarations_50k_postgresql" in report:  # the one figure with a goal
        report["met"] = report["declarations_50k_postgresql"]["met"]
    print(json.dumps(report))


if __name__ == "__main__":
    main()

"""Benchmark: an intake of N generated travellers (default 1,000,000), with constant memory and progress.

Run from the project root: ``python -m bench.intake_million [--travellers N]``. Generates API passenger
lists (PAXLST, 1,000 travellers a flight) with the demo simulator's generators into a temporary folder,
then runs ``manage.py ingest FOLDER`` in a child process against a fresh PostgreSQL database with
``REDIS_URL`` set (on a Redis database of its own, emptied afterwards), so that assessments are queued
for Celery workers as in production rather than run inline. The child's resident memory is sampled every
half second. Prints one JSON object: travellers stored, seconds, travellers per second, resident memory
at 10 %, 50 % and 100 % of the run and its peak, how many progress updates the console showed, the
baseline of parsing the same files without storing them (measured in the same run, as the intake's
parsing process parses: the cyclic collector off), and the batches queued for entity linking (a worker
links them after each commit; no worker runs here).

The machine is shared, so wall time alone says little: the JSON also holds the CPU seconds of the
intake process (with its parsing process) and of its PostgreSQL backend, and the load average before
and after. The child's progress bar is passed through to this console as it runs. The throw-away
database is named ``test_<DATABASE_URL's name>_bench_million_<random>`` and Redis is ``BENCH_REDIS``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
REDIS = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/15")
PER_FLIGHT = 1000


def generate(folder: Path, travellers: int, seed: int = 7) -> int:
    """Write PAXLST files of PER_FLIGHT travellers each; returns the number of files."""
    from apps.simulator import generators as gen

    rng = random.Random(seed)
    today = date(2026, 11, 25)
    nationalities = ["GBR", "FRA", "DEU", "NLD", "ESP", "ITA", "POL", "NGA", "IND", "COL", "BRA", "USA"]
    files = 0
    for start in range(0, travellers, PER_FLIGHT):
        count = min(PER_FLIGHT, travellers - start)
        departure = datetime(2026, 11, 25, 6, 0) + timedelta(minutes=files)
        flight = gen.FlightPlan(
            "BA", str(100 + files % 8900), "JFK", "LHR", departure, departure + timedelta(hours=7)
        )
        people = [gen.person(rng, rng.choice(nationalities), today) for _ in range(count)]
        text = gen.paxlst(flight, people, sent=departure - timedelta(hours=2), ref=f"B{files:08d}")
        (folder / f"api-{files:05d}.edi").write_text(text)
        files += 1
    return files


def parse_only(folder: Path) -> float:
    """Parsing the files alone, as the intake's parsing process parses them: with Python's cyclic
    collector off (``apps.intake.parallel``). With it on, its collections walk every object alive in the
    process again and again, and the same parsing took about 2.7 times as long (0.6 against 1.6 s for
    20,000 travellers): a baseline that made the intake look nearer to its floor than it was."""
    from apps.core.collector import collector_paused
    from apps.intake.parsers.paxlst import parse_paxlst

    start = time.perf_counter()
    with collector_paused():
        for path in sorted(folder.iterdir()):
            parse_paxlst(path.read_bytes(), file=path.name)
    return time.perf_counter() - start


def rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a live process (0 once it has gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def backend_pids(database: str) -> list[int]:
    """The PostgreSQL server processes serving ``database`` (this machine's server: /proc is readable)."""
    found = subprocess.run(
        ["psql", f"{PG}/postgres", "-tAc", f"SELECT pid FROM pg_stat_activity WHERE datname = '{database}'"],
        capture_output=True, text=True,
    ).stdout.split()  # fmt: skip
    return [int(p) for p in found if p.isdigit()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--travellers", type=int, default=1_000_000)
    args = parser.parse_args()
    # A timeout or Ctrl-C still drops the throw-away database and folder (the finally below).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ratc_ops.settings")
    django.setup()
    folder = Path(tempfile.mkdtemp(prefix="ratc-million-"))
    own = os.environ.get("DATABASE_URL", "").rsplit("/", 1)[-1] or "ratc"
    name = f"test_{own}_bench_million_{uuid.uuid4().hex[:6]}"
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(DATABASE_URL=f"{PG}/{name}", REDIS_URL=REDIS, CELERY_TASK_ALWAYS_EAGER="0")
    try:
        files = generate(folder, args.travellers)
        baseline = parse_only(folder)
        subprocess.run(
            ["psql", f"{PG}/postgres", "-qc", f"CREATE DATABASE {name}"], check=True, capture_output=True
        )
        manage = [sys.executable, "manage.py"]
        subprocess.run([*manage, "migrate", "-v0"], cwd=ROOT, env=env, check=True)
        subprocess.run([*manage, "demo_world", "-v0"], cwd=ROOT, env=env, check=True, capture_output=True)
        load_before = os.getloadavg()
        cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        child = subprocess.Popen(
            [*manage, "ingest", str(folder), "--source", "API — all carriers"],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        samples: list[tuple[float, int]] = []
        backend_cpu: dict[int, float] = {}
        err_parts: list[str] = []

        def sample() -> None:
            tick = 0
            while child.poll() is None:
                samples.append((time.perf_counter() - start, rss_kib(child.pid)))
                if tick % 4 == 0 or not backend_cpu:  # a psql a couple of seconds, not each sample
                    for pid in backend_pids(name):
                        backend_cpu.setdefault(pid, 0.0)
                for pid in backend_cpu:
                    backend_cpu[pid] = max(backend_cpu[pid], cpu_seconds(pid))
                tick += 1
                time.sleep(0.5)

        def relay() -> None:
            """The child's progress bar, shown here as it comes (and kept, to count its updates)."""
            assert child.stderr is not None
            while chunk := child.stderr.read(256):
                err_parts.append(chunk)
                sys.stderr.write(chunk)
                sys.stderr.flush()

        sampler = threading.Thread(target=sample, daemon=True)
        relayer = threading.Thread(target=relay, daemon=True)
        sampler.start()
        relayer.start()
        try:
            assert child.stdout is not None
            out = child.stdout.read()
            child.wait()
        except BaseException:
            child.terminate()
            raise
        seconds = time.perf_counter() - start
        cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
        load_after = os.getloadavg()
        sampler.join()
        relayer.join()
        err = "".join(err_parts)
        stored = subprocess.run(
            ["psql", f"{PG}/{name}", "-tAc", "SELECT count(*) FROM intake_subject WHERE kind = 'traveller'"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
        # Entity linking runs after each batch's commit, in a worker (none runs here): the batches left
        # for it, so that the work moved out of the intake stays in sight.
        backlog = subprocess.run(
            ["psql", f"{PG}/{name}", "-tAc", "SELECT count(*) FROM entities_linkbacklog"],
            capture_output=True, text=True,
        ).stdout.strip()  # fmt: skip

        def rss_at(fraction: float) -> int:
            moment = seconds * fraction
            # A sample taken as the child exited reads 0: only live readings count.
            live = [(t, kib) for t, kib in samples if kib]
            return next((kib for t, kib in live if t >= moment), live[-1][1] if live else 0) // 1024

        report = {
            "travellers_generated": args.travellers,
            "files": files,
            "travellers_stored": int(stored or 0),
            "exit_status": child.returncode,
            "seconds": round(seconds, 1),
            "travellers_per_s": round(int(stored or 0) / seconds, 1),
            "rss_mib": {
                "at_10%": rss_at(0.1),
                "at_50%": rss_at(0.5),
                "at_100%": rss_at(0.99),
                "peak": max((k for _, k in samples), default=0) // 1024,
            },
            "progress_updates_on_console": err.count("ingest:"),  # one a redraw of the bar
            "summary": out.strip().splitlines()[-1:],
            "cpu_seconds": {
                "intake_process": round(
                    (cpu_after.ru_utime + cpu_after.ru_stime) - (cpu_before.ru_utime + cpu_before.ru_stime), 1
                ),
                "postgres_backend": round(sum(backend_cpu.values()), 1),
            },
            "load_average_1min": {"before": round(load_before[0], 2), "after": round(load_after[0], 2)},
            "baseline_parse_only_seconds": round(baseline, 1),
            "batches_left_to_link": int(backlog or 0),
            "goal": "all stored in < 120 s (issue 26, for 1,000,000), memory flat (peak within 25 % of the"
            " 10 % figure), visible progress",
            "goal_seconds": 120,
        }
        flat = report["rss_mib"]["peak"] <= 1.25 * max(report["rss_mib"]["at_10%"], 1)
        report["memory_flat"] = flat
        # The goal is a million in 120 s; linking grows with what is stored, so a smaller run's time
        # does not scale to it and is never reported as meeting it.
        report["goal_applies_to_this_size"] = args.travellers >= 1_000_000
        report["met"] = (
            report["goal_applies_to_this_size"]
            and child.returncode == 0
            and report["travellers_stored"] == args.travellers
            and seconds < 120
            and flat
            and report["progress_updates_on_console"] > 0
        )
        print(json.dumps(report))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        subprocess.run(
            ["psql", f"{PG}/postgres", "-qc", f"DROP DATABASE IF EXISTS {name}"], capture_output=True
        )
        subprocess.run(["redis-cli", "-u", REDIS, "flushdb"], capture_output=True)


if __name__ == "__main__":
    main()

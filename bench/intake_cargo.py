"""Parse-only throughput of the cargo parsers on the real samples, each against a raw baseline.

Run: ``python -m bench.intake_cargo``. Prints one JSON object. Baselines, measured in the same run on
the same bytes: for XML a plain ``lxml.etree.fromstring`` (how close we are to raw XML parsing), for
CSV a bare ``csv.reader`` loop. Goals follow from the brief: 50,000 declarations stored in under 30 s,
so parsing must leave most of that budget to the database (CSV frame path ≥ 100,000 rows/s, record
path ≥ 10,000 rows/s; XML declarations ≥ 500/s per worker, waybills ≥ 1,000/s).
"""

from __future__ import annotations

import contextlib
import csv
import json
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path

from lxml import etree

from apps.intake.parsers.cargo_xml import parse_cargo_xml
from apps.intake.parsers.declarations_csv import iter_declarations, read_declarations_frame
from apps.intake.parsers.wco_dec import parse_wco_dec

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def _rate(fn: Callable[[], int], *, min_seconds: float = 1.0) -> tuple[float, int, float]:
    """Run ``fn`` (returns records done) until ``min_seconds`` pass; return (records/s, records, seconds)."""
    fn()  # warm-up
    done, start = 0, time.perf_counter()
    while True:
        done += fn()
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds:
            return done / elapsed, done, elapsed


def _xml_case(files: list[Path], parse, goal: float) -> dict[str, object]:
    docs = [(p.name, p.read_bytes()) for p in files]

    def ours() -> int:
        return sum(len(parse(data, file=name).messages) for name, data in docs)

    def raw() -> int:
        parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
        for _, data in docs:
            with contextlib.suppress(etree.XMLSyntaxError):
                etree.fromstring(data, parser)
        return len(docs)

    per_pass = ours()
    rate, n, secs = _rate(ours)
    base, _, _ = _rate(raw)
    # Baseline counts documents; ours counts accepted records (one per accepted document).
    return {
        "documents": len(docs),
        "records_per_pass": per_pass,
        "records_per_s": round(rate),
        "baseline_lxml_fromstring_docs_per_s": round(base),
        "share_of_raw_speed": round(rate / base * len(docs) / max(per_pass, 1), 3),
        "goal_records_per_s": goal,
        "meets_goal": rate >= goal,
        "seconds": round(secs, 2),
        "records_timed": n,
    }


def main() -> None:
    wco = sorted((DATA / "cargo" / "wco-dec").glob("*.xml"))
    xfwb = sorted((DATA / "cargo" / "xfwb").glob("*.xml"))
    csvs = sorted((DATA / "declarations").glob("*.csv"))
    if not wco or not xfwb or not csvs:
        sys.exit(f"real data missing under {DATA} (see shared/data/README.md)")

    def records() -> int:
        return sum(len(b) for p in csvs for b, _ in iter_declarations(p, file=p.name))

    def frame() -> int:
        return sum(len(read_declarations_frame(p)) for p in csvs)

    def csv_reader() -> int:
        n = 0
        for p in csvs:
            with open(p, encoding="utf-8", newline="") as fh:
                reader = csv.reader(fh)
                next(reader)
                for _ in reader:
                    n += 1
        return n

    base, _, _ = _rate(csv_reader)
    rec_rate, rec_n, rec_s = _rate(records, min_seconds=2.0)
    frame_rate, frame_n, frame_s = _rate(frame, min_seconds=2.0)
    rows = csv_reader()
    out = {
        "bench": "intake_cargo",
        "python": platform.python_version(),
        "lxml": ".".join(map(str, etree.LXML_VERSION)),
        "wco_dec": _xml_case(wco, parse_wco_dec, 500),
        "cargo_xml_xfwb_xfzb": _xml_case(xfwb, parse_cargo_xml, 1000),
        "declarations_csv": {
            "rows": rows,
            "baseline_csv_reader_rows_per_s": round(base),
            "record_path": {
                "records_per_s": round(rec_rate),
                "share_of_csv_reader_speed": round(rec_rate / base, 3),
                "goal_records_per_s": 10_000,
                "meets_goal": rec_rate >= 10_000,
                "seconds": round(rec_s, 2),
                "records_timed": rec_n,
            },
            "frame_path": {
                "records_per_s": round(frame_rate),
                "vs_csv_reader": round(frame_rate / base, 3),
                "goal_records_per_s": 100_000,
                "meets_goal": frame_rate >= 100_000,
                "seconds": round(frame_s, 2),
                "records_timed": frame_n,
            },
            "time_for_50k_parse_only_s": {
                "record_path": round(50_000 / rec_rate, 2),
                "frame_path": round(50_000 / frame_rate, 2),
            },
        },
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()

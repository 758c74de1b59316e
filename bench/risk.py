"""Rules throughput: N generated travellers through ~50 realistic rules, vectorised vs per subject.

Run: ``python -m bench.risk`` (N = 1,000,000) or ``python -m bench.risk --n 200000``. Prints one JSON
object. Measured in one process (pandas and numpy run these operations on one core):

* ``prepare``: typing the raw fact columns (codes to categoricals, dates to epoch seconds) and
  computing derived facts (``booking_to_departure_hours``, ``paid_cash``, ``age``...);
* ``evaluate``: every rule's port scope, validity and condition over the whole frame;
* ``from_dicts``: building the frame from a list of ``facts`` dicts (what the engine does with rows
  read from the database), on a sample, as subjects/s;
* ``baseline``: the per-subject Python path (``typed_facts`` + every rule) on a sample, as subjects/s.

The run also checks that both paths give the same hits on the baseline sample. Goal (brief, issue 4):
one million travellers through all active rules in under 60 s on two cores.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time

import django
import numpy as np
import pandas as pd

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ratc_ops.settings")
django.setup()

from apps.risk.conditions import parse  # noqa: E402
from apps.risk.evaluate import build_frame, frame_from_raw, typed_facts  # noqa: E402
from apps.risk.models import RuleVersion  # noqa: E402
from apps.risk.rules import LiveRule, frame_fields  # noqa: E402

GOAL_SECONDS = 60.0
PORTS = ["GBLHR", "GBMAN", "GBLGW", "GBBHX", "GBSTN"]
AIRPORTS = ["BOG", "LIM", "GRU", "MAD", "AMS", "CDG", "JFK", "DXB", "IST", "LOS", "ACC", "PTY", "CUN", "FRA"]
COUNTRIES = [
    "CO",
    "PE",
    "BR",
    "ES",
    "NL",
    "FR",
    "US",
    "AE",
    "TR",
    "NG",
    "GH",
    "PA",
    "MX",
    "DE",
    "GB",
    "VE",
    "BO",
]
CARRIERS = ["IB", "KL", "AF", "BA", "TK", "EK", "AV", "LA", "UA", "LH"]
PAYMENTS = ["card", "card", "card", "card", "cash", "invoice", "other"]

TEMPLATES = [
    'route_countries in ("CO", "PE", "BO") and paid_cash = true',
    'route_countries in ("CO", "PE", "BO") and booking_to_departure_hours < 48 and bags_count = 0',
    'origin_airport in ("BOG", "LIM", "GRU") and one_way = true and bags_count <= 1',
    'nationality in ("NG", "GH") and route_countries contains "TR" and age between 18 and 30',
    "paid_cash = true and booking_to_departure_hours < 24",
    'document_expires_in_days < 30 and travel_role = "PASSENGER"',
    'carrier in ("AV", "LA") and embarkation = "MAD" and co_traveller_count = 0',
    'route_airports in ("PTY", "CUN") and bags_weight_kg > 30',
    'seat prefix ("1", "2") and paid_cash = true and frequent_flyer = false',
    "arrival_hour between 0 and 5 and one_way = true",
    'residence_country != nationality and nationality in ("VE", "CO")'.replace(
        "residence_country != nationality", 'residence_country not in ("CO", "VE")'
    ),
    "bags_count = 0 and booking_to_departure_hours between 0 and 72 and age < 25",
    'not frequent_flyer = true and route_countries in ("NL", "ES") and origin_airport in ("BOG", "LIM")',
    'document_type != "P" and route_countries contains "AE"',
    "date_of_birth >= 2004-01-01 and co_traveller_count = 0 and one_way = true",
    'flight_number prefix ("AV0", "LA8") and paid_cash = true',
    'sex = "M" and age between 20 and 35 and route_countries in ("BR", "PE") and bags_count = 1',
    'booking_date >= 2025-01-01 and payment_form in ("CASH", "OTHER")',
    "departure_at between 2025-03-01 and 2025-03-31 and bags_weight_kg >= 40",
    '(origin_airport = "DXB" or origin_airport = "IST") and bags_count >= 3',
]


def generate(n: int, seed: int = 7) -> pd.DataFrame:
    """A raw traveller frame shaped like ``Subject.facts`` (plus port and arrival), built with numpy."""
    rng = np.random.default_rng(seed)
    base = np.datetime64("2025-03-01T00:00:00")
    arrival = base + rng.integers(0, 31 * 24 * 3600, n).astype("timedelta64[s]")
    departure = arrival - rng.integers(2 * 3600, 14 * 3600, n).astype("timedelta64[s]")
    booking = departure - rng.gamma(1.2, 300, n).astype("int64").astype("timedelta64[h]")
    birth = base - rng.integers(1 * 365, 80 * 365, n).astype("timedelta64[D]")
    expiry = base + rng.integers(-30, 3650, n).astype("timedelta64[D]")

    def pick(values: list[str], p: float | None = None) -> np.ndarray:
        out = np.asarray(values, dtype=object)[rng.integers(0, len(values), n)]
        if p:
            out[rng.random(n) < p] = None
        return out

    routes = np.asarray(COUNTRIES, dtype=object)
    hop_a, hop_b = rng.integers(0, len(routes), n), rng.integers(0, len(routes), n)
    route_pool = {i: [routes[i], "GB"] for i in range(len(routes))}
    route_lists = [
        route_pool[a] if a == b else [routes[a], routes[b], "GB"] for a, b in zip(hop_a, hop_b, strict=True)
    ]
    airports = np.asarray(AIRPORTS, dtype=object)
    airport_lists = [[airports[a % len(airports)], "LHR"] for a in hop_a]
    return pd.DataFrame(
        {
            "port": pick(PORTS),
            "arrival_at": arrival,
            "received_at": arrival - np.timedelta64(2, "h"),
            "nationality": pick(COUNTRIES, 0.01),
            "sex": pick(["M", "F", "X"]),
            "date_of_birth": birth,
            "residence_country": pick(COUNTRIES, 0.2),
            "travel_role": pick(["passenger"] * 30 + ["crew"]),
            "document_type": pick(["P"] * 9 + ["I"]),
            "document_country": pick(COUNTRIES),
            "document_expiry": expiry,
            "origin_airport": pick(AIRPORTS),
            "embarkation": pick(AIRPORTS),
            "debarkation": "LHR",
            "carrier": pick(CARRIERS),
            "flight_number": [
                f"{c}{k}" for c, k in zip(pick(CARRIERS), rng.integers(1, 9999, n), strict=True)
            ],
            "route_countries": route_lists,
            "route_airports": airport_lists,
            "booking_date": booking,
            "departure_at": departure,
            "payment_form": pick(PAYMENTS, 0.1),
            "bags_count": rng.poisson(1.1, n).astype(float),
            "bags_weight_kg": np.round(rng.gamma(2, 9, n), 1),
            "co_traveller_count": rng.poisson(0.6, n).astype(float),
            "one_way": rng.random(n) < 0.15,
            "frequent_flyer": rng.random(n) < 0.3,
            "seat": [f"{r}{s}" for r, s in zip(rng.integers(1, 45, n), pick(list("ABCDEF")), strict=True)],
        }
    )


def rules() -> list[LiveRule]:
    """~50 rules: the templates at national scope, at single ports, and with validity windows."""
    made = []
    for i in range(50):
        text = TEMPLATES[i % len(TEMPLATES)]
        ports = [] if i < 20 else [PORTS[i % len(PORTS)]]
        version = RuleVersion(
            pk=i + 1,
            rule_id=i + 1,
            number=1,
            condition=parse(text, "traveller"),
            text=text,
            subject_kind="traveller",
            risk_area="narcotics",
            weight=30 + i % 60,
            ports=ports,
            valid_from=pd.Timestamp("2025-03-05").date() if i % 7 == 0 else None,
            valid_to=pd.Timestamp("2025-03-25").date() if i % 7 == 0 else None,
            rationale="bench",
        )
        made.append(LiveRule.of(version, shadow=i % 5 == 0, name=f"rule {i + 1}"))
    return made


def _dicts(raw: pd.DataFrame) -> list[tuple[dict, str, str, str]]:
    """Rows as the engine reads them from the database: JSON-like facts with ISO date strings."""
    out = []
    for record in raw.to_dict("records"):
        facts = {k: (v.isoformat() if isinstance(v, pd.Timestamp) else v) for k, v in record.items()}
        out.append((facts, facts.pop("port"), facts.pop("arrival_at"), facts.pop("received_at")))
    return out


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="travellers to generate (default 1,000,000)")
    parser.add_argument("--sample", type=int, default=5_000, help="subjects for the per-subject baseline")
    args = parser.parse_args(argv)

    live = rules()
    fields = frame_fields(live)
    raw = generate(args.n)

    start = time.perf_counter()
    frame = frame_from_raw("traveller", raw, fields)
    prepared = time.perf_counter()
    hits = {rule.version.pk: rule.fires(frame) for rule in live}
    evaluated = time.perf_counter()
    prepare_s, evaluate_s = prepared - start, evaluated - prepared
    total_s = prepare_s + evaluate_s
    any_hit = np.logical_or.reduce([h for r, h in zip(live, hits.values(), strict=True) if not r.shadow])

    sample_raw = raw.iloc[: min(args.sample, len(raw))]
    sample = _dicts(sample_raw)
    start = time.perf_counter()
    scalar = [
        [rule.fires_one(typed) for rule in live] for typed in (typed_facts("traveller", *r) for r in sample)
    ]
    baseline_s = time.perf_counter() - start
    dict_frame_start = time.perf_counter()
    dict_frame = build_frame("traveller", sample, fields)
    dict_frame_s = time.perf_counter() - dict_frame_start
    vector_from_dicts = np.column_stack([rule.fires(dict_frame) for rule in live])
    vector_from_columns = np.column_stack([hits[rule.version.pk][: len(sample)] for rule in live])
    agree = bool(
        (np.asarray(scalar) == vector_from_dicts).all() and (vector_from_dicts == vector_from_columns).all()
    )

    rate = args.n / total_s
    baseline_rate = len(sample) / baseline_s
    result: dict[str, object] = {
        "benchmark": "risk.rules_throughput",
        "subjects": args.n,
        "subject_kind": "traveller",
        "rules": len(live),
        "shadow_rules": sum(r.shadow for r in live),
        "port_scoped_rules": sum(bool(r.ports) for r in live),
        "columns": len(frame.columns),
        "seconds": {
            "prepare": round(prepare_s, 3),
            "evaluate": round(evaluate_s, 3),
            "total": round(total_s, 3),
        },
        "subjects_per_second": round(rate),
        "rule_evaluations_per_second": round(args.n * len(live) / evaluate_s),
        "hit_share": round(float(any_hit.mean()), 4),
        "from_dicts": {"subjects": len(sample), "subjects_per_second": round(len(sample) / dict_frame_s)},
        "baseline": {
            "what": "per-subject Python path (typed_facts + every rule) on a sample",
            "subjects": len(sample),
            "subjects_per_second": round(baseline_rate),
            "projected_seconds_for_n": round(args.n / baseline_rate, 1),
        },
        "speedup_over_baseline": round(rate / baseline_rate, 1),
        "paths_agree_on_sample": agree,
        "goal": {
            "what": "1,000,000 travellers through all active rules in < 60 s on two cores",
            "projected_seconds_for_1m": round(1_000_000 / rate, 2),
            "met": 1_000_000 / rate < GOAL_SECONDS,
        },
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "pandas": pd.__version__,
            "numpy": np.__version__,
            "processes": 1,
        },
    }
    return result


if __name__ == "__main__":
    figures = main()
    json.dump(figures, sys.stdout, indent=2)
    sys.stdout.write("\n")
    sys.exit(0 if figures["paths_agree_on_sample"] else 1)

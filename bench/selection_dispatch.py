# ruff: noqa: RUF001, RUF002 - typographic signs are meant for readers
"""Benchmark: does the ledger measure the truth, and does calibrated dispatch find more? (issue 23)

Run from the project root::

    python -m bench.selection_dispatch            # 100 seeds (about a minute and a half)
    python -m bench.selection_dispatch --quick    # 2 seeds (a few seconds)

Each seed simulates a year of arrivals in memory (no database) at two ports, of consignments and
travellers, each with a risk area, and runs them through the product's own functions:

* **Truth.** Each stratum (subject kind, port, risk area) has a true violation rate ``r`` (drawn per seed,
  2-10 %). A subject violates with probability ``r``; its risk score is ``100·σ(x)`` with ``x ~ N(μ₁, σ)``
  for violators and ``N(μ₀, σ)`` for the others, so the score is informative but not a probability: the
  true ``P(violation | score)`` is ``σ(logit r + ((x−μ₀)² − (x−μ₁)²) / 2σ²)``. Each method finds a
  violation with a true detection rate per (method, risk area, port): the hard-coded table's rate times
  a per-seed factor (log-normal, sd 0.4, capped at 0.95), i.e. the table is wrong by a realistic amount.
* **Selection**: a score ≥ ``RiskSettings.nomination_threshold`` nominates a risk target; random control
  is the product's draw, ``apps.risk.scoring.random_draw(subject, salt) < RateTable.share(port, kind)``
  (default share 1 %), independent of the score. A random draw counts as random control only.
* **Dispatch**, day by day within each port's capacity (weekday default, less on weekends, as the
  capacity calendar would hold), with ``apps.targeting.dispatch``: random control first within
  ``reserved_slots`` (``random_control_plan``), then the risk targets. Three plans of the same arrivals
  and capacity, in the same run: **calibrated** (``optimal_plan`` on ``method_values`` with a
  ``Calibration`` refitted every week from the results this plan recorded so far - plain counts, the same
  function the proposal page fits from the database), **hard-coded** (``optimal_plan`` on the table) and
  **first come, first served** (``first_come_plan`` on the calibrated values: the product's baseline).
  The days of a week are planned in one call, each (day, port, method) its own capacity (the problem is
  separable, so this is the same as day by day, only faster). What is not chosen is left out (missed).
* **Results** of the examinations are drawn once per target and method (common random numbers), so the
  three plans differ only by what they choose.
* **Ledger**, from the calibrated plan's examinations, with the product's estimators
  (``apps.reports.effectiveness``): the random-control rate per stratum (``wilson``) and the lift of risk
  selection per stratum and overall (``_stratified_lift``: Katz per stratum, Mantel-Haenszel overall,
  over the strata that ``supports_lift``).

**What the intervals should contain.** The ledger counts findings, not violations: a finding needs a
violation and a method that detects it. So its truths are finding rates:

* random-control rate of a stratum: ``r · d̄₀``, where ``d̄₀`` is the mean true detection rate of the
  methods its random draws were examined by (the draw is independent of violation, so the findings of
  ``n₀`` draws are Bernoulli with mean ``r·d̄₀``); the true violation rate ``r`` is printed beside it;
* lift in a stratum: ``π̄₁ / (r·d̄₀)`` with ``π̄₁`` the mean true finding probability of the risk targets
  examined there, ``P(violation | score)·d(method)``;
* overall lift: the Mantel-Haenszel functional at the true probabilities over the strata the ledger
  used, ``Σ w_k π̄₁ₖ ÷ Σ w_k π̄₀ₖ`` with ``w_k = n₁ₖ·n₀ₖ / N_k`` (what the MH ratio estimates when the
  strata's lifts differ).
The "violation lift" (violation rate among risk targets examined ÷ ``r``) is printed for information;
it equals the finding lift only when risk targets and random draws are examined by equally good methods.

Goals: each kind of interval contains its truth in ≥ 95 % of (seed, stratum) cases, and the overall lift
in ≥ 95 % of seeds; calibrated dispatch finds ≥ 15 % more per slot than first come, first served.
Findings per slot = findings of every examination (random and risk) ÷ slots of capacity in the year.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from types import SimpleNamespace
from typing import Any

import numpy as np

DAYS = 364
PORTS = (1, 2)
#: Arrivals per port and day, and each kind's risk areas (with their shares).
ARRIVALS = {"consignment": 70, "traveller": 80}
AREAS = {"consignment": {"narcotics": 0.5, "revenue": 0.5}, "traveller": {"narcotics": 0.6, "currency": 0.4}}
#: Slots per port and day by method on weekdays; on weekends the scanner is not staffed.
WEEKDAY = {"documents": 2, "scan": 1, "physical": 1, "dog": 1, "interview": 1}
WEEKEND = {"documents": 2, "scan": 0, "physical": 1, "dog": 1, "interview": 1}
#: The calibrated plan is refitted from its recorded results every this many days (planned together).
REFIT_DAYS = 28
MU0, MU1, SIGMA = -2.2, 0.5, 1.2
RATE_RANGE = (0.02, 0.10)
DETECTION_SD = 0.4
QUICK_SEEDS = 2
WORKERS = 2
COVERAGE_GOAL = 0.95
GAIN_GOAL = 0.15


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ratc_ops.settings")
    import django

    django.setup()


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


class World:
    """One seed's truth: violation rates per stratum, detection rates per (method, area, port)."""

    def __init__(self, seed: int) -> None:
        from apps.targeting.dispatch import DETECTION, table_rate

        self.rng = np.random.default_rng(seed)
        self.rate = {
            (kind, port, area): float(self.rng.uniform(*RATE_RANGE))
            for kind, areas in AREAS.items()
            for port in PORTS
            for area in areas
        }
        self.detect = {
            (m, area, port): float(
                min(0.95, table_rate(m, area) * math.exp(self.rng.normal(0, DETECTION_SD)))
            )
            for m in DETECTION
            for area in {a for areas in AREAS.values() for a in areas}
            for port in PORTS
        }

    def p_violation(self, kind: str, port: int, area: str, score: float) -> float:
        """True P(violation | score) by Bayes from the two score distributions."""
        r = self.rate[(kind, port, area)]
        x = math.log(score / (100 - score)) if 0 < score < 100 else (-30 if score <= 0 else 30)
        z = math.log(r / (1 - r)) + ((x - MU0) ** 2 - (x - MU1) ** 2) / (2 * SIGMA**2)
        return 1 / (1 + math.exp(-z))


def _arrivals(
    world: World, day: int, next_id: int, threshold: float, share_of: Any, salt: str
) -> tuple[list[Any], int]:
    """One day's nominated targets (risk and random control) at every port, in order of arrival."""
    from apps.risk.scoring import random_draw

    rng = world.rng
    out: list[Any] = []
    for port in PORTS:
        rows: list[Any] = []
        for kind, n in ARRIVALS.items():
            areas = list(AREAS[kind])
            area_idx = rng.choice(len(areas), size=n, p=list(AREAS[kind].values()))
            rates = np.array([world.rate[(kind, port, a)] for a in areas])[area_idx]
            violates = rng.random(n) < rates
            x = np.where(violates, rng.normal(MU1, SIGMA, n), rng.normal(MU0, SIGMA, n))
            score = np.round(100 * _sigmoid(x), 4)
            share = share_of(port, kind)
            ids = range(next_id, next_id + n)
            next_id += n
            # Every subject gets the product's draw; only the nominated ones go on, a draw at no less than
            # the threshold's priority (``apps.risk.services.nominating._priority``).
            drawn = np.array([random_draw(sid, salt) < share for sid in ids])
            keep = np.flatnonzero(drawn | (score >= threshold))
            uniforms = rng.random((len(keep), 8))
            arrival = rng.random(len(keep))
            for j, i in enumerate(keep):
                rows.append(
                    SimpleNamespace(
                        id=ids[i], day=day, port=port, port_id=port, kind=kind, risk_area=areas[area_idx[i]],
                        score=float(score[i]), priority=round(max(float(score[i]), threshold * drawn[i])), random=bool(drawn[i]),
                        violates=bool(violates[i]), u=uniforms[j], arrival=float(arrival[j]),
                    )
                )  # fmt: skip
        rows.sort(key=lambda t: t.arrival)
        out += rows
    return out, next_id


#: Which of a target's uniforms decides whether each method finds its violation.
SLOT = {m: i for i, m in enumerate(sorted(WEEKDAY))}


def _found(world: World, t: Any, method: str) -> bool:
    return bool(t.violates and t.u[SLOT[method]] < world.detect[(method, t.risk_area, t.port)])


def _week(world: World, targets: list[Any], capacity: dict[str, int], calibration: Any) -> dict[str, Any]:
    """The three plans of one week's targets; returns ``{plan: {target id: method}}``."""
    from apps.targeting.dispatch import (
        Candidate,
        detection_rates,
        first_come_plan,
        method_values,
        optimal_plan,
        random_control_plan,
        random_reserve_share,
        reserved_slots,
    )

    # Each (day, port, method) keeps its own reserve, exactly as one shift's proposal would.
    reserve = reserved_slots(capacity, random_reserve_share())
    plans: dict[str, dict[int, str]] = {}
    for name, cal in (("calibrated", calibration), ("hard_coded", None)):
        methods = set(WEEKDAY)
        randoms, risks = [], []
        for order, t in enumerate(targets):
            if t.random:
                values = detection_rates(t, t.kind, methods, cal)
            else:
                values = method_values(t, t.kind, methods, cal)
            prefix = f"{t.day}|{t.port}|"
            keyed = {prefix + m: v for m, v in values.items() if capacity.get(prefix + m, 0) > 0}
            (randoms if t.random else risks).append(Candidate(t.id, 1, 0.0, keyed, order))
        drawn, _ = random_control_plan(randoms, reserve)
        rest = dict(capacity)
        for key in drawn.chosen.values():
            rest[key] -= 1
        plans[name] = {**drawn.chosen, **optimal_plan(risks, rest).chosen}
        if name == "calibrated":
            plans["first_come"] = {**drawn.chosen, **first_come_plan(risks, rest).chosen}
    return {name: {i: key.rsplit("|", 1)[1] for i, key in chosen.items()} for name, chosen in plans.items()}


def simulate(seed: int) -> dict[str, Any]:
    """One seed: the year, the three plans, and the ledger's estimates beside their truths."""
    from apps.reports.effectiveness import LedgerRow, _stratified_lift, supports_lift, wilson
    from apps.risk.models import RiskSettings
    from apps.risk.scoring import RateTable
    from apps.targeting.dispatch import Calibration, band_of, finding_probability

    world = World(seed)
    fields = {f.name: f.default for f in RiskSettings._meta.get_fields() if hasattr(f, "default")}
    threshold = float(fields["nomination_threshold"])
    table = RateTable({}, float(fields["random_control_share"]))
    salt = f"bench-selection-{seed}"
    by_id: dict[int, Any] = {}
    records: dict[tuple, list[float]] = defaultdict(lambda: [0, 0, 0.0])  # calibrated plan's results
    findings = dict.fromkeys(("calibrated", "hard_coded", "first_come"), 0)
    expected = dict.fromkeys(findings, 0.0)
    slots = 0
    exams: list[tuple[Any, str]] = []  # the calibrated plan's examinations, for the ledger
    calibration = Calibration.fit([])
    next_id = 1
    for start in range(0, DAYS, REFIT_DAYS):
        targets: list[Any] = []
        capacity: dict[str, int] = {}
        for day in range(start, min(DAYS, start + REFIT_DAYS)):
            day_targets, next_id = _arrivals(world, day, next_id, threshold, table.share, salt)
            targets += day_targets
            per_day = WEEKEND if day % 7 >= 5 else WEEKDAY
            for port in PORTS:
                capacity.update({f"{day}|{port}|{m}": n for m, n in per_day.items()})
        slots += sum(capacity.values())
        plans = _week(world, targets, capacity, calibration)
        for t in targets:
            by_id[t.id] = t
        for name, chosen in plans.items():
            for target_id, method in chosen.items():
                t = by_id[target_id]
                found = _found(world, t, method)
                findings[name] += found
                if not hasattr(t, "violates_p"):
                    t.violates_p = world.p_violation(t.kind, t.port, t.risk_area, t.score)
                pv = t.violates_p
                expected[name] += pv * world.detect[(method, t.risk_area, t.port)]
                if name == "calibrated":
                    exams.append((t, method, found))
                    p = finding_probability(t)
                    acc = records[(method, t.risk_area, t.port, band_of(p))]
                    acc[0] += 1
                    acc[1] += found
                    acc[2] += p
        calibration = Calibration.fit(
            [(m, a, port, b, n, f, s) for (m, a, port, b), (n, f, s) in records.items()]
        )

    # The ledger from the calibrated plan's examinations, with the product's estimators.
    risk: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    base: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    pi1: dict[tuple, list[float]] = defaultdict(list)
    pv1: dict[tuple, list[float]] = defaultdict(list)
    d0: dict[tuple, list[float]] = defaultdict(list)
    for t, method, found in exams:
        stratum = (t.kind, t.port, t.risk_area)
        cell = base if t.random else risk
        cell[stratum][0] += 1
        cell[stratum][1] += found
        if t.random:
            d0[stratum].append(world.detect[(method, t.risk_area, t.port)])
        else:
            pi1[stratum].append(t.violates_p * world.detect[(method, t.risk_area, t.port)])
            pv1[stratum].append(t.violates_p)
    rates = {k: wilson(f, n) for k, (n, f) in base.items()}
    row = LedgerRow(kind="model", key="model:bench", name="Risk selection", version="v1")
    _stratified_lift(row, {k: (n, f) for k, (n, f) in risk.items()}, rates)
    strata_out = []
    mh_num = mh_den = 0.0
    for k in sorted(set(base) | set(risk), key=str):
        r = world.rate[k]
        rate = rates.get(k)
        true_rate = r * float(np.mean(d0[k])) if d0.get(k) else None
        lift_row = next((x for x in row.strata if x.stratum == k), None)
        true_lift = float(np.mean(pi1[k])) / true_rate if pi1.get(k) and true_rate else None
        violation_lift = float(np.mean(pv1[k])) / r if pv1.get(k) else None
        used = lift_row is not None and lift_row.lift.value is not None
        if used:
            n1, n0 = risk[k][0], base[k][0]
            w = n1 * n0 / (n1 + n0)
            mh_num += w * float(np.mean(pi1[k]))
            mh_den += w * true_rate
        strata_out.append(
            {
                "stratum": "·".join(map(str, k)),
                "true_violation_rate": round(r, 4),
                "true_random_finding_rate": round(true_rate, 4) if true_rate is not None else None,
                "random_exams": base[k][0],
                "random_findings": base[k][1],
                "rate": rate.value if rate else None,
                "rate_low": rate.low if rate else None,
                "rate_high": rate.high if rate else None,
                "rate_covered": bool(rate and rate.low <= true_rate <= rate.high) if true_rate else None,
                "risk_exams": risk[k][0],
                "risk_findings": risk[k][1],
                "true_lift": true_lift,
                "true_violation_lift": violation_lift,
                "lift": lift_row.lift.value if used else None,
                "lift_low": lift_row.lift.low if used else None,
                "lift_high": lift_row.lift.high if used else None,
                "lift_covered": bool(lift_row.lift.low <= true_lift <= lift_row.lift.high) if used else None,
                "supports_lift": bool(supports_lift(base[k][0], base[k][1])),
            }
        )
    true_overall = mh_num / mh_den if mh_den else None
    overall = row.lift
    return {
        "findings": findings,
        "expected": expected,
        "slots": slots,
        "strata": strata_out,
        "overall_lift": overall.value,
        "overall_low": overall.low,
        "overall_high": overall.high,
        "true_overall_lift": true_overall,
        "overall_covered": (
            bool(overall.low <= true_overall <= overall.high)
            if true_overall and overall.low is not None
            else None
        ),
    }


def _coverage(value: float | None, cases: int) -> dict[str, Any]:
    se = math.sqrt(COVERAGE_GOAL * (1 - COVERAGE_GOAL) / cases) if cases else None
    return {
        "value": round(value, 4) if value is not None else None,
        "cases": cases,
        "goal": COVERAGE_GOAL,
        "met": value is not None and value >= COVERAGE_GOAL,
        "se": round(se, 4) if se else None,
        "consistent_with_nominal": value is not None and se is not None and value >= COVERAGE_GOAL - 2 * se,
    }


def _share(flags: list[bool | None]) -> tuple[float | None, int]:
    counted = [f for f in flags if f is not None]
    return (sum(counted) / len(counted) if counted else None), len(counted)


def run(seeds: int = 100, quick: bool = False) -> dict[str, Any]:
    """The benchmark as a dict (see the module docstring); ``quick`` runs ``QUICK_SEEDS``. Seeds run in two
    processes (each seed is independent and single-threaded)."""
    _setup()
    if quick:
        seeds = min(seeds, QUICK_SEEDS)
    started = time.perf_counter()
    workers = max(1, min(WORKERS, os.cpu_count() or 1, seeds))
    if workers > 1:
        with ProcessPoolExecutor(workers, mp_context=get_context("fork")) as pool:
            results = list(pool.map(simulate, range(seeds)))
    else:
        results = [simulate(seed) for seed in range(seeds)]
    elapsed = time.perf_counter() - started
    total = {name: sum(r["findings"][name] for r in results) for name in results[0]["findings"]}
    expect = {name: sum(r["expected"][name] for r in results) for name in results[0]["expected"]}
    slots = sum(r["slots"] for r in results)
    per_slot = {name: n / slots for name, n in total.items()}
    gain_fcfs = per_slot["calibrated"] / per_slot["first_come"] - 1
    gain_table = per_slot["calibrated"] / per_slot["hard_coded"] - 1
    rate_cov, rate_n = _share([s["rate_covered"] for r in results for s in r["strata"]])
    lift_cov, lift_n = _share([s["lift_covered"] for r in results for s in r["strata"]])
    overall_cov, overall_n = _share([r["overall_covered"] for r in results])
    per_stratum: dict[str, list[bool | None]] = defaultdict(list)
    for r in results:
        for s in r["strata"]:
            per_stratum[s["stratum"]].append(s["rate_covered"])
    met = {
        "random_rate_coverage": rate_cov is not None and rate_cov >= COVERAGE_GOAL,
        "stratum_lift_coverage": lift_cov is not None and lift_cov >= COVERAGE_GOAL,
        "overall_lift_coverage": overall_cov is not None and overall_cov >= COVERAGE_GOAL,
        "gain_over_first_come": gain_fcfs >= GAIN_GOAL,
    }
    example = results[0]
    return {
        "bench": "selection_dispatch",
        "seeds": seeds,
        "seconds": round(elapsed, 1),
        "design": {
            "days": DAYS,
            "ports": len(PORTS),
            "arrivals_per_port_day": sum(ARRIVALS.values()),
            "slots_per_port_weekday": sum(WEEKDAY.values()),
            "slots_per_port_weekend": sum(WEEKEND.values()),
            "truth": "finding rates: violation rate × true detection of the methods used (see docstring)",
        },
        "coverage": {
            "random_rate": {
                **_coverage(rate_cov, rate_n),
                "worst_stratum": min(_share(v)[0] for v in per_stratum.values()),
            },
            "stratum_lift": _coverage(lift_cov, lift_n),
            "overall_lift": _coverage(overall_cov, overall_n),
            "note": (
                "Each interval is a nominal 95 % one, so a coverage measured on finitely many cases falls "
                "either side of 0.95 by chance; 'se' is the binomial standard error of the measured "
                "coverage at 0.95, and 'consistent_with_nominal' says it is no more than 2 se below."
            ),
        },
        "dispatch": {
            "findings_per_slot": {k: round(v, 4) for k, v in per_slot.items()},
            "expected_findings_per_slot": {k: round(v / slots, 4) for k, v in expect.items()},
            "gain_over_first_come": {
                "value": round(gain_fcfs, 4),
                "goal": GAIN_GOAL,
                "met": met["gain_over_first_come"],
            },
            "gain_over_hard_coded": round(gain_table, 4),
            "slots": slots,
        },
        "example_seed_0": {
            "strata": example["strata"],
            "overall_lift": {
                "value": example["overall_lift"],
                "low": example["overall_low"],
                "high": example["overall_high"],
                "true": example["true_overall_lift"],
            },
        },
        "met": all(met.values()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=100)
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_SEEDS} seeds, for a test")
    args = parser.parse_args()
    json.dump(run(args.seeds, args.quick), sys.stdout, indent=1, default=float)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()

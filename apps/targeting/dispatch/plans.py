"""The plans: slots reserved for random control, the optimal plan within capacity, and first-come as the baseline."""

from __future__ import annotations

import math

import numpy as np
from django.conf import settings
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_matrix

from apps.targeting.dispatch.methods import ALL_METHODS, Candidate, M, Plan
from ratc_ops.env import env_int


def random_reserve_share() -> float:
    """The share of each method's slots kept for random-control targets (``RATC_RANDOM_RESERVE_PERCENT``,
    10 % by default: random control draws about 1 % of subjects, so a tenth of the slots takes every one
    of them on a normal shift and leaves the rest to risk)."""
    percent = getattr(settings, "RATC_RANDOM_RESERVE_PERCENT", None)
    if percent is None:
        percent = env_int("RATC_RANDOM_RESERVE_PERCENT", 10, minimum=0, maximum=100)
    return int(percent) / 100


def reserved_slots(capacity: dict[str, int], share: float) -> dict[str, int]:
    """Slots per method kept for random control: the share rounded up, so that any method with slots can
    take a random-control target when the share is above 0."""
    return {m: min(n, math.ceil(n * share)) for m, n in capacity.items() if n > 0 and share > 0}


def _method_label(method: str) -> str:
    return M(method).label.lower() if method in ALL_METHODS else method


def random_control_plan(candidates: list[Candidate], reserve: dict[str, int]) -> tuple[Plan, dict[int, str]]:
    """Random-control candidates first, in order of nomination, each by its most effective method for its
    risk area that still has a reserved slot; ``(plan, reason left out by target)``."""
    left = dict(reserve)
    plan = Plan()
    refused: dict[int, str] = {}
    for c in sorted(candidates, key=lambda c: c.order):
        options = [(v, m) for m, v in c.values.items() if left.get(m, 0) > 0]
        if not options:
            kept = ", ".join(f"{_method_label(m)} {n}" for m, n in sorted(reserve.items())) or "none"
            refused[c.target_id] = (
                f"Random-control slots full this shift (kept: {kept}); send it on the next shift."
            )
            continue
        v, m = max(options)
        left[m] -= 1
        plan.chosen[c.target_id] = m
        plan.total += v
    return plan, refused


def optimal_plan(candidates: list[Candidate], capacity: dict[str, int]) -> Plan:
    """The assignment of candidates to methods that maximises expected findings within ``capacity``."""
    pairs = [
        (i, m, v)
        for i, c in enumerate(candidates)
        for m, v in c.values.items()
        if v > 0 and capacity.get(m, 0) > 0
    ]
    if not pairs:
        return Plan()
    methods = sorted({m for _, m, _ in pairs})
    n = len(pairs)
    value = np.array([v for _, _, v in pairs])
    rows, cols = [], []
    for j, (i, m, _) in enumerate(pairs):
        rows += [i, len(candidates) + methods.index(m)]
        cols += [j, j]
    a = coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(candidates) + len(methods), n)).tocsr()
    upper = np.array([1.0] * len(candidates) + [float(capacity[m]) for m in methods])
    constraints = LinearConstraint(a, -np.inf, upper)
    # The matrix is totally unimodular, so the simplex's (basic) optimum of the relaxation is already
    # 0/1, several times faster than branch and bound; were it ever fractional, solve as integers.
    result = milp(c=-value, constraints=constraints, integrality=np.zeros(n), bounds=Bounds(0, 1))
    if result.x is None or np.abs(result.x - np.round(result.x)).max() > 1e-6:
        result = milp(c=-value, constraints=constraints, integrality=np.ones(n), bounds=Bounds(0, 1))
    if result.x is None:  # pragma: no cover - the problem is always feasible (x = 0)
        return Plan()
    plan = Plan()
    for j, x in enumerate(result.x):
        if x > 0.5:
            i, m, v = pairs[j]
            plan.chosen[candidates[i].target_id] = m
            plan.total += v
    return plan


def first_come_plan(candidates: list[Candidate], capacity: dict[str, int]) -> Plan:
    """The plan without optimisation: in order of nomination, each takes its best method still free."""
    left = dict(capacity)
    plan = Plan()
    for c in sorted(candidates, key=lambda c: c.order):
        options = [(v, m) for m, v in c.values.items() if v > 0 and left.get(m, 0) > 0]
        if options:
            v, m = max(options)
            left[m] -= 1
            plan.chosen[c.target_id] = m
            plan.total += v
    return plan

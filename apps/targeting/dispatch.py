"""Capacity-aware selection (BRIEF capability 11): which approved targets to examine, by which method.

Each candidate target ``t`` has a probability of a finding ``p_t`` (its model score, or its priority as a
fallback) and each method ``m`` a detection rate for the target's risk area ``e[m][area]``; examining
``t`` by ``m`` is worth ``p_t * e[m][area]`` expected findings. Each target is examined by at most one
method and each method has ``slots`` at the port in the shift. Maximising the sum is an assignment
problem with capacities, solved exactly as a 0/1 integer programme with ``scipy.optimize.milp``
(its constraint matrix is totally unimodular, so the optimum is found quickly even for thousands of
targets). The first-come-first-served plan is computed too, so the page shows what the optimum gains.

Random-control targets are not in that optimisation: their worth is what they measure (the base rate
the ledger's lift is read against), not their expected findings, and a score-driven plan would leave them
out as "capacity full" and bias the sample. They are dispatched first, in order of nomination, within a
reserved share of each method's slots (``random_reserve_share``); the optimisation fills the rest.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.conf import settings
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_matrix

from apps.agencies.models import ExaminationMethod, Port, PortCapacity
from apps.agencies.operations import membership_of
from apps.intake.models import SubjectKind
from apps.targeting.models import DispatchProposal, Hold, Instruction, Target, TargetState
from apps.targeting.routing import in_deciding_team, may_act_as_agency
from ratc_ops.env import env_int

M = ExaminationMethod

#: Share of violations a method finds, by risk area (defaults, to be calibrated from outcomes).
DEFAULT_DETECTION = 0.3
DETECTION: dict[str, dict[str, float]] = {
    M.PHYSICAL: {"_": 0.9},
    M.SCAN: {"narcotics": 0.75, "weapons": 0.85, "security": 0.8, "people_smuggling": 0.85, "currency": 0.5,
             "cites": 0.5, "strategic": 0.6, "_": 0.4},
    M.DOG: {"narcotics": 0.85, "currency": 0.7, "cites": 0.5, "sps": 0.8, "weapons": 0.4, "_": 0.2},
    M.DOCUMENTS: {"revenue": 0.7, "ipr": 0.5, "strategic": 0.6, "sps": 0.5, "immigration": 0.6, "_": 0.2},
    M.INTERVIEW: {"immigration": 0.8, "people_smuggling": 0.6, "currency": 0.5, "narcotics": 0.4, "_": 0.25},
}  # fmt: skip
#: Which methods apply to which kind of subject.
SUITABLE: dict[str, set[str]] = {
    SubjectKind.CONSIGNMENT: {M.DOCUMENTS, M.SCAN, M.PHYSICAL, M.DOG},
    SubjectKind.CONVEYANCE: {M.DOCUMENTS, M.SCAN, M.PHYSICAL, M.DOG},
    SubjectKind.TRAVELLER: {M.DOCUMENTS, M.PHYSICAL, M.DOG, M.INTERVIEW},
    SubjectKind.TRADER: {M.DOCUMENTS},
}


@dataclass
class Candidate:
    """A target the dispatcher may send, with its finding probability and what each method is worth."""

    target_id: int
    version: int
    p: float
    values: dict[str, float]
    order: int = 0
    label: str = ""


@dataclass
class Plan:
    chosen: dict[int, str] = field(default_factory=dict)
    total: float = 0.0


def finding_probability(target: Any) -> float:
    """The model score when there is one (0..1, or 0..100), else half the priority as a cautious guess."""
    if target.score is not None:
        score = float(target.score)
        return max(0.0, min(1.0, score / 100 if score > 1 else score))
    return max(0.0, min(1.0, target.priority / 200))


def detection_rates(target: Any, kind: str, methods: set[str]) -> dict[str, float]:
    """Each suitable method's detection rate for the target's risk area."""
    out = {}
    for method in methods & SUITABLE.get(kind, set(M.values)):
        rates = DETECTION[method]
        out[method] = rates.get(target.risk_area, rates.get("_", DEFAULT_DETECTION))
    return out


def method_values(target: Any, kind: str, methods: set[str]) -> dict[str, float]:
    p = finding_probability(target)
    return {m: round(p * rate, 6) for m, rate in detection_rates(target, kind, methods).items()}


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


def random_control_plan(candidates: list[Candidate], reserve: dict[str, int]) -> tuple[Plan, dict[int, str]]:
    """Random-control candidates first, in order of nomination, each by its most effective method for its
    risk area that still has a reserved slot; ``(plan, reason left out by target)``."""
    left = dict(reserve)
    plan = Plan()
    refused: dict[int, str] = {}
    for c in sorted(candidates, key=lambda c: c.order):
        options = [(v, m) for m, v in c.values.items() if left.get(m, 0) > 0]
        if not options:
            kept = ", ".join(f"{M(m).label.lower()} {n}" for m, n in sorted(reserve.items())) or "none"
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
    result = milp(
        c=-value,
        constraints=LinearConstraint(a, -np.inf, upper),
        integrality=np.ones(n),
        bounds=Bounds(0, 1),
    )
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


def free_capacity(port: Port, shift: str) -> dict[str, int]:
    """Slots per method for the shift, minus instructions of this shift still waiting at the port."""
    capacity = dict(PortCapacity.objects.filter(port=port, shift=shift).values_list("method", "slots"))
    waiting = Instruction.objects.filter(port=port, shift=shift, target__state=TargetState.DISPATCHED)
    for method in waiting.values_list("method", flat=True):
        if method in capacity:
            capacity[method] = max(0, capacity[method] - 1)
    return capacity


def build_proposal(*, actor: Any, port: Port, shift: str) -> DispatchProposal:
    """Gather the candidates the actor may dispatch, optimise, and store the proposal with its reasons."""
    membership = membership_of(actor)
    capacity = free_capacity(port, shift)
    targets = list(
        Target.objects.visible_to(actor)
        .filter(port=port, state__in=[TargetState.APPROVED, TargetState.ON_HOLD])
        .select_related("subject", "port")
        .prefetch_related("shares")
        .order_by("created_at", "id")
    )
    held = {
        h.target_id: h.agency.code
        for h in Hold.objects.filter(target__in=targets, released_at__isnull=True).select_related("agency")
    }
    candidates: list[Candidate] = []
    randoms: list[Candidate] = []
    left_out: list[dict[str, Any]] = []
    methods = {m for m, slots in capacity.items() if slots > 0}
    for order, t in enumerate(targets):
        if t.pk in held or t.state == TargetState.ON_HOLD:
            left_out.append(
                {"target": t.pk, "reason": f"On hold by {held.get(t.pk, 'a partner')}: cannot be dispatched."}
            )
            continue
        if not (may_act_as_agency(membership, t) and in_deciding_team(membership, t)):
            left_out.append({"target": t.pk, "reason": "Another team dispatches this target."})
            continue
        if t.random_control:
            # Worth is measured by the method's detection rate alone: its score says nothing here.
            values = {m: rate for m, rate in detection_rates(t, t.subject.kind, methods).items()}
        else:
            values = method_values(t, t.subject.kind, methods)
        if not values:
            left_out.append(
                {
                    "target": t.pk,
                    "version": t.version,
                    "reason": "No suitable examination method has capacity this shift.",
                }
            )
            continue
        candidate = Candidate(t.pk, t.version, finding_probability(t), values, order, t.reference)
        (randoms if t.random_control else candidates).append(candidate)
    # Random control first, within its reserve; what it leaves of the reserve goes back to risk targets.
    reserve = reserved_slots(capacity, random_reserve_share())
    drawn, refused = random_control_plan(randoms, reserve)
    rest = dict(capacity)
    for m in drawn.chosen.values():
        rest[m] -= 1
    plan = optimal_plan(candidates, rest)
    baseline = first_come_plan(candidates, rest)
    selected = []
    for c in randoms:
        if c.target_id in drawn.chosen:
            m = drawn.chosen[c.target_id]
            selected.append({"target": c.target_id, "version": c.version, "method": m, "p": c.p,
                             "value": 0.0, "random": True})  # fmt: skip
        else:
            left_out.append({"target": c.target_id, "version": c.version, "reason": refused[c.target_id]})
    floor: dict[str, float] = {}
    for c in candidates:
        if c.target_id in plan.chosen:
            m = plan.chosen[c.target_id]
            selected.append(
                {"target": c.target_id, "version": c.version, "method": m, "p": c.p, "value": c.values[m]}
            )
            floor[m] = min(floor.get(m, 1.0), c.values[m])
    for c in candidates:
        if c.target_id not in plan.chosen:
            best_m, best_v = max(c.values.items(), key=lambda kv: kv[1])
            reason = (
                f"Capacity full: {M(best_m).label.lower()} would find {best_v:.2f} expected, "
                f"below the {floor.get(best_m, 0):.2f} of the last target chosen for it."
            )
            left_out.append({"target": c.target_id, "version": c.version, "reason": reason, "value": best_v})
    selected.sort(key=lambda r: (not r.get("random"), -r["value"]))
    return DispatchProposal.objects.create(
        port=port, shift=shift, agency=membership.agency, created_by=actor, capacity=capacity,
        selected=selected, left_out=left_out, expected_findings=round(plan.total, 4),
        baseline_findings=round(baseline.total, 4),
    )  # fmt: skip

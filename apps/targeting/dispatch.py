"""Capacity-aware selection (BRIEF capability 11): which approved targets to examine, by which method.

Each candidate target ``t`` has a probability of a finding ``p_t`` (its model score, or its priority as a
fallback) and each method ``m`` a detection rate for the target's risk area ``e[m][area]``; examining
``t`` by ``m`` is worth ``p_t * e[m][area]`` expected findings, both calibrated from recorded
examinations (below). Each target is examined by at most one method and each method has ``slots`` at
the port in the shift. Maximising the sum is an assignment problem with capacities, solved exactly with
``scipy.optimize.milp``: its constraint matrix is totally unimodular, so the simplex optimum of the
linear relaxation is already 0/1 (solved as integers only if it ever were not), quick even for
thousands of targets. The first-come-first-served plan is computed too, so the page shows what the optimum gains.

Random-control targets are not in that optimisation: their worth is what they measure (the base rate
the ledger's lift is read against), not their expected findings, and a score-driven plan would leave them
out as "capacity full" and bias the sample. They are dispatched first, in order of nomination, within a
reserved share of each method's slots (``random_reserve_share``); the optimisation fills the rest.

**Calibration from recorded examinations** (:class:`Calibration`). The worth of examining ``t`` by ``m``
is ``v(t, m) = q(p_t) · e(m, area) · c(m, area, port)``, where ``p_t`` is the raw probability above,
``e`` the hard-coded table ``DETECTION``, and ``q`` and ``c`` are corrections fitted from the recorded
examinations of the last ``CALIBRATION_DAYS`` (each examination once, with its latest correction;
grouped by method, risk area, port and score band in one query). With nothing recorded ``q(p) = p`` and
``c = 1``: the old values exactly.

- **Detection** ``c``, for a cell whose examinations give ``f`` findings in ``n`` where the current model
  expects ``E`` (``v̄ = E/n`` each): a beta-binomial posterior mean of the cell's finding rate with a
  prior centred on its parent's prediction ``v̄ · c_parent`` and worth ``κ = KAPPA_CELL`` examinations,
  ``rate = (f + κ·v̄·c_parent) / (n + κ)``, so ``c = rate / v̄ = (f + κ·v̄·c_parent) / (E + κ·v̄)``.
  The hierarchy: the port's cell (method, area, port) shrinks to the national one (method, area, all
  ports), which shrinks to the method's, which shrinks to the table (``c = 1``). A port with a few
  examinations keeps mostly the national rate; with hundreds, its own. Comparing with what the model
  expects of the *same* targets (indirect standardisation) keeps a method that is given the best targets
  from looking better than it is.
- **Score** ``q``: targets are put in tenths of ``p`` (bands); a band's correction is the same posterior
  mean (prior "the score is right", ``g = 1``, worth ``KAPPA_BAND`` examinations) of its findings against
  what the calibrated detection expects of its examinations; the band probabilities ``g_b · p̄_b`` are
  then made non-decreasing by pooling adjacent violators (weighted by examinations + prior; bands with
  no examination take no part), because a higher score must never mean a lower chance. ``q`` is linear
  between the bands' points (mean raw ``p``, calibrated probability) and proportional to ``p`` beyond the
  first and last, so it is non-decreasing everywhere. Binned and shrunk rather than a fitted curve: few
  assumptions, sound with few examinations per band, cheap to explain.
- ``q`` and ``c`` are fitted alternately (``ROUNDS`` times; both are shrunk to 1, which fixes the scale
  between them). Only their product decides the plan; the page shows each cell's recorded rate.

Outcomes exist only for what was examined, so the calibration describes targets like those the centre
examines: the approved targets the dispatcher chooses among, which is the population it is used on.

**Capacity** of a port, date and shift is the weekly default (``PortCapacity``) with each method's slots
replaced by the calendar's (``CapacityDay``) where the day has a row, minus the instructions of that date
and shift still waiting at the port.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date as Date
from datetime import timedelta
from itertools import pairwise
from typing import Any

import numpy as np
from django.conf import settings
from django.contrib.auth.models import User
from django.db.models import (
    Case,
    Count,
    F,
    FloatField,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, Floor, Greatest, Least, TruncDate
from django.utils import timezone
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_matrix

from apps.agencies.models import CapacityDay, ExaminationMethod, Port, PortCapacity
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
#: Every method (``M.values`` builds its list afresh on each call: this is read per target).
ALL_METHODS = frozenset(M.values)
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


def detection_rates(
    target: Any, kind: str, methods: set[str], calibration: Calibration | None = None
) -> dict[str, float]:
    """Each suitable method's detection rate for the target's risk area (calibrated when given)."""
    out = {}
    for method in methods & SUITABLE.get(kind, ALL_METHODS):
        if calibration is None:
            out[method] = table_rate(method, target.risk_area)
        else:
            out[method] = calibration.detection(method, target.risk_area, target.port_id)
    return out


def method_values(
    target: Any, kind: str, methods: set[str], calibration: Calibration | None = None
) -> dict[str, float]:
    """Expected findings of examining the target by each suitable method."""
    p = finding_probability(target)
    if calibration is not None:
        p = calibration.probability(p)
    return {
        m: round(min(1.0, p * rate), 6)
        for m, rate in detection_rates(target, kind, methods, calibration).items()
    }


# ---------------------------------------------------------------------------------------------------------
# Calibration from recorded examinations (see the module docstring for the formulas).

#: Prior strength, in examinations, of each level of the hierarchy: a port's cell weighs its parent (the
#: national rate of the method and risk area) as 20 examinations, the national rate its method's, and the
#: method the hard-coded table; a score band weighs "the score is right" as 50 examinations.
KAPPA_CELL = 20.0
KAPPA_BAND = 50.0
#: Score bands: tenths of the raw finding probability (``finding_probability``).
BANDS = 10
#: Recorded examinations older than this are not used: methods, staff and smuggling change.
CALIBRATION_DAYS = 365
#: Rounds of the alternating fit of detection and score corrections (it settles in two or three).
ROUNDS = 4

#: One group of recorded examinations: method, risk area, port id (None: unknown), score band, number of
#: examinations, findings, and the sum of their raw finding probabilities.
ExamCount = tuple[str, str, "int | None", int, int, int, float]
Cell = tuple[str, str, "int | None"]


def band_of(p: float) -> int:
    """The score band (0..BANDS-1) of a raw finding probability."""
    return min(BANDS - 1, max(0, int(p * BANDS)))


def table_rate(method: str, area: str) -> float:
    """The hard-coded detection rate of ``method`` for ``area`` (the prior when nothing is recorded)."""
    rates = DETECTION.get(method, {})
    return rates.get(area, rates.get("_", DEFAULT_DETECTION))


def _shrink(found: float, expected: float, n: float, parent: float, kappa: float) -> float:
    """Beta-binomial posterior mean of a cell's finding rate, as a correction of the model's expectation.

    The model expects ``expected`` findings from ``n`` examinations (``v̄ = expected / n`` each); the
    parent level says the correction is ``parent``, i.e. a rate of ``v̄ · parent``, and counts as
    ``kappa`` examinations: rate = (f + κ·v̄·parent) / (n + κ), so correction = rate / v̄."""
    if n <= 0 or expected <= 0:
        return parent
    mean = expected / n
    return (found + kappa * mean * parent) / (expected + kappa * mean)


def _isotonic(values: list[float], weights: list[float]) -> list[float]:
    """Pool adjacent violators: the weighted least-squares non-decreasing sequence nearest ``values``."""
    blocks: list[list[float]] = []  # [value, weight, length]
    for v, w in zip(values, weights, strict=True):
        blocks.append([v, w, 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            v2, w2, n2 = blocks.pop()
            v1, w1, n1 = blocks.pop()
            total = w1 + w2
            blocks.append([(v1 * w1 + v2 * w2) / total if total else (v1 + v2) / 2, total, n1 + n2])
    out: list[float] = []
    for v, _, n in blocks:
        out += [v] * int(n)
    return out


@dataclass(frozen=True, slots=True)
class Basis:
    """What a value rests on, for the supervisor: the port's record, the national one, the score's."""

    method: str
    area: str
    exams: int
    findings: int
    rate: float | None  # the shrunk finding rate of the method for the area at the port
    national_exams: int
    national_findings: int
    national_rate: float | None
    source: str  # "recorded", "method" (only the method's record, in other areas) or "table"
    factor: float = 1.0  # the method's correction of the table, for "method"

    def text(self, port_code: str = "") -> str:
        label = f"{M(self.method).label.lower()} for {self.area.replace('_', ' ')}"
        table = table_rate(self.method, self.area)
        if self.source == "table":
            return f"{label}: nothing recorded, detection {table:.2f} from the table"
        if self.source == "method":
            return (
                f"{label}: nothing recorded in this risk area; the table's {table:.2f} scaled by "
                f"{self.factor:.2f} from the method's record in other areas"
            )
        here = f" at {port_code}" if port_code else ""
        observed = (
            f" finds {self.findings / self.exams:.2f} in {self.exams} exams"
            if self.exams
            else ": no exams here"
        )
        national = (
            f"national {self.national_findings / self.national_exams:.2f} in {self.national_exams}"
            if self.national_exams
            else "none nationally"
        )
        return f"{label}{here}{observed}; {national}; calibrated {self.rate:.2f}"


@dataclass
class Calibration:
    """Detection corrections per (method, area, port) and score-band corrections, fitted from counts.

    ``value(p, method, area, port)`` = ``q(p) · table(method, area) · c(method, area, port)``: with no
    record every correction is 1 and the value is the old ``p · table`` exactly."""

    method_c: dict[str, float] = field(default_factory=dict)
    national_c: dict[tuple[str, str], float] = field(default_factory=dict)
    cell_c: dict[Cell, float] = field(default_factory=dict)
    band_g: list[float] = field(default_factory=lambda: [1.0] * BANDS)
    knots: list[tuple[float, float]] = field(default_factory=list)  # (mean raw p, calibrated p) per band
    counts: dict[Cell, tuple[int, int]] = field(default_factory=dict)
    national: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict)
    band_counts: list[tuple[int, int]] = field(default_factory=lambda: [(0, 0)] * BANDS)
    cell_rate: dict[Cell, float] = field(default_factory=dict)  # shrunk finding rate per examination
    national_rate: dict[tuple[str, str], float] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not self.counts

    def correction(self, method: str, area: str, port_id: int | None) -> float:
        if (method, area, port_id) in self.cell_c:
            return self.cell_c[(method, area, port_id)]
        if (method, area) in self.national_c:
            return self.national_c[(method, area)]
        return self.method_c.get(method, 1.0)

    def detection(self, method: str, area: str, port_id: int | None) -> float:
        """The calibrated share of violations ``method`` finds in ``area`` at the port (a random-control
        target's worth: its score says nothing). Not capped at 1: with the score's correction it is only
        a factor of the value (see ``probability``), and a cap would tie methods that differ."""
        return table_rate(method, area) * self.correction(method, area, port_id)

    def probability(self, p: float) -> float:
        """The calibrated finding probability of a target whose raw probability is ``p``: linear between
        the bands' (mean raw p, calibrated p) points, proportional to ``p`` beyond the first and last
        (non-decreasing throughout, since the points are); ``p`` itself with nothing recorded.

        Only its product with ``detection`` is identified by the record (a scale can move between the
        two), so it is not capped at 1 here: a cap would tie the strongest targets. Pages cap it."""
        knots = self.knots
        if not knots:
            return p
        if p <= knots[0][0]:
            return p * knots[0][1] / knots[0][0] if knots[0][0] > 0 else knots[0][1]
        if p >= knots[-1][0]:
            return p * knots[-1][1] / knots[-1][0]
        for (x0, y0), (x1, y1) in pairwise(knots):
            if p <= x1:
                return y0 + (y1 - y0) * (p - x0) / (x1 - x0) if x1 > x0 else y1
        return p  # pragma: no cover - p lies between the first and the last point

    def value(self, p: float, method: str, area: str, port_id: int | None) -> float:
        return min(1.0, self.probability(p) * self.detection(method, area, port_id))

    def basis(self, method: str, area: str, port_id: int | None) -> Basis:
        n, f = self.counts.get((method, area, port_id), (0, 0))
        nn, nf = self.national.get((method, area), (0, 0))
        if not nn:
            if method in self.method_c:
                return Basis(method, area, 0, 0, None, 0, 0, None, "method", self.method_c[method])
            return Basis(method, area, 0, 0, None, 0, 0, None, "table")
        national = self.national_rate.get((method, area))
        rate = self.cell_rate.get((method, area, port_id), national)
        return Basis(method, area, n, f, rate, nn, nf, national, "recorded")

    @classmethod
    def fit(
        cls, rows: Iterable[ExamCount], kappa: float = KAPPA_CELL, kappa_band: float = KAPPA_BAND
    ) -> Calibration:
        """Fit from plain counts (the bench's, or :func:`recorded_counts` from the database)."""
        rows = [r for r in rows if r[4] > 0]
        cal = cls()
        if not rows:
            return cal
        for _ in range(ROUNDS):
            # Detection: expected findings of each row under the current score correction.
            exp_row = [table_rate(m, a) * cal.band_g[b] * s for m, a, _, b, _, _, s in rows]
            method_sum: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
            nat_sum: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
            cell_sum: dict[Cell, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
            for (m, a, port, _, n, f, _), e in zip(rows, exp_row, strict=True):
                for acc in (method_sum[m], nat_sum[(m, a)], cell_sum[(m, a, port)]):
                    acc[0] += f
                    acc[1] += e
                    acc[2] += n
            cal.method_c = {m: _shrink(f, e, n, 1.0, kappa) for m, (f, e, n) in method_sum.items()}
            cal.national_c = {
                (m, a): _shrink(f, e, n, cal.method_c[m], kappa) for (m, a), (f, e, n) in nat_sum.items()
            }
            cal.cell_c = {
                (m, a, p): _shrink(f, e, n, cal.national_c[(m, a)], kappa)
                for (m, a, p), (f, e, n) in cell_sum.items()
            }
            # Score: each band's findings against what the calibrated detection expects of its targets.
            band_sum = [[0.0, 0.0, 0.0, 0.0] for _ in range(BANDS)]  # findings, expected, n, sum p
            for m, a, port, b, n, f, s in rows:
                acc = band_sum[b]
                acc[0] += f
                acc[1] += table_rate(m, a) * cal.correction(m, a, port) * s
                acc[2] += n
                acc[3] += s
            # Monotone: a higher score never means a lower calibrated probability. Bands without any
            # examination carry no information and take no part; ``probability`` interpolates over them.
            used = [b for b in range(BANDS) if band_sum[b][2] > 0]
            mean_p = [band_sum[b][3] / band_sum[b][2] for b in used]
            raw = [_shrink(*band_sum[b][:3], 1.0, kappa_band) * p for b, p in zip(used, mean_p, strict=True)]
            fitted = _isotonic(raw, [band_sum[b][2] + kappa_band for b in used])
            cal.knots = list(zip(mean_p, fitted, strict=True))
            cal.band_g = [1.0] * BANDS
            for b, p, q in zip(used, mean_p, fitted, strict=True):
                cal.band_g[b] = q / p if p > 0 else 1.0
        cal.band_counts = [(int(n), int(f)) for f, _, n, _ in band_sum]
        for (m, a, p), (f, _, n) in cell_sum.items():
            cal.counts[(m, a, p)] = (int(n), int(f))
        for (m, a), (f, _, n) in nat_sum.items():
            cal.national[(m, a)] = (int(n), int(f))
        # Shown rates: the shrunk finding rate per examination of each cell and of the nation.
        for (m, a, p), (f, e, n) in cell_sum.items():
            cal.cell_rate[(m, a, p)] = (f + kappa * (e / n) * cal.national_c[(m, a)]) / (n + kappa)
        for (m, a), (f, e, n) in nat_sum.items():
            cal.national_rate[(m, a)] = (f + kappa * (e / n) * cal.method_c[m]) / (n + kappa)
        return cal


def _raw_probability_expression() -> Any:
    """``finding_probability`` in SQL: the score (0..1, or 0..100) when set, else priority / 200."""
    score = Case(
        When(target__score__gt=1, then=F("target__score") / Value(100.0)),
        When(target__score__isnull=False, then=F("target__score")),
        default=Cast("target__priority", FloatField()) / Value(200.0),
        output_field=FloatField(),
    )
    return Least(Greatest(score, Value(0.0)), Value(1.0), output_field=FloatField())


def recorded_counts(since: Any = None, viewer: Any = None) -> list[ExamCount]:
    """Recorded examinations since ``since`` (default ``CALIBRATION_DAYS`` ago) grouped by method, risk
    area, port and score band, in one query. Each examination counts once with its latest correction.

    ``viewer``: only the examinations that person may see are counted (the proposal page shows the counts
    behind each choice, so they are the viewer's, as every count is); None counts all (the benchmark)."""
    from apps.frontline.models import FINDING_OUTCOMES, ExaminationResult

    since = since or timezone.now() - timedelta(days=CALIBRATION_DAYS)
    latest = ExaminationResult.objects.filter(original=OuterRef("pk")).order_by("-recorded_at", "-pk")
    results = (
        ExaminationResult.objects.visible_to(viewer) if viewer is not None else ExaminationResult.objects
    )
    rows = (
        results.filter(original__isnull=True, ended_at__gte=since)
        .annotate(
            shown_outcome=Coalesce(Subquery(latest.values("outcome")[:1]), F("outcome")),
            shown_method=Coalesce(Subquery(latest.values("method")[:1]), F("method")),
            raw_p=_raw_probability_expression(),
        )
        .annotate(
            band=Least(Floor(F("raw_p") * Value(float(BANDS))), Value(BANDS - 1.0), output_field=FloatField())
        )
        .order_by()
        .values("shown_method", "target__risk_area", "target__port_id", "band")
        .annotate(
            n=Count("pk"),
            f=Count("pk", filter=Q(shown_outcome__in=list(FINDING_OUTCOMES))),
            s=Sum("raw_p"),
        )
    )
    return [
        (r["shown_method"], r["target__risk_area"], r["target__port_id"], int(r["band"]), r["n"], r["f"],
         float(r["s"] or 0.0))
        for r in rows
    ]  # fmt: skip


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


def capacity_for(port: Port, shift: str, date: Date) -> tuple[dict[str, int], dict[str, str]]:
    """Slots per method for the port's shift on ``date``: the weekly default, each method replaced by the
    calendar's row for the day when there is one; and where each figure comes from."""
    capacity = dict(PortCapacity.objects.filter(port=port, shift=shift).values_list("method", "slots"))
    source = dict.fromkeys(capacity, "weekly default")
    for method, slots, note in CapacityDay.objects.filter(port=port, shift=shift, date=date).values_list(
        "method", "slots", "note"
    ):
        capacity[method] = slots
        source[method] = f"calendar: {note}" if note else "calendar"
    return capacity, source


def free_capacity(port: Port, shift: str, date: Date | None = None) -> dict[str, int]:
    """Slots per method for the shift of ``date`` (today by default), minus the instructions of that date
    and shift still waiting at the port (an instruction's date is its proposal's, else the day it was sent)."""
    date = date or timezone.localdate()
    capacity, _ = capacity_for(port, shift, date)
    return _minus_waiting(capacity, port, shift, date)


def _minus_waiting(capacity: dict[str, int], port: Port, shift: str, date: Date) -> dict[str, int]:
    capacity = dict(capacity)
    waiting = (
        Instruction.objects.filter(port=port, shift=shift, target__state=TargetState.DISPATCHED)
        .annotate(day=Coalesce(F("proposal__date"), TruncDate("dispatched_at")))
        .filter(day=date)
        .order_by()
        .values("method")
        .annotate(n=Count("pk"))
    )
    for row in waiting:
        if row["method"] in capacity:
            capacity[row["method"]] = max(0, capacity[row["method"]] - row["n"])
    return capacity


def build_proposal(*, actor: User, port: Port, shift: str, date: Date | None = None) -> DispatchProposal:
    """Gather the candidates the actor may dispatch, optimise, and store the proposal with its reasons."""
    membership = membership_of(actor)
    date = date or timezone.localdate()
    default, source = capacity_for(port, shift, date)
    capacity = _minus_waiting(default, port, shift, date)
    calibration = Calibration.fit(recorded_counts(viewer=actor))
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
    area_of: dict[int, str] = {}
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
        area_of[t.pk] = t.risk_area
        if t.random_control:
            # Worth is measured by the method's detection rate alone: its score says nothing here.
            values = detection_rates(t, t.subject.kind, methods, calibration)
            p = finding_probability(t)
        else:
            values = method_values(t, t.subject.kind, methods, calibration)
            p = min(1.0, calibration.probability(finding_probability(t)))
        if not values:
            left_out.append(
                {
                    "target": t.pk,
                    "version": t.version,
                    "reason": "No suitable examination method has capacity this shift.",
                }
            )
            continue
        candidate = Candidate(t.pk, t.version, round(p, 6), values, order, t.reference)
        (randoms if t.random_control else candidates).append(candidate)

    def basis(target_id: int, method: str) -> str:
        return calibration.basis(method, area_of[target_id], port.pk).text(port.locode)

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
                             "value": 0.0, "random": True, "basis": basis(c.target_id, m)})  # fmt: skip
        else:
            left_out.append({"target": c.target_id, "version": c.version, "reason": refused[c.target_id]})
    floor: dict[str, float] = {}
    for c in candidates:
        if c.target_id in plan.chosen:
            m = plan.chosen[c.target_id]
            selected.append({"target": c.target_id, "version": c.version, "method": m, "p": c.p,
                             "value": c.values[m], "basis": basis(c.target_id, m)})  # fmt: skip
            floor[m] = min(floor.get(m, 1.0), c.values[m])
    for c in candidates:
        if c.target_id not in plan.chosen:
            best_m, best_v = max(c.values.items(), key=lambda kv: kv[1])
            reason = (
                f"Capacity full: {M(best_m).label.lower()} would find {best_v:.2f} expected, "
                f"below the {floor.get(best_m, 0):.2f} of the last target chosen for it."
            )
            left_out.append({"target": c.target_id, "version": c.version, "reason": reason, "value": best_v,
                             "basis": basis(c.target_id, best_m)})  # fmt: skip
    selected.sort(key=lambda r: (not r.get("random"), -r["value"]))
    return DispatchProposal.objects.create(
        port=port, shift=shift, date=date, agency=membership.agency, created_by=actor, capacity=capacity,
        capacity_source={m: source.get(m, "weekly default") for m in capacity},
        selected=selected, left_out=left_out, expected_findings=round(plan.total, 4),
        baseline_findings=round(baseline.total, 4),
    )  # fmt: skip

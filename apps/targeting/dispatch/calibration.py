"""The probability that an examination finds something, calibrated on recorded examinations (shrunk by cell and band, isotonic)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from itertools import pairwise
from typing import Any

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
from django.db.models.functions import Cast, Coalesce, Floor, Greatest, Least
from django.utils import timezone

from apps.targeting.dispatch.methods import DEFAULT_DETECTION, DETECTION, M

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
            # Every recorded band may sit at a raw p of 0 (only random-control targets examined so far).
            return p * knots[-1][1] / knots[-1][0] if knots[-1][0] > 0 else knots[-1][1]
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
            raw = [
                _shrink(band_sum[b][0], band_sum[b][1], band_sum[b][2], 1.0, kappa_band) * p
                for b, p in zip(used, mean_p, strict=True)
            ]
            fitted = _isotonic(raw, [band_sum[b][2] + kappa_band for b in used])
            cal.knots = list(zip(mean_p, fitted, strict=True))
            cal.band_g = [1.0] * BANDS
            for b, p, q in zip(used, mean_p, fitted, strict=True):
                cal.band_g[b] = q / p if p > 0 else 1.0
        cal.band_counts = [(int(n), int(f)) for f, _, n, _ in band_sum]
        # The sums are floats; the loops above typed ``n``, ``f`` and ``p`` as ints, hence the own names.
        for cell, (found, _, count) in cell_sum.items():
            cal.counts[cell] = (int(count), int(found))
        for pair, (found, _, count) in nat_sum.items():
            cal.national[pair] = (int(count), int(found))
        # Shown rates: the shrunk finding rate per examination of each cell and of the nation.
        for cell, (found, expected, count) in cell_sum.items():
            parent = cal.national_c[(cell[0], cell[1])]
            cal.cell_rate[cell] = (found + kappa * (expected / count) * parent) / (count + kappa)
        for pair, (found, expected, count) in nat_sum.items():
            parent = cal.method_c[pair[0]]
            cal.national_rate[pair] = (found + kappa * (expected / count) * parent) / (count + kappa)
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

# ruff: noqa: RUF002 - typographic dashes, minus and times signs are meant for readers
"""Lift, rates and their confidence intervals (Katz, Mantel–Haenszel, Wilson), and when there is too little to say."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from apps.reports.definitions import MIN_RANDOM_EXAMS, MIN_RANDOM_FINDINGS

Z95 = 1.959963984540054


Z_ONE_SIDED_5 = 1.6448536269514722


SILENT_DAYS = 180


REVIEW_DAYS = 365


MIN_EXAMS = 5


RULE_REF = re.compile(r"^rule:(\d+)@v(\d+)$")


@dataclass(frozen=True, slots=True)
class Lift:
    """Lift over random control with its 95 % interval (``corrected``: the 0.5 cell correction was used)."""

    value: float | None
    low: float | None
    high: float | None
    corrected: bool = False


def katz_lift(findings: int, exams: int, base_findings: int, base_exams: int, z: float = Z95) -> Lift:
    """Ratio of two proportions ``(a/n1) / (c/n0)`` with the Katz log-normal interval (see module)."""
    # Floats: the continuity correction below adds halves.
    a, n1, c, n0 = float(findings), float(exams), float(base_findings), float(base_exams)
    if n1 <= 0 or n0 <= 0:
        return Lift(None, None, None)
    value = (a / n1) / (c / n0) if c > 0 else None
    corrected = a == 0 or c == 0
    if corrected:
        a, c, n1, n0 = a + 0.5, c + 0.5, n1 + 1, n0 + 1
    ratio = (a / n1) / (c / n0)
    se = math.sqrt(max(0.0, 1 / a - 1 / n1 + 1 / c - 1 / n0))
    low, high = ratio * math.exp(-z * se), ratio * math.exp(z * se)
    return Lift(value, low, high, corrected)


def mh_lift(cells: list[tuple[int, int, int, int]], z: float = Z95) -> Lift:
    """Mantel–Haenszel ratio of proportions over strata with the Greenland–Robins interval (see module).

    ``cells`` holds ``(a, n1, c, n0)`` per stratum: the selector's findings and examinations, the random
    control's. One stratum is exactly :func:`katz_lift` (the Greenland–Robins variance reduces to Katz's).
    """
    cells = [(a, n1, c, n0) for a, n1, c, n0 in cells if n1 > 0 and n0 > 0]
    if not cells:
        return Lift(None, None, None)
    if len(cells) == 1:
        return katz_lift(*cells[0], z=z)

    def sums(rows: Sequence[tuple[float, float, float, float]]) -> tuple[float, float, float]:
        r = sum(a * n0 / (n1 + n0) for a, n1, c, n0 in rows)
        s = sum(c * n1 / (n1 + n0) for a, n1, c, n0 in rows)
        p = sum(n1 * n0 * (a + c) / (n1 + n0) ** 2 - a * c / (n1 + n0) for a, n1, c, n0 in rows)
        return r, s, p

    r, s, _ = sums(cells)
    if s <= 0:
        return Lift(None, None, None)
    value = r / s
    corrected = r == 0
    used = [(a + 0.5, n1 + 1, c + 0.5, n0 + 1) for a, n1, c, n0 in cells] if corrected else cells
    r, s, p = sums(used)
    ratio = r / s
    se = math.sqrt(max(0.0, p / (r * s)))
    return Lift(value, ratio * math.exp(-z * se), ratio * math.exp(z * se), corrected)


@dataclass(frozen=True, slots=True)
class Rate:
    """A proportion ``findings / exams`` with its Wilson 95 % interval (``None`` without examinations)."""

    findings: int
    exams: int
    value: float | None
    low: float | None
    high: float | None


def wilson(findings: int, exams: int, z: float = Z95) -> Rate:
    """The Wilson score interval of one proportion (see module): sound near 0 % and with few draws."""
    if exams <= 0:
        return Rate(findings, exams, None, None, None)
    p, n = findings / exams, exams
    centre = p + z * z / (2 * n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    scale = 1 + z * z / n
    return Rate(findings, exams, p, max(0.0, (centre - half) / scale), min(1.0, (centre + half) / scale))


def supports_lift(base_exams: int, base_findings: int) -> bool:
    """Whether a stratum's random sample is large enough to measure lift against."""
    return base_exams >= MIN_RANDOM_EXAMS and base_findings >= MIN_RANDOM_FINDINGS


def too_few(base_exams: int) -> str:
    """What the ledger says where the random sample cannot support a figure."""
    return f"too few random-control examinations ({base_exams}) to measure lift here"


def precision_falling(f_now: int, n_now: int, f_before: int, n_before: int) -> bool:
    """One-sided two-proportion z-test at 5 %: is precision now lower than before?"""
    if n_now < MIN_EXAMS or n_before < MIN_EXAMS:
        return False
    pooled = (f_now + f_before) / (n_now + n_before)
    if pooled in (0, 1):
        return False
    se = math.sqrt(pooled * (1 - pooled) * (1 / n_now + 1 / n_before))
    return (f_now / n_now - f_before / n_before) / se < -Z_ONE_SIDED_5

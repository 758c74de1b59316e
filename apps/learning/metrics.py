"""Ranking metrics for targeting: precision and recall at an inspection rate, and ROC AUC.

An *inspection rate* ``k`` is the share of declarations that can be examined (0 < k <= 1). The
``top_n(n, k) = max(1, round-half-up(k * n))`` highest-scored declarations are "inspected"; ties in the score
are broken by the original row order (a stable sort), so results are reproducible.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeAlias

import numpy as np
import pandas as pd

ArrayLike: TypeAlias = Sequence[float] | np.ndarray | pd.Series


def _arrays(y_true: ArrayLike, scores: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y_true, dtype=float)
    s = np.asarray(scores, dtype=float)
    if y.shape != s.shape or y.ndim != 1:
        raise ValueError("y_true and scores must be 1-d and of equal length")
    if len(y) == 0:
        raise ValueError("empty input")
    return (y > 0).astype(float), s


def top_n(n: int, k: float) -> int:
    """Number of declarations inspected out of ``n`` at inspection rate ``k``."""
    if not 0 < k <= 1:
        raise ValueError("inspection rate k must be in (0, 1]")
    return max(1, int(np.floor(k * n + 0.5)))


def _top_hits(y: np.ndarray, s: np.ndarray, k: float) -> tuple[int, float]:
    n_top = top_n(len(y), k)
    order = np.argsort(-s, kind="stable")[:n_top]
    return n_top, float(y[order].sum())


def precision_at(y_true: ArrayLike, scores: ArrayLike, k: float) -> float:
    """Share of findings among the top ``k`` fraction of declarations by score."""
    y, s = _arrays(y_true, scores)
    n_top, hits = _top_hits(y, s, k)
    return hits / n_top


def recall_at(y_true: ArrayLike, scores: ArrayLike, k: float) -> float:
    """Share of all findings that fall in the top ``k`` fraction (NaN when there are no findings)."""
    y, s = _arrays(y_true, scores)
    total = y.sum()
    if total == 0:
        return float("nan")
    _, hits = _top_hits(y, s, k)
    return hits / total


def auc(y_true: ArrayLike, scores: ArrayLike) -> float:
    """ROC AUC (Mann-Whitney, ties count one half); NaN when only one class is present."""
    y, s = _arrays(y_true, scores)
    n_pos = y.sum()
    n_neg = len(y) - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = pd.Series(s).rank(method="average").to_numpy()
    return float((ranks[y == 1].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def lift_at(y_true: ArrayLike, scores: ArrayLike, k: float) -> float:
    """Precision at ``k`` divided by the base finding rate (lift over random selection)."""
    y, _ = _arrays(y_true, scores)
    base = y.mean()
    return float("nan") if base == 0 else precision_at(y_true, scores, k) / base


def ranking_report(
    y_true: ArrayLike, scores: ArrayLike, rates: Sequence[float] = (0.01, 0.05, 0.10)
) -> dict[str, float]:
    """Precision and recall at each inspection rate, AUC, base rate and row count, as one dict.

    Keys look like ``precision@5%``, ``recall@5%``, ``auc``, ``base_rate``, ``n``.
    """
    y, _ = _arrays(y_true, scores)
    report: dict[str, float] = {}
    for k in rates:
        label = f"{k * 100:g}%"
        report[f"precision@{label}"] = precision_at(y_true, scores, k)
        report[f"recall@{label}"] = recall_at(y_true, scores, k)
    report["auc"] = auc(y_true, scores)
    report["base_rate"] = float(y.mean())
    report["n"] = float(len(y))
    return report

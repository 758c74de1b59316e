"""Population stability index (PSI): has the data or the score distribution moved?

PSI compares the distribution of a variable in a *reference* window (e.g. the model's training period)
with a *current* window (e.g. last month)::

    PSI = sum over bins of (current% - reference%) * ln(current% / reference%)

Numeric variables are binned at the reference window's quantiles (so each reference bin holds about the
same share); categorical variables use their values (rare or new values pooled into "other"); missing
values get a bin of their own. Conventional reading: below 0.1 stable, 0.1-0.2 a moderate shift worth
watching, 0.2 or more a significant shift (:data:`WARNING_THRESHOLD`): check the data feed and consider
retraining.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

WARNING_THRESHOLD = 0.2
#: Floor for empty bins so the logarithm stays finite.
EPSILON = 1e-4


@dataclass(frozen=True)
class DriftResult:
    """PSI of one variable between the reference and the current window."""

    name: str
    psi: float
    warning: bool


def _psi_from_shares(ref: np.ndarray, cur: np.ndarray) -> float:
    ref = np.clip(ref, EPSILON, None)
    cur = np.clip(cur, EPSILON, None)
    return float(np.sum((cur - ref) * np.log(cur / ref)))


def psi_numeric(reference: Iterable[float], current: Iterable[float], bins: int = 10) -> float:
    """PSI of a numeric variable, binned at the reference quantiles (NaN gets its own bin)."""
    ref = np.asarray(pd.Series(list(reference), dtype=float))
    cur = np.asarray(pd.Series(list(current), dtype=float))
    if len(ref) == 0 or len(cur) == 0:
        raise ValueError("both windows need at least one value")
    ref_ok, cur_ok = ref[~np.isnan(ref)], cur[~np.isnan(cur)]
    inner = np.linspace(0, 1, bins + 1)[1:-1]
    edges = np.unique(np.quantile(ref_ok, inner)) if len(ref_ok) else np.array([])
    ref_counts = np.bincount(np.searchsorted(edges, ref_ok, side="right"), minlength=len(edges) + 1)
    cur_counts = np.bincount(np.searchsorted(edges, cur_ok, side="right"), minlength=len(edges) + 1)
    ref_shares = np.append(ref_counts, np.isnan(ref).sum()) / len(ref)
    cur_shares = np.append(cur_counts, np.isnan(cur).sum()) / len(cur)
    return _psi_from_shares(ref_shares, cur_shares)


def psi_categorical(
    reference: Iterable[object], current: Iterable[object], min_share: float = 0.005
) -> float:
    """PSI of a categorical variable; values under ``min_share`` of the reference pool into "other"."""
    ref = pd.Series(list(reference), dtype=object).fillna("<missing>").astype(str)
    cur = pd.Series(list(current), dtype=object).fillna("<missing>").astype(str)
    if len(ref) == 0 or len(cur) == 0:
        raise ValueError("both windows need at least one value")
    shares = ref.value_counts(normalize=True)
    keep = set(shares[shares >= min_share].index)
    ref_b = ref.where(ref.isin(keep), "<other>").value_counts(normalize=True)
    cur_b = cur.where(cur.isin(keep), "<other>").value_counts(normalize=True)
    index = ref_b.index.union(cur_b.index)
    return _psi_from_shares(
        ref_b.reindex(index, fill_value=0).to_numpy(float), cur_b.reindex(index, fill_value=0).to_numpy(float)
    )


def psi(reference: pd.Series | np.ndarray, current: pd.Series | np.ndarray, bins: int = 10) -> float:
    """PSI choosing numeric or categorical treatment from the reference's dtype."""
    ref = pd.Series(reference)
    if pd.api.types.is_numeric_dtype(ref) and not pd.api.types.is_bool_dtype(ref):
        return psi_numeric(np.asarray(reference, float), np.asarray(current, float), bins=bins)
    return psi_categorical(ref, pd.Series(current))


def feature_drift(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    columns: Iterable[str] | None = None,
    threshold: float = WARNING_THRESHOLD,
) -> list[DriftResult]:
    """PSI per column (default: columns present in both frames), largest shift first."""
    names = list(columns) if columns is not None else [c for c in reference.columns if c in current.columns]
    results = []
    for name in names:
        value = psi(reference[name], current[name])
        results.append(DriftResult(name, value, value >= threshold))
    return sorted(results, key=lambda r: -r.psi)


def score_drift(
    reference_scores: np.ndarray, current_scores: np.ndarray, threshold: float = WARNING_THRESHOLD
) -> DriftResult:
    """PSI of the model's scores between two windows."""
    value = psi_numeric(reference_scores, current_scores)
    return DriftResult("score", value, value >= threshold)

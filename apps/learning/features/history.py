"""History features: per key, counts of earlier declarations, examinations and findings, and the
finding rate shrunk towards the prior of all earlier records (see :mod:`apps.learning.features`)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from apps.learning.features.spec import HISTORY_KEYS

#: Smoothing strength M of the Bayesian finding rates (pseudo-observations at the prior rate).
SMOOTHING = 2.0
#: Prior finding rate used while there is no labelled history at all.
DEFAULT_PRIOR = 0.2
#: Pseudo-observations at :data:`DEFAULT_PRIOR` in the finding rate of all earlier records (the prior).
PRIOR_SMOOTHING = 10.0
#: Most one examined record may weigh in the finding rates. A rate is taken over the few earlier
#: records of one key, where a 1 % random check at its full weight of 100 would decide the rate alone
#: (and a model scoring with such rates follows that one check); at ten, a random check still counts
#: for much more than a targeted one, about as much as the training weights' variance budget lets it
#: (:data:`apps.learning.selection.MIN_EFFECTIVE_SHARE` lowers their cap to about 7-13 at a 1 % share).
MAX_HISTORY_WEIGHT = 10.0


def _key_codes(c: pd.DataFrame, columns: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Integer group code per row for the key columns, and a mask of rows with a missing key part."""
    parts = c[list(columns)]
    missing = parts.isna().any(axis=1).to_numpy()
    codes = parts.astype(str).groupby(list(columns), sort=False, dropna=False).ngroup().to_numpy()
    return codes, missing


def _past_stats(
    codes: np.ndarray, t: np.ndarray, labelled: np.ndarray, y: np.ndarray, w: np.ndarray
) -> dict[str, np.ndarray]:
    """Per row, over records of the same key strictly before ``t``: declarations ``n``, labelled ones
    ``nl``, findings ``np``, and the sums of examination weights ``sw``, ``sw2`` (squares) and ``swy``
    (of findings). Also ``first``: the first date (``t``) the key was seen at all (may be the row's own).
    """
    df = pd.DataFrame(
        {"g": codes, "t": t, "n": 1, "nl": labelled, "np": y, "sw": w, "sw2": w * w, "swy": w * y}
    )
    columns = ["n", "nl", "np", "sw", "sw2", "swy"]
    agg = df.groupby(["g", "t"], sort=True)[columns].sum()
    before = agg.groupby(level=0).cumsum() - agg  # totals over strictly earlier dates of the key
    first = agg.reset_index().groupby("g")["t"].min()
    b = before.reindex(pd.MultiIndex.from_arrays([codes, t]))
    out = {c: b[c].to_numpy(float) for c in columns}
    out["first"] = first.reindex(codes).to_numpy(float)
    return out


def _shrunk_rate(sw: np.ndarray, sw2: np.ndarray, swy: np.ndarray, prior: np.ndarray, m: float) -> np.ndarray:
    """Weighted finding rate ``swy / sw`` shrunk towards ``prior`` by ``m`` pseudo-observations.

    The rate counts as many observations as the weights are worth (Kish's ``sw^2 / sw2``): one random-
    control check weighted 100 among a few certain ones is about one observation, not a hundred, so a
    key examined little stays near the prior. With every weight 1 this is
    ``(findings + m * prior) / (examined + m)``.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(sw > 0, swy / np.where(sw > 0, sw, 1.0), 0.0)
        n_eff = np.where(sw2 > 0, sw * sw / np.where(sw2 > 0, sw2, 1.0), 0.0)
    return (n_eff * rate + m * prior) / (n_eff + m)


def _global_prior(t: np.ndarray, w: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Weighted finding rate of all labelled records strictly before each row's date (shrunk to the
    default with :data:`PRIOR_SMOOTHING` pseudo-observations)."""
    df = pd.DataFrame({"t": t, "sw": w, "sw2": w * w, "swy": w * y})
    agg = df.groupby("t", sort=True)[["sw", "sw2", "swy"]].sum()
    before = agg.cumsum() - agg
    prior = _shrunk_rate(
        before["sw"].to_numpy(float),
        before["sw2"].to_numpy(float),
        before["swy"].to_numpy(float),
        np.full(len(before), DEFAULT_PRIOR),
        PRIOR_SMOOTHING,
    )
    return pd.Series(prior, index=agg.index).reindex(t).to_numpy(float)


def _history_features(c: pd.DataFrame, labelled: np.ndarray, y: np.ndarray, w: np.ndarray) -> pd.DataFrame:
    """History features for every row of ``c`` from rows of ``c`` with strictly earlier dates.

    ``w``: each labelled record's examination weight (:func:`history_weights`; 0 where unlabelled).
    """
    t = c["t"].to_numpy()
    prior = _global_prior(t, w, y)
    out: dict[str, np.ndarray] = {}
    for key in HISTORY_KEYS:
        codes, missing = _key_codes(c, key.columns)
        s = _past_stats(codes, t, labelled, y, w)
        n = s["n"]
        nan_if_missing = np.where(missing, np.nan, 1.0)
        out[f"{key.name}_n_before"] = n * nan_if_missing
        if not key.counts_only:
            out[f"{key.name}_examined_before"] = s["nl"] * nan_if_missing
            out[f"{key.name}_findings_before"] = s["np"] * nan_if_missing
            rate = _shrunk_rate(s["sw"], s["sw2"], s["swy"], prior, SMOOTHING)
            out[f"{key.name}_finding_rate"] = rate * nan_if_missing
        if key.identity:
            seen = n > 0
            out[f"{key.name}_first_seen"] = np.where(seen, 0.0, 1.0) * nan_if_missing
            out[f"{key.name}_days_known"] = np.where(seen, t - s["first"], 0.0) * nan_if_missing
    return pd.DataFrame(out, index=c.index)


def history_weights(propensity: np.ndarray | pd.Series | None, size: int) -> np.ndarray:
    """Examination weight of each record in the finding rates: ``1 / propensity``, at most
    :data:`MAX_HISTORY_WEIGHT`; 1 where the propensity is missing (selection not reconstructable)."""
    if propensity is None:
        return np.ones(size)
    p = pd.to_numeric(pd.Series(np.asarray(propensity)), errors="coerce").to_numpy(float)
    p = np.where(np.isnan(p) | (p <= 0), 1.0, np.clip(p, 1.0 / MAX_HISTORY_WEIGHT, 1.0))
    return 1.0 / p

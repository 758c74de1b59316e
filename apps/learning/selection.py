"""Correcting for selection bias: who was examined, and with what probability (plain arrays, no database).

Outcomes exist only for what the centre examined: the subjects the risk engine nominated (score at or
above the nomination threshold) and the random control (drawn by chance, at a known share per port and
kind). A model retrained on those alone learns the centre's own bias: it sees the high-score subjects
over and over and the rest of the traffic almost never.

**Inverse-propensity weights.** Each examined outcome is weighted by one over the probability that it
would be examined given what the centre knew when it selected (its *propensity*)::

    p = r + (1 - r) * s            r = P(selected by risk),  s = random-control share
    w = min(1 / p, cap)            then scaled so that the weights average 1 (self-normalised)
    cap = the largest value <= max_weight keeping  (sum w)^2 / sum w^2  >=  half the rows

The engine nominates deterministically (``r`` is 1 at or above the threshold, 0 below), so a subject
above the threshold has ``p = 1`` whether or not it was also drawn, and a random-control draw below it
has ``p = s`` (e.g. 1 % -> weight 100: it stands for the hundred sub-threshold subjects that were not
examined). Weighted this way, the examined outcomes represent the whole traffic, not the centre's
choice. An outcome whose selection we cannot reconstruct (imported history, a manual target without an
assessment) keeps ``p = 1``: we claim no correction we cannot justify.

The cap bounds the variance a handful of random checks can add. ``max_weight`` is a hard ceiling; the
effective-size floor (:data:`MIN_EFFECTIVE_SHARE`) lowers it when the random checks are few against
the targeted ones: pure ``1/p`` weighting is unbiased but, with a 1 % control, lets a few hundred
random results decide the model (measured in ``bench.selection_model``); the floor trades a little of
the correction for a model that does not follow their noise. Self-normalising keeps the total weight
equal to the number of rows, so LightGBM's per-leaf minimums keep their meaning.

**Exploration.** The random control *is* the exploration: it is drawn uniformly over the traffic at a
known share, independently of the score, so its propensity is exact. Sending near-threshold subjects to
examination on purpose would need the engine to record a per-subject probability at selection time;
until it does, the share of random control (``RiskSettings.random_control_share`` and the per-port,
per-kind rates) is the setting that buys the model its view of the unselected traffic.

**Support.** :func:`leaf_support` measures how much of each score rests on few examples: for every
tree leaf the effective number of examined outcomes behind it (``(sum w)^2 / sum w^2``), and for each
scored subject the share of its score (the absolute leaf values summed over trees) that comes from
leaves backed by fewer than ``min_examples`` of them.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

#: Largest weight one examined outcome may get (before self-normalisation): a 1 % random draw
#: stands for 100 subjects, so the default leaves the textbook weight untouched at the usual shares
#: and only caps very small shares.
DEFAULT_MAX_WEIGHT = 100.0
#: The variance budget: weights are capped lower if need be so that the examined outcomes stay worth
#: at least this share of their number (Kish's effective sample size). Without it a few hundred random
#: checks at weight 100 outweigh thousands of targeted ones and the model follows their noise.
MIN_EFFECTIVE_SHARE = 0.5
#: A leaf learnt from fewer effective examined outcomes than this is "thin".
THIN_LEAF_EXAMPLES = 30.0


def propensity(
    above_threshold: np.ndarray, random_share: np.ndarray | float, risk_probability: np.ndarray | None = None
) -> np.ndarray:
    """P(examined | what the centre knew at selection): ``r + (1 - r) * s`` per outcome.

    ``risk_probability`` (``r``) defaults to ``above_threshold`` as 0/1 (the engine's deterministic
    nomination); pass it when selection by risk was itself random (exploration).
    """
    above = np.asarray(above_threshold, dtype=bool)
    share = np.clip(np.broadcast_to(np.asarray(random_share, dtype=float), above.shape), 0.0, 1.0)
    r = (
        above.astype(float)
        if risk_probability is None
        else np.clip(np.asarray(risk_probability, float), 0, 1)
    )
    return r + (1.0 - r) * share


def ipw_weights(
    p: np.ndarray,
    *,
    max_weight: float = DEFAULT_MAX_WEIGHT,
    min_effective_share: float | None = MIN_EFFECTIVE_SHARE,
    normalise: bool = True,
) -> np.ndarray:
    """Inverse-propensity weights ``min(1/p, cap)``, scaled to average 1 when ``normalise``.

    The cap is ``max_weight``, lowered if need be so that the weights keep an effective sample size
    (:func:`effective_size`) of at least ``min_effective_share`` of the rows (None: no such floor):
    the variance budget of the correction. A propensity of 0 or less gets the cap.
    """
    p = np.asarray(p, dtype=float)
    if not len(p):
        return np.ones(0)
    with np.errstate(divide="ignore"):
        raw = np.where(p > 0, 1.0 / np.where(p > 0, p, 1.0), np.inf)
    cap = float(max_weight)
    if min_effective_share is not None:
        cap = _cap_for_effective_share(raw, cap, float(min_effective_share))
    w = np.minimum(raw, cap)
    return w * (len(w) / w.sum()) if normalise else w


def _cap_for_effective_share(raw: np.ndarray, cap: float, share: float) -> float:
    """The largest cap in [1, ``cap``] whose capped weights keep ``share`` of the rows as effective size.

    The effective size falls as the cap rises (weights at least 1), so a bisection finds it.
    """
    target = share * len(raw)
    if effective_size(np.minimum(raw, cap)) >= target:
        return cap
    lo, hi = 1.0, cap
    for _ in range(50):
        mid = (lo + hi) / 2
        if effective_size(np.minimum(raw, mid)) >= target:
            lo = mid
        else:
            hi = mid
    return lo


def effective_size(weights: np.ndarray) -> float:
    """Kish's effective sample size ``(sum w)^2 / sum w^2`` (n when all weights are equal)."""
    w = np.asarray(weights, dtype=float)
    total = float((w * w).sum())
    return float(w.sum() ** 2 / total) if total > 0 else 0.0


@dataclass(frozen=True)
class Support:
    """How much of the scores rests on thin leaves (see the module docstring)."""

    min_examples: float
    thin_share: np.ndarray  # per scored subject: share of |score| from thin leaves
    thin_leaves: int
    leaves: int

    def summary(self, scores: np.ndarray | None = None, bands: tuple[float, ...] = ()) -> dict:
        """A JSON-ready summary: mean share, subjects mostly on thin leaves, and per score band."""
        share = self.thin_share
        out: dict = {
            "min_examples": self.min_examples,
            "subjects": len(share),
            "mean_thin_share": round(float(share.mean()), 4) if len(share) else None,
            "mostly_thin": round(float((share > 0.5).mean()), 4) if len(share) else None,
            "thin_leaves": self.thin_leaves,
            "leaves": self.leaves,
            "bands": [],
        }
        if scores is not None and len(share):
            scores = np.asarray(scores, dtype=float)
            edges = [0.0, *bands, 1.0 + 1e-9]
            for lo, hi in itertools.pairwise(edges):
                inside = (scores >= lo) & (scores < hi)
                if inside.any():
                    out["bands"].append(
                        {
                            "from": lo,
                            "to": min(hi, 1.0),
                            "subjects": int(inside.sum()),
                            "mean_thin_share": round(float(share[inside].mean()), 4),
                            "mostly_thin": round(float((share[inside] > 0.5).mean()), 4),
                        }
                    )
        return out


def leaf_support(
    train_leaves: np.ndarray,
    train_weights: np.ndarray,
    scored_leaves: np.ndarray,
    leaf_values: list[np.ndarray],
    *,
    min_examples: float = THIN_LEAF_EXAMPLES,
) -> Support:
    """Support of each scored subject's score from the leaves it falls in.

    ``train_leaves`` / ``scored_leaves``: leaf index per row and tree (LightGBM ``pred_leaf``), for the
    examined outcomes the model learnt from and for the subjects scored; ``train_weights``: the training
    weights; ``leaf_values[t][leaf]``: the value tree ``t`` adds to the log-odds in that leaf.
    """
    train_leaves = np.asarray(train_leaves, dtype=int).reshape(len(train_weights), -1)
    scored_leaves = np.asarray(scored_leaves, dtype=int).reshape(len(scored_leaves), -1)
    w = np.asarray(train_weights, dtype=float)
    n_trees = train_leaves.shape[1]
    thin_mass = np.zeros(len(scored_leaves))
    total_mass = np.zeros(len(scored_leaves))
    thin_leaves = leaves = 0
    for t in range(n_trees):
        values = np.abs(np.asarray(leaf_values[t], dtype=float))
        size = len(values)
        sum_w = np.bincount(train_leaves[:, t], weights=w, minlength=size)
        sum_w2 = np.bincount(train_leaves[:, t], weights=w * w, minlength=size)
        with np.errstate(divide="ignore", invalid="ignore"):
            ess = np.where(sum_w2 > 0, sum_w**2 / sum_w2, 0.0)
        thin = ess < min_examples
        leaves += size
        thin_leaves += int(thin.sum())
        idx = scored_leaves[:, t]
        mass = values[idx]
        total_mass += mass
        thin_mass += np.where(thin[idx], mass, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(total_mass > 0, thin_mass / total_mass, 0.0)
    return Support(min_examples=min_examples, thin_share=share, thin_leaves=thin_leaves, leaves=leaves)

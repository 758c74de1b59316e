"""Selection-bias correction: propensities, inverse-propensity weights, support, and that it helps."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from apps.learning import features as F
from apps.learning.metrics import auc
from apps.learning.selection import effective_size, ipw_weights, leaf_support, propensity
from apps.learning.training import WEIGHT, train
from tests.learning import declarations
from tests.learning.conftest import FAST


def test_propensity_combines_risk_selection_and_the_random_share():
    above = np.array([True, False, False])
    assert propensity(above, 0.01).tolist() == [1.0, 0.01, 0.01]
    # Selection by risk that was itself a chance (exploration): r + (1 - r) * s.
    p = propensity(above, np.array([0.1, 0.1, 0.5]), risk_probability=np.array([1.0, 0.2, 0.0]))
    np.testing.assert_allclose(p, [1.0, 0.2 + 0.8 * 0.1, 0.5])


def test_weights_are_inverse_propensities_capped_and_self_normalised():
    p = np.array([1.0, 1.0, 0.01, 0.5])
    raw = ipw_weights(p, min_effective_share=None, normalise=False)
    np.testing.assert_allclose(raw, [1.0, 1.0, 100.0, 2.0])
    w = ipw_weights(p, min_effective_share=None)
    assert w.mean() == pytest.approx(1.0)
    assert w[2] / w[0] == pytest.approx(100.0)  # a 1 % draw stands for a hundred examined for sure
    capped = ipw_weights(
        np.array([1.0, 0.001, 0.0]), max_weight=20, min_effective_share=None, normalise=False
    )
    assert capped.tolist() == [1.0, 20.0, 20.0]


def test_the_variance_budget_lowers_the_cap_only_when_random_checks_are_few():
    # 900 targeted outcomes (p = 1) and 100 random draws at 1 %: pure 1/p leaves them worth ~110 rows.
    p = np.r_[np.ones(900), np.full(100, 0.01)]
    assert effective_size(ipw_weights(p, min_effective_share=None)) < 120
    w = ipw_weights(p, min_effective_share=0.5, normalise=False)
    assert effective_size(w) == pytest.approx(500, rel=0.01)
    assert 1 < w[-1] < 100 and w[0] == 1.0  # random draws still weigh more, by less
    # Half random, half targeted at a 50 % share: already worth more than half, untouched.
    even = np.r_[np.ones(500), np.full(500, 0.5)]
    assert ipw_weights(even, min_effective_share=0.5, normalise=False)[-1] == 2.0


def test_effective_size_counts_heavy_rows_as_few():
    assert effective_size(np.ones(50)) == pytest.approx(50)
    # Fifty rows where one weighs as much as the other 49 together: worth about four.
    assert effective_size(np.r_[np.ones(49), 49.0]) == pytest.approx(98**2 / (49 + 49**2))


def test_leaf_support_measures_the_share_of_score_from_thin_leaves():
    # Two trees. Tree 0: leaf 0 holds 40 rows of weight 1; leaf 1 holds 39 rows of weight 1 and one of
    # weight 10 (effective size 49^2 / 139, about 17: thin). Tree 1: one leaf with all 80 (about 44).
    train_leaves = np.zeros((80, 2), dtype=int)
    train_leaves[40:, 0] = 1
    weights = np.ones(80)
    weights[79] = 10.0
    values = [np.array([0.5, -1.5]), np.array([0.5])]
    scored = np.array([[0, 0], [1, 0]])
    support = leaf_support(train_leaves, weights, scored, values, min_examples=30)
    np.testing.assert_allclose(support.thin_share, [0.0, 1.5 / 2.0])
    assert (support.thin_leaves, support.leaves) == (1, 3)
    summary = support.summary(np.array([0.1, 0.9]), (0.5,))
    assert summary["mostly_thin"] == 0.5 and [b["subjects"] for b in summary["bands"]] == [1, 1]
    # Unweighted, the same leaf has 40 examples: nothing rests on few.
    assert leaf_support(train_leaves, np.ones(80), scored, values).thin_share.tolist() == [0.0, 0.0]


def _world(rows: pd.DataFrame, rng: np.random.Generator) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Real declarations with a generated origin (AA or BB) and a generated finding.

    Across the traffic BB is the risky origin (30 % irregular against 4 % for AA).
    """
    bb = rng.random(len(rows)) < 0.5
    rows = rows.assign(country_of_origin=np.where(bb, "BB", "AA"))
    y = (rng.random(len(rows)) < np.where(bb, 0.30, 0.04)).astype(int)
    return rows, bb, y


def test_correction_ranks_the_traffic_better_when_selection_used_what_the_model_cannot_see():
    """The centre's rules use intelligence the model does not have: for AA a precise tip (nine in ten
    irregular AA declarations are caught, hardly any clean one), for BB a weak rule. Examined AA
    declarations then look as risky as examined BB ones, unlike the traffic; the random
    control (5 %) is the only unbiased view. Weighted by inverse propensity, the model ranks new
    declarations by their real risk; unweighted, it learns the centre's bias."""
    rng = np.random.default_rng(1)
    frame = declarations()
    dates = frame["date"].astype(str)
    past, bb, y = _world(frame[(dates >= "2020-08-01") & (dates < "2020-12-01")].reset_index(drop=True), rng)
    new, bb_new, y_new = _world(frame[dates >= "2020-12-01"].reset_index(drop=True), rng)
    u = rng.random(len(past))
    by_rule = np.where(bb, u < np.where(y == 1, 0.10, 0.05), u < np.where(y == 1, 0.90, 0.02))
    drawn = rng.random(len(past)) < 0.05
    examined = by_rule | drawn
    assert y[examined & ~bb].mean() > y[~bb].mean() * 4  # examined AA looks far riskier than AA is

    labelled = past.assign(**{F.LABEL: y})[examined].reset_index(drop=True)
    weights = ipw_weights(propensity(by_rule, 0.05)[examined])
    corrected = train(labelled.assign(**{WEIGHT: weights}), params=FAST)
    uncorrected = train(labelled, params=FAST)

    history = past.assign(**{F.LABEL: np.where(examined, y, np.nan)})
    rows = new.drop(columns=list(F.LABEL_COLUMNS))
    s_corrected, s_uncorrected = corrected.score(rows, history), uncorrected.score(rows, history)
    assert s_corrected[bb_new].mean() > s_corrected[~bb_new].mean()  # BB ranked riskier, as it is
    assert auc(y_new, s_corrected) > 0.6
    assert auc(y_new, s_corrected) > auc(y_new, s_uncorrected) + 0.1


def test_support_shows_more_of_the_score_resting_on_few_examples_when_few_outcomes_weigh_much():
    from apps.learning.diagnostics import score_support

    frame = declarations()
    dates = frame["date"].astype(str)
    frame = frame[(dates >= "2020-11-16") & (dates <= "2020-12-24")].reset_index(drop=True)
    plain = score_support(train(frame, params=FAST), frame)
    # One outcome in ten a 1 % random draw: those weigh up to a hundred times the others.
    p = np.where(np.random.default_rng(0).random(len(frame)) < 0.1, 0.01, 1.0)
    weighted_frame = frame.assign(**{WEIGHT: ipw_weights(p)})
    weighted = score_support(train(weighted_frame, params=FAST), weighted_frame)
    assert plain["effective_outcomes"] == len(frame) > weighted["effective_outcomes"]
    assert weighted["mean_thin_share"] > plain["mean_thin_share"] + 0.03
    assert sum(b["subjects"] for b in weighted["bands"]) == weighted["subjects"] > 500

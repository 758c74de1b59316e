"""Hand-worked examples for the ranking metrics."""

from __future__ import annotations

import math

import numpy as np
import pytest

from apps.learning.metrics import auc, lift_at, precision_at, ranking_report, recall_at, top_n

Y = [1, 0, 1, 0, 0, 1, 0, 0, 0, 0]
S = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.0]


def test_top_n_rounds_half_up_and_inspects_at_least_one() -> None:
    assert top_n(10, 0.25) == 3
    assert top_n(10, 0.01) == 1
    assert top_n(200, 0.05) == 10
    with pytest.raises(ValueError):
        top_n(10, 0)


def test_precision_at_hand_worked() -> None:
    # top 2 of 10: scores 0.9 (1) and 0.8 (0) -> 1/2
    assert precision_at(Y, S, 0.2) == 0.5
    # top 3: 1, 0, 1 -> 2/3
    assert precision_at(Y, S, 0.3) == pytest.approx(2 / 3)
    assert precision_at(Y, S, 1.0) == pytest.approx(0.3)


def test_recall_at_hand_worked() -> None:
    assert recall_at(Y, S, 0.3) == pytest.approx(2 / 3)
    assert recall_at(Y, S, 0.6) == pytest.approx(1.0)
    assert math.isnan(recall_at([0, 0], [0.1, 0.2], 0.5))


def test_ties_are_broken_by_row_order() -> None:
    assert precision_at([0, 1], [0.5, 0.5], 0.5) == 0.0
    assert precision_at([1, 0], [0.5, 0.5], 0.5) == 1.0


def test_auc_hand_worked() -> None:
    # positives at ranks 10, 8, 5 of 10 (1 = lowest); negatives below them: 7 + 6 + 4 = 17 of 3 * 7 = 21 pairs
    assert auc(Y, S) == pytest.approx(17 / 21)
    assert auc([0, 1], [0.2, 0.2]) == 0.5
    assert auc([0, 0, 1, 1], [0.1, 0.2, 0.3, 0.4]) == 1.0
    assert math.isnan(auc([1, 1], [0.1, 0.2]))


def test_auc_matches_sklearn() -> None:
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 500)
    s = np.round(rng.random(500) + 0.3 * y, 2)  # with ties
    assert auc(y, s) == pytest.approx(roc_auc_score(y, s))


def test_lift_and_report() -> None:
    assert lift_at(Y, S, 0.2) == pytest.approx(0.5 / 0.3)
    report = ranking_report(Y, S, rates=(0.1, 0.3))
    assert report["precision@10%"] == 1.0
    assert report["recall@30%"] == pytest.approx(2 / 3)
    assert report["base_rate"] == pytest.approx(0.3)
    assert report["n"] == 10


def test_bad_input() -> None:
    with pytest.raises(ValueError):
        precision_at([1, 0], [0.1], 0.5)
    with pytest.raises(ValueError):
        auc([], [])

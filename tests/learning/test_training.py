"""Training on a sample of the real data: metrics, explanations, serialisation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from apps.learning import features as F
from apps.learning.training import TrainedModel, train
from tests.learning import declarations

FAST = {"max_rounds": 150, "early_stopping_rounds": 30, "learning_rate": 0.1}


@pytest.fixture(scope="module")
def data() -> tuple[pd.DataFrame, pd.DataFrame]:
    frame = declarations()
    frame = frame.sample(12000, random_state=11).reset_index(drop=True)
    dates = pd.to_datetime(frame["date"])
    return frame[dates < "2020-12-01"].reset_index(drop=True), frame[dates >= "2020-12-01"].reset_index(
        drop=True
    )


@pytest.fixture(scope="module")
def trained(data: tuple[pd.DataFrame, pd.DataFrame]) -> tuple[TrainedModel, list[tuple[float, str]]]:
    calls: list[tuple[float, str]] = []
    model = train(data[0], params=FAST, progress=lambda f, m: calls.append((f, m)))
    return model, calls


def test_metrics_present_and_sane(trained: tuple[TrainedModel, list[tuple[float, str]]]) -> None:
    model, _ = trained
    m = model.metrics
    for k in ("1%", "5%", "10%"):
        assert 0 <= m[f"precision@{k}"] <= 1
        assert 0 <= m[f"recall@{k}"] <= 1
    assert m["auc"] > 0.75
    assert m["precision@5%"] > 2 * m["base_rate"]
    assert 0.05 < m["mean_predicted"] < 0.5
    assert m["n"] > 500


def test_progress_reported(trained: tuple[TrainedModel, list[tuple[float, str]]]) -> None:
    _, calls = trained
    fractions = [f for f, _ in calls]
    assert fractions[0] == 0.0 and fractions[-1] == 1.0
    assert fractions == sorted(fractions)
    assert all(isinstance(msg, str) and msg for _, msg in calls)


def test_scores_are_probabilities_and_rank_new_data(
    trained: tuple[TrainedModel, list[tuple[float, str]]], data: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    model, _ = trained
    history, new = data
    y = new["fraud"].to_numpy()
    p = model.score(new.drop(columns=list(F.LABEL_COLUMNS)), history)
    assert p.shape == (len(new),)
    assert ((p > 0) & (p < 1)).all()
    assert p[y == 1].mean() > p[y == 0].mean() + 0.2


def test_explanations_sum_to_raw_score(
    trained: tuple[TrainedModel, list[tuple[float, str]]], data: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    model, _ = trained
    history, new = data
    rows = new.head(50)
    contrib = model.contributions(rows, history)
    raw = model.raw_score(rows, history)
    np.testing.assert_allclose(contrib.sum(axis=1).to_numpy(), raw, atol=1e-6)
    explained = model.explain(rows, history, top=5)
    assert len(explained) == len(rows)
    for i, items in enumerate(explained):
        assert len(items) == 5
        sizes = [abs(c) for _, c, _ in items]
        assert sizes == sorted(sizes, reverse=True)
        for name, value, words in items:
            assert value == pytest.approx(contrib.iloc[i][name])
            assert words.startswith(F.SPEC.describe(name))


def test_serialise_roundtrip(
    trained: tuple[TrainedModel, list[tuple[float, str]]], data: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    model, _ = trained
    history, new = data
    blob = model.to_bytes()
    assert isinstance(blob, bytes) and len(blob) > 1000
    loaded = TrainedModel.from_bytes(blob)
    np.testing.assert_array_equal(loaded.score(new, history), model.score(new, history))
    assert loaded.metrics == model.metrics
    assert loaded.spec.names == model.spec.names


def test_revenue_at_stake(trained: tuple[TrainedModel, list[tuple[float, str]]]) -> None:
    model, _ = trained
    frame = declarations().head(3)
    p = np.array([0.5, 0.1, 1.0])
    expected = p * frame["item_price"].to_numpy() * frame["tax_rate"].to_numpy() / 100
    np.testing.assert_allclose(model.revenue_at_stake(frame, p), expected)


def test_needs_labels() -> None:
    with pytest.raises(ValueError, match="label"):
        train(declarations().head(100).drop(columns=["fraud"]))

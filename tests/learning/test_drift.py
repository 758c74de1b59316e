"""Population stability index."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from apps.learning.drift import (
    WARNING_THRESHOLD,
    feature_drift,
    psi,
    psi_categorical,
    psi_numeric,
    score_drift,
)


def test_same_distribution_is_stable() -> None:
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=5000), rng.normal(size=5000)
    assert psi_numeric(a, a) == pytest.approx(0.0, abs=1e-12)
    assert psi_numeric(a, b) < 0.05


def test_shift_raises_warning() -> None:
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=5000), rng.normal(loc=1.0, size=5000)
    assert psi_numeric(a, b) > WARNING_THRESHOLD
    result = score_drift(a, b)
    assert result.warning and result.name == "score"


def test_hand_worked_two_bins() -> None:
    # reference splits 50/50 at its median; current is 80/20 -> (0.3 ln 1.6) + (-0.3 ln 0.4)
    ref = np.array([0.0, 0.0, 1.0, 1.0])
    cur = np.array([0.0] * 8 + [1.0] * 2)
    expected = 0.3 * np.log(0.8 / 0.5) + (-0.3) * np.log(0.2 / 0.5)
    assert psi_numeric(ref, cur, bins=2) == pytest.approx(expected)


def test_missing_values_have_their_own_bin() -> None:
    ref = np.array([1.0, 2.0, 3.0, 4.0] * 50)
    cur = np.array([1.0, 2.0, np.nan, np.nan] * 50)
    assert psi_numeric(ref, cur) > WARNING_THRESHOLD


def test_categorical() -> None:
    ref = ["CN"] * 60 + ["US"] * 40
    assert psi_categorical(ref, ref) == pytest.approx(0.0)
    assert psi_categorical(ref, ["CN"] * 20 + ["US"] * 20 + ["VN"] * 60) > WARNING_THRESHOLD
    assert psi(pd.Series(ref), pd.Series(ref)) == pytest.approx(0.0)


def test_feature_drift_sorted_and_flagged() -> None:
    rng = np.random.default_rng(3)
    ref = pd.DataFrame({"a": rng.normal(size=2000), "b": rng.normal(size=2000), "c": ["x"] * 2000})
    cur = pd.DataFrame({"a": rng.normal(size=2000), "b": rng.normal(2, 1, size=2000), "c": ["x"] * 2000})
    results = feature_drift(ref, cur)
    assert results[0].name == "b"
    assert results[0].warning
    assert not any(r.warning for r in results[1:])

"""Core additions used by the product: per-row training weights, and scoring with explanations at once."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from apps.learning import features as F
from apps.learning.training import WEIGHT, train
from tests.learning import declarations

QUICK = {"max_rounds": 60, "early_stopping_rounds": 20, "learning_rate": 0.15}


@pytest.fixture(scope="module")
def december() -> tuple[pd.DataFrame, pd.DataFrame]:
    frame = declarations()
    dates = frame["date"].astype(str)
    return (
        frame[(dates >= "2020-12-01") & (dates < "2020-12-25")].reset_index(drop=True),
        frame[dates >= "2020-12-28"].reset_index(drop=True),
    )


def test_weights_change_the_fit_and_are_not_an_input(december):
    history, _ = december
    plain = train(history, params=QUICK)
    weighted = history.assign(**{WEIGHT: np.where(history["fraud"] > 0, 5.0, 1.0)})
    heavy = train(weighted, params=QUICK)
    assert WEIGHT not in heavy.spec.names
    rows = history.head(200)
    assert not np.allclose(plain.score(rows), heavy.score(rows))


def test_score_and_explain_match_score_and_explain(december):
    history, new = december
    model = train(history, params=QUICK)
    rows = new.drop(columns=list(F.LABEL_COLUMNS)).head(40)
    p, explained = model.score_and_explain(rows, history, top=3)
    np.testing.assert_allclose(p, model.score(rows, history))
    assert explained == model.explain(rows, history, top=3)


def test_frame_labels_count_only_for_later_rows(december):
    history, new = december
    model = train(history, params=QUICK)
    rows = new.head(300)
    without = model.features(rows.drop(columns=list(F.LABEL_COLUMNS)), history)
    with_labels = model.features(rows, history, use_frame_labels=True)
    first_day = (pd.to_datetime(rows["date"]) == pd.to_datetime(rows["date"]).min()).to_numpy()
    # Rows of the first day cannot see any label of the frame: identical inputs.
    pd.testing.assert_frame_equal(without[first_day], with_labels[first_day])


def test_unexamined_declarations_count_in_training_history_as_at_scoring(december):
    """A model trained on examined declarations sees the same history features as when it scores.

    The declarations nobody examined are passed as ``context``: each examined row's "declarations of this
    importer before" counts them, as scoring does, and they are never fitted.
    """
    from apps.learning.training import _with_context

    history, _ = december
    examined = (np.arange(len(history)) % 10) == 0
    rows = history[examined].reset_index(drop=True)
    context = history[~examined].drop(columns=list(F.LABEL_COLUMNS)).reset_index(drop=True)

    # What scoring would see: every declaration, labelled only where examined.
    full = history.assign(**{F.LABEL: np.where(examined, history[F.LABEL], np.nan)})
    served = F.build_features(full, use_frame_labels=True)[examined].reset_index(drop=True)
    trained_on = _with_context(
        rows, context.assign(date=pd.to_datetime(context["date"])), use_frame_labels=True
    )
    pd.testing.assert_frame_equal(trained_on.reset_index(drop=True), served, check_dtype=False)
    alone = F.build_features(rows, use_frame_labels=True)
    assert (alone["importer_n_before"] < served["importer_n_before"]).any()

    model = train(rows, context=context, params=QUICK)
    assert model.info["trained_rows"] == len(rows)
    assert model.info["context_rows"] == len(context)

"""What a model version keeps about its model, computed at training time: the inputs it leans on
(:func:`feature_importance`), the reference its drift is measured against (:func:`drift_reference`), and
how much of its scores rests on few examined outcomes (:func:`score_support`). Pure: no database."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from apps.learning import features as F
from apps.learning import selection as S
from apps.learning.training import TrainedModel

#: Rows of the drift reference kept with the model, and features compared each week.
REFERENCE_ROWS = 2000
DRIFT_FEATURES = 10


def feature_importance(model: TrainedModel, top: int = 25) -> list[dict[str, Any]]:
    """Total gain per feature, with its plain-words description and share of all gain, largest first."""
    gains = np.asarray(model.booster.feature_importance(importance_type="gain"), dtype=float)
    total = float(gains.sum()) or 1.0
    order = np.argsort(-gains, kind="stable")[:top]
    return [
        {
            "name": model.spec.names[i],
            "description": model.spec.describe(model.spec.names[i]),
            "gain": round(float(gains[i]), 2),
            "share": round(float(gains[i]) / total, 4),
        }
        for i in order
        if gains[i] > 0
    ]


def _late_part(frame: pd.DataFrame, holdout: float = 0.2) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The training window split by date: the earlier part, and a sample of at most
    :data:`REFERENCE_ROWS` of the last ``holdout`` share with its labels removed."""
    data = frame.sort_values("date", kind="stable").reset_index(drop=True)
    cut = data["date"].iloc[min(len(data) - 1, int(len(data) * (1 - holdout)))]
    early, late = data[data["date"] < cut], data[data["date"] >= cut]
    if late.empty or early.empty:
        early, late = data.iloc[:0], data
    late = late.drop(columns=list(F.LABEL_COLUMNS), errors="ignore")
    if len(late) > REFERENCE_ROWS:
        late = late.sample(REFERENCE_ROWS, random_state=7).sort_index()
    return early, late


def drift_reference(model: TrainedModel, frame: pd.DataFrame, holdout: float = 0.2) -> dict[str, Any]:
    """Scores and top inputs of the latest part of the training window, featurised as in production.

    The last ``holdout`` share of the window (by date) is scored with its labels hidden and the earlier
    part as history, exactly as new declarations are; a sample of at most :data:`REFERENCE_ROWS` rows
    is kept. In-sample scores would be more extreme than production ones and show drift that is not.
    """
    early, late = _late_part(frame, holdout)
    x = model.features(late, early)
    scores = model.calibrate(model._raw(x))
    names = [f["name"] for f in feature_importance(model, top=DRIFT_FEATURES)]
    return {
        "rows": len(late),
        "window": [str(late["date"].min().date()), str(late["date"].max().date())],
        "scores": [round(float(s), 5) for s in scores],
        "features": {n: [None if np.isnan(v) else float(v) for v in x[n].to_numpy(float)] for n in names},
    }


#: Score bands (calibrated probability) of the support table on the model page.
SUPPORT_BANDS = (0.2, 0.5, 0.8)


def score_support(model: TrainedModel, frame: pd.DataFrame) -> dict[str, Any]:
    """How much of the scores rests on tree leaves learnt from few examined outcomes.

    Every leaf of the model gets the effective number of examined outcomes behind it (Kish's
    ``(sum w)^2 / sum w^2`` of the training weights of the rows that fall in it: a leaf where one
    random-control result weighted 100 sits among a few others counts as about one example). The
    latest part of the training window is scored as new declarations are (labels hidden, the earlier
    part as history), and for each of those the share of its score (absolute leaf values summed over
    trees) that comes from leaves with fewer than :data:`apps.learning.selection.THIN_LEAF_EXAMPLES`.
    """
    weights = (
        pd.to_numeric(frame["weight"], errors="coerce").fillna(1.0).to_numpy(float)
        if "weight" in frame.columns
        else np.ones(len(frame))
    )
    x_train = model.features(frame, use_frame_labels=True)
    train_leaves = np.asarray(model.booster.predict(x_train, pred_leaf=True), dtype=int)
    early, late = _late_part(frame)
    x_late = model.features(late, early)
    scored_leaves = np.asarray(model.booster.predict(x_late, pred_leaf=True), dtype=int)
    n_trees = model.booster.num_trees()
    train_leaves = train_leaves.reshape(len(x_train), n_trees)
    scored_leaves = scored_leaves.reshape(len(x_late), n_trees)
    values = []
    for t in range(n_trees):
        size = int(max(train_leaves[:, t].max(initial=0), scored_leaves[:, t].max(initial=0))) + 1
        values.append(np.array([model.booster.get_leaf_output(t, leaf) for leaf in range(size)]))
    if values:
        # LightGBM folds the average log-odds of all the training data into the first tree's leaves:
        # that part rests on every example, so only the first tree's departures from it count.
        values[0] = values[0] - np.average(values[0][train_leaves[:, 0]], weights=weights)
    support = S.leaf_support(train_leaves, weights, scored_leaves, values)
    scores = model.calibrate(model._raw(x_late))
    summary = support.summary(scores, SUPPORT_BANDS)
    summary["effective_outcomes"] = round(S.effective_size(weights), 1)
    summary["outcomes"] = len(weights)
    return summary

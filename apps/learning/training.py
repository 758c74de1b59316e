"""Training, scoring and explaining the risk model (gradient-boosted trees, calibrated).

``train(frame)`` takes labelled declarations (our normalised columns or the public CSV headers) and:

1. sorts them by date and splits off the most recent ``holdout_fraction`` of the time window as a
   holdout; the holdout is split again by time into a *calibration* half (early stopping and Platt
   calibration) and a *test* half (the reported metrics), so the metrics are out of time and untouched
   by any fitting;
2. builds features with :func:`apps.learning.features.build_features`: training rows see labels of
   strictly earlier dates only; holdout rows are featurised as they would be in production, i.e. with the
   training part as labelled history and their own labels hidden;
3. fits LightGBM with early stopping on the calibration half, fits Platt scaling (a logistic curve on the
   raw log-odds; strictly monotone, so it keeps the ranking and the tree explanations stay additive);
4. refits on the whole window with the chosen number of trees (default; ``refit=False`` keeps the model
   trained on the earlier part) and keeps the calibration curve.

The resulting :class:`TrainedModel` scores new declarations given their labelled history, explains each
score with per-feature tree contributions (``pred_contrib``), estimates revenue at stake and serialises
to bytes.

Revenue at stake: ``p x item_price x tax_rate / 100``, i.e. the calibrated probability of a finding times
the duty due on the declared value. It is an order-of-magnitude guide for ranking work of equal
probability, not an assessment of evaded duty (the under-declared amount is unknown before examination).
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import joblib
import lightgbm as lgb
import numpy as np
import pandas as pd

from apps.learning import features as F
from apps.learning.metrics import ranking_report

ProgressCallback = Callable[[float, str], None]
Explanation = list[tuple[str, float, str]]

#: LightGBM parameters (override any of them through ``train(params=...)``).
DEFAULT_LGB_PARAMS: dict[str, Any] = {
    "objective": "binary",
    "learning_rate": 0.03,
    "num_leaves": 31,
    "min_data_in_leaf": 20,
    "feature_fraction": 0.7,
    "bagging_fraction": 0.9,
    "bagging_freq": 1,
    "lambda_l2": 1.0,
    "cat_smooth": 10.0,
    "max_cat_to_onehot": 8,
    "seed": 17,
    "num_threads": 1,  # OpenMP threads spin badly on a shared, busy machine; 1 is robust
    "deterministic": True,
    "verbosity": -1,
}

#: Training options that are not LightGBM parameters.
DEFAULT_OPTIONS: dict[str, Any] = {
    "holdout_fraction": 0.2,
    "max_rounds": 1500,
    "early_stopping_rounds": 100,
    "refit": True,
}

MODEL_FORMAT = 1
#: Optional column of per-row training weights (not a model input).
WEIGHT = "weight"


def _noop(_fraction: float, _message: str) -> None:
    return None


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _fit_platt(
    margin: np.ndarray, y: np.ndarray, iterations: int = 200, weight: np.ndarray | None = None
) -> tuple[float, float]:
    """Fit ``p = sigmoid(a * margin + b)`` by Newton's method on the (weighted) log loss, Platt's targets.

    ``weight``: per-row weights (the selection-bias weights), so that probabilities are calibrated to
    the traffic the weights stand for rather than to the examined sample.
    """
    sw = np.ones(len(y)) if weight is None else np.asarray(weight, dtype=float)
    n_pos = float(sw[y > 0].sum())
    n_neg = float(sw[y <= 0].sum())
    if n_pos == 0 or n_neg == 0:
        return 1.0, 0.0
    # Platt's smoothed targets avoid infinite slopes on separable data.
    target = np.where(y > 0, (n_pos + 1) / (n_pos + 2), 1 / (n_neg + 2))
    a, b = 1.0, 0.0
    for _ in range(iterations):
        p = _sigmoid(a * margin + b)
        w = sw * np.maximum(p * (1 - p), 1e-12)
        g = np.array([np.sum(sw * (p - target) * margin), np.sum(sw * (p - target))])
        h = np.array(
            [[np.sum(w * margin * margin), np.sum(w * margin)], [np.sum(w * margin), np.sum(w)]]
        ) + 1e-9 * np.eye(2)
        step = np.linalg.solve(h, g)
        a, b = a - step[0], b - step[1]
        if np.max(np.abs(step)) < 1e-10:
            break
    return float(a), float(b)


@dataclass
class TrainedModel:
    """A trained, calibrated risk model with its feature spec and category maps.

    ``score``/``explain`` take the declarations to score and, separately, their labelled ``history``
    (past declarations with the ``fraud`` result); the history features of each row use only records
    dated strictly before it.
    """

    booster: lgb.Booster
    platt: tuple[float, float]
    category_maps: F.CategoryMaps
    spec: F.FeatureSpec
    metrics: dict[str, float]
    params: dict[str, Any]
    info: dict[str, Any] = field(default_factory=dict)

    # -- features ------------------------------------------------------------------------------
    def features(
        self, frame: pd.DataFrame, history: pd.DataFrame | None = None, *, use_frame_labels: bool = False
    ) -> pd.DataFrame:
        """Encoded model inputs for ``frame`` given labelled ``history``.

        ``use_frame_labels``: labels present in ``frame`` count as history for the frame's later-dated
        rows (never for a row itself or its same-day rows; see :func:`apps.learning.features.build_features`).
        """
        raw = F.build_features(frame, history, use_frame_labels=use_frame_labels)
        return F.encode_categories(raw, self.category_maps)[self.spec.names]

    # -- scores ------------------------------------------------------------------------------
    def raw_score(self, frame: pd.DataFrame, history: pd.DataFrame | None = None) -> np.ndarray:
        """Uncalibrated log-odds of a finding (what the tree explanations add up to)."""
        return self._raw(self.features(frame, history))

    def _raw(self, x: pd.DataFrame) -> np.ndarray:
        return np.asarray(self.booster.predict(x, raw_score=True), dtype=float)

    def calibrate(self, raw: np.ndarray) -> np.ndarray:
        """Calibrated probability of a finding from raw log-odds."""
        a, b = self.platt
        return _sigmoid(a * np.asarray(raw, dtype=float) + b)

    def score(self, frame: pd.DataFrame, history: pd.DataFrame | None = None) -> np.ndarray:
        """Calibrated probability of a finding for each row of ``frame`` (in row order)."""
        return self.calibrate(self.raw_score(frame, history))

    def revenue_at_stake(self, frame: pd.DataFrame, probabilities: np.ndarray | None = None) -> np.ndarray:
        """Expected revenue at stake: ``p x item_price x tax_rate / 100`` (NaN where value/tax unknown).

        ``probabilities`` defaults to :meth:`score` without history.
        """
        f = F.normalise_columns(frame)
        p = self.score(frame) if probabilities is None else np.asarray(probabilities, dtype=float)
        value = pd.to_numeric(f["item_price"], errors="coerce").to_numpy(float)
        rate = pd.to_numeric(f["tax_rate"], errors="coerce").to_numpy(float)
        return p * value * rate / 100.0

    # -- explanations -------------------------------------------------------------------------
    def contributions(self, frame: pd.DataFrame, history: pd.DataFrame | None = None) -> pd.DataFrame:
        """Per-feature contributions to the raw log-odds, plus a ``bias`` column; rows sum to the raw score."""
        x = self.features(frame, history)
        contrib = np.asarray(self.booster.predict(x, pred_contrib=True), dtype=float)
        return pd.DataFrame(contrib, columns=[*self.spec.names, "bias"], index=frame.index)

    def explain(
        self, frame: pd.DataFrame, history: pd.DataFrame | None = None, top: int = 5
    ) -> list[Explanation]:
        """For each row, the ``top`` features with the largest absolute contribution.

        Each item is ``(feature, contribution, plain_words)``: the contribution is in raw log-odds
        (positive raises the risk); the plain words give the feature's meaning and this row's value.
        """
        x = self.features(frame, history)
        contrib = np.asarray(self.booster.predict(x, pred_contrib=True), dtype=float)[:, :-1]
        return self._explain_rows(x, contrib, top)

    def score_and_explain(
        self,
        frame: pd.DataFrame,
        history: pd.DataFrame | None = None,
        top: int = 5,
        *,
        use_frame_labels: bool = False,
    ) -> tuple[np.ndarray, list[Explanation]]:
        """:meth:`score` and :meth:`explain` together, building the features once (the costly part)."""
        x = self.features(frame, history, use_frame_labels=use_frame_labels)
        contrib = np.asarray(self.booster.predict(x, pred_contrib=True), dtype=float)
        probabilities = self.calibrate(contrib.sum(axis=1))
        return probabilities, self._explain_rows(x, contrib[:, :-1], top)

    def _explain_rows(self, x: pd.DataFrame, contrib: np.ndarray, top: int) -> list[Explanation]:
        names = self.spec.names
        values = x.to_numpy(float)
        out: list[Explanation] = []
        for i in range(len(x)):
            order = np.argsort(-np.abs(contrib[i]), kind="stable")[:top]
            row: Explanation = []
            for j in order:
                name = names[j]
                words = F.feature_value_words(name, values[i, j], self.category_maps)
                row.append((name, float(contrib[i, j]), f"{self.spec.describe(name)}: {words}"))
            out.append(row)
        return out

    # -- persistence ---------------------------------------------------------------------------
    def to_bytes(self) -> bytes:
        """Serialise (joblib) the booster (as text), calibration, spec, category maps and metrics."""
        payload = {
            "format": MODEL_FORMAT,
            "booster": self.booster.model_to_string(),
            "platt": self.platt,
            "category_maps": self.category_maps,
            "spec": self.spec,
            "metrics": self.metrics,
            "params": self.params,
            "info": self.info,
        }
        buf = io.BytesIO()
        joblib.dump(payload, buf, compress=3)
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> TrainedModel:
        """Load a model written by :meth:`to_bytes`. Only load bytes this application wrote (pickle)."""
        payload = joblib.load(io.BytesIO(data))
        if payload.get("format") != MODEL_FORMAT:
            raise ValueError(f"unsupported model format {payload.get('format')!r}")
        return cls(
            booster=lgb.Booster(model_str=payload["booster"]),
            platt=tuple(payload["platt"]),
            category_maps=payload["category_maps"],
            spec=payload["spec"],
            metrics=payload["metrics"],
            params=payload["params"],
            info=payload["info"],
        )


def _context_rows(context: pd.DataFrame | None, data: pd.DataFrame) -> pd.DataFrame:
    """Unexamined declarations dated within the labelled window, label hidden, in date order."""
    if context is None or not len(context):
        return data.iloc[:0].drop(columns=[WEIGHT], errors="ignore")
    ctx = F.normalise_columns(context).drop(columns=[WEIGHT, *F.LABEL_COLUMNS], errors="ignore")
    ctx = ctx.assign(date=pd.to_datetime(ctx["date"]).dt.normalize())
    ctx = ctx[ctx["date"] <= pd.to_datetime(data["date"]).max().normalize()]
    if "declaration_id" in ctx.columns and "declaration_id" in data.columns:
        ctx = ctx[~ctx["declaration_id"].isin(set(data["declaration_id"]))]  # a labelled row is not context
    return ctx.sort_values("date", kind="stable").reset_index(drop=True).assign(**{F.LABEL: np.nan})


def _with_context(
    rows: pd.DataFrame,
    context: pd.DataFrame,
    *,
    history: pd.DataFrame | None = None,
    use_frame_labels: bool = False,
) -> pd.DataFrame:
    """Features of ``rows`` (in their order) with the unlabelled ``context`` counted as declarations."""
    if not len(context):
        return F.build_features(rows, history, use_frame_labels=use_frame_labels)
    both = pd.concat([rows.reset_index(drop=True), context], ignore_index=True)
    out = F.build_features(both, history, use_frame_labels=use_frame_labels).iloc[: len(rows)]
    out.index = rows.index
    return out


def _split_by_time(frame: pd.DataFrame, fraction: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split a date-sorted frame at a date boundary so that about ``fraction`` of rows are later."""
    dates = pd.to_datetime(frame["date"]).dt.normalize()
    cut = dates.iloc[min(len(frame) - 1, int(len(frame) * (1 - fraction)))]
    early = (dates < cut).to_numpy()
    if early.all() or not early.any():
        raise ValueError("training window too short for a time-ordered holdout (needs several dates)")
    return frame[early], frame[~early]


def _dataset(
    x: pd.DataFrame,
    y: np.ndarray,
    reference: lgb.Dataset | None = None,
    weight: np.ndarray | None = None,
) -> lgb.Dataset:
    return lgb.Dataset(
        x,
        label=y,
        weight=weight,
        categorical_feature=F.SPEC.categorical,
        reference=reference,
        free_raw_data=False,
    )


def train(
    frame: pd.DataFrame,
    *,
    context: pd.DataFrame | None = None,
    params: dict[str, Any] | None = None,
    progress: ProgressCallback | None = None,
) -> TrainedModel:
    """Train a calibrated LightGBM risk model on labelled declarations.

    ``params`` may override LightGBM parameters (:data:`DEFAULT_LGB_PARAMS`) and the options in
    :data:`DEFAULT_OPTIONS` (``holdout_fraction``, ``max_rounds``, ``early_stopping_rounds``, ``refit``).
    ``progress(fraction, message)`` is called as work advances (0 to 1). Metrics are computed on the
    later half of the time-ordered holdout (see the module docstring).

    An optional :data:`WEIGHT` column gives each row's weight in the fit (e.g. random-control results
    weighted by inverse propensity against selection bias, see :mod:`apps.learning.selection`); it is
    never an input; the Platt calibration is weighted too, the reported metrics stay unweighted.

    ``context``: the declarations of the same window that were never examined (no label). They are never
    fitted, but they count as earlier declarations in the history features, exactly as they do when the
    model scores: without them a model trained on examined declarations alone learns "declarations of
    this importer before" from the examined ones only, and meets the full count at scoring time.
    """
    report = progress or _noop
    started = time.perf_counter()
    options, lgb_params = _split_params(params)

    report(0.0, "Preparing declarations")
    data, y_all, w_all = _labelled_rows(frame)
    ctx = _context_rows(context, data)

    fit_part, holdout = _split_by_time(data, options["holdout_fraction"])
    calib, test = _split_by_time(holdout.reset_index(drop=True), 0.5)
    n_fit, n_cal = len(fit_part), len(calib)
    maps, x_fit, x_hold = _fit_and_holdout_features(fit_part, holdout, ctx, report)
    x_cal, x_test = x_hold.iloc[:n_cal], x_hold.iloc[n_cal:]
    y_fit, y_cal, y_test = y_all[:n_fit], y_all[n_fit : n_fit + n_cal], y_all[n_fit + n_cal :]
    w_fit = None if w_all is None else w_all[:n_fit]
    w_cal = None if w_all is None else w_all[n_fit : n_fit + n_cal]

    report(0.3, "Training gradient-boosted trees")
    booster, best_rounds = _fit_with_early_stopping(
        x_fit, y_fit, x_cal, y_cal, w_fit, w_cal, lgb_params, options, report
    )

    report(0.7, "Calibrating and measuring on the holdout")
    platt, metrics = _calibrate_and_measure(booster, best_rounds, x_cal, y_cal, w_cal, x_test, y_test)

    if options["refit"]:
        report(0.8, "Refitting on the whole training window")
        x_all_raw = _with_context(data, ctx, use_frame_labels=True)
        maps = F.fit_category_maps(x_all_raw)
        x_all = F.encode_categories(x_all_raw, maps)
        rounds = max(1, round(best_rounds * len(data) / n_fit))
        booster = lgb.train(lgb_params, _dataset(x_all, y_all, weight=w_all), num_boost_round=rounds)
    else:
        booster = _truncate(booster, best_rounds)

    info = _training_info(data, ctx, test, booster, started)
    report(1.0, "Done")
    return TrainedModel(
        booster=booster,
        platt=platt,
        category_maps=maps,
        spec=F.SPEC,
        metrics=metrics,
        params={**lgb_params, **options},
        info=info,
    )


def _fit_and_holdout_features(
    fit_part: pd.DataFrame, holdout: pd.DataFrame, ctx: pd.DataFrame, report: ProgressCallback
) -> tuple[F.CategoryMaps, pd.DataFrame, pd.DataFrame]:
    """Encoded features of the fit part and of the holdout (labels hidden), with the fit part's category maps."""
    ctx_early = ctx[ctx["date"] < pd.to_datetime(holdout["date"]).min().normalize()]
    ctx_late = ctx.drop(index=ctx_early.index)

    report(0.1, "Building features for the training part")
    x_fit_raw = _with_context(fit_part, ctx_early, use_frame_labels=True)
    report(0.2, "Building features for the holdout (labels hidden)")
    x_hold_raw = _with_context(
        holdout.drop(columns=list(F.LABEL_COLUMNS), errors="ignore"),
        ctx_late,
        history=pd.concat([fit_part, ctx_early], ignore_index=True),
    )
    maps = F.fit_category_maps(x_fit_raw)
    return maps, F.encode_categories(x_fit_raw, maps), F.encode_categories(x_hold_raw, maps)


def _training_info(
    data: pd.DataFrame, ctx: pd.DataFrame, test: pd.DataFrame, booster: lgb.Booster, started: float
) -> dict[str, Any]:
    """What the trained model records about its data, windows, rounds and cost."""
    dates = pd.to_datetime(data["date"])
    return {
        "trained_rows": len(data),
        "context_rows": len(ctx),
        "window": [str(dates.min().date()), str(dates.max().date())],
        "holdout_test_window": [str(pd.to_datetime(test["date"]).min().date()), str(dates.max().date())],
        "rounds": booster.current_iteration(),
        "training_seconds": time.perf_counter() - started,
        "lightgbm": lgb.__version__,
    }


def _split_params(params: dict[str, Any] | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """Sort ``train(params=...)`` overrides into training options and LightGBM parameters."""
    options = dict(DEFAULT_OPTIONS)
    lgb_params = dict(DEFAULT_LGB_PARAMS)
    for key, value in (params or {}).items():
        (options if key in DEFAULT_OPTIONS else lgb_params)[key] = value
    return options, lgb_params


def _labelled_rows(frame: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray, np.ndarray | None]:
    """The labelled rows in date order, with their 0/1 labels and optional fit weights."""
    data = F.normalise_columns(frame)
    if F.LABEL not in data.columns:
        raise ValueError(f"training frame needs the label column {F.LABEL!r}")
    data = data[pd.to_numeric(data[F.LABEL], errors="coerce").notna()].copy()
    data["_date"] = pd.to_datetime(data["date"]).dt.normalize()
    data = data.sort_values(["_date", "declaration_id"], kind="stable").drop(columns="_date")
    data = data.reset_index(drop=True)
    y_all = (pd.to_numeric(data[F.LABEL]) > 0).astype(int).to_numpy()
    w_all = (
        pd.to_numeric(data[WEIGHT], errors="coerce").fillna(1.0).to_numpy(float)
        if WEIGHT in data.columns
        else None
    )
    return data, y_all, w_all


def _fit_with_early_stopping(
    x_fit: pd.DataFrame,
    y_fit: np.ndarray,
    x_cal: pd.DataFrame,
    y_cal: np.ndarray,
    w_fit: np.ndarray | None,
    w_cal: np.ndarray | None,
    lgb_params: dict[str, Any],
    options: dict[str, Any],
    report: ProgressCallback,
) -> tuple[lgb.Booster, int]:
    """Boost on the fit part, stopping early on the calibration part; returns the booster and its best rounds."""
    d_fit = _dataset(x_fit, y_fit, weight=w_fit)
    d_cal = _dataset(x_cal, y_cal, reference=d_fit, weight=w_cal)
    max_rounds = int(options["max_rounds"])

    def _progress_cb(env: lgb.callback.CallbackEnv) -> None:
        if env.iteration % 50 == 0:
            report(0.3 + 0.4 * env.iteration / max_rounds, f"Training trees ({env.iteration})")

    booster = lgb.train(
        {**lgb_params, "metric": "binary_logloss"},
        d_fit,
        num_boost_round=max_rounds,
        valid_sets=[d_cal],
        callbacks=[lgb.early_stopping(int(options["early_stopping_rounds"]), verbose=False), _progress_cb],
    )
    return booster, max(1, int(booster.best_iteration or booster.current_iteration()))


def _calibrate_and_measure(
    booster: lgb.Booster,
    best_rounds: int,
    x_cal: pd.DataFrame,
    y_cal: np.ndarray,
    w_cal: np.ndarray | None,
    x_test: pd.DataFrame,
    y_test: np.ndarray,
) -> tuple[tuple[float, float], dict[str, float]]:
    """Fit the Platt calibration on the calibration part and measure the model on the test part."""
    raw_cal = np.asarray(booster.predict(x_cal, num_iteration=best_rounds, raw_score=True))
    platt = _fit_platt(raw_cal, y_cal, weight=w_cal)
    raw_test = np.asarray(booster.predict(x_test, num_iteration=best_rounds, raw_score=True))
    p_test = _sigmoid(platt[0] * raw_test + platt[1])
    metrics = ranking_report(y_test, p_test)
    metrics["brier"] = float(np.mean((p_test - y_test) ** 2))
    metrics["mean_predicted"] = float(p_test.mean())
    metrics["calibration_auc"] = ranking_report(y_cal, raw_cal)["auc"]
    metrics["best_rounds"] = float(best_rounds)
    return platt, metrics


def _truncate(booster: lgb.Booster, rounds: int) -> lgb.Booster:
    """A copy of ``booster`` keeping only its first ``rounds`` iterations."""
    return lgb.Booster(model_str=booster.model_to_string(num_iteration=rounds))

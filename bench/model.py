"""Benchmark: our risk model against default tree baselines on the public Korea Customs data.

Run from the project root::

    python -m bench.model

Trains on ``df_syn_train_eng.csv`` (2020) and tests on ``df_syn_valid_eng.csv`` (2021 Q1), both from
``../shared/data/declarations/`` (Jeong et al. 2022, MIT). Prints ONE JSON object.

Baselines (default hyper-parameters, fitted in this process): LightGBM, XGBoost and a 300-tree random
forest on the raw columns, label-encoded (string columns -> integer codes learnt on train, unseen values
-> -1). ``Declaration ID`` and ``Date`` are left out of the baselines: they are a row identifier and a
timestamp (all valid dates are unseen in train), and including them makes every baseline worse.

Ours: :func:`apps.learning.training.train` on the train file (which itself holds out the last part of
2020 for early stopping, calibration and its own metrics). The valid rows have their label columns
removed before any feature is built; their history features use the train labels and the valid rows'
own fields only (records dated strictly earlier).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from apps.learning import features as F
from apps.learning.metrics import auc, precision_at
from apps.learning.training import train

DATA_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "declarations"
TRAIN_FILE = DATA_DIR / "df_syn_train_eng.csv"
VALID_FILE = DATA_DIR / "df_syn_valid_eng.csv"
LABELS = ["Fraud", "Critical Fraud"]
NOT_FEATURES = ["Declaration ID", "Date"]
TARGET_PRECISION_AT_5 = 0.97


def _label_encode(train_raw: pd.DataFrame, valid_raw: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Integer-code the non-numeric raw columns (codes from train; unseen -> -1)."""
    cols = [c for c in train_raw.columns if c not in LABELS + NOT_FEATURES]
    x_tr, x_va = train_raw[cols].copy(), valid_raw[cols].copy()
    for c in cols:
        if pd.api.types.is_numeric_dtype(x_tr[c]):
            continue
        tr_text = x_tr[c].astype(object).fillna("<missing>").astype(str)
        va_text = x_va[c].astype(object).fillna("<missing>").astype(str)
        codes = {v: i for i, v in enumerate(sorted(tr_text.unique()))}
        x_tr[c] = tr_text.map(codes).astype(int)
        x_va[c] = va_text.map(codes).fillna(-1).astype(int)
    return x_tr, x_va


def _evaluate(y: np.ndarray, scores: np.ndarray) -> dict[str, float]:
    return {
        "precision@5%": round(precision_at(y, scores, 0.05), 4),
        "precision@10%": round(precision_at(y, scores, 0.10), 4),
        "auc": round(auc(y, scores), 4),
    }


def _baselines(train_raw: pd.DataFrame, valid_raw: pd.DataFrame, y_valid: np.ndarray) -> dict[str, Any]:
    import lightgbm as lgb
    import xgboost as xgb
    from sklearn.ensemble import RandomForestClassifier

    x_tr, x_va = _label_encode(train_raw, valid_raw)
    y_tr = train_raw["Fraud"].to_numpy()
    models = {
        "lightgbm_default": lgb.LGBMClassifier(verbose=-1, n_jobs=2),
        "xgboost_default": xgb.XGBClassifier(n_jobs=2),
        "random_forest_300": RandomForestClassifier(n_estimators=300, n_jobs=2, random_state=0),
    }
    results: dict[str, Any] = {}
    for name, model in models.items():
        started = time.perf_counter()
        model.fit(x_tr, y_tr)
        seconds = time.perf_counter() - started
        scores = model.predict_proba(x_va)[:, 1]
        results[name] = {**_evaluate(y_valid, scores), "train_seconds": round(seconds, 2)}
    return results


def run() -> dict[str, Any]:
    """Run the benchmark and return the result object."""
    if not TRAIN_FILE.exists() or not VALID_FILE.exists():
        raise FileNotFoundError(f"benchmark data not found in {DATA_DIR}")
    train_raw = pd.read_csv(TRAIN_FILE)
    valid_raw = pd.read_csv(VALID_FILE)
    y_valid = valid_raw["Fraud"].to_numpy()

    results: dict[str, Any] = {
        "data": {
            "train_rows": len(train_raw),
            "valid_rows": len(valid_raw),
            "valid_base_rate": round(float((y_valid > 0).mean()), 4),
        }
    }

    train_frame = F.normalise_columns(train_raw)
    valid_frame = F.normalise_columns(valid_raw.drop(columns=LABELS))  # labels gone before any feature
    started = time.perf_counter()
    model = train(train_frame)
    train_seconds = time.perf_counter() - started
    started = time.perf_counter()
    scores = model.score(valid_frame, history=train_frame)
    score_seconds = time.perf_counter() - started
    started = time.perf_counter()
    model.explain(valid_frame.head(1000), history=train_frame, top=5)
    explain_seconds = time.perf_counter() - started
    results["ours"] = {
        **_evaluate(y_valid, scores),
        "train_seconds": round(train_seconds, 2),
        "scoring_rows_per_second": round(len(valid_frame) / score_seconds),
        "explain_1000_rows_seconds": round(explain_seconds, 2),
        "holdout_metrics_2020_q4": {k: round(float(v), 4) for k, v in model.metrics.items()},
        "trees": model.info["rounds"],
        "features": len(model.spec.names),
    }

    results["baselines"] = _baselines(train_raw, valid_raw.drop(columns=LABELS), y_valid)

    ours = results["ours"]
    beats = all(
        ours[m] > b[m]
        for b in results["baselines"].values()
        for m in ("precision@5%", "precision@10%", "auc")
    )
    results["goals"] = {
        "ours > every baseline (precision@5%, precision@10%, AUC)": beats,
        f"precision@5% >= {TARGET_PRECISION_AT_5}": ours["precision@5%"] >= TARGET_PRECISION_AT_5,
        "met": beats and ours["precision@5%"] >= TARGET_PRECISION_AT_5,
    }
    return results


def main() -> None:
    """Print the benchmark result as one JSON object."""
    print(json.dumps(run(), indent=2))


if __name__ == "__main__":
    main()

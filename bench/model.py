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

``python -m bench.model --through-product`` runs the same comparison through the product instead of
against the baselines: in a throw-away test database (SQLite by default, PostgreSQL with
``DATABASE_URL``) it ingests the train file with its labels (``ingest_paths``), trains and activates a
model version from the stored subjects and outcomes (``train_model``'s service), ingests a copy of the
valid file without its label columns, exports the scores (``export_scores``'s service) and measures
precision at 5 % and 10 % against the real valid labels, printed beside the pure-core figures. The risk
engine's assessment after intake is switched off there: it is not part of the export and has its own
benchmark.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
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


def _pure_core(train_raw: pd.DataFrame, valid_raw: pd.DataFrame) -> dict[str, Any]:
    y_valid = valid_raw["Fraud"].to_numpy()
    train_frame = F.normalise_columns(train_raw)
    started = time.perf_counter()
    model = train(train_frame)
    seconds = time.perf_counter() - started
    scores = model.score(F.normalise_columns(valid_raw.drop(columns=LABELS)), history=train_frame)
    return {**_evaluate(y_valid, scores), "train_seconds": round(seconds, 2)}


def _product_flow(valid_raw: pd.DataFrame, workdir: Path) -> dict[str, Any]:
    """Ingest, train, ingest unlabelled, export: everything through the database (see the docstring)."""
    from unittest import mock

    from apps.agencies.models import Agency
    from apps.intake.models import DataSource, Outcome
    from apps.intake.services import ingest_paths
    from apps.learning.scoring import score_source
    from apps.learning.services import train_now

    agency = Agency.objects.create(code="CUS", name="Customs", kind="customs", country="GB")
    source = DataSource.objects.create(
        name="Import declarations", kind="declaration", owner_agency=agency, legal_basis="Customs code"
    )
    valid_copy = workdir / "valid-without-labels.csv"
    pd.read_csv(VALID_FILE, dtype=str, keep_default_na=False).drop(columns=LABELS).to_csv(
        valid_copy, index=False
    )
    figures: dict[str, Any] = {}
    with mock.patch("apps.intake.services.request_assessment"):
        started = time.perf_counter()
        ingest_paths(actor=None, source=source, paths=[TRAIN_FILE])
        figures["ingest_train_seconds"] = round(time.perf_counter() - started, 2)
        figures["outcomes_stored"] = Outcome.objects.count()
        started = time.perf_counter()
        version = train_now(actor=None, sources=[source], activate=True).model_version
        figures["train_seconds"] = round(time.perf_counter() - started, 2)
        ingest_paths(actor=None, source=source, paths=[valid_copy])
    started = time.perf_counter()
    exported, _ = score_source(source)
    figures["export_seconds"] = round(time.perf_counter() - started, 2)
    truth = valid_raw.assign(id=valid_raw["Declaration ID"].astype(str)).set_index("id")["Fraud"]
    scores = exported.set_index("id")["score"].reindex(truth.index)
    figures["valid_rows_scored"] = int(scores.notna().sum())
    figures.update(_evaluate(truth.to_numpy(), scores.fillna(0).to_numpy()))
    figures["holdout_metrics"] = {k: round(float(v), 4) for k, v in version.metrics.items()}
    return figures


def run_through_product() -> dict[str, Any]:
    """The pure core and the product flow on the same files, in a throw-away database."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ratc_ops.settings")
    django.setup()
    from django.db import connection
    from django.test.utils import override_settings

    train_raw, valid_raw = pd.read_csv(TRAIN_FILE), pd.read_csv(VALID_FILE)
    results: dict[str, Any] = {
        "data": {"train_rows": len(train_raw), "valid_rows": len(valid_raw)},
        "pure_core": _pure_core(train_raw, valid_raw),
    }
    old_name = connection.settings_dict["NAME"]
    with tempfile.TemporaryDirectory() as tmp:
        connection.creation.create_test_db(verbosity=0, autoclobber=True)
        try:
            with override_settings(MEDIA_ROOT=tmp, CELERY_TASK_ALWAYS_EAGER=True):
                results["through_product"] = _product_flow(valid_raw, Path(tmp))
        finally:
            connection.creation.destroy_test_db(old_name, verbosity=0)
    results["database"] = connection.vendor
    ours, product = results["pure_core"], results["through_product"]
    results["goals"] = {
        f"through the product precision@5% >= {TARGET_PRECISION_AT_5}": product["precision@5%"]
        >= TARGET_PRECISION_AT_5,
        "through the product within 0.02 of the pure core at 5%": abs(
            product["precision@5%"] - ours["precision@5%"]
        )
        <= 0.02,
    }
    return results


def main() -> None:
    """Print the benchmark result as one JSON object."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--through-product", action="store_true", help="ingest, train and export through the database"
    )
    args = parser.parse_args()
    print(json.dumps(run_through_product() if args.through_product else run(), indent=2))


if __name__ == "__main__":
    main()

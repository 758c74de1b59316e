"""Helpers of the learning-loop tests: small CSV extracts of the public data, ingested and trained."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd
from django.conf import settings
from django.core.files.base import ContentFile
from django.utils import timezone

from apps.intake.models import DataSource
from apps.intake.services import ingest_paths
from apps.learning.models import ModelVersion
from apps.learning.services import train_now
from tests.learning.conftest import FAST


def extract(
    name: str, path: Path, *, since: str = "", until: str = "9999", drop_labels: bool = False
) -> pd.DataFrame:
    """Write the rows of a public file dated in [since, until] to ``path`` (labels dropped on request)."""
    frame = pd.read_csv(
        Path(settings.SHARED_DATA_DIR) / "declarations" / name, dtype=str, keep_default_na=False
    )
    frame = frame[(frame["Date"] >= since) & (frame["Date"] <= until)]
    (frame.drop(columns=["Fraud", "Critical Fraud"]) if drop_labels else frame).to_csv(path, index=False)
    return frame


TRAIN_WINDOW = ("2020-12-07", "2020-12-24")


def ingest_train(source: DataSource, tmp_path: Path) -> pd.DataFrame:
    """Ingest 7-24 December 2020 (about 1,700 labelled declarations) into ``source``."""
    path = tmp_path / f"train-{source.pk}.csv"
    frame = extract("df_syn_train_eng.csv", path, since=TRAIN_WINDOW[0], until=TRAIN_WINDOW[1])
    ingest_paths(actor=None, source=source, paths=[path])
    return frame


def ingest_new(source: DataSource, tmp_path: Path, until: str = "2021-01-04") -> pd.DataFrame:
    """Ingest the first days of 2021 without their labels (new declarations to score)."""
    path = tmp_path / f"new-{source.pk}.csv"
    frame = extract("df_syn_valid_eng.csv", path, until=until, drop_labels=True)
    ingest_paths(actor=None, source=source, paths=[path])
    return frame


def trained_version(source: DataSource, actor: Any = None, *, activate: bool = True) -> ModelVersion:
    """Train quickly on what ``source`` holds and return the new version (active by default)."""
    run = train_now(actor=actor, sources=[source], params=FAST, activate=activate)
    return run.model_version


@lru_cache(maxsize=1)
def _model_bytes() -> bytes:
    """A small model trained once per test session by the pure core on December 2020 (no database)."""
    from apps.learning.training import train
    from tests.learning import declarations

    frame = declarations()
    dates = frame["date"].astype(str)
    return train(frame[(dates >= TRAIN_WINDOW[0]) & (dates <= TRAIN_WINDOW[1])], params=FAST).to_bytes()


def stored_version(
    agency: Any, sources: list[DataSource], *, status: str = "active", number: int = 0
) -> ModelVersion:
    """A version with a real model file but no training run: for tests about versions, not training."""
    blob = _model_bytes()
    number = number or ModelVersion.objects.filter(owner_agency=agency).count() + 1
    version = ModelVersion(
        owner_agency=agency,
        number=number,
        status=status,
        source_names=[s.name for s in sources],
        sha256=hashlib.sha256(blob).hexdigest(),
        metrics={"precision@5%": 0.9, "precision@10%": 0.8, "recall@10%": 0.4, "auc": 0.9, "base_rate": 0.2},
        activated_at=timezone.now() if status != "draft" else None,
    )
    version.model_file.save(f"test-v{number}.joblib", ContentFile(blob), save=False)
    version.save()
    version.sources.set(sources)
    return version

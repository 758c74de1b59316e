"""Tests of the learning-loop core (features, training, metrics, drift)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pandas as pd

DATA_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "declarations"


@lru_cache(maxsize=4)
def _load(name: str) -> pd.DataFrame:
    from apps.learning.features import load_csv

    path = DATA_DIR / name
    if not path.exists():
        raise FileNotFoundError(
            f"test data {path} not found: these tests need ../shared/data/declarations/ next to the project"
        )
    return load_csv(str(path))


def declarations(name: str = "df_syn_train_eng.csv") -> pd.DataFrame:
    """A fresh copy of the public declarations file ``name`` with normalised columns."""
    return _load(name).copy()

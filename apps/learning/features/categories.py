"""Categorical features as integer codes for the model, and any feature value back in plain words."""

from __future__ import annotations

import numpy as np
import pandas as pd

from apps.learning.features.spec import SPEC

CategoryMaps = dict[str, dict[str, int]]


def fit_category_maps(features: pd.DataFrame, min_count: int = 5) -> CategoryMaps:
    """Integer codes for each categorical feature's values seen at least ``min_count`` times."""
    maps: CategoryMaps = {}
    for name in SPEC.categorical:
        counts = features[name].dropna().astype(str).value_counts()
        values = sorted(counts[counts >= min_count].index)
        maps[name] = {v: i for i, v in enumerate(values)}
    return maps


def encode_categories(features: pd.DataFrame, maps: CategoryMaps) -> pd.DataFrame:
    """Replace categorical strings by their codes (unseen or rare values and missing -> NaN)."""
    out = features.copy()
    for name in SPEC.categorical:
        mapping = maps.get(name, {})
        out[name] = out[name].map(lambda v, m=mapping: m.get(str(v), np.nan) if pd.notna(v) else np.nan)
        out[name] = out[name].astype(float)
    return out


def feature_value_words(name: str, value: float, maps: CategoryMaps | None = None) -> str:
    """A feature value in plain words (decoding categorical codes back to their value)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "unknown"
    if maps and name in maps:
        inverse = {code: label for label, code in maps[name].items()}
        return inverse.get(int(value), "other")
    if name.endswith("_finding_rate"):
        return f"{value:.0%}"
    if name.endswith(("_first_seen", "origin_differs_departure", "has_seller", "has_courier")):
        return "yes" if value >= 0.5 else "no"
    if float(value).is_integer():
        return f"{int(value)}"
    return f"{value:.3g}"

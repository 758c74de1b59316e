"""Feature building for the risk model: the one place that turns declarations into model inputs.

Input is a pandas DataFrame of import declarations with our normalised column names (see
:data:`COLUMN_MAP` for the mapping from the public Korea Customs CSV headers, and :func:`normalise_columns`).
Output is a numeric/categorical feature frame, one row per input row, in the same order.

Two families of features are built:

* **own fields** of the declaration itself: HS code and its chapter/heading, origin and departure
  countries, office, transport mode, procedure codes, tax rate and type, net mass, declared value,
  value per kilogram, duty on the declared value, etc.
* **history features**, computed only from records dated *strictly before* the record's own date
  (records of the same day never see each other, so there is no tie to break and nothing of the same
  day leaks). For each key (the importer, the declarant, the seller, the courier, the HS code, the
  "goods line" = HS code + net mass + declared value, ...) we count earlier declarations, earlier
  *examined* (labelled) declarations and earlier findings, and turn them into a finding rate with
  Bayesian smoothing towards the finding rate of all earlier labelled records::

      rate = (findings_before + M * prior_before) / (labelled_before + M)

  Only records whose label is known contribute to finding counts. Examined records are not a sample
  of the traffic (the centre examines what it already finds risky), so in the *rates* each one weighs
  one over its :data:`PROPENSITY`, the probability it had of being examined (a random-control check
  at 1 % stands for a hundred declarations), and the rate counts as many observations as those weights
  are worth (Kish's effective size), so one heavy check moves a rate about as much as one plain one::

      rate = (n_eff * weighted_rate_before + M * prior_before) / (n_eff + M)

  which is the formula above when every propensity is 1 (imported history, or no propensity known).
  The prior is the weighted rate of all earlier records, an estimate for the traffic rather than for
  what was examined, so it does not creep upwards as the targeted findings pile up. The counts
  (examined, findings) stay plain counts. During training every training row
  is labelled, but a row still only sees labels of strictly earlier dates, so the model never learns
  from its own label. At scoring time the new rows are unlabelled: they may count as earlier
  *declarations* for later new rows, but never as findings.

Incremental use: ``build_features(new_rows, history=past_labelled_records)`` builds features for the
new rows using the labelled history and the new rows' own fields only.

Why the goods-line keys: in the public (CTGAN-synthetic) data the exact combination of HS code, net mass
and declared value recurs across many declarations with different (randomly drawn) traders, dates and
offices, and such repeats share their examination result ~96 % of the time. That is what lets a random
forest on raw numeric columns score well; here it is expressed honestly as "how often was an identical
goods line found irregular before". The trader identities, by contrast, carry almost no signal in this
data set (they look independently sampled), but they matter on real data, so their history is kept.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from apps.learning.features.categories import (
    CategoryMaps,
    encode_categories,
    feature_value_words,
    fit_category_maps,
)
from apps.learning.features.history import (
    DEFAULT_PRIOR,
    MAX_HISTORY_WEIGHT,
    PRIOR_SMOOTHING,
    SMOOTHING,
    _history_features,
    history_weights,
)
from apps.learning.features.spec import (
    _OWN_CATEGORICAL,
    COLUMN_MAP,
    HISTORY_KEYS,
    LABEL,
    LABEL_COLUMNS,
    REQUIRED_COLUMNS,
    SPEC,
    FeatureDef,
    FeatureSpec,
    HistoryKey,
    build_spec,
    describe_features,
)

__all__ = [
    "COLUMN_MAP",
    "DEFAULT_PRIOR",
    "HISTORY_KEYS",
    "LABEL",
    "LABEL_COLUMNS",
    "MAX_HISTORY_WEIGHT",
    "PRIOR_SMOOTHING",
    "PROPENSITY",
    "REQUIRED_COLUMNS",
    "SMOOTHING",
    "SPEC",
    "CategoryMaps",
    "FeatureDef",
    "FeatureSpec",
    "HistoryKey",
    "build_features",
    "build_spec",
    "describe_features",
    "encode_categories",
    "feature_value_words",
    "fit_category_maps",
    "history_weights",
    "load_csv",
    "normalise_columns",
]

#: Optional column: the probability that a labelled record was examined, given what the centre knew
#: when it selected (:mod:`apps.learning.selection`); missing means 1. Never a model input.
PROPENSITY = "propensity"

_ORIGIN = pd.Timestamp("2000-01-01")


def normalise_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """Rename CSV headers to our snake_case names (already-normalised names pass through).

    Raises ``ValueError`` naming the missing columns if a required column is absent.
    """
    out = frame.rename(columns={k: v for k, v in COLUMN_MAP.items() if k in frame.columns})
    missing = [c for c in REQUIRED_COLUMNS if c not in out.columns]
    if missing:
        raise ValueError(f"declaration frame lacks columns: {', '.join(missing)}")
    return out


def load_csv(path: str) -> pd.DataFrame:
    """Read a declarations CSV in the public data set's format and normalise its columns."""
    frame = pd.read_csv(path, dtype={"Declarant ID": str, "Importer ID": str, "Seller ID": str})
    return normalise_columns(frame)


def _clean(frame: pd.DataFrame) -> pd.DataFrame:
    """Typed copy of the needed columns plus derived key columns."""
    f = normalise_columns(frame)
    out = pd.DataFrame(index=f.index)
    out["date"] = pd.to_datetime(f["date"]).dt.normalize()
    out["t"] = (out["date"] - _ORIGIN).dt.days.astype(np.int64)
    for col in (
        "declaration_id",
        "office_id",
        "process_type",
        "import_type",
        "import_use",
        "payment_type",
        "mode_of_transport",
        "declarant_id",
        "importer_id",
        "seller_id",
        "courier_id",
        "country_of_departure",
        "country_of_origin",
        "tax_type",
        "origin_indicator",
    ):
        s = f[col]
        out[col] = s.where(s.isna(), s.astype(str)).astype(object)
    hs = pd.to_numeric(f["hs6"], errors="coerce")
    out["hs6"] = hs
    out["hs4"] = np.floor(hs / 100)
    out["hs2"] = np.floor(hs / 10000)
    for col in ("tax_rate", "net_mass", "item_price"):
        out[col] = pd.to_numeric(f[col], errors="coerce").astype(float)
    return out


def _own_features(c: pd.DataFrame) -> pd.DataFrame:
    """Features from the declaration's own fields (categoricals as strings, encoded later)."""
    o = pd.DataFrame(index=c.index)
    o["hs6_code"] = c["hs6"]
    o["hs_heading"] = c["hs4"]
    o["tax_rate"] = c["tax_rate"]
    o["net_mass"] = c["net_mass"]
    o["item_price"] = c["item_price"]
    o["log_value_per_kg"] = np.log1p(c["item_price"].clip(lower=0)) - np.log1p(c["net_mass"].clip(lower=0))
    o["declared_duty"] = c["item_price"] * c["tax_rate"] / 100.0
    o["origin_differs_departure"] = (c["country_of_origin"] != c["country_of_departure"]).astype(float)
    o["has_seller"] = c["seller_id"].notna().astype(float)
    o["has_courier"] = c["courier_id"].notna().astype(float)
    o["weekday"] = c["date"].dt.day_of_week.astype(float)
    o["hs_chapter"] = c["hs2"].map(lambda v: "" if pd.isna(v) else f"{int(v):02d}")
    for name, _ in _OWN_CATEGORICAL:
        if name != "hs_chapter":
            o[name] = c[name]
    return o


def build_features(
    frame: pd.DataFrame,
    history: pd.DataFrame | None = None,
    *,
    use_frame_labels: bool = False,
) -> pd.DataFrame:
    """Build the feature frame (columns in :data:`SPEC` order) for the rows of ``frame``.

    ``history``: past declarations whose examination result (:data:`LABEL`) is known; rows with a
    missing label count as declarations but not as examined. ``frame``: the rows to featurise; their
    labels are ignored unless ``use_frame_labels`` is true (training: each row then sees the labels of
    the frame's rows with strictly earlier dates, never its own or same-day ones).

    A labelled record may carry its :data:`PROPENSITY` (the probability that it was examined, given
    what the centre knew when it selected): the finding rates then weight it by its inverse (see the
    module docstring). The same column is read at training and at scoring time.

    Every history feature of a row depends only on records (from ``history`` and ``frame``) dated
    strictly before the row's date. Categorical features are returned as strings; encode them with
    :func:`encode_categories` before giving them to a model.
    """
    new = _clean(frame)
    if use_frame_labels and LABEL in frame.columns:
        new_y = pd.to_numeric(normalise_columns(frame)[LABEL], errors="coerce")
    else:
        new_y = pd.Series(np.nan, index=frame.index)
    parts = [new]
    ys = [new_y.to_numpy(float)]
    ws = [history_weights(frame.get(PROPENSITY) if use_frame_labels else None, len(frame))]
    if history is not None and len(history):
        hist = _clean(history)
        hist_norm = normalise_columns(history)
        h_y = (
            pd.to_numeric(hist_norm[LABEL], errors="coerce")
            if LABEL in hist_norm.columns
            else pd.Series(np.nan, index=history.index)
        )
        parts.append(hist)
        ys.append(h_y.to_numpy(float))
        ws.append(history_weights(history.get(PROPENSITY), len(history)))
    allc = pd.concat(parts, ignore_index=True)
    y_all = np.concatenate(ys)
    labelled = (~np.isnan(y_all)).astype(float)
    y_bin = np.where(np.isnan(y_all), 0.0, (y_all > 0).astype(float))
    w_all = np.concatenate(ws) * labelled
    hist_feats = _history_features(allc, labelled, y_bin, w_all).iloc[: len(new)]
    hist_feats.index = frame.index
    own = _own_features(new)
    return pd.concat([own, hist_feats], axis=1)[SPEC.names]

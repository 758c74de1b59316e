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

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

#: CSV header (public Korea Customs synthetic data set) -> our normalised column name.
COLUMN_MAP: dict[str, str] = {
    "Declaration ID": "declaration_id",
    "Date": "date",
    "Office ID": "office_id",
    "Process Type": "process_type",
    "Import Type": "import_type",
    "Import Use": "import_use",
    "Payment Type": "payment_type",
    "Mode of Transport": "mode_of_transport",
    "Declarant ID": "declarant_id",
    "Importer ID": "importer_id",
    "Seller ID": "seller_id",
    "Courier ID": "courier_id",
    "HS6 Code": "hs6",
    "Country of Departure": "country_of_departure",
    "Country of Origin": "country_of_origin",
    "Tax Rate": "tax_rate",
    "Tax Type": "tax_type",
    "Country of Origin Indicator": "origin_indicator",
    "Net Mass": "net_mass",
    "Item Price": "item_price",
    "Fraud": "fraud",
    "Critical Fraud": "critical_fraud",
}

#: The label: 1 when the examination found an irregularity, 0 when it found nothing.
LABEL = "fraud"
#: Label columns that must never be used as inputs.
LABEL_COLUMNS: tuple[str, ...] = ("fraud", "critical_fraud")
#: Columns every declaration frame must have (after :func:`normalise_columns`).
REQUIRED_COLUMNS: tuple[str, ...] = tuple(c for c in COLUMN_MAP.values() if c not in LABEL_COLUMNS)

#: Smoothing strength M of the Bayesian finding rates (pseudo-observations at the prior rate).
SMOOTHING = 2.0
#: Prior finding rate used while there is no labelled history at all.
DEFAULT_PRIOR = 0.2
#: Pseudo-observations at :data:`DEFAULT_PRIOR` in the finding rate of all earlier records (the prior).
PRIOR_SMOOTHING = 10.0
#: Optional column: the probability that a labelled record was examined, given what the centre knew
#: when it selected (:mod:`apps.learning.selection`); missing means 1. Never a model input.
PROPENSITY = "propensity"
#: Most one examined record may weigh in the finding rates. A rate is taken over the few earlier
#: records of one key, where a 1 % random check at its full weight of 100 would decide the rate alone
#: (and a model scoring with such rates follows that one check); at ten, a random check still counts
#: for much more than a targeted one, about as much as the training weights' variance budget lets it
#: (:data:`apps.learning.selection.MIN_EFFECTIVE_SHARE` lowers their cap to about 7-13 at a 1 % share).
MAX_HISTORY_WEIGHT = 10.0

_ORIGIN = pd.Timestamp("2000-01-01")


@dataclass(frozen=True)
class FeatureDef:
    """One model input with a plain-words description for officers."""

    name: str
    description: str
    kind: str = "numeric"  # "numeric" or "categorical"
    group: str = "own"  # "own" (the declaration's fields) or "history" (its past)


@dataclass
class FeatureSpec:
    """The ordered list of all model inputs and their plain-words descriptions."""

    features: list[FeatureDef] = field(default_factory=list)

    @property
    def names(self) -> list[str]:
        """Feature names in model order."""
        return [f.name for f in self.features]

    @property
    def categorical(self) -> list[str]:
        """Names of categorical features (encoded as integer codes for the model)."""
        return [f.name for f in self.features if f.kind == "categorical"]

    def describe(self, name: str) -> str:
        """Plain-words description of feature ``name``."""
        for f in self.features:
            if f.name == name:
                return f.description
        raise KeyError(name)

    def as_table(self) -> list[dict[str, str]]:
        """The spec as a list of dicts (for display or JSON)."""
        return [
            {"name": f.name, "kind": f.kind, "group": f.group, "description": f.description}
            for f in self.features
        ]


@dataclass(frozen=True)
class HistoryKey:
    """A key over which history (counts and finding rates) is aggregated."""

    name: str
    columns: tuple[str, ...]
    words: str  # plain words for "declarations with the same ..."
    identity: bool = False  # a party: adds first-seen flag and days since first seen
    counts_only: bool = False  # skip the finding-rate features


HISTORY_KEYS: tuple[HistoryKey, ...] = (
    HistoryKey(
        "line",
        (
            "hs6",
            "net_mass",
            "item_price",
            "country_of_origin",
            "country_of_departure",
            "tax_rate",
            "tax_type",
        ),
        "identical goods line (same HS code, net mass, declared value, origin, departure and tax)",
    ),
    HistoryKey("goods", ("hs6", "net_mass", "item_price"), "same HS code, net mass and declared value"),
    HistoryKey("hs_price", ("hs6", "item_price"), "same HS code and declared value"),
    HistoryKey("mass_price", ("net_mass", "item_price"), "same net mass and declared value"),
    HistoryKey("price", ("item_price",), "same declared value"),
    HistoryKey("hs_mass", ("hs6", "net_mass"), "same HS code and net mass"),
    HistoryKey("importer", ("importer_id",), "the same importer", identity=True),
    HistoryKey("declarant", ("declarant_id",), "the same declarant (customs broker)", identity=True),
    HistoryKey("seller", ("seller_id",), "the same foreign seller", identity=True),
    HistoryKey("courier", ("courier_id",), "the same courier", identity=True),
    HistoryKey("importer_hs", ("importer_id", "hs6"), "the same importer and HS code"),
    HistoryKey("hs6", ("hs6",), "the same HS code (6 digits)"),
    HistoryKey("hs4", ("hs4",), "the same HS heading (4 digits)"),
    HistoryKey("origin", ("country_of_origin",), "the same country of origin"),
    HistoryKey("route", ("country_of_departure", "country_of_origin"), "the same departure/origin route"),
    HistoryKey("office", ("office_id",), "the same customs office"),
    HistoryKey("hs_origin", ("hs6", "country_of_origin"), "the same HS code and origin"),
)

_OWN_CATEGORICAL: tuple[tuple[str, str], ...] = (
    ("hs_chapter", "HS chapter (first 2 digits of the HS code)"),
    ("office_id", "customs office of declaration"),
    ("process_type", "declaration process type"),
    ("import_type", "import type code"),
    ("import_use", "import use code"),
    ("payment_type", "payment type code"),
    ("mode_of_transport", "mode of transport"),
    ("country_of_departure", "country of departure"),
    ("country_of_origin", "country of origin"),
    ("origin_indicator", "how the origin was determined (origin indicator)"),
    ("tax_type", "tariff / tax type"),
    ("courier_id", "courier company (express consignments)"),
)

_OWN_NUMERIC: tuple[tuple[str, str], ...] = (
    ("hs6_code", "HS code (6 digits) as a number"),
    ("hs_heading", "HS heading (first 4 digits) as a number"),
    ("tax_rate", "tax rate in percent"),
    ("net_mass", "net mass in kg"),
    ("item_price", "declared value"),
    ("log_value_per_kg", "declared value per kg (log scale)"),
    ("declared_duty", "duty on the declared value (value x tax rate)"),
    ("origin_differs_departure", "country of origin differs from country of departure"),
    ("has_seller", "a foreign seller is named"),
    ("has_courier", "sent through a courier"),
    ("weekday", "day of the week of the declaration (0 = Monday)"),
)


def build_spec() -> FeatureSpec:
    """Return the full :class:`FeatureSpec` (own fields first, then history)."""
    feats: list[FeatureDef] = [FeatureDef(n, d, "numeric", "own") for n, d in _OWN_NUMERIC]
    feats += [FeatureDef(n, d, "categorical", "own") for n, d in _OWN_CATEGORICAL]
    for key in HISTORY_KEYS:
        feats.append(
            FeatureDef(
                f"{key.name}_n_before", f"number of earlier declarations with {key.words}", group="history"
            )
        )
        if not key.counts_only:
            feats.append(
                FeatureDef(
                    f"{key.name}_examined_before",
                    f"number of earlier examined declarations with {key.words}",
                    group="history",
                )
            )
            feats.append(
                FeatureDef(
                    f"{key.name}_findings_before",
                    f"number of earlier findings for declarations with {key.words}",
                    group="history",
                )
            )
            feats.append(
                FeatureDef(
                    f"{key.name}_finding_rate",
                    f"smoothed earlier finding rate for declarations with {key.words}",
                    group="history",
                )
            )
        if key.identity:
            feats.append(
                FeatureDef(
                    f"{key.name}_first_seen",
                    f"first declaration seen from {key.words} (no earlier record)",
                    group="history",
                )
            )
            feats.append(
                FeatureDef(
                    f"{key.name}_days_known",
                    f"days since {key.words} was first seen",
                    group="history",
                )
            )
    return FeatureSpec(feats)


SPEC: FeatureSpec = build_spec()


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


def _key_codes(c: pd.DataFrame, columns: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Integer group code per row for the key columns, and a mask of rows with a missing key part."""
    parts = c[list(columns)]
    missing = parts.isna().any(axis=1).to_numpy()
    codes = parts.astype(str).groupby(list(columns), sort=False, dropna=False).ngroup().to_numpy()
    return codes, missing


def _past_stats(
    codes: np.ndarray, t: np.ndarray, labelled: np.ndarray, y: np.ndarray, w: np.ndarray
) -> dict[str, np.ndarray]:
    """Per row, over records of the same key strictly before ``t``: declarations ``n``, labelled ones
    ``nl``, findings ``np``, and the sums of examination weights ``sw``, ``sw2`` (squares) and ``swy``
    (of findings). Also ``first``: the first date (``t``) the key was seen at all (may be the row's own).
    """
    df = pd.DataFrame(
        {"g": codes, "t": t, "n": 1, "nl": labelled, "np": y, "sw": w, "sw2": w * w, "swy": w * y}
    )
    columns = ["n", "nl", "np", "sw", "sw2", "swy"]
    agg = df.groupby(["g", "t"], sort=True)[columns].sum()
    before = agg.groupby(level=0).cumsum() - agg  # totals over strictly earlier dates of the key
    first = agg.reset_index().groupby("g")["t"].min()
    b = before.reindex(pd.MultiIndex.from_arrays([codes, t]))
    out = {c: b[c].to_numpy(float) for c in columns}
    out["first"] = first.reindex(codes).to_numpy(float)
    return out


def _shrunk_rate(sw: np.ndarray, sw2: np.ndarray, swy: np.ndarray, prior: np.ndarray, m: float) -> np.ndarray:
    """Weighted finding rate ``swy / sw`` shrunk towards ``prior`` by ``m`` pseudo-observations.

    The rate counts as many observations as the weights are worth (Kish's ``sw^2 / sw2``): one random-
    control check weighted 100 among a few certain ones is about one observation, not a hundred, so a
    key examined little stays near the prior. With every weight 1 this is
    ``(findings + m * prior) / (examined + m)``.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(sw > 0, swy / np.where(sw > 0, sw, 1.0), 0.0)
        n_eff = np.where(sw2 > 0, sw * sw / np.where(sw2 > 0, sw2, 1.0), 0.0)
    return (n_eff * rate + m * prior) / (n_eff + m)


def _global_prior(t: np.ndarray, w: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Weighted finding rate of all labelled records strictly before each row's date (shrunk to the
    default with :data:`PRIOR_SMOOTHING` pseudo-observations)."""
    df = pd.DataFrame({"t": t, "sw": w, "sw2": w * w, "swy": w * y})
    agg = df.groupby("t", sort=True)[["sw", "sw2", "swy"]].sum()
    before = agg.cumsum() - agg
    prior = _shrunk_rate(
        before["sw"].to_numpy(float),
        before["sw2"].to_numpy(float),
        before["swy"].to_numpy(float),
        np.full(len(before), DEFAULT_PRIOR),
        PRIOR_SMOOTHING,
    )
    return pd.Series(prior, index=agg.index).reindex(t).to_numpy(float)


def _history_features(c: pd.DataFrame, labelled: np.ndarray, y: np.ndarray, w: np.ndarray) -> pd.DataFrame:
    """History features for every row of ``c`` from rows of ``c`` with strictly earlier dates.

    ``w``: each labelled record's examination weight (:func:`history_weights`; 0 where unlabelled).
    """
    t = c["t"].to_numpy()
    prior = _global_prior(t, w, y)
    out: dict[str, np.ndarray] = {}
    for key in HISTORY_KEYS:
        codes, missing = _key_codes(c, key.columns)
        s = _past_stats(codes, t, labelled, y, w)
        n = s["n"]
        nan_if_missing = np.where(missing, np.nan, 1.0)
        out[f"{key.name}_n_before"] = n * nan_if_missing
        if not key.counts_only:
            out[f"{key.name}_examined_before"] = s["nl"] * nan_if_missing
            out[f"{key.name}_findings_before"] = s["np"] * nan_if_missing
            rate = _shrunk_rate(s["sw"], s["sw2"], s["swy"], prior, SMOOTHING)
            out[f"{key.name}_finding_rate"] = rate * nan_if_missing
        if key.identity:
            seen = n > 0
            out[f"{key.name}_first_seen"] = np.where(seen, 0.0, 1.0) * nan_if_missing
            out[f"{key.name}_days_known"] = np.where(seen, t - s["first"], 0.0) * nan_if_missing
    return pd.DataFrame(out, index=c.index)


def history_weights(propensity: np.ndarray | pd.Series | None, size: int) -> np.ndarray:
    """Examination weight of each record in the finding rates: ``1 / propensity``, at most
    :data:`MAX_HISTORY_WEIGHT`; 1 where the propensity is missing (selection not reconstructable)."""
    if propensity is None:
        return np.ones(size)
    p = pd.to_numeric(pd.Series(np.asarray(propensity)), errors="coerce").to_numpy(float)
    p = np.where(np.isnan(p) | (p <= 0), 1.0, np.clip(p, 1.0 / MAX_HISTORY_WEIGHT, 1.0))
    return 1.0 / p


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


def describe_features(names: Iterable[str] | None = None) -> list[tuple[str, str]]:
    """(name, plain words) for the given features, or for all features."""
    wanted = list(names) if names is not None else SPEC.names
    return [(n, SPEC.describe(n)) for n in wanted]

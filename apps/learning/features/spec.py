"""What the model's inputs are: the declaration columns read, the label, and every feature with its
description (:data:`SPEC`), own fields and history keys alike."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

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


def describe_features(names: Iterable[str] | None = None) -> list[tuple[str, str]]:
    """(name, plain words) for the given features, or for all features."""
    wanted = list(names) if names is not None else SPEC.names
    return [(n, SPEC.describe(n)) for n in wanted]

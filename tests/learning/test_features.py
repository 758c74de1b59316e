"""Feature building: spec, hand-worked history, and no information from the future."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from apps.learning import features as F
from tests.learning import declarations


def _row(day: str, importer: str, fraud: float | None, **over: object) -> dict[str, object]:
    row: dict[str, object] = {
        "declaration_id": f"{day}-{importer}-{over.get('n', 0)}",
        "date": day,
        "office_id": 30,
        "process_type": "B",
        "import_type": 11,
        "import_use": 21,
        "payment_type": 11,
        "mode_of_transport": 10,
        "declarant_id": "D1",
        "importer_id": importer,
        "seller_id": "S1",
        "courier_id": np.nan,
        "hs6": 440890,
        "country_of_departure": "BE",
        "country_of_origin": "BE",
        "tax_rate": 8.0,
        "tax_type": "A",
        "origin_indicator": "G",
        "net_mass": 100.0,
        "item_price": 5000.0,
        "fraud": fraud,
        "critical_fraud": 0,
    }
    row.update({k: v for k, v in over.items() if k != "n"})
    return row


@pytest.fixture(scope="module")
def sample() -> pd.DataFrame:
    frame = declarations()
    return frame.sample(4000, random_state=5).reset_index(drop=True)


def test_column_map_covers_csv_headers() -> None:
    from tests.learning import DATA_DIR

    headers = list(pd.read_csv(DATA_DIR / "df_syn_train_eng.csv", nrows=0).columns)
    assert sorted(headers) == sorted(F.COLUMN_MAP)
    frame = declarations()
    assert set(F.REQUIRED_COLUMNS) <= set(frame.columns)
    assert F.LABEL in frame.columns


def test_spec_describes_every_feature(sample: pd.DataFrame) -> None:
    x = F.build_features(sample.head(200), use_frame_labels=True)
    assert list(x.columns) == F.SPEC.names
    assert len(set(F.SPEC.names)) == len(F.SPEC.names)
    for name, words in F.describe_features():
        assert len(words) > 10, name
    assert set(F.SPEC.categorical) <= set(F.SPEC.names)
    assert all(row["description"] for row in F.SPEC.as_table())


def test_history_hand_worked() -> None:
    frame = pd.DataFrame(
        [
            _row("2020-01-01", "A", 1),
            _row("2020-01-03", "A", 0),
            _row("2020-01-03", "B", 1),
            _row("2020-01-10", "A", 1),
        ]
    )
    x = F.build_features(frame, use_frame_labels=True)
    # the first record of A has no past
    assert x.loc[0, "importer_first_seen"] == 1
    assert x.loc[0, "importer_n_before"] == 0
    # A on 2020-01-03 sees only 2020-01-01 (one finding); not itself, not B of the same day
    assert x.loc[1, "importer_n_before"] == 1
    assert x.loc[1, "importer_findings_before"] == 1
    assert x.loc[1, "importer_days_known"] == 2
    assert x.loc[2, "importer_first_seen"] == 1
    # A on 2020-01-10: 2 examined, 1 finding; prior = (2 findings + 10 * 0.2) / (3 + 10) of all earlier
    prior = (2 + 10 * F.DEFAULT_PRIOR) / (3 + 10)
    expected = (1 + F.SMOOTHING * prior) / (2 + F.SMOOTHING)
    assert x.loc[3, "importer_finding_rate"] == pytest.approx(expected)
    assert x.loc[3, "importer_days_known"] == 9
    # the goods line (same HS, mass, value, ...) is shared by all four rows
    assert x.loc[3, "line_n_before"] == 3
    assert x.loc[3, "line_findings_before"] == 2
    # own fields
    assert x.loc[0, "declared_duty"] == pytest.approx(400.0)
    assert x.loc[0, "hs_chapter"] == "44"
    assert x.loc[0, "has_courier"] == 0


def test_finding_rates_weigh_each_examination_by_its_propensity() -> None:
    """A random check that stood for many unexamined declarations moves a rate more than a targeted
    one, but only as far as its capped weight and the effective number of examinations allow."""
    history = pd.DataFrame(
        [
            _row("2020-01-01", "A", 1, n=1),  # targeted: examined for sure
            _row("2020-01-01", "A", 1, n=2),
            _row("2020-01-02", "A", 0, n=3),  # a random check drawn at 5 %: weight 20, capped at 10
        ]
    ).assign(**{F.PROPENSITY: [1.0, np.nan, 0.05]})
    new = pd.DataFrame([_row("2020-02-01", "A", None)]).drop(columns=["fraud"])
    x = F.build_features(new, history)
    w = np.array([1.0, 1.0, F.MAX_HISTORY_WEIGHT])  # no propensity known: 1
    y = np.array([1.0, 1.0, 0.0])
    n_eff = w.sum() ** 2 / (w * w).sum()
    rate = (w * y).sum() / w.sum()
    prior = (n_eff * rate + F.PRIOR_SMOOTHING * F.DEFAULT_PRIOR) / (n_eff + F.PRIOR_SMOOTHING)
    expected = (n_eff * rate + F.SMOOTHING * prior) / (n_eff + F.SMOOTHING)
    assert x.loc[0, "importer_finding_rate"] == pytest.approx(expected)
    # Far below the plain rate of two findings in three, which the targeted findings inflate.
    plain = F.build_features(new, history.drop(columns=[F.PROPENSITY]))
    assert x.loc[0, "importer_finding_rate"] < plain.loc[0, "importer_finding_rate"] - 0.2
    # The counts stay plain counts.
    assert (x.loc[0, "importer_examined_before"], x.loc[0, "importer_findings_before"]) == (3, 2)
    # The same records as training rows (their own labels and propensities) give a later row the same.
    as_training = F.build_features(pd.concat([history, new], ignore_index=True), use_frame_labels=True)
    assert as_training.loc[3, "importer_finding_rate"] == pytest.approx(expected)


def test_unlabelled_rows_count_as_declarations_not_findings() -> None:
    history = pd.DataFrame([_row("2020-01-01", "A", 1)])
    new = pd.DataFrame([_row("2020-02-01", "A", None), _row("2020-03-01", "A", None)])
    x = F.build_features(new.drop(columns=["fraud"]), history)
    assert list(x["importer_n_before"]) == [1, 2]
    assert list(x["importer_examined_before"]) == [1, 1]
    assert list(x["importer_findings_before"]) == [1, 1]


def test_own_label_and_new_labels_are_not_used(sample: pd.DataFrame) -> None:
    flipped = sample.copy()
    flipped["fraud"] = 1 - flipped["fraud"]
    # scoring mode ignores the frame's labels entirely
    a = F.build_features(sample)
    b = F.build_features(flipped)
    pd.testing.assert_frame_equal(a, b)


def _assert_same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True), check_exact=False)


def test_no_future_information(sample: pd.DataFrame) -> None:
    """Perturbing later records (labels, fields, extra rows, order) leaves earlier features unchanged."""
    cut = pd.Timestamp("2020-07-01")
    dates = pd.to_datetime(sample["date"])
    early = (dates <= cut).to_numpy()
    base = F.build_features(sample, use_frame_labels=True)

    rng = np.random.default_rng(7)
    later = sample[~early].copy()
    later["fraud"] = rng.permutation(later["fraud"].to_numpy())
    later["critical_fraud"] = rng.integers(0, 3, len(later))
    later["item_price"] = later["item_price"] * rng.uniform(0.5, 2, len(later))
    later["importer_id"] = rng.permutation(later["importer_id"].to_numpy())
    later["hs6"] = rng.permutation(later["hs6"].to_numpy())
    # later copies of early records (same goods line, same traders), all found irregular
    copies = sample[early].sample(300, random_state=1).copy()
    copies["date"] = "2020-12-30"
    copies["fraud"] = 1
    copies["declaration_id"] = copies["declaration_id"].astype(str) + "-copy"
    perturbed = pd.concat([later, copies, sample[early]]).sample(frac=1.0, random_state=3)

    again = F.build_features(perturbed, use_frame_labels=True)
    key = perturbed["declaration_id"].astype(str).to_numpy()
    again.index = key
    early_ids = sample.loc[early, "declaration_id"].astype(str).to_numpy()
    expected = base[early].copy()
    expected.index = early_ids
    _assert_same(expected, again.loc[early_ids])


def test_same_day_labels_do_not_leak(sample: pd.DataFrame) -> None:
    day = pd.to_datetime(sample["date"]).dt.normalize()
    target = day.value_counts().index[0]
    flipped = sample.copy()
    same_day = (day == target).to_numpy()
    flipped.loc[same_day, "fraud"] = 1 - flipped.loc[same_day, "fraud"]
    a = F.build_features(sample, use_frame_labels=True)[same_day]
    b = F.build_features(flipped, use_frame_labels=True)[same_day]
    _assert_same(a, b)


def test_incremental_matches_batch(sample: pd.DataFrame) -> None:
    """Features of new rows from (history, new) equal those from one frame with the new labels hidden."""
    dates = pd.to_datetime(sample["date"])
    history = sample[dates < "2020-10-01"]
    new = sample[dates >= "2020-10-01"].drop(columns=["fraud", "critical_fraud"])
    inc = F.build_features(new, history)
    combined = pd.concat([history, new.assign(fraud=np.nan)])
    batch = F.build_features(combined, use_frame_labels=True).iloc[len(history) :]
    _assert_same(inc, batch)
    assert (inc["line_examined_before"] <= inc["line_n_before"]).all()


def test_categories_encode_unseen_as_missing(sample: pd.DataFrame) -> None:
    x = F.build_features(sample, use_frame_labels=True)
    maps = F.fit_category_maps(x)
    other = x.head(3).copy()
    other["country_of_origin"] = ["CN", "ZZ-never", None]
    enc = F.encode_categories(other, maps)
    assert enc["country_of_origin"].iloc[0] == maps["country_of_origin"]["CN"]
    assert np.isnan(enc["country_of_origin"].iloc[1])
    assert np.isnan(enc["country_of_origin"].iloc[2])
    assert F.feature_value_words("country_of_origin", enc["country_of_origin"].iloc[0], maps) == "CN"


def test_missing_columns_are_named() -> None:
    with pytest.raises(ValueError, match="importer_id"):
        F.normalise_columns(pd.DataFrame([_row("2020-01-01", "A", 0)]).drop(columns=["importer_id"]))

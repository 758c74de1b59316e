"""End to end through the product: ingest labelled declarations, train, ingest new ones without labels,
export scores, and measure precision at the top 5 % and 10 % against the real labels.

Subsampled for speed (the suite must stay fast): train on the last months of 2020 and score the first
weeks of 2021, both cut by date so history stays consistent. ``python -m bench.model --through-product``
runs the full-size flow.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest
from django.core.management import call_command

from apps.intake.models import Outcome, Subject
from apps.intake.services import ingest_paths
from apps.learning.metrics import precision_at
from apps.learning.models import ModelStatus, ModelVersion
from tests.factories import DataSourceFactory

TRAIN_FROM = "2020-10-15"
VALID_UNTIL = "2021-01-21"


def _subset(shared_data: Path, name: str, keep, path: Path, *, drop_labels: bool = False) -> pd.DataFrame:
    frame = pd.read_csv(shared_data / "declarations" / name, dtype=str, keep_default_na=False)
    frame = frame[keep(frame["Date"])]
    written = frame.drop(columns=["Fraud", "Critical Fraud"]) if drop_labels else frame
    written.to_csv(path, index=False)
    return frame


@pytest.mark.django_db
def test_ingest_train_export_and_measure(world, risk_manager, shared_data, tmp_path):
    source = DataSourceFactory(name="Import declarations", owner_agency=world.customs)
    train_csv, valid_csv = tmp_path / "train.csv", tmp_path / "valid.csv"
    train = _subset(shared_data, "df_syn_train_eng.csv", lambda d: d >= TRAIN_FROM, train_csv)
    valid = _subset(
        shared_data, "df_syn_valid_eng.csv", lambda d: d <= VALID_UNTIL, valid_csv, drop_labels=True
    )

    ingest_paths(actor=None, source=source, paths=[train_csv])
    assert Outcome.objects.filter(subject__source=source).count() == len(train)

    call_command("train_model", "--source", source.name, "--activate", "--params", '{"max_rounds": 150, '
                 '"early_stopping_rounds": 30, "learning_rate": 0.1}', verbosity=0)  # fmt: skip
    version = ModelVersion.objects.get(owner_agency=world.customs)
    assert version.status == ModelStatus.ACTIVE
    assert version.data_summary["rows"] == len(train)
    for k in ("1%", "5%", "10%"):
        assert f"precision@{k}" in version.metrics and f"recall@{k}" in version.metrics
    assert version.metrics["auc"] > 0.7

    outcomes_before = Outcome.objects.count()
    ingest_paths(actor=None, source=source, paths=[valid_csv])
    assert Outcome.objects.count() == outcomes_before  # the valid copy has no labels
    assert Subject.objects.filter(source=source, kind="consignment").count() == len(train) + len(valid)

    output = tmp_path / "scores.csv"
    call_command("export_scores", "--source", source.name, "--output", str(output), verbosity=0)
    with output.open() as handle:
        exported = {row["id"]: float(row["score"]) for row in csv.DictReader(handle)}
    assert len(exported) == len(train) + len(valid)

    truth = valid.set_index("Declaration ID")["Fraud"].astype(int)
    scores = pd.Series(exported).reindex(truth.index)
    assert scores.notna().all()
    base = (truth > 0).mean()
    p5, p10 = precision_at(truth, scores, 0.05), precision_at(truth, scores, 0.10)
    print(f"through the product: precision@5% {p5:.4f}, precision@10% {p10:.4f}, base rate {base:.4f}")
    assert p5 > 3 * base and p10 > 3 * base
    assert p5 >= 0.8

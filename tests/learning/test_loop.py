"""The learning loop in the product: training data from the database, versions, activation, scoring in
assessment (and the legal basis that forbids it), explanations, drift, pages and the API."""

from __future__ import annotations

import hashlib
import re

import numpy as np
import pandas as pd
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.template.loader import render_to_string
from django.urls import reverse

from apps.intake.models import Outcome, Subject
from apps.learning import dataset as D
from apps.learning import features as F
from apps.learning import services
from apps.learning.models import DriftCheck, ModelStatus, ModelVersion, TrainingRun
from apps.learning.scoring import explanation_for, model_component_for, provider, score_source
from apps.learning.selection import effective_size
from tests.factories import DataSourceFactory
from tests.learning import declarations
from tests.learning.helpers import (
    TRAIN_WINDOW,
    extract,
    ingest_new,
    ingest_train,
    stored_version,
    trained_version,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def source(world):
    return DataSourceFactory(name="Import declarations", owner_agency=world.customs)


@pytest.fixture
def active(source, risk_manager, tmp_path):
    """Late December 2020 ingested with labels, a version trained on it through the product, activated."""
    ingest_train(source, tmp_path)
    return trained_version(source, risk_manager)


@pytest.fixture
def stored(source, world):
    """An active version with a real model file, without data or training (for version and access tests)."""
    return stored_version(world.customs, [source])


# --- Training data ------------------------------------------------------------------------------------


def test_mapping_gives_the_core_the_same_declarations_as_the_csv(source, tmp_path):
    path = tmp_path / "few.csv"
    extract("df_syn_train_eng.csv", path, since="2020-12-30")
    from apps.intake.services import ingest_paths

    ingest_paths(actor=None, source=source, paths=[path])
    from_db = D.training_frame([source]).sort_values("declaration_id").reset_index(drop=True)
    from_csv = declarations()
    from_csv = from_csv[from_csv["date"] >= "2020-12-30"].copy()
    from_csv["declaration_id"] = from_csv["declaration_id"].astype(str)
    from_csv = from_csv.sort_values("declaration_id").reset_index(drop=True)
    assert len(from_db) == len(from_csv) > 100
    assert (from_db["declaration_id"] == from_csv["declaration_id"]).all()
    assert (from_db["fraud"] == from_csv["fraud"]).all()
    assert (from_db["critical_fraud"] == from_csv["critical_fraud"]).all()
    own = [f.name for f in F.SPEC.features if f.group == "own"]
    db_features = F.build_features(from_db)[own]
    csv_features = F.build_features(from_csv)[own]
    numeric = [f.name for f in F.SPEC.features if f.group == "own" and f.kind == "numeric"]
    np.testing.assert_allclose(db_features[numeric].to_numpy(float), csv_features[numeric].to_numpy(float))
    for name in ("country_of_origin", "tax_type", "process_type", "hs_chapter"):
        assert (db_features[name].astype(str) == csv_features[name].astype(str)).all(), name
    assert (from_db["weight"] == 1.0).all()  # imported history: unweighted


def test_propensity_of_outcomes_follows_what_the_engine_knew():
    random = np.array([True, True, False, False, True, True])
    origin = np.array(["examination"] * 4 + ["imported", "examination"])
    above = np.array([False, True, True, False, False, False])
    share = np.array([0.01, 0.01, 0.01, 0.01, 0.01, 0.02])
    known = np.array([True, True, True, True, True, False])
    p = D.selection_propensity(random, origin, above, share, known)
    # Random draw below the threshold: its share. Above it: selected anyway. Targeted by hand below the
    # threshold, imported history, or no assessment to read: nothing to correct, p = 1.
    assert p.tolist() == [0.01, 1.0, 1.0, 1.0, 1.0, 1.0]


def _assess(subject, *, score, share=0.01, threshold=60.0, random_control=False):
    from apps.risk.models import Assessment

    return Assessment.objects.create(
        subject=subject,
        score=score,
        channel="red" if random_control or score >= threshold else "green",
        random_control=random_control,
        explanation={
            "thresholds": {"nomination": threshold},
            "random_control": {"selected": random_control, "share": share},
        },
    )


def test_training_frame_weights_examined_outcomes_by_inverse_propensity(source, tmp_path, settings):
    path = tmp_path / "few.csv"
    extract("df_syn_train_eng.csv", path, since="2020-12-29")
    from apps.intake.services import ingest_paths

    ingest_paths(actor=None, source=source, paths=[path])
    subjects = list(Subject.objects.filter(source=source, kind="consignment").order_by("pk")[:30])
    later = pd.Timestamp.now(tz="UTC") + pd.Timedelta(hours=1)
    for i, subject in enumerate(subjects[:10]):  # random control drawn below the threshold at 1 % / 2 %
        _assess(subject, score=10, share=0.01 if i < 5 else 0.02, random_control=True)
    for subject in subjects[10:15]:  # drawn, but above the threshold: would have been examined anyway
        _assess(subject, score=80, random_control=True)
    for subject in subjects[15:25]:  # nominated by risk
        _assess(subject, score=80)
    # Drawn, but its only assessment is dated after the examination: not what the centre knew then.
    late = _assess(subjects[25], score=10, random_control=True)
    from apps.risk.models import Assessment

    Assessment.objects.filter(pk=late.pk).update(created_at=later + pd.Timedelta(days=1))
    for i, subject in enumerate(subjects[:26]):
        Outcome.objects.create(
            subject=subject,
            origin="examination",
            finding=False,
            random_control=i < 15 or i == 25,
            recorded_at=later,
        )
    settings.LEARNING_MIN_EFFECTIVE_SHARE = None  # pure 1 / p first
    frame = D.training_frame([source]).set_index("subject_id")
    p = frame["propensity"]
    assert p.loc[subjects[0].pk] == 0.01 and p.loc[subjects[7].pk] == 0.02
    assert (p.loc[[s.pk for s in subjects[10:26]]] == 1.0).all()
    w = frame["weight"]
    assert w.loc[subjects[0].pk] / w.loc[subjects[15].pk] == pytest.approx(100.0)
    assert w.loc[subjects[7].pk] / w.loc[subjects[15].pk] == pytest.approx(50.0)
    imported = frame.index.difference([s.pk for s in subjects[:26]])
    assert (w.loc[imported] == w.loc[subjects[15].pk]).all()  # imported history: no correction
    assert w.mean() == pytest.approx(1.0)  # self-normalised
    assert frame.loc[subjects[0].pk, "fraud"] == 0
    # With the default variance budget the heavy draws are capped so the outcomes keep half their worth.
    del settings.LEARNING_MIN_EFFECTIVE_SHARE
    budgeted = D.training_frame([source]).set_index("subject_id")["weight"]
    assert effective_size(budgeted.to_numpy()) >= 0.5 * len(budgeted) - 1e-6
    assert 1 < budgeted.loc[subjects[0].pk] / budgeted.loc[subjects[15].pk] < 100
    # The history the scorer reads carries the same propensities, so its finding rates weigh each
    # examined declaration as training did; a declaration nobody examined has none.
    D.clear_cache()
    stored = D.declarations_frame([source]).set_index("subject_id")[F.PROPENSITY]
    pd.testing.assert_series_equal(stored.loc[p.index], p, check_names=False)
    assert stored.drop(index=p.index).isna().all()


# --- Versions, activation, permissions -----------------------------------------------------------------


def test_training_creates_a_version_with_file_metrics_and_features(active, source, risk_manager):
    version = active
    assert version.status == ModelStatus.ACTIVE and version.number == 1
    assert version.source_names == [source.name] and list(version.sources.all()) == [source]
    blob = version.model_file.read()
    assert hashlib.sha256(blob).hexdigest() == version.sha256
    assert version.model_file.name.startswith(f"models/{source.owner_agency_id}/")
    for k in ("1%", "5%", "10%"):
        assert 0 <= version.metrics[f"precision@{k}"] <= 1 and 0 <= version.metrics[f"recall@{k}"] <= 1
    assert version.metrics["auc"] > 0.6
    assert version.features == F.SPEC.names
    assert version.importance and version.importance[0]["description"]
    assert (version.window_start.isoformat(), version.window_end.isoformat()) == TRAIN_WINDOW
    assert version.training_seconds > 0
    run = version.runs.get()
    assert run.status == TrainingRun.Status.DONE and run.progress == 1.0 and run.requested_by == risk_manager


def test_tampered_model_file_is_refused(stored):
    assert services.load_model(stored) is services.load_model(stored)  # read once per process
    services._MODELS.clear()
    stored.sha256 = "0" * 64
    with pytest.raises(ValidationError, match="SHA-256"):
        services.load_model(stored)


def test_one_active_version_per_agency_and_roll_back(stored, source, risk_manager, world):
    active = stored
    second = stored_version(world.customs, [source], status="draft")
    assert second.number == 2 and second.status == ModelStatus.DRAFT
    services.activate_version(actor=risk_manager, version=second)
    active.refresh_from_db()
    assert active.status == ModelStatus.RETIRED
    assert services.active_version(source.owner_agency_id) == second
    services.roll_back(actor=risk_manager, version=second)
    active.refresh_from_db()
    second.refresh_from_db()
    assert (active.status, second.status) == (ModelStatus.ACTIVE, ModelStatus.RETIRED)
    assert ModelVersion.objects.filter(owner_agency=source.owner_agency, status="active").count() == 1


def test_only_risk_managers_train_and_activate(
    stored, source, customs_analyst, customs_supervisor, client_for
):
    active = stored
    for person in (customs_analyst, customs_supervisor):
        with pytest.raises(PermissionDenied):
            services.start_training(actor=person, sources=[source])
        with pytest.raises(PermissionDenied):
            services.activate_version(actor=person, version=active)
        with pytest.raises(PermissionDenied):
            services.retire_version(actor=person, version=active)
    client = client_for(customs_analyst)
    assert client.post(reverse("learning:train"), {"sources": [source.pk]}).status_code == 403
    page = client.get(reverse("learning:model", args=[active.pk]))
    retire = reverse("learning:model_retire", args=[active.pk])
    assert page.status_code == 200 and retire.encode() not in page.content
    refused = client.post(retire, follow=True)  # the service refuses: said on the version's page
    assert b'class="message message-error"' in refused.content
    api = client.patch(
        reverse("modelversion-detail", args=[active.pk]),
        {"status": "retired"},
        content_type="application/json",
    )
    assert api.status_code == 403
    assert (
        client.post(
            reverse("trainingrun-list"), {"sources": [source.pk]}, content_type="application/json"
        ).status_code
        == 403
    )
    active.refresh_from_db()
    assert active.status == ModelStatus.ACTIVE and not TrainingRun.objects.exists()


def test_outsider_sees_nothing_of_another_agencys_models(stored, world, outsider, client_for):
    active = stored
    run = TrainingRun.objects.create(owner_agency=world.customs, model_version=active)
    client = client_for(outsider)
    assert client.get(reverse("learning:model", args=[active.pk])).status_code == 404
    assert client.post(reverse("learning:model_retire", args=[active.pk])).status_code == 404
    assert client.get(reverse("learning:training", args=[run.pk])).status_code == 404
    assert client.get(reverse("modelversion-detail", args=[active.pk])).status_code == 404
    assert client.get(reverse("modelversion-list")).json()["results"] == []
    listing = client.get(reverse("learning:models"))
    # Look for the version's link and label as words: the page's random CSRF token may hold "v1".
    assert listing.status_code == 200
    assert reverse("learning:model", args=[active.pk]) not in listing.content.decode()
    assert not re.search(rb"\bv1\b", listing.content)
    with pytest.raises(Exception) as caught:
        services.activate_version(actor=outsider, version=active)
    assert caught.value.__class__.__name__ in {"Http404", "PermissionDenied"}


def test_a_source_that_forbids_self_learning_cannot_be_trained_on(world, risk_manager):
    pnr = DataSourceFactory(name="PNR", owner_agency=world.customs, allows_self_learning=False)
    with pytest.raises(ValidationError, match="forbids self-learning"):
        services.start_training(actor=risk_manager, sources=[pnr])


# --- Pages and API ------------------------------------------------------------------------------------


def test_risk_manager_trains_from_the_page_and_follows_progress(
    source, risk_manager, client_for, tmp_path, django_capture_on_commit_callbacks
):
    ingest_train(source, tmp_path)
    client = client_for(risk_manager)
    page = client.get(reverse("learning:models"))
    assert page.status_code == 200 and b"Start training" in page.content
    # The form trains with the default (production) parameters; keep the test quick.
    services_defaults = dict(services.train.__globals__["DEFAULT_OPTIONS"])
    try:
        services.train.__globals__["DEFAULT_OPTIONS"].update(max_rounds=100, early_stopping_rounds=20)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(reverse("learning:train"), {"sources": [source.pk], "activate": "on"})
    finally:
        services.train.__globals__["DEFAULT_OPTIONS"].clear()
        services.train.__globals__["DEFAULT_OPTIONS"].update(services_defaults)
    run = TrainingRun.objects.get()
    assert response.status_code == 302 and response.url == reverse("learning:training", args=[run.pk])
    assert run.status == TrainingRun.Status.DONE and run.model_version.status == ModelStatus.ACTIVE
    fragment = client.get(reverse("learning:training", args=[run.pk]), headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert b"<html" not in fragment.content and b'aria-valuenow="100"' in fragment.content
    assert b"every 1s" not in fragment.content  # a finished run stops polling
    detail = client.get(reverse("learning:model", args=[run.model_version.pk]))
    retire = reverse("learning:model_retire", args=[run.model_version.pk]).encode()
    assert b"Precision" in detail.content and retire in detail.content
    assert b"What the model looks at" in detail.content
    support = run.model_version.data_summary["support"]
    assert 0 <= support["mean_thin_share"] <= 1 and support["subjects"] > 100
    assert b"How much of the score rests on few examples" in detail.content
    shown = re.search(rb'data-testid="support-share">([0-9.]+) %<', detail.content)
    assert shown and float(shown.group(1)) == pytest.approx(100 * support["mean_thin_share"], abs=0.05)


def test_running_training_page_polls(world, client_for, customs_analyst):
    run = TrainingRun.objects.create(
        owner_agency=world.customs, status="running", progress=0.42, message="Training trees (50)"
    )
    content = client_for(customs_analyst).get(reverse("learning:training", args=[run.pk])).content
    assert b'hx-trigger="every 1s"' in content and b"42%" in content and b"Training trees (50)" in content


def test_api_lists_activates_and_queues_training(
    active, source, risk_manager, client_for, django_capture_on_commit_callbacks
):
    client = client_for(risk_manager)
    listed = client.get(reverse("modelversion-list")).json()["results"]
    assert [v["number"] for v in listed] == [1] and listed[0]["metrics"]["precision@5%"] >= 0
    retired = client.patch(
        reverse("modelversion-detail", args=[active.pk]),
        {"status": "retired"},
        content_type="application/json",
    )
    assert retired.status_code == 200 and retired.json()["status"] == "retired"
    again = client.patch(
        reverse("modelversion-detail", args=[active.pk]),
        {"status": "active"},
        content_type="application/json",
    )
    assert again.json()["status"] == "active"
    with django_capture_on_commit_callbacks(execute=True):
        created = client.post(
            reverse("trainingrun-list"),
            {
                "sources": [source.pk],
                "parameters": {"max_rounds": 60, "early_stopping_rounds": 20, "learning_rate": 0.1},
            },
            content_type="application/json",
        )
    assert created.status_code == 202
    run = client.get(reverse("trainingrun-detail", args=[created.json()["id"]])).json()
    assert run["status"] == "done" and run["percent"] == 100 and run["model_version"]


# --- Scoring in assessment ------------------------------------------------------------------------------


def test_provider_scores_with_explanations_and_respects_the_legal_basis(
    active, world, source, tmp_path, monkeypatch
):
    pnr = DataSourceFactory(
        name="Passenger data (PNR)", owner_agency=world.customs, allows_self_learning=False
    )
    ingest_new(source, tmp_path)
    ingest_new(pnr, tmp_path)
    new = list(Subject.objects.filter(source=source, kind="consignment", outcomes__isnull=True))
    barred = list(Subject.objects.filter(source=pnr, kind="consignment"))
    assert new and barred

    found = provider(new + barred)
    for subject in new:
        (component,) = found[subject.pk]
        assert component.kind == "model" and component.ref == f"model:{active.pk}"
        p = component.details["probability"]
        assert 0 < p < 1 and component.score == pytest.approx(100 * p, abs=1e-3)
        assert len(component.details["features"]) == 5
        assert all(
            f["words"] and f["direction"] in {"raises", "lowers"} for f in component.details["features"]
        )
    for subject in barred:
        (component,) = found[subject.pk]
        assert component.score == 0 and component.details["applied"] is False
        expected = (
            "model not applied: the legal basis of source Passenger data (PNR) forbids self-learning models"
        )
        assert component.details["reason"] == expected
        assert component.explanation == expected

    # Through the risk engine: the component and its explanation are stored with the assessment.
    from apps.risk import providers as risk_providers
    from apps.risk.services import assess_subjects

    monkeypatch.setattr(risk_providers, "PROVIDERS", ["apps.learning.scoring.provider"])
    assess_subjects([new[0].pk, barred[0].pk])
    explained = explanation_for(new[0])
    assert explained == found[new[0].pk][0].details["features"]
    html = render_to_string("learning/_explanation.html", {"explanation": explained, "probability": 0.5})
    assert explained[0]["words"] in html and "50 %" in html
    assert explanation_for(barred[0]) is None
    assert "forbids self-learning" in model_component_for(barred[0])["explanation"]


def test_scores_use_only_earlier_records_and_match_bulk_export(active, source, tmp_path):
    ingest_new(source, tmp_path)
    new = list(
        Subject.objects.filter(source=source, kind="consignment", outcomes__isnull=True).order_by("pk")
    )
    whole = {pk: c[0].details["probability"] for pk, c in provider(new).items()}
    halves = {**provider(new[: len(new) // 2]), **provider(new[len(new) // 2 :])}
    for pk, components in halves.items():  # chunking does not change a score
        assert components[0].details["probability"] == pytest.approx(whole[pk], abs=1e-6)
    exported, version = score_source(source)
    assert version == active
    ids = {s.pk: s.facts["declaration_id"] for s in new}
    by_id = dict(zip(exported["id"], exported["score"], strict=True))
    for pk, p in whole.items():
        assert by_id[ids[pk]] == pytest.approx(p, abs=1e-4)


def test_export_refuses_a_source_that_forbids_self_learning(stored, world):
    pnr = DataSourceFactory(name="PNR", owner_agency=world.customs, allows_self_learning=False)
    with pytest.raises(ValidationError, match="forbids self-learning"):
        score_source(pnr)


# --- Drift ----------------------------------------------------------------------------------------------


def test_weekly_drift_check_and_warning_on_the_model_page(active, source, tmp_path, risk_manager, client_for):
    ingest_new(source, tmp_path, until="2021-01-14")
    check = services.run_drift_check(active)
    assert check.rows > 50 and check.score_psi is not None and check.features
    assert all({"name", "description", "psi", "warning"} <= set(f) for f in check.features)
    model = services.load_model(active)
    model.info["drift_reference"]["scores"] = [0.999] * 500  # training time scored everything high
    shifted = services.run_drift_check(active)
    assert shifted.warning and shifted.score_psi > 0.2
    page = client_for(risk_manager).get(reverse("learning:model", args=[active.pk]))
    assert b"Drift warning" in page.content and b'data-testid="drift"' in page.content


def test_drift_task_checks_every_active_version(stored, source, tmp_path):
    from apps.learning.tasks import check_drift_task

    ingest_new(source, tmp_path)
    assert check_drift_task.delay().get() == [DriftCheck.objects.get().pk]


def test_the_embedded_mode_checks_drift_on_monday_at_three(stored, source, tmp_path, monkeypatch):
    """No beat (``make demo``): the server's scheduler runs the weekly check at its registered time."""
    from datetime import timedelta

    import time_machine
    from django.utils import timezone

    from apps.core import periodic
    from apps.core.schedule import job

    monkeypatch.setattr(periodic, "jobs", lambda: (job("learning-weekly-drift"),))
    start = timezone.now().replace(microsecond=0)
    days_ahead = (7 - start.weekday()) % 7 or (7 if start.hour >= 3 else 0)
    monday_three = (start + timedelta(days=days_ahead)).replace(hour=3, minute=0, second=0)
    with time_machine.travel(start, tick=False):
        ingest_new(source, tmp_path)
        assert periodic.run_due() == []  # the job's row is written; Monday 03:00 is to come
    with time_machine.travel(monday_three - timedelta(minutes=1), tick=False):
        assert periodic.run_due() == []
    with time_machine.travel(monday_three, tick=False):
        assert periodic.run_due() == ["learning-weekly-drift"]
    check = DriftCheck.objects.get()
    assert check.model_version_id == stored.pk and check.rows > 0

"""Learning-loop services: train, version, activate, roll back, check drift. Every entry checks the actor.

Pages, the API, the commands and the Celery tasks all go through these functions. Training reads the
product's own records (:mod:`apps.learning.dataset`), trains with the pure core
(:mod:`apps.learning.training`), and stores a :class:`~apps.learning.models.ModelVersion` with the
serialised model as a file in the uploads storage and its SHA-256, checked again every time the file is
loaded (the file is a pickle: only bytes this application wrote, unchanged, are ever loaded).
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any

import numpy as np
import pandas as pd
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Max, QuerySet
from django.utils import timezone

from apps.agencies.operations import check, membership_of
from apps.agencies.scoping import get_object_for
from apps.core.errors import scrub_paths
from apps.intake.models import DataSource, SourceKind
from apps.learning import dataset as D
from apps.learning import drift as drift_core
from apps.learning import features as F
from apps.learning import selection as S
from apps.learning.diagnostics import drift_reference, feature_importance, score_support
from apps.learning.models import DriftCheck, ModelStatus, ModelVersion, TrainingRun
from apps.learning.training import TrainedModel, train

log = logging.getLogger(__name__)

#: Fewest labelled declarations (and findings) a training run accepts.
MIN_TRAINING_ROWS = 200
MIN_FINDINGS = 10
#: Fewest subjects in a week for a drift check to be meaningful.
MIN_DRIFT_ROWS = 50

ProgressCallback = Callable[[TrainingRun], None]


# --- Reading ------------------------------------------------------------------------------------------


def visible_versions(actor: User) -> QuerySet[ModelVersion]:
    """Model versions of the actor's agency (``model.view``)."""
    check(actor, "model.view")
    return ModelVersion.objects.visible_to(actor).select_related("created_by", "activated_by")


def get_version_for(actor: User, pk: Any, *, operation: str = "model.view") -> ModelVersion:
    """A version of the actor's agency, else 404."""
    return get_object_for(
        actor, ModelVersion.objects.select_related("created_by"), pk=pk, operation=operation
    )


def get_run_for(actor: User, pk: Any) -> TrainingRun:
    """A training run of the actor's agency, else 404."""
    return get_object_for(
        actor,
        TrainingRun.objects.select_related("model_version", "requested_by"),
        pk=pk,
        operation="model.view",
    )


def trainable_sources(actor: User) -> QuerySet[DataSource]:
    """Declaration sources the actor's agency owns and whose legal basis allows self-learning."""
    membership = membership_of(actor)
    if membership is None:
        return DataSource.objects.none()
    return D.learnable_sources(membership.agency_id).filter(kind=SourceKind.DECLARATION)


def active_version(agency_id: int) -> ModelVersion | None:
    """The agency's active model version, if any."""
    return ModelVersion.objects.filter(owner_agency_id=agency_id, status=ModelStatus.ACTIVE).first()


_MODELS: dict[int, tuple[str, TrainedModel]] = {}
_MODELS_LOCK = threading.Lock()


def load_model(version: ModelVersion) -> TrainedModel:
    """The trained model of ``version``, read from its file once per process; the SHA-256 must match."""
    with _MODELS_LOCK:
        cached = _MODELS.get(version.pk)
        if cached and cached[0] == version.sha256:
            return cached[1]
    if not version.model_file:
        raise ValidationError(f"{version} has no model file.")
    with version.model_file.open("rb") as handle:
        blob = handle.read()
    digest = hashlib.sha256(blob).hexdigest()
    if digest != version.sha256:
        raise ValidationError(f"The model file of {version} does not match its SHA-256; refusing to load it.")
    model = TrainedModel.from_bytes(blob)
    with _MODELS_LOCK:
        _MODELS[version.pk] = (digest, model)
    return model


# --- Training -----------------------------------------------------------------------------------------


def start_training(
    *,
    actor: User | None,
    sources: Iterable[DataSource],
    params: dict[str, Any] | None = None,
    activate: bool = False,
) -> TrainingRun:
    """Record a queued training run on ``sources`` (all of one agency, all allowing self-learning).

    People need ``model.train`` (and ``model.activate`` to activate on completion) and may train only on
    their own agency's sources; ``actor=None`` is the system (commands, the schedule).
    """
    chosen = list(sources)
    if not chosen:
        raise ValidationError("Choose at least one data source.")
    agencies = {s.owner_agency_id for s in chosen}
    if len(agencies) != 1:
        raise ValidationError("A model learns from the sources of one agency.")
    agency_id = agencies.pop()
    if actor is not None:
        check(actor, "model.train")
        if activate:
            check(actor, "model.activate")
        if membership_of(actor).agency_id != agency_id:
            raise PermissionDenied("You may train only on your own agency's sources.")
    forbidden = [s.name for s in chosen if not s.allows_self_learning]
    if forbidden:
        raise ValidationError(
            f"The legal basis of {', '.join(forbidden)} forbids self-learning models; it cannot be used."
        )
    with transaction.atomic():
        run = TrainingRun.objects.create(
            owner_agency_id=agency_id, requested_by=actor, parameters=params or {}, activate=activate
        )
        run.sources.set(chosen)
    return run


def submit_training(
    *,
    actor: User,
    sources: Iterable[DataSource],
    params: dict[str, Any] | None = None,
    activate: bool = False,
) -> TrainingRun:
    """Queue a training run and hand it to a Celery worker after commit (the page polls its progress)."""
    from apps.learning.tasks import train_model_task

    with transaction.atomic():
        run = start_training(actor=actor, sources=sources, params=params, activate=activate)
        transaction.on_commit(lambda: train_model_task.delay(run.pk))
    return run


class _Progress:
    """Writes a run's progress to the database at most every half second (and always at the ends)."""

    def __init__(self, run: TrainingRun, callback: ProgressCallback | None) -> None:
        self.run, self.callback, self.last = run, callback, 0.0

    def __call__(self, fraction: float, message: str, *, force: bool = False) -> None:
        self.run.progress, self.run.message = round(float(fraction), 4), message[:200]
        now = time.monotonic()
        if force or now - self.last >= 0.5:
            self.last = now
            TrainingRun.objects.filter(pk=self.run.pk).update(
                progress=self.run.progress, message=self.run.message
            )
        if self.callback:
            self.callback(self.run)


def run_training(run_id: int, *, progress: ProgressCallback | None = None) -> TrainingRun:
    """Train the model of a queued run, store the version, and activate it when the run asks to.

    The run is claimed with a conditional update, so a task delivered twice trains once. A failure is
    recorded on the run (status failed, the reason) and raised.
    """
    claimed = TrainingRun.objects.filter(pk=run_id, status=TrainingRun.Status.QUEUED).update(
        status=TrainingRun.Status.RUNNING, started_at=timezone.now(), message="Reading labelled records"
    )
    run = TrainingRun.objects.select_related("requested_by").get(pk=run_id)
    if not claimed:
        return run
    report = _Progress(run, progress)
    try:
        report(0.02, "Reading labelled records from the database", force=True)
        sources = list(run.sources.all())
        frame = D.training_frame(sources)
        findings = int(frame[F.LABEL].sum()) if len(frame) else 0
        if len(frame) < MIN_TRAINING_ROWS or findings < MIN_FINDINGS or findings == len(frame):
            raise ValidationError(
                f"Too few labelled declarations to train: {len(frame)} with {findings} findings "
                f"(needs {MIN_TRAINING_ROWS} and {MIN_FINDINGS} findings, and some without)."
            )
        report(0.05, f"{len(frame)} labelled declarations read", force=True)
        context = D.unexamined_frame(sources)
        model = train(
            frame, context=context, params=run.parameters, progress=lambda f, m: report(0.05 + 0.8 * f, m)
        )
        report(0.87, "Measuring the training-time distributions (for drift)", force=True)
        model.info["drift_reference"] = drift_reference(model, frame)
        report(0.9, "Measuring how much of the score rests on few examples", force=True)
        model.info["support"] = score_support(model, frame)
        report(0.95, "Saving the model version", force=True)
        version = _save_version(run, model, frame, sources)
        if run.activate:
            _activate(version, actor=run.requested_by)
    except Exception as exc:
        log.exception("training run %s failed", run_id)
        TrainingRun.objects.filter(pk=run_id).update(
            status=TrainingRun.Status.FAILED, error=scrub_paths(str(exc))[:2000], finished_at=timezone.now()
        )
        raise
    run.status, run.model_version, run.finished_at = TrainingRun.Status.DONE, version, timezone.now()
    run.progress, run.message = 1.0, f"Done: {version} trained"
    run.save(update_fields=["status", "model_version", "finished_at", "progress", "message"])
    if progress:
        progress(run)
    return run


def train_now(
    *,
    actor: User | None,
    sources: Iterable[DataSource],
    params: dict[str, Any] | None = None,
    activate: bool = False,
    progress: ProgressCallback | None = None,
) -> TrainingRun:
    """Train in this process (the ``train_model`` command): start a run and run it at once."""
    run = start_training(actor=actor, sources=sources, params=params, activate=activate)
    return run_training(run.pk, progress=progress)


def _save_version(
    run: TrainingRun, model: TrainedModel, frame: pd.DataFrame, sources: list[DataSource]
) -> ModelVersion:
    blob = model.to_bytes()
    digest = hashlib.sha256(blob).hexdigest()
    weights = frame["weight"].to_numpy(float) if "weight" in frame.columns else np.ones(len(frame))
    random_rows = int(frame["random_control"].sum()) if "random_control" in frame.columns else 0
    # How much the heaviest random-control outcome weighs against an outcome examined for sure (p = 1).
    propensities = (
        frame["propensity"].to_numpy(float) if "propensity" in frame.columns else np.ones(len(frame))
    )
    random_mask = frame["random_control"].to_numpy(bool) if random_rows else np.zeros(len(frame), bool)
    sure = weights[propensities >= 1]
    unit = float(sure.min()) if len(sure) else 1.0
    summary = {
        "rows": len(frame),
        "findings": int(frame[F.LABEL].sum()),
        "random_control_rows": random_rows,
        "random_control_weight": round(float(weights[random_mask].max()) / unit, 2) if random_rows else 1.0,
        "imported_rows": int((frame["origin"] == "imported").sum()) if "origin" in frame.columns else 0,
        "weighted_rows": int((frame["propensity"] < 1).sum()) if "propensity" in frame.columns else 0,
        "effective_rows": round(S.effective_size(weights), 1),
        "support": model.info.get("support"),
        "trees": int(model.info.get("rounds", 0)),
        "holdout_test_window": model.info.get("holdout_test_window"),
    }
    with transaction.atomic():
        top = ModelVersion.objects.filter(owner_agency_id=run.owner_agency_id).aggregate(n=Max("number"))["n"]
        number = (top or 0) + 1
        version = ModelVersion(
            owner_agency_id=run.owner_agency_id,
            number=number,
            source_names=[s.name for s in sources],
            window_start=frame["date"].min().date(),
            window_end=frame["date"].max().date(),
            features=list(model.spec.names),
            parameters={k: v for k, v in model.params.items() if isinstance(v, int | float | str | bool)},
            metrics={
                k: (None if isinstance(v, float) and np.isnan(v) else float(v))
                for k, v in model.metrics.items()
            },
            importance=feature_importance(model),
            data_summary=summary,
            sha256=digest,
            training_seconds=round(float(model.info.get("training_seconds", 0.0)), 2),
            created_by=run.requested_by,
        )
        version.model_file.save(f"risk-model-v{number}-{digest[:12]}.joblib", ContentFile(blob), save=False)
        version.save()
        version.sources.set(sources)
    with _MODELS_LOCK:
        _MODELS[version.pk] = (digest, model)
    return version


# --- Activation ---------------------------------------------------------------------------------------


def _activate(version: ModelVersion, *, actor: User | None) -> ModelVersion:
    if not version.model_file or not version.sha256:
        raise ValidationError(f"{version} has no model file and cannot score.")
    now = timezone.now()
    with transaction.atomic():
        current = list(
            ModelVersion.objects.select_for_update()
            .filter(owner_agency_id=version.owner_agency_id, status=ModelStatus.ACTIVE)
            .exclude(pk=version.pk)
        )
        for other in current:
            other.status, other.retired_at = ModelStatus.RETIRED, now
            other.save(update_fields=["status", "retired_at"])
        version.status, version.activated_at, version.retired_at = ModelStatus.ACTIVE, now, None
        version.activated_by = actor if getattr(actor, "pk", None) else None
        version.save(update_fields=["status", "activated_at", "activated_by", "retired_at"])
    return version


def activate_version(*, actor: User, version: ModelVersion) -> ModelVersion:
    """Make ``version`` the agency's one active model (the active one, if any, is retired).

    Activating a retired version is how a risk manager rolls back. Needs ``model.activate``.
    """
    check(actor, "model.activate", version)
    return _activate(version, actor=actor)


def retire_version(*, actor: User, version: ModelVersion) -> ModelVersion:
    """Take ``version`` out of use; if it was active, the agency has no active model afterwards."""
    check(actor, "model.activate", version)
    version.status, version.retired_at = ModelStatus.RETIRED, timezone.now()
    version.save(update_fields=["status", "retired_at"])
    return version


def previous_version(version: ModelVersion) -> ModelVersion | None:
    """The version that was active before ``version`` (the one a roll back returns to)."""
    return (
        ModelVersion.objects.filter(
            owner_agency_id=version.owner_agency_id, status=ModelStatus.RETIRED, activated_at__isnull=False
        )
        .exclude(pk=version.pk)
        .order_by("-activated_at", "-pk")
        .first()
    )


def roll_back(*, actor: User, version: ModelVersion) -> ModelVersion:
    """Retire the active ``version`` and re-activate the one that was active before it."""
    check(actor, "model.activate", version)
    earlier = previous_version(version)
    if earlier is None:
        raise ValidationError("There is no earlier active version to roll back to.")
    return _activate(earlier, actor=actor)


# --- Drift --------------------------------------------------------------------------------------------


def run_drift_check(version: ModelVersion, *, now: Any = None, days: int = 7) -> DriftCheck:
    """Compare the last ``days`` of declarations received with the version's training time (PSI).

    Scores and the most important inputs are compared with the reference kept in the model file; a PSI
    of :data:`apps.learning.drift.WARNING_THRESHOLD` (0.2) or more on the score or any input raises the
    warning the model page shows.
    """
    from apps.learning.scoring import score_frame

    end = now or timezone.now()
    start = end - timedelta(days=days)
    model = load_model(version)
    reference = model.info.get("drift_reference") or {}
    subjects = D.consignments(version.sources.all()).filter(received_at__gte=start, received_at__lt=end)
    frame = D.frame_for(subjects)
    check_row = DriftCheck(model_version=version, window_start=start, window_end=end, rows=len(frame))
    if len(frame) < MIN_DRIFT_ROWS or not reference.get("scores"):
        check_row.save()
        return check_row
    scores, x = score_frame(version, frame, with_features=True)
    score_result = drift_core.score_drift(np.asarray(reference["scores"], float), scores)
    results = []
    categorical = set(model.spec.categorical)
    for name, values in reference.get("features", {}).items():
        ref = pd.Series(values, dtype=float)
        cur = x[name].astype(float)
        if name in categorical:
            value = drift_core.psi_categorical(ref.map(_code), cur.map(_code))
        else:
            value = drift_core.psi_numeric(ref, cur)
        results.append(
            {
                "name": name,
                "description": model.spec.describe(name),
                "psi": round(value, 4),
                "warning": value >= drift_core.WARNING_THRESHOLD,
            }
        )
    results.sort(key=lambda r: -r["psi"])
    check_row.score_psi = round(score_result.psi, 4)
    check_row.features = results
    check_row.warning = score_result.warning or any(r["warning"] for r in results)
    check_row.save()
    return check_row


def _code(value: float) -> str:
    return "<missing>" if pd.isna(value) else str(int(value))


def latest_drift(version: ModelVersion) -> DriftCheck | None:
    return version.drift_checks.first()

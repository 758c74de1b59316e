"""Parameterised routes of the learning loop, each with an object owned by customs (never shared)."""

from __future__ import annotations

from typing import Any

from apps.learning.models import ModelVersion, TrainingRun


def _version(world: Any) -> ModelVersion:
    number = ModelVersion.objects.filter(owner_agency=world.customs).count() + 1
    return ModelVersion.objects.create(
        owner_agency=world.customs,
        number=number,
        source_names=["Customs declarations"],
        metrics={"precision@5%": 0.9, "precision@10%": 0.8, "recall@10%": 0.4, "auc": 0.9, "base_rate": 0.2},
    )


def _run(world: Any) -> TrainingRun:
    return TrainingRun.objects.create(
        owner_agency=world.customs, status=TrainingRun.Status.DONE, progress=1.0
    )


SCOPED_ROUTES = {
    "learning:model": lambda w: {"pk": _version(w).pk},
    "learning:training": lambda w: {"pk": _run(w).pk},
    "learning:model_activate": lambda w: {"pk": _version(w).pk},
    "learning:model_retire": lambda w: {"pk": _version(w).pk},
    "learning:model_rollback": lambda w: {"pk": _version(w).pk},
    "modelversion-detail": lambda w: {"pk": _version(w).pk},
    "trainingrun-detail": lambda w: {"pk": _run(w).pk},
}

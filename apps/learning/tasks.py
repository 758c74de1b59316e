"""Celery tasks of the learning loop, and their schedule.

* ``learning.train_model``: one queued :class:`~apps.learning.models.TrainingRun` (the page, the API).
* ``learning.check_drift`` (weekly, Monday 03:00 UTC): PSI of last week's scores and inputs against
  each active model's training time; the model page warns when PSI > 0.2.
* ``learning.retrain`` (monthly, 1st at 02:00 UTC): each agency with an active model gets a new *draft*
  version trained on the same sources with the latest outcomes; a risk manager compares and activates.

The schedule is registered in ``apps.core.schedule`` (jobs ``learning-weekly-drift`` and
``learning-monthly-retrain``): beat runs it on the real stack, the server process in the embedded mode.
"""

from __future__ import annotations

import logging

from celery import shared_task

log = logging.getLogger(__name__)


@shared_task(name="learning.train_model", acks_late=True)
def train_model_task(run_id: int) -> str:
    """Train the model of a queued run (progress is written to the run); returns its final status."""
    from apps.learning.services import run_training

    return run_training(run_id).status


@shared_task(name="learning.check_drift")
def check_drift_task() -> list[int]:
    """Weekly drift check of every active model version; returns the ids of the checks recorded."""
    from apps.learning.models import ModelStatus, ModelVersion
    from apps.learning.services import run_drift_check

    done = []
    for version in ModelVersion.objects.filter(status=ModelStatus.ACTIVE):
        try:
            done.append(run_drift_check(version).pk)
        except Exception:  # one agency's broken model must not stop the others' checks
            log.exception("drift check of model version %s failed", version.pk)
    return done


@shared_task(name="learning.retrain")
def retrain_task() -> list[int]:
    """Train a new draft version for every agency with an active model, on the same sources."""
    from apps.learning.models import ModelStatus, ModelVersion
    from apps.learning.services import run_training, start_training

    runs = []
    for version in ModelVersion.objects.filter(status=ModelStatus.ACTIVE):
        sources = [s for s in version.sources.all() if s.allows_self_learning]
        if not sources:
            continue
        run = start_training(actor=None, sources=sources)
        try:
            run_training(run.pk)
        except Exception:
            log.exception("scheduled retraining for %s failed", version.owner_agency_id)
        runs.append(run.pk)
    return runs

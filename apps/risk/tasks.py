"""Celery tasks of the risk engine: assessing what intake stored, and running backtests."""

from __future__ import annotations

from celery import shared_task

__all__ = ["ASSESS_CHUNK", "assess_subjects_task", "on_subjects_stored", "run_backtest_task"]


@shared_task(name="risk.assess_subjects", autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=5)
def assess_subjects_task(subject_ids: list[int]) -> list[int]:
    """Assess these subjects (intake calls this after its transaction commits); returns assessment ids."""
    from apps.risk.services import assess_subjects

    return [a.pk for a in assess_subjects(subject_ids)]


@shared_task(name="risk.run_backtest")
def run_backtest_task(backtest_id: int) -> str:
    """Run one queued backtest, writing its progress as it goes; returns its final status."""
    from apps.risk.backtest import run_backtest

    backtest = run_backtest(backtest_id)
    return backtest.status if backtest is not None else "claimed elsewhere"


#: Subjects per assessment task: a large upload is assessed by several workers at once.
ASSESS_CHUNK = 5000


def on_subjects_stored(sender: object, subject_ids: list[int], **kwargs: object) -> None:
    """Intake stored new current subjects (``apps.intake.events.subjects_stored``, after its commit):
    queue their assessment, ``ASSESS_CHUNK`` subjects a task."""
    for start in range(0, len(subject_ids), ASSESS_CHUNK):
        assess_subjects_task.delay(subject_ids[start : start + ASSESS_CHUNK])

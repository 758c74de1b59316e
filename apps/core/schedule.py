"""The one schedule of periodic jobs, read by Celery beat and by the embedded mode alike.

Every periodic job of every app is registered here, and nowhere else: its name (the row in
django-celery-beat's tables, shown in the admin under "Periodic tasks"), the task it runs (by name, so
this module imports no app), its period in seconds or its crontab, its keyword arguments and whether it
starts enabled.

* On the real stack ``ratc_ops.celery`` hands :func:`beat_schedule` to Celery, and the one beat process
  (``apps.core.beat.RegistryScheduler``) writes each job into the database once; from then on the admin
  is where its time is changed.
* In the embedded mode (no broker, ``make demo``) the server process runs the same rows, on the same
  period or crontab, in one thread (``apps.core.periodic``).

A test imports every app's tasks module and fails when anything but this registry adds a beat entry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from celery.schedules import crontab
from django.conf import settings

__all__ = ["JOBS", "Job", "beat_schedule", "job", "jobs"]


def _retention_every() -> timedelta | None:
    """Without beat a laptop is seldom up at 01:15: the server applies retention this often (0: off)."""
    minutes = settings.RETENTION_EVERY_MINUTES
    return timedelta(minutes=minutes) if minutes > 0 else None


@dataclass(frozen=True)
class Job:
    """One periodic job: ``schedule`` is a period in seconds or a crontab (UTC, ``CELERY_TIMEZONE``)."""

    name: str
    task: str
    schedule: float | crontab
    description: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    enabled: bool = True
    #: The embedded mode's own period, where a setting gives one (retention); None from it turns the job
    #: off there. Without it the embedded mode keeps the row's period or crontab, as beat does.
    embedded_every: Callable[[], timedelta | None] | None = None

    def beat_entry(self) -> dict[str, Any]:
        """The entry as Celery's ``beat_schedule`` spells it (only keys every scheduler accepts)."""
        entry: dict[str, Any] = {"task": self.task, "schedule": self.schedule}
        if self.kwargs:
            entry["kwargs"] = dict(self.kwargs)
        return entry


JOBS: tuple[Job, ...] = (
    Job("mark-missed-targets", "targeting.mark_missed_targets", 300.0,
        "Mark targets whose conveyance was released missed; return idle claims to the queue"),
    Job("apply-retention", "apps.compliance.tasks.apply_retention_task", crontab(hour=1, minute=15),
        "Mask and delete personal data past each source's retention",
        embedded_every=_retention_every),
    Job("reports-refresh-recent", "reports.refresh_daily_stats", 60.0,
        "Recount the report figures of the recent days"),
    Job("reports-refresh-month", "reports.refresh_daily_stats", crontab(hour=2, minute=30),
        "Recount the report figures of the last 35 days", kwargs={"days": 35}),
    Job("reports-weekly", "reports.send_weekly_report", crontab(day_of_week="mon", hour=6, minute=0),
        "Send the weekly performance report to its subscribers"),
    Job("purge-idempotency-keys", "core.purge_idempotency_keys", crontab(minute=40),
        "Forget expired API idempotency keys and their stored answers"),
    Job("integrations-retry-due-webhooks", "integrations.retry_due_webhooks", 60.0,
        "Retry webhook deliveries whose retry is due and whose queued task was lost"),
    Job("alerts-exchange", "alerts.exchange", 120.0,
        "Push to and poll each partner administration whose back-off has passed"),
    Job("compliance-chain-anchor", "compliance.anchor_chains", 60.0,
        "Link committed rows into the tamper-evident chains and anchor their heads"),
    Job("compliance-chain-verify-full", "compliance.verify_chains", crontab(hour=3, minute=40),
        "Verify every chain in full", kwargs={"full": True}),
    Job("learning-weekly-drift", "learning.check_drift", crontab(minute=0, hour=3, day_of_week=1),
        "Check each active model for drift (PSI of last week against its training)"),
    Job("learning-monthly-retrain", "learning.retrain", crontab(minute=0, hour=2, day_of_month=1),
        "Train a new draft version of each active model on the latest outcomes"),
    Job("quality-refresh", "quality.refresh", 3600.0, "Recompute the data-quality figures"),
)  # fmt: skip


def jobs() -> tuple[Job, ...]:
    return JOBS


def job(name: str) -> Job:
    """The registered job called ``name`` (KeyError when there is none)."""
    for candidate in JOBS:
        if candidate.name == name:
            return candidate
    raise KeyError(name)


def beat_schedule() -> dict[str, dict[str, Any]]:
    """Celery's ``beat_schedule``: the enabled jobs (the database rows are written from :data:`JOBS`)."""
    return {j.name: j.beat_entry() for j in JOBS if j.enabled}

"""One schedule: beat's entries and its database rows are the registry's, and nothing else adds any."""

from __future__ import annotations

import logging
import re
from pathlib import Path

from celery.schedules import crontab
from django.conf import settings
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from apps.core.beat import RegistryScheduler, sync_tables
from apps.core.schedule import beat_schedule, job, jobs
from ratc_ops.celery import app as celery_app

#: The jobs and their times as they ran under Celery beat before the registry: nothing changes there.
EXPECTED = {
    "mark-missed-targets": ("targeting.mark_missed_targets", 300.0),
    "apply-retention": ("apps.compliance.tasks.apply_retention_task", crontab(hour=1, minute=15)),
    "reports-refresh-recent": ("reports.refresh_daily_stats", 60.0),
    "reports-refresh-month": ("reports.refresh_daily_stats", crontab(hour=2, minute=30)),
    "reports-weekly": ("reports.send_weekly_report", crontab(day_of_week="mon", hour=6, minute=0)),
    "purge-idempotency-keys": ("core.purge_idempotency_keys", crontab(minute=40)),
    "integrations-retry-due-webhooks": ("integrations.retry_due_webhooks", 60.0),
    "alerts-exchange": ("alerts.exchange", 120.0),
    "compliance-chain-anchor": ("compliance.anchor_chains", 60.0),
    "compliance-chain-verify-full": ("compliance.verify_chains", crontab(hour=3, minute=40)),
    "learning-weekly-drift": ("learning.check_drift", crontab(minute=0, hour=3, day_of_week=1)),
    "learning-monthly-retrain": ("learning.retrain", crontab(minute=0, hour=2, day_of_month=1)),
    "quality-refresh": ("quality.refresh", 3600.0),
}


def test_the_registry_keeps_every_job_its_task_and_time():
    assert {j.name: (j.task, j.schedule) for j in jobs()} == EXPECTED
    assert job("reports-refresh-month").kwargs == {"days": 35}
    assert job("compliance-chain-verify-full").kwargs == {"full": True}


def test_every_registered_task_exists():
    celery_app.loader.import_default_modules()
    assert {j.task for j in jobs()} <= set(celery_app.tasks)


def test_beat_holds_exactly_the_registry_even_after_every_tasks_module_is_imported():
    """A tasks module that adds to ``app.conf.beat_schedule`` (or calls ``add_periodic_task``) on import
    changes beat's schedule behind the registry's back: this fails."""
    celery_app.loader.import_default_modules()  # what a worker and beat do at start
    assert celery_app.conf.beat_schedule == beat_schedule()
    assert settings.CELERY_BEAT_SCHEDULER == "apps.core.beat:RegistryScheduler"
    assert not hasattr(settings, "CELERY_BEAT_SCHEDULE")  # no second list in settings


def test_no_module_writes_a_beat_entry_outside_the_registry():
    root = Path(settings.BASE_DIR)
    allowed = {"apps/core/schedule.py", "apps/core/beat.py", "ratc_ops/celery.py"}
    pattern = re.compile(
        r"beat_schedule\s*=|beat_schedule\[|beat_schedule\.update|add_periodic_task|BEAT_SCHEDULE\s*="
    )
    offenders = [
        str(path.relative_to(root))
        for folder in ("apps", "ratc_ops")
        for path in (root / folder).rglob("*.py")
        if str(path.relative_to(root)) not in allowed and pattern.search(path.read_text())
    ]
    assert offenders == []


def test_beat_writes_each_job_into_the_database_once_and_then_leaves_it_to_the_admin(db, caplog, monkeypatch):
    # Beat drops a connection left inside a transaction; here that is the test's own.
    monkeypatch.setattr("django_celery_beat.schedulers.close_old_connections", lambda: None)
    RegistryScheduler(app=celery_app)
    rows = {row.name: row for row in PeriodicTask.objects.select_related("interval", "crontab")}
    registered = {j.name for j in jobs()}
    assert set(rows) - {"celery.backend_cleanup"} == registered  # Celery's own result clean-up beside
    for name, (task, schedule) in EXPECTED.items():
        row = rows[name]
        assert row.task == task and row.enabled and row.description
        if isinstance(schedule, float):
            assert row.interval.every == schedule and row.interval.period == IntervalSchedule.SECONDS
        else:
            assert row.crontab.schedule == schedule
    assert rows["reports-refresh-month"].kwargs == '{"days": 35}'

    # The administrator slows the webhook retries and turns the quality figures off ...
    slower, _ = IntervalSchedule.objects.get_or_create(every=300, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.filter(name="integrations-retry-due-webhooks").update(interval=slower)
    PeriodicTask.objects.filter(name="quality-refresh").update(enabled=False)
    # ... and deletes the weekly report's row to have the default back.
    PeriodicTask.objects.filter(name="reports-weekly").delete()
    celery_app.conf.beat_schedule = {**beat_schedule(), "stray": {"task": "x", "schedule": 5.0}}
    try:
        with caplog.at_level(logging.INFO, logger="apps.core.beat"):
            RegistryScheduler(app=celery_app)  # beat restarts
    finally:
        celery_app.conf.beat_schedule = beat_schedule()
    assert PeriodicTask.objects.get(name="integrations-retry-due-webhooks").interval.every == 300
    assert not PeriodicTask.objects.get(name="quality-refresh").enabled
    assert PeriodicTask.objects.filter(name="reports-weekly").exists()
    assert not PeriodicTask.objects.filter(name="stray").exists()
    assert "outside apps.core.schedule are not run: stray" in caplog.text
    assert sync_tables() == []  # nothing missing any more


def test_a_second_beat_waits_and_takes_over_when_the_first_is_gone(db, settings, monkeypatch):
    """Two beats started by mistake (or one kept as a standby) do not send every job twice."""
    import uuid

    import pytest
    import redis

    from apps.core import beat

    if not settings.REDIS_URL:
        pytest.skip("the lease is kept in Redis; without it there is no broker and no beat")
    settings.REDIS_PREFIX = f"test-beat-{uuid.uuid4().hex[:8]}"
    monkeypatch.setattr("django_celery_beat.schedulers.close_old_connections", lambda: None)
    monkeypatch.setattr(beat, "RENEW_SECONDS", 0.0)  # look at the lease on every tick
    sent: list[tuple[str, str]] = []

    def apply_async(self, entry, *args, **kwargs):  # sent, as far as beat's bookkeeping goes
        sent.append((self._owner, entry.name))
        self._tasks_since_sync += 1
        if self.should_sync():
            self._do_sync()

    monkeypatch.setattr(RegistryScheduler, "apply_async", apply_async)
    from datetime import timedelta

    from django.utils import timezone

    sync_tables()
    PeriodicTask.objects.update(last_run_at=timezone.now() - timedelta(days=40))  # every job is due
    second = RegistryScheduler(app=celery_app)  # started first, it ticks second: it finds the lease taken
    first = RegistryScheduler(app=celery_app)
    for _ in range(20):  # the leader sends one due job a tick
        first.tick()
        second.tick()
    owners = {owner for owner, _name in sent}
    names = [name for _owner, name in sent]
    assert owners == {first._owner} and second.leads() is False
    # Each due job sent once. The jobs on an interval are due whatever the hour; django-celery-beat
    # leaves a crontab job out of the schedule outside the hours it runs in, so those depend on the clock.
    every_interval = {j.name for j in jobs() if j.enabled and not isinstance(j.schedule, crontab)}
    assert every_interval <= set(names) and len(set(names)) == len(names)
    client = redis.Redis.from_url(settings.REDIS_URL)
    try:
        client.delete(
            f"{settings.REDIS_PREFIX}:beat-lease"
        )  # the first beat's host is gone; its lease ran out
        assert second.leads() is True and first.leads() is False
        for _ in range(20):
            second.tick()
            first.tick()
        took_over = [name for owner, name in sent if owner == second._owner]
        assert not set(took_over) & set(names)  # what the first beat sent is not sent again
    finally:
        client.delete(f"{settings.REDIS_PREFIX}:beat-lease")
        client.close()

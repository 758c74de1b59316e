"""The embedded mode runs every registered job on its own period or crontab, in one thread of the server.

The clock is frozen (time-machine) and moved from one moment to the next; at each, the jobs that ran are
exactly those due. What each job does to the data is tested beside its app (tests/compliance,
tests/targeting, tests/reports, tests/learning).
"""

from __future__ import annotations

import logging
import sys
import threading
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from apps.core import periodic
from apps.core.schedule import jobs

SUNDAY = datetime(2026, 5, 31, 23, 50, tzinfo=UTC)  # the eve of Monday 1 June, the first of a month
MONDAY = datetime(2026, 6, 1, tzinfo=UTC)
EVERY_MINUTE = {"reports-refresh-recent", "integrations-retry-due-webhooks", "compliance-chain-anchor"}
PERIODIC = EVERY_MINUTE | {"alerts-exchange", "mark-missed-targets", "apply-retention", "quality-refresh"}
ALL = {j.name for j in jobs()}


@pytest.fixture
def ran(db, monkeypatch):
    """The tasks each pass ran, by job name (the tasks themselves are tested with their apps)."""
    calls: list[tuple[str, list, dict]] = []
    monkeypatch.setattr(periodic, "run_task", lambda name, args, kwargs: calls.append((name, args, kwargs)))

    def at(moment: datetime) -> set[str]:
        with time_machine.travel(moment, tick=False):
            return set(periodic.run_due())

    at.calls = calls
    return at


def test_every_job_runs_at_its_time(ran, settings):
    settings.RETENTION_EVERY_MINUTES = 60
    assert ran(SUNDAY) == PERIODIC  # never run: at once; crontabs wait for their time
    assert ran(SUNDAY + timedelta(seconds=30)) == set()
    assert ran(SUNDAY + timedelta(minutes=1)) == EVERY_MINUTE
    # 00:40, the idempotency purge's minute; the 2- and 5-minute jobs are due, the hourly ones not yet.
    assert ran(MONDAY + timedelta(minutes=40)) == EVERY_MINUTE | {
        "alerts-exchange", "mark-missed-targets", "purge-idempotency-keys"
    }  # fmt: skip
    # Monday 06:00: retention (hourly here), the night's recount and chain check, the weekly drift check,
    # the 1st's retraining and the weekly report have all come due.
    assert ran(MONDAY + timedelta(hours=6)) == ALL
    assert ran(MONDAY + timedelta(hours=6, seconds=30)) == set()
    assert ran(MONDAY + timedelta(hours=7)) == PERIODIC | {"purge-idempotency-keys"}
    # A week on: everything but the monthly retraining.
    assert ran(MONDAY + timedelta(days=7, hours=6)) == ALL - {"learning-monthly-retrain"}
    runs = dict(PeriodicTask.objects.values_list("name", "total_run_count"))
    assert runs["reports-weekly"] == 2 and runs["learning-monthly-retrain"] == 1
    assert ("reports.refresh_daily_stats", [], {"days": 35}) in ran.calls


def test_a_laptop_that_slept_through_a_time_runs_the_job_once_on_waking(ran):
    ran(SUNDAY)
    # Asleep from Sunday night to Wednesday noon: Monday's report and drift check are done once, not twice.
    wednesday = MONDAY + timedelta(days=2, hours=12)
    assert {"reports-weekly", "learning-weekly-drift"} <= ran(wednesday)
    assert not {"reports-weekly", "learning-weekly-drift"} & ran(wednesday + timedelta(minutes=1))


def test_retention_keeps_its_own_setting_in_the_embedded_mode(ran, settings):
    settings.RETENTION_EVERY_MINUTES = 15
    assert "apply-retention" in ran(SUNDAY)
    assert "apply-retention" not in ran(SUNDAY + timedelta(minutes=14))
    assert "apply-retention" in ran(SUNDAY + timedelta(minutes=15))
    settings.RETENTION_EVERY_MINUTES = 0  # off
    assert "apply-retention" not in ran(SUNDAY + timedelta(days=2))


def test_a_time_changed_in_the_admin_holds_here_too(ran):
    ran(SUNDAY)
    slower, _ = IntervalSchedule.objects.get_or_create(every=600, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.filter(name="mark-missed-targets").update(interval=slower)
    PeriodicTask.objects.filter(name="alerts-exchange").update(enabled=False)
    assert not {"mark-missed-targets", "alerts-exchange"} & ran(SUNDAY + timedelta(minutes=5))
    assert "mark-missed-targets" in ran(SUNDAY + timedelta(minutes=10))
    assert "alerts-exchange" not in ran(SUNDAY + timedelta(days=1))


def test_a_failing_job_is_logged_the_others_run_and_it_is_tried_next_period(db, monkeypatch, caplog):
    attempts: list[str] = []

    def run_task(name, args, kwargs):
        attempts.append(name)
        if name == "alerts.exchange":
            raise ConnectionError("partner unreachable")

    monkeypatch.setattr(periodic, "run_task", run_task)
    with caplog.at_level(logging.ERROR, logger="apps.core.periodic"), time_machine.travel(SUNDAY, tick=False):
        done = set(periodic.run_due())
    assert "alerts-exchange" not in done and done == PERIODIC - {"alerts-exchange"}
    assert "Periodic job alerts-exchange (alerts.exchange) failed" in caplog.text
    with time_machine.travel(SUNDAY + timedelta(minutes=1), tick=False):
        periodic.run_due()
    assert attempts.count("alerts.exchange") == 1  # not hammered every pass: once a period
    with time_machine.travel(SUNDAY + timedelta(minutes=2), tick=False):
        periodic.run_due()
    assert attempts.count("alerts.exchange") == 2


def test_a_job_claimed_by_another_server_process_is_not_run_twice(ran, monkeypatch):
    """Two embedded servers on one database: the second to claim a job's row finds it taken."""
    ran(SUNDAY)
    real_filter = PeriodicTask.objects.filter

    def other_server_claims_first(*args, **kwargs):
        if "last_run_at" in kwargs:  # the claim: the other process has just moved the row
            PeriodicTask.objects.all().update(last_run_at=SUNDAY + timedelta(minutes=1))
        return real_filter(*args, **kwargs)

    monkeypatch.setattr(PeriodicTask.objects, "filter", other_server_claims_first)
    assert ran(SUNDAY + timedelta(minutes=1)) == set()


def test_one_thread_starts_once_in_an_embedded_server_only(settings, monkeypatch):
    started: list[str] = []
    monkeypatch.setattr(periodic.Scheduler, "start", lambda self: started.append("thread"))
    monkeypatch.setattr(periodic, "_scheduler", None)
    monkeypatch.setattr(periodic.atexit, "register", lambda fn: None)
    settings.CELERY_TASK_ALWAYS_EAGER = True
    assert periodic.start_in_server() is False  # a test run is no server
    monkeypatch.setattr(sys, "argv", ["/srv/ratc/.venv/bin/python", "manage.py", "migrate"])
    assert periodic.start_in_server() is False  # nor a management command
    monkeypatch.setattr(
        sys, "argv", ["/srv/ratc/.venv/bin/daphne", "-p", "8000", "ratc_ops.asgi:application"]
    )
    settings.CELERY_TASK_ALWAYS_EAGER = False  # a broker: beat does it
    assert periodic.start_in_server() is False
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.EMBEDDED_JOBS = False  # RATC_EMBEDDED_JOBS=0: this server leaves the jobs to another
    assert periodic.start_in_server() is False
    settings.EMBEDDED_JOBS = True
    assert periodic.start_in_server() is True
    assert periodic.start_in_server() is True  # every app's ready() may ask: still one thread
    assert started == ["thread"]


def test_the_thread_stops_cleanly_after_the_job_in_hand(monkeypatch):
    in_job, release = threading.Event(), threading.Event()
    finished: list[bool] = []

    def run_due(*, stopping):
        in_job.set()
        release.wait(5)
        finished.append(True)
        return []

    monkeypatch.setattr(periodic, "run_due", run_due)
    monkeypatch.setattr(periodic, "close_old_connections", lambda: None)
    scheduler = periodic.Scheduler()
    scheduler.thread = threading.Thread(target=lambda: scheduler.run(first_delay=0, poll=0.01), daemon=True)
    scheduler.thread.start()
    assert in_job.wait(60)  # the thread first imports every app's tasks: seconds in a cold process
    assert scheduler.stop(timeout=0.05) is False  # the job in hand is not cut short ...
    release.set()
    assert scheduler.stop(timeout=5) is True  # ... and the thread ends after it, without another pass
    assert finished == [True] and scheduler.passes == 1


def test_a_server_going_down_begins_no_further_job(db, monkeypatch):
    stopping = threading.Event()
    begun: list[str] = []

    def run_task(name, args, kwargs):
        begun.append(name)
        stopping.set()  # SIGTERM arrives during the first job

    monkeypatch.setattr(periodic, "run_task", run_task)
    with time_machine.travel(SUNDAY, tick=False):
        assert len(periodic.run_due(stopping=stopping)) == 1
    assert len(begun) == 1  # the job in hand finished; the six others due wait for the next server

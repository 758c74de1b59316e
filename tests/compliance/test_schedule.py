"""Retention runs on schedule in the embedded mode too, where no Celery beat runs (``make demo``)."""

from __future__ import annotations

import sys
import threading
from datetime import timedelta

import time_machine
from django.utils import timezone

from apps.compliance import schedule
from apps.compliance.models import RetentionRun
from apps.core import periodic
from apps.intake.models import Subject
from tests.compliance.test_compliance import NOW, make_traveller
from tests.factories import DataSourceFactory


def test_the_embedded_scheduler_applies_retention(world, monkeypatch):
    source = DataSourceFactory(owner_agency=world.customs, kind="pnr", retention_days=30)
    with time_machine.travel(NOW, tick=False):
        old = make_traveller(source, timezone.now(), "EXPIRED")
    calls = []
    stop = threading.Event()

    def applied(now=None):
        calls.append(now)
        stop.set()  # one period is enough to prove it
        return real(now)

    real = schedule.apply_retention
    monkeypatch.setattr(schedule, "apply_retention", applied)
    with time_machine.travel(NOW + timedelta(days=31), tick=False):
        ticks = schedule.run_periodically(stop, every_seconds=0, first_delay=0)
    assert ticks == 1 and len(calls) == 1
    assert not Subject.objects.filter(pk=old.pk).exists()
    assert RetentionRun.objects.get().deleted == 1


def test_a_tick_runs_retention_only_once_a_period(world, settings):
    settings.RETENTION_EVERY_MINUTES = 60
    with time_machine.travel(NOW, tick=False):
        assert schedule.tick() is not None
        assert schedule.tick() is None  # just ran
    with time_machine.travel(NOW + timedelta(minutes=59), tick=False):
        assert schedule.tick() is None
    with time_machine.travel(NOW + timedelta(minutes=61), tick=False):
        assert schedule.tick() is not None
    assert RetentionRun.objects.count() == 2


def test_the_server_process_starts_it_in_the_embedded_mode_only(settings, monkeypatch):
    started = []

    class FakeThread:
        def __init__(self, **kwargs):
            self.kwargs = kwargs

        def start(self):
            started.append(self.kwargs)

    monkeypatch.setattr(periodic.threading, "Thread", FakeThread)
    monkeypatch.setattr(schedule, "_started", threading.Event())
    assert schedule.start_in_server() is False  # a test run is no server
    monkeypatch.setattr(
        sys, "argv", ["/srv/ratc/.venv/bin/daphne", "-p", "8000", "ratc_ops.asgi:application"]
    )
    settings.CELERY_TASK_ALWAYS_EAGER = False  # a broker: beat does it
    assert schedule.start_in_server() is False
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.RETENTION_EVERY_MINUTES = 15
    assert schedule.start_in_server() is True
    [thread] = started
    assert thread["name"] == "ratc-retention" and thread["daemon"] is True
    assert schedule.period().total_seconds() == 15 * 60

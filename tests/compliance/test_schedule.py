"""Retention masks and deletes on schedule in the embedded mode too, where no Celery beat runs (``make demo``)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from apps.compliance.models import RetentionRun
from apps.core import periodic
from apps.core.schedule import job
from apps.intake.models import Subject
from tests.compliance.test_compliance import NOW, make_traveller
from tests.factories import DataSourceFactory


@pytest.fixture
def retention_only(monkeypatch):
    monkeypatch.setattr(periodic, "jobs", lambda: (job("apply-retention"),))


def test_the_embedded_scheduler_masks_and_deletes_past_retention(world, settings, retention_only):
    settings.RETENTION_EVERY_MINUTES = 60
    source = DataSourceFactory(
        owner_agency=world.customs, kind="pnr", depersonalise_after_days=30, retention_days=60
    )
    with time_machine.travel(NOW, tick=False):
        expired = make_traveller(source, timezone.now(), "EXPIRED")
    with time_machine.travel(NOW + timedelta(days=29), tick=False):
        to_mask = make_traveller(source, timezone.now(), "MASKME")
    with time_machine.travel(NOW + timedelta(days=61), tick=False):
        assert periodic.run_due() == ["apply-retention"]
    assert not Subject.objects.filter(pk=expired.pk).exists()
    assert Subject.objects.get(pk=to_mask.pk).masked_at is not None  # shown masked from now on
    run = RetentionRun.objects.get()
    assert (run.deleted, run.masked) == (1, 2)  # the deleted one was past masking too


def test_retention_runs_once_a_period_and_the_setting_turns_it_off(world, settings, retention_only):
    settings.RETENTION_EVERY_MINUTES = 60
    for minutes, runs in [(0, 1), (1, 1), (59, 1), (60, 2), (61, 2), (120, 3)]:
        with time_machine.travel(NOW + timedelta(minutes=minutes), tick=False):
            periodic.run_due()
        assert RetentionRun.objects.count() == runs, minutes
    settings.RETENTION_EVERY_MINUTES = 0
    with time_machine.travel(NOW + timedelta(days=3), tick=False):
        assert periodic.run_due() == []
    assert RetentionRun.objects.count() == 3

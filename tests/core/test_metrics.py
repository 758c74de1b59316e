"""The product's figures in /metrics: intake, queue depth, live sockets, task failures, periodic jobs.

Workers serve no HTTP, so what they count (intake runs, failed tasks) must reach the web process's
/metrics through Redis; the test fails a task in a second process to prove it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine
from django.conf import settings

from apps.core import periodic
from apps.core.schedule import job

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = (
    "ratc_intake_messages_total",
    "ratc_task_failures_total",
    "ratc_targets_open",
    "ratc_live_sockets",
    "ratc_periodic_job_last_run_timestamp_seconds",
)


def value(text: str, name: str, **labels: str) -> float:
    """The sample ``name{labels}`` of a Prometheus text page, 0 when absent."""
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    pattern = rf"^{re.escape(name)}{re.escape('{' + wanted + '}') if wanted else ''} (\S+)$"
    found = re.search(pattern, text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def test_a_task_failing_in_another_process_is_counted_on_every_web_process(db, client):
    """A failure in a worker (here a second process that runs the task as a worker would) shows here."""
    if not settings.REDIS_URL:
        pytest.skip("without Redis every task runs in the server process (next test)")
    before = client.get("/metrics").content.decode()
    for name in PRODUCT:
        assert f"# TYPE {name.removesuffix('_total')}" in before, name
    assert "ratc_celery_queue_length" in before or settings.CELERY_TASK_ALWAYS_EAGER
    code = (
        "import django; django.setup()\n"
        "from tests.core.worker_tasks import failing_task\n"
        "failing_task.apply(throw=False)\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "ratc_ops.settings", "RATC_REDIS_PREFIX": settings.REDIS_PREFIX,
           "REDIS_URL": settings.REDIS_URL, "CELERY_TASK_ALWAYS_EAGER": "0"}  # fmt: skip
    subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, check=True, timeout=120, capture_output=True
    )
    after = client.get("/metrics").content.decode()
    name = "ratc_task_failures_total"
    assert value(after, name, task="tests.failing_task") - value(before, name, task="tests.failing_task") == 1


def test_without_redis_the_server_process_counts_its_own_failures(db, client, settings):
    from tests.core.worker_tasks import failing_task

    settings.REDIS_URL = None
    before = value(
        client.get("/metrics").content.decode(), "ratc_task_failures_total", task="tests.failing_task"
    )
    failing_task.apply(throw=False)
    after = value(
        client.get("/metrics").content.decode(), "ratc_task_failures_total", task="tests.failing_task"
    )
    assert after - before == 1


def test_each_periodic_job_says_when_it_last_ran(db, client, monkeypatch):
    """An operator alerts on a job left behind (beat down, a job failing), read from the schedule's rows."""
    monkeypatch.setattr(periodic, "run_task", lambda name, args, kwargs: None)
    monkeypatch.setattr(periodic, "jobs", lambda: (job("mark-missed-targets"),))
    at = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    with time_machine.travel(at, tick=False):
        periodic.run_due()
    text = client.get("/metrics").content.decode()
    name = "ratc_periodic_job_last_run_timestamp_seconds"
    assert value(text, name, job="mark-missed-targets") == at.timestamp()
    assert value(text, name, job="reports-weekly") == 0  # never ran: no sample, nothing invented


def test_the_linking_backlog_shows_its_depth_and_the_age_of_its_oldest_batch(db, client):
    """Linking follows intake's commits, oldest batch first: one that keeps failing holds up the rest, and
    an operator sees it as an age that grows."""
    from apps.entities.models import LinkBacklog

    text = client.get("/metrics").content.decode()
    assert value(text, "ratc_link_backlog_batches") == 0
    assert value(text, "ratc_link_backlog_oldest_seconds") == 0
    with time_machine.travel(datetime(2026, 6, 1, 12, 0, tzinfo=UTC), tick=False):
        LinkBacklog.objects.create(subject_ids=[1, 2], upto=2)
    with time_machine.travel(datetime(2026, 6, 1, 12, 10, tzinfo=UTC), tick=False):
        LinkBacklog.objects.create(subject_ids=[3], upto=3)
        text = client.get("/metrics").content.decode()
    assert value(text, "ratc_link_backlog_batches") == 2
    assert value(text, "ratc_link_backlog_oldest_seconds") == 600

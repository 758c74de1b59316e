"""A Celery worker stopped with SIGTERM loses no task: what can finish in the grace finishes, the rest goes
back to the queue for another worker (a real worker on Redis, started as the README says)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import uuid
from pathlib import Path

import pytest
import redis
from django.conf import settings

from tests.core.worker_tasks import slow_task

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.skipif(not settings.REDIS_URL, reason="a real worker needs the Redis broker"),
    pytest.mark.filterwarnings(
        "ignore::celery.exceptions.AlwaysEagerIgnored"
    ),  # sent to the worker on purpose
]


def _wait_for(check, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.1)


def test_sigterm_lets_a_short_task_finish_and_puts_a_long_one_back(tmp_path):
    prefix = f"ratc-shutdown-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "REDIS_URL": settings.REDIS_URL,
        "RATC_REDIS_PREFIX": prefix,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "REMAP_SIGTERM": "SIGQUIT",  # as the README runs workers
        "RATC_WORKER_SHUTDOWN_SECONDS": "4",
    }
    worker = subprocess.Popen(
        [str(ROOT / ".venv/bin/celery"), "-A", "ratc_ops", "worker", "-I", "tests.core.worker_tasks", "-c", "2",
         "-l", "warning", "--without-mingle", "--without-gossip", "--without-heartbeat"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    client = redis.Redis.from_url(settings.REDIS_URL)
    queue = f"{prefix}:celery"
    short, long = tmp_path / "short", tmp_path / "long"
    try:
        with slow_task.app.connection_for_write() as conn:
            # The test's own app publishes under the worker's prefix, so nothing else hears it.
            conn.transport_options["global_keyprefix"] = f"{prefix}:"
            # send_task: tests run tasks inline (conftest), but these are the worker's to run.
            slow_task.app.send_task(slow_task.name, args=[1.0, str(short)], connection=conn)
            slow_task.app.send_task(slow_task.name, args=[120.0, str(long)], connection=conn)
        _wait_for(lambda: short.exists() and long.exists(), 60, "both tasks to start")
        worker.send_signal(signal.SIGTERM)
        stopped_at = time.monotonic()
        assert worker.wait(60) == 0
        took = time.monotonic() - stopped_at
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
        waiting = client.llen(queue)
        for key in client.scan_iter(f"{prefix}:*"):
            client.delete(key)
        client.close()
    assert short.read_text().split() == ["started", "done"]  # finished within the grace
    assert long.read_text().split() == ["started"]  # interrupted ...
    assert waiting == 1  # ... and back in the queue for another worker, not lost
    assert took < 30  # the grace (4 s) and the pool's stop, not the long task's two minutes

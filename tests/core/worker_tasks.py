"""Tasks for the tests that run a real worker or a second process (imported there with ``--include``)."""

from __future__ import annotations

import time
from pathlib import Path

from celery import shared_task


@shared_task(name="tests.slow_task", acks_late=True)
def slow_task(seconds: float, marker: str) -> str:
    """Write "started", take ``seconds``, write "done": the file tells how far it got."""
    path = Path(marker)
    with path.open("a") as out:
        out.write("started\n")
    time.sleep(seconds)
    with path.open("a") as out:
        out.write("done\n")
    return "done"


@shared_task(name="tests.failing_task")
def failing_task() -> None:
    """Fails, as a task whose partner is unreachable would: the failure is counted for /metrics."""
    raise ConnectionError("partner unreachable")

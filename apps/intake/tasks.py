"""Background intake: uploads and API pushes run here, with progress written to their IntakeRun."""

from __future__ import annotations

from pathlib import Path

from celery import shared_task

from apps.intake.models import IntakeRun
from apps.intake.services import run_intake


@shared_task(acks_late=True)
def run_intake_task(run_id: int, stored_paths: list[str]) -> int:
    """Ingest files saved by an upload or API call; each file is removed once read."""
    run = IntakeRun.objects.select_related("source").get(pk=run_id)

    def payloads():
        for raw in stored_paths:
            path = Path(raw)
            data = path.read_bytes()
            name = path.name.split("__", 1)[-1]
            path.unlink(missing_ok=True)
            yield name, data

    run_intake(run, payloads())
    return run_id

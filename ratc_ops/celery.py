"""The Celery application. With no broker configured, tasks run inline (see settings)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ratc_ops.settings")

app = Celery("ratc_ops")
app.config_from_object("django.conf:settings", namespace="CELERY")


@app.on_after_configure.connect
def _one_schedule(sender: Celery, source, **kwargs) -> None:
    """Beat's entries are the registry's (apps.core.schedule), and only those."""
    from apps.core.schedule import beat_schedule

    source.beat_schedule = beat_schedule()


app.autodiscover_tasks()

# The request id of whoever queued a task is on the task's log lines too (apps.core.observability).
from apps.core.observability import connect_celery  # noqa: E402 (needs the app configured first)

connect_celery(app)

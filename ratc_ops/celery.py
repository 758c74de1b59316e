"""The Celery application. With no broker configured, tasks run inline (see settings)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ratc_ops.settings")

app = Celery("ratc_ops")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# The request id of whoever queued a task is on the task's log lines too (apps.core.observability).
from apps.core.observability import connect_celery  # noqa: E402 (needs the app configured first)

connect_celery(app)

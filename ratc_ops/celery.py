"""The Celery application. With no broker configured, tasks run inline (see settings)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ratc_ops.settings")

app = Celery("ratc_ops")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

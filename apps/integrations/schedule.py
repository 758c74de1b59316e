"""Webhook retries on schedule in the embedded mode, as beat does where there is a broker.

Without a broker (``make demo``) tasks run inline: a delivery's first attempt is made right after the
commit, and a retry queued with a countdown runs at once, finds the delivery not yet due and does nothing.
So the server process runs the sweeper (``integrations.retry_due_webhooks``) on beat's period in a daemon
thread, as ``apps.targeting.schedule`` does for missed targets.
"""

from __future__ import annotations

import threading
from datetime import timedelta

from django.conf import settings
from django.db import close_old_connections

from apps.core import periodic

FIRST_DELAY_SECONDS = 30.0
BEAT_ENTRY = "integrations-retry-due-webhooks"

_started = threading.Event()
_stop = threading.Event()


def period() -> timedelta:
    entry = (getattr(settings, "CELERY_BEAT_SCHEDULE", None) or {}).get(BEAT_ENTRY) or {}
    return timedelta(seconds=float(entry.get("schedule", 60.0)))


def tick() -> int:
    from apps.integrations.tasks import retry_due_webhooks

    return retry_due_webhooks()


def start_in_server() -> bool:
    """Start the in-process sweeper in an embedded server process; False when it does not apply."""
    return periodic.start_thread(
        _started,
        lambda: periodic.run_every(
            _stop, tick, period, first_delay=FIRST_DELAY_SECONDS, what="webhook retries",
            after=lambda: close_old_connections(),
        ),
        name="ratc-webhook-retries",
        message=f"Webhook retries are made in this server process every {period()}",
    )  # fmt: skip

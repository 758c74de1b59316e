"""The exchange with partners on schedule in the embedded mode, as beat does where there is a broker.

Without a broker (``make demo``, one laptop) no beat runs ``alerts.exchange``: the server process runs the
same round (push what waits, poll each partner whose back-off has passed) on beat's period in a daemon
thread, as ``apps.integrations.schedule`` does for webhook retries.
"""

from __future__ import annotations

import threading
from datetime import timedelta

from django.conf import settings
from django.db import close_old_connections

from apps.core import periodic

FIRST_DELAY_SECONDS = 60.0
BEAT_ENTRY = "alerts-exchange"

_started = threading.Event()
_stop = threading.Event()


def period() -> timedelta:
    entry = (getattr(settings, "CELERY_BEAT_SCHEDULE", None) or {}).get(BEAT_ENTRY) or {}
    return timedelta(seconds=float(entry.get("schedule", 120.0)))


def tick() -> int:
    from apps.alerts.tasks import exchange

    return exchange()


def start_in_server() -> bool:
    """Start the in-process exchange in an embedded server process; False when it does not apply."""
    return periodic.start_thread(
        _started,
        lambda: periodic.run_every(
            _stop, tick, period, first_delay=FIRST_DELAY_SECONDS, what="alert exchange with partners",
            after=lambda: close_old_connections(),
        ),
        name="ratc-alert-exchange",
        message=f"Alerts are exchanged with partners in this server process every {period()}",
    )  # fmt: skip

"""Prometheus metrics: django-prometheus for requests and the database, and the product's own.

The product's figures are what an operator of a centre watches: how fast intake is storing, how deep the
target queues and the task queue are, how many live screens this process holds, how many tasks failed.
Each Daphne process and each worker answers for itself (scrape each process, not the load balancer).
Counts read from the database are taken at scrape time in one grouped query each, so nothing on the
floor's paths pays for them.

``/metrics`` is for the monitoring network only (``RATC_METRICS_ALLOWED_IPS``); it shows no personal data
and no agency's figures by name of subject, but queue depths are the centre's business, so it is not
public either.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseNotFound
from prometheus_client import Counter
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import REGISTRY, Collector

INTAKE_MESSAGES = Counter(
    "ratc_intake_messages", "Messages stored by intake runs, by source kind", ["source_kind"]
)
INTAKE_REJECTED_FILES = Counter(
    "ratc_intake_rejected_files", "Files refused by intake runs, by source kind", ["source_kind"]
)
TASK_FAILURES = Counter("ratc_task_failures", "Celery tasks that raised, by task name", ["task"])


class FloorCollector(Collector):
    """Queue depth by state, the broker's waiting tasks, and this process's live sockets."""

    def describe(self):
        """The names alone, so that registering at start-up reads nothing from the database."""
        yield GaugeMetricFamily("ratc_targets_open", "Open targets by state", labels=["state"])
        yield GaugeMetricFamily("ratc_live_sockets", "Live sockets in this process")
        yield GaugeMetricFamily("ratc_celery_queue_length", "Tasks waiting in the broker's default queue")

    def collect(self):
        from apps.targeting.models import OPEN_STATES, Target

        depth = GaugeMetricFamily("ratc_targets_open", "Open targets by state", labels=["state"])
        counts = dict.fromkeys(sorted(OPEN_STATES), 0)
        try:
            rows = Target.objects.filter(state__in=counts).values_list("state").order_by()
            from django.db.models import Count

            for state, n in rows.annotate(n=Count("pk")).values_list("state", "n"):
                counts[state] = n
        except Exception:  # the database is down: readiness says so; metrics stay answerable
            counts = {}
        for state, n in counts.items():
            depth.add_metric([state], n)
        yield depth
        sockets = GaugeMetricFamily(
            "ratc_live_sockets", "Live board, presence and notification sockets in this process"
        )
        from apps.live.watch import Watchdog

        sockets.add_metric([], sum(len(dog.consumers) for dog in list(Watchdog._by_loop.values())))
        yield sockets
        waiting = _broker_queue_length()
        if waiting is not None:
            yield GaugeMetricFamily(
                "ratc_celery_queue_length", "Tasks waiting in the broker's default queue", value=waiting
            )


def _broker_queue_length() -> int | None:
    """The default queue's length on a Redis broker (Celery keeps it as a list), else None."""
    url = settings.CELERY_BROKER_URL
    if settings.CELERY_TASK_ALWAYS_EAGER or not url.startswith(("redis://", "rediss://")):
        return None
    import redis

    prefix = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("global_keyprefix", "")
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
        try:
            return int(client.llen(f"{prefix}celery"))
        finally:
            client.close()
    except Exception:  # Redis down: readiness says so
        return None


_connected = False


def connect() -> None:
    """Count intake runs as they finish and tasks as they fail; register the floor's collector. Once."""
    global _connected
    if _connected:
        return
    _connected = True
    from celery.signals import task_failure
    from django.db.models.signals import post_save

    from apps.intake.models import IntakeRun

    def run_finished(sender, instance: IntakeRun, update_fields=None, **kwargs) -> None:
        if update_fields is None or "finished_at" not in update_fields or instance.finished_at is None:
            return
        kind = instance.source.kind if instance.source_id else "unknown"
        counts = instance.counts or {}
        INTAKE_MESSAGES.labels(kind).inc(counts.get("messages", 0))
        INTAKE_REJECTED_FILES.labels(kind).inc(counts.get("rejected_files", 0))

    post_save.connect(run_finished, sender=IntakeRun, weak=False, dispatch_uid="ratc-metrics-intake")

    @task_failure.connect(weak=False)
    def failed(sender=None, **kwargs) -> None:
        TASK_FAILURES.labels(getattr(sender, "name", "unknown")).inc()

    REGISTRY.register(FloorCollector())


def _allowed(request: HttpRequest) -> bool:
    """The monitoring host scrapes each process directly. A request that came through a proxy we were not
    told about (a load balancer on this host makes every user 127.0.0.1) is refused."""
    from apps.core.security import client_address

    if request.META.get("HTTP_X_FORWARDED_FOR") and not settings.RATC_TRUSTED_PROXIES:
        return False
    try:
        address = ipaddress.ip_address(client_address(request))
    except ValueError:
        return False
    return any(
        address in ipaddress.ip_network(net, strict=False) for net in settings.RATC_METRICS_ALLOWED_IPS
    )


def metrics_view(request: HttpRequest) -> HttpResponse:
    """The Prometheus text format, to the monitoring network only (others: 404, as for a missing page)."""
    if not _allowed(request):
        return HttpResponseNotFound()
    from django_prometheus.exports import ExportToDjangoView

    return ExportToDjangoView(request)

"""Prometheus metrics: django-prometheus for requests and the database, and the product's own.

The product's figures are what an operator of a centre watches: how fast intake is storing, how deep the
target queues, the task queue and the entity-linking backlog are, how many live screens this process holds, how many tasks failed.
Requests, sockets and the database's figures are each Daphne process's own (scrape each process, not the
load balancer). Intake runs and task failures happen mostly in Celery workers, which serve no HTTP: they
are counted in Redis (:class:`SharedCounter`), so every web process reports the whole installation's totals
(aggregate them with ``max``, not ``sum``); without Redis (the embedded mode) everything runs in the server
process and is counted there. Counts read from the database are taken at scrape time in one grouped query
each, so nothing on the floor's paths pays for them.

``/metrics`` is for the monitoring network only (``RATC_METRICS_ALLOWED_IPS``); it shows no personal data
and no agency's figures by name of subject, but queue depths are the centre's business, so it is not
public either.
"""

from __future__ import annotations

import ipaddress
import logging
import threading
from collections import defaultdict

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseNotFound
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import REGISTRY, Collector

log = logging.getLogger("apps.core.metrics")


class SharedCounter:
    """A labelled counter kept in Redis where there is one (every process adds to the same hash), else in
    this process. Redis being away loses the increment, never the work: metrics must not fail a task."""

    def __init__(self, name: str, documentation: str, label: str) -> None:
        self.name, self.documentation, self.label = name, documentation, label
        self._local: dict[str, float] = defaultdict(float)
        self._lock = threading.Lock()

    def _key(self) -> str:
        return f"{settings.REDIS_PREFIX}:metrics:{self.name}"

    def inc(self, label_value: str, amount: float = 1) -> None:
        if not amount:
            return
        if not settings.REDIS_URL:
            with self._lock:
                self._local[label_value] += amount
            return
        try:
            client = _redis()
            client.hincrbyfloat(self._key(), label_value, amount)
        except Exception:  # Redis down: readiness says so
            log.warning("Metric %s not counted: Redis unavailable", self.name)

    def values(self) -> dict[str, float]:
        if not settings.REDIS_URL:
            with self._lock:
                return dict(self._local)
        try:
            raw = _redis().hgetall(self._key())
        except Exception:
            return {}
        return {k.decode(): float(v) for k, v in raw.items()}

    def family(self) -> CounterMetricFamily:
        family = CounterMetricFamily(self.name, self.documentation, labels=[self.label])
        for value, total in sorted(self.values().items()):
            family.add_metric([value], total)
        return family


_clients: dict[str, object] = {}


def _redis():
    """One client per process and URL (redis-py pools its connections and renews them after a fork), with
    short timeouts: a scrape never hangs."""
    client = _clients.get(settings.REDIS_URL)
    if client is None:
        import redis

        client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
        _clients[settings.REDIS_URL] = client
    return client


INTAKE_MESSAGES = SharedCounter(
    "ratc_intake_messages", "Messages stored by intake runs, by source kind", "source_kind"
)
INTAKE_REJECTED_FILES = SharedCounter(
    "ratc_intake_rejected_files", "Files refused by intake runs, by source kind", "source_kind"
)
TASK_FAILURES = SharedCounter("ratc_task_failures", "Celery tasks that raised, by task name", "task")
SHARED_COUNTERS = (INTAKE_MESSAGES, INTAKE_REJECTED_FILES, TASK_FAILURES)


class FloorCollector(Collector):
    """Queue depth by state, the broker's waiting tasks, this process's live sockets, the installation's
    intake and task-failure counts, when each periodic job last ran, and the linking backlog."""

    def describe(self):
        """The names alone, so that registering at start-up reads nothing from the database."""
        for counter in SHARED_COUNTERS:
            yield CounterMetricFamily(counter.name, counter.documentation, labels=[counter.label])
        yield GaugeMetricFamily("ratc_targets_open", "Open targets by state", labels=["state"])
        yield GaugeMetricFamily("ratc_live_sockets", "Live sockets in this process")
        yield GaugeMetricFamily("ratc_celery_queue_length", "Tasks waiting in the broker's default queue")
        yield GaugeMetricFamily("ratc_periodic_job_last_run_timestamp_seconds", "Last run", labels=["job"])
        yield GaugeMetricFamily("ratc_link_backlog_batches", "Stored batches waiting to be linked")
        yield GaugeMetricFamily("ratc_link_backlog_oldest_seconds", "Age of the oldest batch waiting")

    def collect(self):
        from apps.targeting.models import OPEN_STATES, Target

        for counter in SHARED_COUNTERS:
            yield counter.family()
        yield _periodic_last_runs()
        yield from _link_backlog()

        depth = GaugeMetricFamily("ratc_targets_open", "Open targets by state", labels=["state"])
        counts: dict[str, int] = dict.fromkeys(sorted(OPEN_STATES), 0)
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


def _periodic_last_runs() -> GaugeMetricFamily:
    """When each registered periodic job last ran (beat, or the embedded server): alert on one left behind."""
    from django_celery_beat.models import PeriodicTask

    from apps.core.schedule import jobs

    family = GaugeMetricFamily(
        "ratc_periodic_job_last_run_timestamp_seconds",
        "When each registered periodic job last ran (Unix time)",
        labels=["job"],
    )
    try:
        rows = PeriodicTask.objects.filter(name__in=[j.name for j in jobs()], last_run_at__isnull=False)
        for name, at in rows.values_list("name", "last_run_at").order_by("name"):
            family.add_metric([name], at.timestamp())
    except Exception:  # the database is down: readiness says so; metrics stay answerable
        log.debug("Periodic jobs' last runs not read", exc_info=True)
    return family


def _link_backlog() -> list[GaugeMetricFamily]:
    """How many stored batches wait for entity linking, and how long the oldest has waited: linking runs
    after intake's commits, one worker at a time, so a batch that keeps failing holds up those behind it
    and shows here as an age that only grows."""
    from django.db.models import Count, Min
    from django.utils import timezone

    from apps.entities.models import LinkBacklog

    try:
        found = LinkBacklog.objects.aggregate(n=Count("pk"), oldest=Min("queued_at"))
    except Exception:  # the database is down: readiness says so; metrics stay answerable
        return []
    age = (timezone.now() - found["oldest"]).total_seconds() if found["oldest"] else 0.0
    return [
        GaugeMetricFamily(
            "ratc_link_backlog_batches", "Stored batches waiting for entity linking", value=found["n"]
        ),
        GaugeMetricFamily(
            "ratc_link_backlog_oldest_seconds",
            "How long the oldest batch waiting for entity linking has waited (0 when none)",
            value=age,
        ),
    ]


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
        kind = instance.source.kind if instance.source is not None else "unknown"
        counts = instance.counts or {}
        INTAKE_MESSAGES.inc(kind, counts.get("messages", 0))
        INTAKE_REJECTED_FILES.inc(kind, counts.get("rejected_files", 0))

    post_save.connect(run_finished, sender=IntakeRun, weak=False, dispatch_uid="ratc-metrics-intake")

    @task_failure.connect(weak=False)
    def failed(sender=None, **kwargs) -> None:
        TASK_FAILURES.inc(getattr(sender, "name", None) or "unknown")

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

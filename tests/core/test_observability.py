"""One request id through responses, log lines and tasks; metrics for the monitoring network only."""

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

from django.http import HttpResponse
from django.test import RequestFactory

from apps.core.observability import HEADER, RequestIdFilter, RequestIdMiddleware

ROOT = Path(__file__).resolve().parents[2]


def test_a_sane_request_id_from_the_load_balancer_is_kept_and_answered(db, client):
    response = client.get("/healthz", HTTP_X_REQUEST_ID="lb-4f1c2a9e-0001")
    assert response[HEADER] == "lb-4f1c2a9e-0001"
    broken = client.get("/healthz", HTTP_X_REQUEST_ID="x\r\nSet-Cookie: a=b")
    assert broken[HEADER] != "x\r\nSet-Cookie: a=b" and len(broken[HEADER]) == 32
    assert client.get("/healthz")[HEADER] != client.get("/healthz")[HEADER]


def test_every_log_line_made_during_a_request_carries_its_id():
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append
    handler.addFilter(RequestIdFilter())
    logger = logging.getLogger("tests.observability")
    logger.addHandler(handler)

    def view(request):
        logger.warning("inside the view")
        return HttpResponse("ok")

    try:
        response = RequestIdMiddleware(view)(RequestFactory().get("/", HTTP_X_REQUEST_ID="req-000000000042"))
        logger.warning("after the request")
    finally:
        logger.removeHandler(handler)
    assert response[HEADER] == "req-000000000042"
    assert [r.request_id for r in records] == ["req-000000000042", "-"]


def test_json_logs_are_one_object_a_line_with_the_request_id():
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_", "LOG_"))}
    code = (
        "import django, logging; django.setup();"
        "from apps.core.observability import request_id; request_id.set('abc12345');"
        "logging.getLogger('ratc.test').warning('stored %d messages', 3)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**environment, "LOG_FORMAT": "json", "DJANGO_SETTINGS_MODULE": "ratc_ops.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    line = json.loads(result.stderr.strip().splitlines()[-1])
    assert (line["level"], line["logger"], line["request_id"], line["message"]) == (
        "WARNING", "ratc.test", "abc12345", "stored 3 messages"
    )  # fmt: skip


def test_metrics_answer_the_monitoring_network_only_and_count_intake(db, client, shared_data):
    from apps.intake.services import ingest_paths, iter_files
    from tests.factories import DataSourceFactory

    before = client.get("/metrics").content.decode()
    assert "ratc_targets_open" in before and "django_http_requests_total" in before
    assert client.get("/metrics", REMOTE_ADDR="10.20.30.40").status_code == 404
    # Through a load balancer on the same host every user is 127.0.0.1: a proxied request is refused.
    assert client.get("/metrics", HTTP_X_FORWARDED_FOR="203.0.113.9").status_code == 404

    def stored(text: str) -> float:
        lines = [
            ln for ln in text.splitlines() if ln.startswith('ratc_intake_messages_total{source_kind="api"}')
        ]
        return float(lines[0].split()[-1]) if lines else 0.0

    source = DataSourceFactory(kind="api")
    paths = list(iter_files([shared_data / "passenger-messages" / "paxlst"]))
    messages = sum(r.counts.get("messages", 0) for r in ingest_paths(actor=None, source=source, paths=paths))
    assert messages > 0
    assert stored(client.get("/metrics").content.decode()) - stored(before) == messages

"""Webhooks tell a port system of its port's instructions: signed (Standard Webhooks), retried with
back-off, each attempt recorded, scoped exactly as ``/api/v1/instructions/``.

The receiver is a real HTTP server on 127.0.0.1 (the standard library's, in a thread) that checks each
signature itself, with its own few lines of HMAC, not with the code under test.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from rest_framework.test import APIClient

from apps.agencies import tokens
from apps.agencies.roles import Role
from apps.compliance.models import AccessLogEntry
from apps.integrations import services
from apps.integrations.models import WebhookDelivery, WebhookEndpoint
from apps.integrations.tasks import deliver_webhook
from apps.targeting import services as targeting
from apps.targeting.models import TargetState
from tests.factories import member
from tests.targeting.factories import SubjectFactory, TargetFactory


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def payload(self) -> dict[str, Any]:
        return json.loads(self.body)


@dataclass
class Receiver:
    """A port system's webhook receiver: answers with ``script`` in turn (then 200) and keeps each POST."""

    url: str
    script: list[int] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)


def verifies(secret: str, received: Received) -> bool:
    """The receiver's check, as a port system would write it from the Standard Webhooks spec."""
    key = base64.b64decode(secret.split("_", 1)[1])
    signed = (
        f"{received.headers['webhook-id']}.{received.headers['webhook-timestamp']}.".encode() + received.body
    )
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    offered = [
        s.split(",", 1)[1] for s in received.headers["webhook-signature"].split() if s.startswith("v1,")
    ]
    return any(hmac.compare_digest(expected, s) for s in offered)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            state.received.append(Received({k.lower(): v for k, v in self.headers.items()}, body))
            code = state.script.pop(0) if state.script else 200
            self.send_response(code)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_port}/hooks/ratc?port=GBFXT"
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def _webhook_settings(settings):
    """Only the local receiver may be posted to; retries come at once (no back-off), three at most."""
    settings.RATC_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    settings.RATC_WEBHOOK_BACKOFF_SECONDS = 0
    settings.RATC_WEBHOOK_MAX_ATTEMPTS = 3
    settings.RATC_WEBHOOK_TIMEOUT_SECONDS = 2


@pytest.fixture
def pcs(world):
    """The port community system of port A (Felixstowe)."""
    return member("pcs.felixstowe", world.customs, Role.SYSTEM, ports=[world.port_a])


@pytest.fixture
def pcs_b(world):
    """The port system of port B (Heathrow): another port, the same agency."""
    return member("pcs.heathrow", world.customs, Role.SYSTEM, ports=[world.port_b])


def api_for(account: Any) -> APIClient:
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Token {tokens.issue(user=account, name=f'pcs {uuid.uuid4()}').secret}",
        HTTP_X_ACCESS_PURPOSE="examination",
    )
    return client


def register(account: Any, url: str, events: list[str] | None = None) -> tuple[WebhookEndpoint, str]:
    answer = api_for(account).post(
        "/api/v1/webhooks/", {"url": url, "events": events or ["instruction.issued"]}, format="json"
    )
    assert answer.status_code == 201, answer.content
    return WebhookEndpoint.objects.get(pk=answer.json()["id"]), answer.json()["secret"]


@pytest.fixture
def issue(world, customs_supervisor, django_capture_on_commit_callbacks):
    """``issue(port)``: dispatch an approved target at ``port`` through the service, and run what waits
    for the commit (the webhooks), as the committed request would."""

    def dispatch(port: Any = None, **kwargs: Any):
        subject = SubjectFactory(source__owner_agency=world.customs, port=port or world.port_a)
        target = TargetFactory(subject=subject, state=TargetState.APPROVED)
        with django_capture_on_commit_callbacks(execute=True):
            return targeting.dispatch_target(
                actor=customs_supervisor, target=target, method="physical",
                instruction="Check the reefer's evaporator.", **kwargs,
            )  # fmt: skip

    return dispatch


def test_an_issued_instruction_reaches_the_port_system_once_signed_as_the_api_renders_it(
    pcs, receiver, issue
):
    endpoint, secret = register(pcs, receiver.url)
    instruction = issue()

    assert len(receiver.received) == 1
    got = receiver.received[0]
    assert verifies(secret, got)
    assert got.headers["content-type"] == "application/json"
    payload = got.payload
    assert payload["type"] == "instruction.issued"
    assert payload["id"] == got.headers["webhook-id"]
    assert payload["timestamp"].endswith("Z")
    # The same instruction the port system would pull, field for field.
    pulled = api_for(pcs).get(f"/api/v1/instructions/{instruction.pk}/")
    assert pulled.status_code == 200
    assert payload["data"]["instruction"] == pulled.json()
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    assert (delivery.status, delivery.attempts, delivery.instruction_id) == ("succeeded", 1, instruction.pk)
    attempt = delivery.attempt_log.get()
    assert attempt.status_code == 200 and attempt.error == "" and attempt.duration_ms >= 0
    # Told is read: in the access log as the account's pull is, with the event it came by.
    [logged] = AccessLogEntry.objects.filter(user=pcs, summary__startswith="webhook")
    assert (logged.action, logged.purpose, logged.object_type, logged.object_id) == (
        "view",
        "examination",
        "instruction",
        str(instruction.pk),
    )
    assert logged.summary == f"webhook instruction.issued {payload['id']}"
    assert logged.data_owner_agency_id == instruction.target.subject.owner_agency_id


def test_nothing_is_posted_before_the_dispatch_commits(pcs, receiver, world, customs_supervisor,
                                                       django_capture_on_commit_callbacks):  # fmt: skip
    register(pcs, receiver.url)
    subject = SubjectFactory(source__owner_agency=world.customs, port=world.port_a)
    target = TargetFactory(subject=subject, state=TargetState.APPROVED)
    with django_capture_on_commit_callbacks(execute=False) as waiting:
        targeting.dispatch_target(actor=customs_supervisor, target=target, method="dog", instruction="Bay 4")
    assert receiver.received == [] and not WebhookDelivery.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        for callback in waiting:
            callback()
    assert len(receiver.received) == 1


def test_a_receiver_that_fails_twice_gets_three_attempts_and_one_success(pcs, receiver, issue):
    endpoint, secret = register(pcs, receiver.url)
    receiver.script = [500, 500]
    issue()

    assert len(receiver.received) == 3
    assert all(verifies(secret, r) for r in receiver.received)
    # One event: the same id (and body) at every attempt, so the receiver can drop a repeat.
    assert len({r.headers["webhook-id"] for r in receiver.received}) == 1
    assert len({r.body for r in receiver.received}) == 1
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    assert (delivery.status, delivery.attempts) == ("succeeded", 3)
    assert [(a.number, a.status_code) for a in delivery.attempt_log.order_by("number")] == [
        (1, 500), (2, 500), (3, 200)
    ]  # fmt: skip
    assert delivery.attempt_log.filter(number=1).get().error.startswith("HTTP 500")
    # A task delivered again (acks_late after a worker died, the sweeper) posts nothing more.
    assert deliver_webhook(delivery.pk) == ""
    assert len(receiver.received) == 3


def test_after_the_last_attempt_the_delivery_is_failed_and_listed_for_its_account(
    pcs, pcs_b, receiver, issue, django_capture_on_commit_callbacks
):
    endpoint, _ = register(pcs, receiver.url)
    receiver.script = [503, 503, 503]
    issue()

    assert len(receiver.received) == 3  # RATC_WEBHOOK_MAX_ATTEMPTS, then no more
    failed = api_for(pcs).get("/api/v1/webhook-deliveries/", {"status": "failed"})
    assert failed.status_code == 200
    [row] = failed.json()["results"]
    assert row["endpoint"] == endpoint.pk and row["attempts"] == 3 and row["last_status_code"] == 503
    assert [a["status_code"] for a in row["attempt_log"]] == [503, 503, 503]
    # Another account lists nothing of it and cannot read it.
    other = api_for(pcs_b)
    assert other.get("/api/v1/webhook-deliveries/").json()["results"] == []
    assert other.get(f"/api/v1/webhook-deliveries/{row['id']}/").status_code == 404
    # The port system is back: sent once more, with the same event id.
    with django_capture_on_commit_callbacks(execute=True):
        redelivered = api_for(pcs).post(f"/api/v1/webhook-deliveries/{row['id']}/redeliver/")
    assert redelivered.status_code == 202, redelivered.content
    assert WebhookDelivery.objects.get(pk=row["id"]).status == "succeeded"
    assert len(receiver.received) == 4
    assert receiver.received[-1].headers["webhook-id"] == receiver.received[0].headers["webhook-id"]
    assert api_for(pcs).post(f"/api/v1/webhook-deliveries/{row['id']}/redeliver/").status_code == 400


def test_a_port_that_does_not_answer_is_recorded_as_an_error(pcs, world, issue, receiver):
    # A port nobody listens on: the connection is refused at each attempt.
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    endpoint = WebhookEndpoint.objects.create(
        owner=pcs,
        url=f"http://127.0.0.1:{closed}/",
        events=["instruction.issued"],
        secret="whsec_" + "A" * 32,
    )
    issue()
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    assert delivery.status == "failed" and delivery.attempts == 3
    assert all(a.status_code is None and "Connection" in a.error for a in delivery.attempt_log.all())


def test_a_system_account_of_another_port_is_told_nothing(pcs, pcs_b, receiver, issue, world):
    _, secret_a = register(pcs, receiver.url)
    endpoint_b, _ = register(pcs_b, receiver.url)
    issue(world.port_a)

    assert len(receiver.received) == 1 and verifies(secret_a, receiver.received[0])
    assert not WebhookDelivery.objects.filter(endpoint=endpoint_b).exists()


def test_a_system_account_of_another_agency_is_told_nothing(world, receiver, issue):
    police_system = member("police.system", world.police, Role.SYSTEM, ports=[world.port_a])
    register(police_system, receiver.url)
    issue(world.port_a)
    assert receiver.received == []


def test_a_wrong_secret_or_a_changed_body_fails_verification(pcs, receiver, issue):
    _, secret = register(pcs, receiver.url)
    other_endpoint, other_secret = register(pcs, receiver.url.replace("ratc", "other"))
    other_endpoint.delete()
    issue()
    [got] = receiver.received
    assert verifies(secret, got)
    assert not verifies(other_secret, got)
    assert not verifies(secret, Received(got.headers, got.body.replace(b"physical", b"documents")))
    assert not verifies(secret, Received({**got.headers, "webhook-timestamp": "1"}, got.body))


def test_a_rotated_secret_signs_what_follows(pcs, receiver, issue):
    endpoint, old = register(pcs, receiver.url)
    rotated = api_for(pcs).post(f"/api/v1/webhooks/{endpoint.pk}/rotate-secret/")
    assert rotated.status_code == 200
    issue()
    assert verifies(rotated.json()["secret"], receiver.received[0])
    assert not verifies(old, receiver.received[0])


def test_a_deleted_or_disabled_endpoint_gets_nothing(pcs, receiver, issue):
    deleted, _ = register(pcs, receiver.url)
    disabled, _ = register(pcs, receiver.url.replace("ratc", "disabled"))
    client = api_for(pcs)
    assert client.delete(f"/api/v1/webhooks/{deleted.pk}/").status_code == 204
    assert (
        client.patch(f"/api/v1/webhooks/{disabled.pk}/", {"is_active": False}, format="json").status_code
        == 200
    )
    issue()
    assert receiver.received == []
    assert not WebhookDelivery.objects.exists()


def test_a_delivery_queued_before_its_endpoint_was_disabled_is_not_posted(pcs, receiver, issue):
    endpoint, _ = register(pcs, receiver.url)
    receiver.script = [500, 500, 500]
    services_max = 3
    issue()
    assert len(receiver.received) == services_max
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status="pending")  # a retry still to come
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(is_active=False)
    deliver_webhook(delivery.pk)
    delivery.refresh_from_db()
    assert len(receiver.received) == services_max
    assert delivery.status == "failed" and "disabled" in delivery.last_error


def test_only_the_events_asked_for_are_sent_and_a_missed_target_cancels_the_instruction(
    pcs, receiver, issue, customs_supervisor, django_capture_on_commit_callbacks
):
    register(pcs, receiver.url, events=["instruction.issued", "instruction.cancelled"])
    register(pcs, receiver.url.replace("ratc", "issued-only"), events=["instruction.issued"])
    instruction = issue()
    assert [r.payload["type"] for r in receiver.received] == ["instruction.issued"] * 2
    with django_capture_on_commit_callbacks(execute=True):
        targeting.mark_missed(actor=customs_supervisor, target=instruction.target, reason="Sailed at dawn")
    assert len(receiver.received) == 3
    cancelled = receiver.received[-1].payload
    assert cancelled["type"] == "instruction.cancelled"
    assert cancelled["data"]["instruction"]["id"] == instruction.pk
    assert cancelled["data"]["instruction"]["state"] == "missed"


def test_endpoints_are_managed_by_their_own_account_only(pcs, pcs_b, receiver, customs_analyst):
    client = api_for(pcs)
    created = client.post("/api/v1/webhooks/", {"url": receiver.url, "events": ["instruction.issued"],
                                                "description": "PCS"}, format="json")  # fmt: skip
    assert created.status_code == 201
    body = created.json()
    assert body["secret"].startswith("whsec_")
    # The secret is in that answer only.
    read = client.get(f"/api/v1/webhooks/{body['id']}/")
    assert read.status_code == 200 and "secret" not in read.json()
    assert [e["id"] for e in client.get("/api/v1/webhooks/").json()["results"]] == [body["id"]]
    # Another account: not there at all.
    other = api_for(pcs_b)
    assert other.get("/api/v1/webhooks/").json()["results"] == []
    assert other.get(f"/api/v1/webhooks/{body['id']}/").status_code == 404
    assert other.delete(f"/api/v1/webhooks/{body['id']}/").status_code == 404
    assert other.post(f"/api/v1/webhooks/{body['id']}/rotate-secret/").status_code == 404
    # People have no webhooks: the role may not.
    person = APIClient()
    person.force_authenticate(customs_analyst)
    assert person.get("/api/v1/webhooks/").status_code == 403
    assert APIClient().get(f"/api/v1/webhooks/{body['id']}/").status_code in {401, 403}


@pytest.mark.parametrize(
    "url",
    [
        "ftp://127.0.0.1/hook",
        "file:///etc/passwd",
        "http://example.org/hook",  # not an allowed host on this installation
        "http://user:pw@127.0.0.1/hook",
    ],
)
def test_only_http_urls_to_allowed_hosts_are_accepted(pcs, url):
    answer = api_for(pcs).post(
        "/api/v1/webhooks/", {"url": url, "events": ["instruction.issued"]}, format="json"
    )
    assert answer.status_code == 400
    assert not WebhookEndpoint.objects.exists()


def test_unknown_events_are_refused(pcs, receiver):
    answer = api_for(pcs).post("/api/v1/webhooks/", {"url": receiver.url, "events": ["target.deleted"]},
                               format="json")  # fmt: skip
    assert answer.status_code == 400


def test_by_default_any_host_is_allowed(settings):
    settings.RATC_WEBHOOK_ALLOWED_HOSTS = ["*"]
    assert services.check_url("https://pcs.port.example/hooks") == "https://pcs.port.example/hooks"
    settings.RATC_WEBHOOK_ALLOWED_HOSTS = [".port.example"]
    assert services.check_url("https://pcs.port.example/hooks")
    with pytest.raises(services.ValidationError):
        services.check_url("https://elsewhere.example/hooks")


def test_the_back_off_doubles_with_jitter_up_to_its_ceiling(settings):
    settings.RATC_WEBHOOK_BACKOFF_SECONDS = 30
    settings.RATC_WEBHOOK_BACKOFF_MAX_SECONDS = 600
    for attempts, ceiling in [(1, 30), (2, 60), (3, 120), (6, 600), (10, 600)]:
        waits = [services.backoff(attempts) for _ in range(50)]
        assert all(ceiling / 2 <= w <= ceiling for w in waits)
        assert len(set(waits)) > 1  # jittered


def test_an_administrator_registers_an_endpoint_for_his_agencys_system_in_the_admin(
    client, customs_admin, pcs, world, receiver
):
    from django.contrib.auth.models import Permission

    customs_admin.is_staff = True
    customs_admin.save()
    customs_admin.user_permissions.set(Permission.objects.filter(content_type__app_label="integrations"))
    police_system = member("police.system", world.police, Role.SYSTEM, ports=[world.port_a])
    client.force_login(customs_admin)
    add = "/admin/integrations/webhookendpoint/add/"
    assert f'value="{police_system.pk}"' not in client.get(add).content.decode()  # not his agency's
    answer = client.post(add, {"owner": pcs.pk, "url": receiver.url, "events": ["instruction.issued"],
                               "description": "PCS", "is_active": "on"})  # fmt: skip
    assert answer.status_code == 200, answer.content[:500]
    endpoint = WebhookEndpoint.objects.get(owner=pcs)
    assert endpoint.created_by == customs_admin
    assert endpoint.secret in answer.content.decode()  # shown on this page, once
    assert (
        endpoint.secret
        not in client.get(f"/admin/integrations/webhookendpoint/{endpoint.pk}/change/").content.decode()
    )
    refused = client.post(
        add, {"owner": pcs.pk, "url": "http://example.org/", "events": ["instruction.issued"]}
    )
    assert refused.status_code == 200 and WebhookEndpoint.objects.count() == 1


def test_a_hold_and_its_release_update_the_instruction(
    pcs, receiver, issue, customs_supervisor, django_capture_on_commit_callbacks
):
    register(pcs, receiver.url, events=["instruction.issued", "instruction.updated"])
    instruction = issue()
    with django_capture_on_commit_callbacks(execute=True):
        hold = targeting.place_hold(
            actor=customs_supervisor, target=instruction.target, reason="Controlled delivery"
        )
    # The port is told to wait (the state says so; never the hold's reason, which is not in the API's view).
    held = receiver.received[-1].payload
    assert (held["type"], held["data"]["instruction"]["state"]) == ("instruction.updated", "on_hold")
    assert "Controlled delivery" not in receiver.received[-1].body.decode()
    with django_capture_on_commit_callbacks(execute=True):
        targeting.release_hold(actor=customs_supervisor, hold=hold, reason="Go ahead")
    released = receiver.received[-1].payload
    assert (released["type"], released["data"]["instruction"]["state"]) == (
        "instruction.updated",
        "dispatched",
    )
    assert len(receiver.received) == 3

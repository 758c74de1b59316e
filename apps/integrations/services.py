"""Webhooks to port systems: endpoints managed by their system account, events fanned out after commit,
each delivery posted, signed, retried with back-off and recorded.

The flow:

1. ``apps.targeting.events`` announces an instruction event after the dispatch (or move) commits;
   :func:`on_instruction_event` (connected in ``IntegrationsConfig.ready``) calls :func:`fan_out`.
2. :func:`fan_out` makes one ``WebhookDelivery`` per active endpoint that asked for the event and whose
   account sees the instruction (``Instruction.objects.visible_to(account)``, the scope of
   ``/api/v1/instructions/``), with the body rendered once by the API's ``InstructionSerializer``, and
   queues ``integrations.deliver_webhook`` for each after its row commits.
3. :func:`attempt_delivery` claims the row by a conditional UPDATE (so a task run twice posts once), posts
   it with a short timeout, records the attempt, and says whether and when to try again.
"""

from __future__ import annotations

import http.client
import json
import logging
import random
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.http.request import validate_host
from django.utils import timezone

from apps.agencies.operations import check, membership_of
from apps.integrations import signing
from apps.integrations.models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from apps.targeting.events import INSTRUCTION_EVENTS
from apps.targeting.models import Instruction

log = logging.getLogger("apps.integrations")

__all__ = [
    "EVENT_TYPES",
    "Outcome",
    "attempt_delivery",
    "backoff",
    "check_url",
    "create_endpoint",
    "delete_endpoint",
    "fan_out",
    "redeliver",
    "rotate_secret",
    "update_endpoint",
]

#: The event types an endpoint may ask for.
EVENT_TYPES: dict[str, str] = dict(INSTRUCTION_EVENTS)
#: The answer's first bytes kept in an attempt's error when it is not a 2xx.
RESPONSE_EXCERPT = 200


# --- endpoints ------------------------------------------------------------------------------------------


def check_url(url: str) -> str:
    """``url`` if webhooks may be posted to it: http(s), a host and no credentials in it, and a host that
    ``RATC_WEBHOOK_ALLOWED_HOSTS`` allows (Django's ``ALLOWED_HOSTS`` patterns); ``ValidationError`` else."""
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValidationError({"url": "Give an http:// or https:// URL with a host."})
    if parts.username or parts.password:
        raise ValidationError({"url": "Put no credentials in the URL: the signature authenticates us."})
    try:
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        raise ValidationError({"url": "The URL's port is not a number."}) from None
    if not validate_host(parts.hostname, settings.RATC_WEBHOOK_ALLOWED_HOSTS):
        raise ValidationError({"url": f"Webhooks may not be sent to {parts.hostname} on this installation."})
    return url


def _check_events(events: Any) -> list[str]:
    if not isinstance(events, list | tuple) or not events:
        raise ValidationError({"events": f"Choose one or more of: {', '.join(EVENT_TYPES)}."})
    unknown = [e for e in events if e not in EVENT_TYPES]
    if unknown:
        raise ValidationError({"events": f"Unknown event type(s): {', '.join(map(str, unknown))}."})
    return list(dict.fromkeys(events))


def _system_account(user: Any) -> Any:
    """``user`` if it is an active system account (``webhook.manage`` is the system role's alone)."""
    check(user, "webhook.manage")
    return user


def create_endpoint(
    *, actor: User, url: str, events: list[str], description: str = "", owner: Any = None
) -> tuple[WebhookEndpoint, str]:
    """Register an endpoint of ``owner`` (the actor himself, a system account, unless an administrator
    makes it for one of his agency's system accounts in the admin); returns it and its secret, shown once.
    """
    owner = owner or actor
    _system_account(owner)
    if owner != actor:
        mine, theirs = membership_of(actor), membership_of(owner)
        if not (actor.is_superuser or (mine and theirs and mine.agency_id == theirs.agency_id)):
            raise PermissionDenied("You may register webhooks only for your agency's system accounts.")
    secret = signing.new_secret()
    endpoint = WebhookEndpoint.objects.create(
        owner=owner, url=check_url(url), events=_check_events(events), description=description.strip(),
        secret=secret, created_by=actor,
    )  # fmt: skip
    log.info("webhook endpoint %s registered for %s: %s", endpoint.pk, owner, endpoint.url)
    return endpoint, secret


def _in_scope(actor: User, obj: WebhookEndpoint | WebhookDelivery) -> None:
    """Raise the model's ``DoesNotExist`` (a 404) unless ``actor`` sees ``obj``: its own system account,
    an administrator of the account's agency, or a superuser (who runs the installation, in the admin)."""
    if getattr(actor, "is_superuser", False) and actor.is_active:
        return
    if not type(obj).objects.visible_to(actor).filter(pk=obj.pk).exists():
        raise type(obj).DoesNotExist


def get_endpoint_for(user: Any, pk: Any) -> WebhookEndpoint:
    """The endpoint if ``user`` may see it; ``WebhookEndpoint.DoesNotExist`` otherwise (a 404)."""
    return WebhookEndpoint.objects.visible_to(user).get(pk=pk)


def update_endpoint(*, actor: User, endpoint: WebhookEndpoint, **changes: Any) -> WebhookEndpoint:
    """Change an endpoint's URL, events, description or whether it is active."""
    _in_scope(actor, endpoint)
    if "url" in changes:
        endpoint.url = check_url(changes["url"])
    if "events" in changes:
        endpoint.events = _check_events(changes["events"])
    if "description" in changes:
        endpoint.description = (changes["description"] or "").strip()
    if "is_active" in changes:
        endpoint.is_active = bool(changes["is_active"])
    endpoint.save()
    return endpoint


def rotate_secret(*, actor: User, endpoint: WebhookEndpoint) -> str:
    """A new signing secret, in force at once for every later attempt; returned once."""
    _in_scope(actor, endpoint)
    endpoint.secret = signing.new_secret()
    endpoint.save(update_fields=["secret", "updated_at"])
    log.info("webhook endpoint %s: secret rotated by %s", endpoint.pk, actor)
    return endpoint.secret


def delete_endpoint(*, actor: User, endpoint: WebhookEndpoint) -> None:
    """Remove the endpoint and its deliveries: nothing more is posted to it (a queued task finds no row)."""
    _in_scope(actor, endpoint)
    endpoint.delete()


# --- events ---------------------------------------------------------------------------------------------


def on_instruction_event(sender: Any, *, instruction_id: int, event: str, **kwargs: Any) -> None:
    """Receiver of ``apps.targeting.events.instruction_event`` (sent after the commit)."""
    fan_out(instruction_id=instruction_id, event_type=event)


def _account_request(user: Any) -> Any:
    """A DRF request of ``user`` for the serializer's context, as if the account had pulled the instruction."""
    from django.http import HttpRequest
    from rest_framework.request import Request

    request = Request(HttpRequest())
    request.user = user
    return request


def render_body(*, event_id: str, event_type: str, at: Any, instruction: Instruction, account: Any) -> str:
    """The JSON posted: the event's id, type and time, and the instruction as the API renders it to the
    account (``apps.targeting.api.InstructionSerializer``: one representation, not a second one)."""
    from apps.targeting.api import InstructionSerializer

    data = InstructionSerializer(instruction, context={"request": _account_request(account)}).data
    payload = {
        "id": event_id,
        "type": event_type,
        "timestamp": at.isoformat().replace("+00:00", "Z"),
        "data": {"instruction": data},
    }
    return json.dumps(payload, separators=(",", ":"), sort_keys=True, default=str)


def fan_out(*, instruction_id: int, event_type: str) -> list[WebhookDelivery]:
    """One delivery per active endpoint that asked for ``event_type`` and whose account sees the
    instruction, each posted by a task queued once its row is committed."""
    endpoints = [
        e
        for e in WebhookEndpoint.objects.filter(is_active=True, owner__is_active=True).select_related("owner")
        if event_type in (e.events or [])
    ]
    if not endpoints:
        return []
    event_id = f"msg_{uuid.uuid4().hex}"
    at = timezone.now()
    made: list[WebhookDelivery] = []
    with transaction.atomic():
        for endpoint in endpoints:
            instruction = (
                Instruction.objects.visible_to(endpoint.owner)
                .select_related("port", "target")
                .filter(pk=instruction_id)
                .first()
            )
            if instruction is None:  # not this account's port, agency or state: it is told nothing
                continue
            body = render_body(
                event_id=event_id,
                event_type=event_type,
                at=at,
                instruction=instruction,
                account=endpoint.owner,
            )
            delivery = WebhookDelivery.objects.create(
                endpoint=endpoint, event_id=event_id, event_type=event_type, instruction=instruction,
                body=body, created_at=at, next_attempt_at=at,
            )  # fmt: skip
            made.append(delivery)
        for delivery in made:
            transaction.on_commit(partial(_enqueue, delivery.pk), robust=True)
    return made


def _enqueue(delivery_id: int, countdown: float = 0) -> None:
    from apps.integrations.tasks import deliver_webhook

    deliver_webhook.apply_async((delivery_id,), countdown=countdown)


# --- delivery -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """What one call of :func:`attempt_delivery` did: ``attempted`` (False: nothing to do, or another
    worker holds the row), ``status`` of the delivery after it, and the seconds until the next try."""

    attempted: bool
    status: str = ""
    retry_in: float | None = None


def backoff(attempts: int) -> float:
    """Seconds to wait after the ``attempts``-th failed attempt: doubling from
    ``RATC_WEBHOOK_BACKOFF_SECONDS`` up to ``RATC_WEBHOOK_BACKOFF_MAX_SECONDS``, drawn between half and all
    of it, so that a port system coming back up is not hit by every retry in the same second."""
    ceiling = min(
        settings.RATC_WEBHOOK_BACKOFF_MAX_SECONDS, settings.RATC_WEBHOOK_BACKOFF_SECONDS * 2 ** (attempts - 1)
    )
    return ceiling / 2 + random.uniform(0, ceiling / 2)


def _lease() -> timedelta:
    """How long a claim on a delivery lasts: longer than one POST can take, short enough to recover from
    a worker killed in mid-post."""
    return timedelta(seconds=2 * settings.RATC_WEBHOOK_TIMEOUT_SECONDS + 10)


def _claim(delivery_id: int) -> bool:
    """Take the delivery for one attempt: pending, due and not held by another worker. One UPDATE: of
    two workers running the same task (``acks_late`` redelivery, the sweeper), one gets 1 row, the other 0."""
    now = timezone.now()
    return bool(
        WebhookDelivery.objects.filter(
            pk=delivery_id, status=DeliveryStatus.PENDING, next_attempt_at__lte=now
        )
        .filter(Q(locked_until__isnull=True) | Q(locked_until__lt=now))
        .update(locked_until=now + _lease(), attempts=F("attempts") + 1)
    )


def post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> tuple[int, bytes]:
    """POST ``body`` to ``url``; the status code and the answer's first bytes. Redirects are not followed
    (a 3xx is a failed attempt): the allowed hosts are checked on the URL we were given only."""
    parts = urlsplit(url)
    connection_class = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = connection_class(parts.hostname or "", parts.port, timeout=timeout)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read(RESPONSE_EXCERPT)
    finally:
        connection.close()


def attempt_delivery(delivery_id: int) -> Outcome:
    """One attempt at a delivery, if it is still pending and due and no other worker holds it.

    A 2xx ends it as delivered; any other answer, a timeout or a refused connection is recorded and
    retried after :func:`backoff`, until ``RATC_WEBHOOK_MAX_ATTEMPTS``, after which it is marked failed.
    A disabled endpoint, or a URL this installation no longer allows, fails it at once.
    """
    if not _claim(delivery_id):
        return Outcome(attempted=False)
    delivery = WebhookDelivery.objects.select_related("endpoint").get(pk=delivery_id)
    endpoint = delivery.endpoint
    started = timezone.now()
    status_code: int | None = None
    error = ""
    clock = time.monotonic()
    try:
        if not endpoint.is_active:
            raise _Refused("The endpoint is disabled.")
        try:
            url = check_url(endpoint.url)
        except ValidationError as refused:
            raise _Refused("; ".join(refused.messages)) from None
        body = delivery.body.encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "RATC-Ops-Webhooks/1",
            **signing.headers(endpoint.secret, delivery.event_id, int(time.time()), body),
        }
        status_code, answer = post(url, body, headers, settings.RATC_WEBHOOK_TIMEOUT_SECONDS)
        if not 200 <= status_code < 300:
            error = f"HTTP {status_code}: {answer.decode('utf-8', 'replace')}"
    except _Refused as refused:
        error, final = str(refused), True
    except Exception as failure:  # refused, reset, timed out, TLS, a bad answer: recorded and retried
        error, final = f"{type(failure).__name__}: {failure}", False
    else:
        final = False
    duration_ms = int((time.monotonic() - clock) * 1000)
    WebhookAttempt.objects.create(
        delivery=delivery, number=delivery.attempts, started_at=started, duration_ms=duration_ms,
        status_code=status_code, error=error[:500],
    )  # fmt: skip
    held = WebhookDelivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.PENDING)
    now = timezone.now()
    if not error:
        with transaction.atomic():  # delivered and logged, or neither (then retried after the lease)
            if held.update(status=DeliveryStatus.SUCCEEDED, delivered_at=now, locked_until=None,
                           last_status_code=status_code, last_error=""):  # fmt: skip
                _log_read(delivery, endpoint, at=now)
        return Outcome(attempted=True, status=DeliveryStatus.SUCCEEDED)
    if final or delivery.attempts >= settings.RATC_WEBHOOK_MAX_ATTEMPTS:
        held.update(status=DeliveryStatus.FAILED, locked_until=None, last_status_code=status_code,
                    last_error=error[:500])  # fmt: skip
        log.warning("webhook delivery %s to %s failed for good: %s", delivery.pk, endpoint.url, error)
        return Outcome(attempted=True, status=DeliveryStatus.FAILED)
    wait = backoff(delivery.attempts)
    held.update(next_attempt_at=now + timedelta(seconds=wait), locked_until=None,
                last_status_code=status_code, last_error=error[:500])  # fmt: skip
    return Outcome(attempted=True, status=DeliveryStatus.PENDING, retry_in=wait)


def _log_read(delivery: WebhookDelivery, endpoint: WebhookEndpoint, *, at: Any) -> None:
    """A delivered instruction is read by the account as surely as a pull of
    ``/api/v1/instructions/{id}/`` is (a gated, logged route): the same entry in the access log, with the
    purpose a port system has for it, and the event in the summary."""
    from apps.compliance.chain import append
    from apps.compliance.models import AccessLogEntry, Purpose
    from apps.compliance.services import data_owner_agency_id

    if delivery.instruction_id is None:  # a delivery about no instruction: nothing was read
        return
    membership = membership_of(endpoint.owner)
    instruction = (
        Instruction.objects.select_related("target__subject").filter(pk=delivery.instruction_id).first()
    )
    if membership is None or instruction is None:
        return
    append(
        AccessLogEntry, at=at, user=endpoint.owner, agency_id=membership.agency_id,
        action=AccessLogEntry.Action.VIEW, purpose=Purpose.EXAMINATION, purpose_text="",
        object_type="instruction", object_id=str(instruction.pk),
        summary=f"webhook {delivery.event_type} {delivery.event_id}",
        data_owner_agency_id=data_owner_agency_id(instruction.target.subject),
    )  # fmt: skip


class _Refused(Exception):
    """An attempt that cannot succeed by retrying (the endpoint disabled, its host no longer allowed)."""


def due_deliveries(now: Any = None, *, grace: timedelta = timedelta(minutes=1)) -> list[int]:
    """Pending deliveries whose retry is overdue by ``grace`` and that nobody holds: their queued task was
    lost (a broker restart, a worker killed). The sweeper queues them again; the claim keeps it safe."""
    now = now or timezone.now()
    return list(
        WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now - grace)
        .filter(Q(locked_until__isnull=True) | Q(locked_until__lt=now))
        .values_list("pk", flat=True)[:500]
    )


def redeliver(*, actor: User, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a failed delivery again (the port system is back): pending, due now, with the same event id,
    so the receiver can still tell it from a new event. A delivered one is never sent again."""
    _in_scope(actor, delivery)
    changed = WebhookDelivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.FAILED).update(
        status=DeliveryStatus.PENDING, next_attempt_at=timezone.now(), locked_until=None
    )
    if not changed:
        raise ValidationError("Only a failed delivery can be sent again.")
    transaction.on_commit(lambda: _enqueue(delivery.pk), robust=True)
    delivery.refresh_from_db()
    return delivery

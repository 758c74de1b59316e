"""Webhooks: a system account's endpoints, each event's delivery to one endpoint, and every attempt.

A port system that would rather be told than poll registers an endpoint (a URL and the instruction events
it wants); each event it may see (``Instruction.objects.visible_to(account)``, the same scope as
``/api/v1/instructions/``) becomes one ``WebhookDelivery`` row, posted by a Celery task, signed per the
Standard Webhooks scheme, retried with back-off, each attempt recorded.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from apps.agencies.roles import Role
from apps.agencies.scoping import ScopedManager


class WebhookEndpoint(models.Model):
    """Where a system account wants instruction events posted, and which events.

    The signing secret is stored as it is (an HMAC needs the key itself, unlike a token that is only
    compared), shown once when it is made or rotated, and never rendered by the API or the admin again.
    """

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="webhook_endpoints",
        help_text="The system account whose view of the instructions is sent (its agency and ports).",
    )
    url = models.URLField(
        max_length=500, help_text="An http(s) URL of the port system that receives the POSTs."
    )
    description = models.CharField(max_length=200, blank=True)
    events = models.JSONField(default=list, help_text="The event types sent, e.g. ['instruction.issued'].")
    secret = models.CharField(max_length=100, editable=False)
    is_active = models.BooleanField(default=True, help_text="A disabled endpoint is sent nothing.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager()

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = "webhook endpoint"

    def __str__(self) -> str:
        return f"{self.url} ({self.owner})"

    @classmethod
    def visibility_q(cls, membership: Any) -> Q:
        """A system account sees its own endpoints; an administrator those of his agency's accounts (the
        admin lists them); nobody else any."""
        if membership.role == Role.SYSTEM:
            return Q(owner_id=membership.user_id)
        if membership.role == Role.ADMINISTRATOR:
            return Q(owner__membership__agency_id=membership.agency_id, owner__is_superuser=False)
        return Q(pk__in=[])


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SUCCEEDED = "succeeded", "Delivered"
    FAILED = "failed", "Failed"


class WebhookDelivery(models.Model):
    """One event for one endpoint: the exact body signed and posted at every attempt, and where it stands.

    ``event_id`` is the Standard Webhooks message id (``webhook-id``), the same at every attempt, so that
    the receiver can drop a repeat. At most one row per (endpoint, event): the event is delivered as a
    success once. A worker claims the row with a conditional UPDATE (``locked_until``) before posting, so a
    task run twice (``acks_late`` redelivery, the sweeper) posts nothing the second time.
    """

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event_id = models.CharField(max_length=40)
    event_type = models.CharField(max_length=40)
    instruction = models.ForeignKey(
        "targeting.Instruction", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    body = models.TextField(help_text="The JSON posted, byte for byte the same at every attempt.")
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    locked_until = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)

    objects = ScopedManager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "webhook delivery"
        verbose_name_plural = "webhook deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["endpoint", "event_id"], name="one_delivery_per_event_and_endpoint"
            )
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="webhook_delivery_due")]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id} → {self.endpoint.url}"

    @classmethod
    def visibility_q(cls, membership: Any) -> Q:
        return Q(endpoint__in=WebhookEndpoint.objects.filter(WebhookEndpoint.visibility_q(membership)))


class WebhookAttempt(models.Model):
    """One POST of a delivery: when, how long it took, the answer's status code or the error."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveSmallIntegerField()
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)

    objects = ScopedManager()

    class Meta:
        ordering = ["delivery", "number"]
        constraints = [
            models.UniqueConstraint(fields=["delivery", "number"], name="one_webhook_attempt_per_number")
        ]

    def __str__(self) -> str:
        return f"Attempt {self.number} of delivery {self.delivery_id}: {self.status_code or self.error}"

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    @classmethod
    def visibility_q(cls, membership: Any) -> Q:
        return Q(delivery__in=WebhookDelivery.objects.filter(WebhookDelivery.visibility_q(membership)))

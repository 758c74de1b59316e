"""Alert exchange with partner administrations (BRIEF capability 8): partners, what was sent to each,
what came in from each, and the sightings that close the loop.

Everything here is owned by the agency that keeps the partnership (``Partner.owner_agency``, the centre's
customs administration): its members see the partners, the queue of incoming alerts and what was sent.
A partner's system account (``Partner.account``, role ``system`` in the partner's FOREIGN_PARTNER agency)
reads only its own TAXII collection, by its hashed API token (``apps.agencies.tokens``).
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from apps.agencies.models import AgencyKind
from apps.agencies.scoping import ScopedManager


class Partner(models.Model):
    """A partner administration: its agency, its system account here, and its TAXII server there."""

    class Auth(models.TextChoices):
        BASIC = "basic", "User name and password (HTTP Basic)"
        TOKEN = "token", "Token (Authorization: Token …)"

    name = models.CharField(max_length=200)
    agency = models.OneToOneField(
        "agencies.Agency", on_delete=models.PROTECT, related_name="alert_partner",
        limit_choices_to={"kind": AgencyKind.FOREIGN_PARTNER},
        help_text="The partner as an agency of kind 'foreign partner administration'.",
    )  # fmt: skip
    owner_agency = models.ForeignKey(
        "agencies.Agency", on_delete=models.PROTECT, related_name="+",
        help_text="Our agency that keeps the partnership and works its alerts.",
    )  # fmt: skip
    account = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="alert_partner",
        help_text="The partner's system account here: its API token reads the partner's collection.",
    )  # fmt: skip
    collection_id = models.UUIDField(
        default=uuid.uuid4, unique=True, editable=False, help_text="The partner's collection on our server."
    )
    # Their side: where we push and what we poll.
    taxii_api_root = models.URLField(blank=True, help_text="The partner's TAXII 2.1 API root URL.")
    taxii_collection = models.CharField(max_length=100, blank=True, help_text="The collection id there.")
    auth = models.CharField(max_length=10, choices=Auth.choices, default=Auth.BASIC)
    username = models.CharField(max_length=100, blank=True)
    # Encrypted at rest (``apps.alerts.crypto``): read and set through ``secret``, never shown back.
    secret_encrypted = models.TextField(
        blank=True, editable=False, help_text="Password or token at the partner, encrypted (Fernet)."
    )
    active = models.BooleanField(default=True)
    # The visible status of the exchange.
    last_push_at = models.DateTimeField(null=True, blank=True)
    last_poll_at = models.DateTimeField(null=True, blank=True)
    last_ok_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    failures = models.PositiveIntegerField(default=0, help_text="Failed exchanges in a row.")
    next_attempt_at = models.DateTimeField(null=True, blank=True, help_text="Back-off after a failure.")
    poll_cursor = models.CharField(max_length=40, blank=True, help_text="added_after of the next poll.")

    objects = ScopedManager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def visibility_q(cls, membership: Any) -> Q:
        return Q(owner_agency_id=membership.agency_id)

    def clean(self) -> None:
        if self.agency_id and self.agency.kind != AgencyKind.FOREIGN_PARTNER:
            raise ValidationError(
                {"agency": "A partner administration is an agency of kind 'foreign partner'."}
            )
        membership = getattr(self.account, "membership", None) if self.account_id else None
        if membership is not None and (membership.role != "system" or membership.agency_id != self.agency_id):
            raise ValidationError({"account": "The account is a system account of the partner's agency."})

    @property
    def secret(self) -> str:
        """The password or token at the partner, in clear: only for the request to its server."""
        from apps.alerts.crypto import open_secret

        return open_secret(self.secret_encrypted)

    @secret.setter
    def secret(self, clear: str) -> None:
        from apps.alerts.crypto import seal_secret

        self.secret_encrypted = seal_secret(clear or "")

    @property
    def has_secret(self) -> bool:
        return bool(self.secret_encrypted)

    @property
    def status(self) -> str:
        if not self.active:
            return "paused"
        if not self.taxii_api_root:
            return "receive only"
        if self.failures:
            return "failing"
        return "ok" if self.last_ok_at else "not yet exchanged"


class OutboundObject(models.Model):
    """A STIX object we put in a partner's collection (an alert, or a sighting of the partner's alert).

    Served to the partner on ``GET .../objects/`` and pushed to its server. ``pushed_at`` empty: still to
    push (the Celery task retries with back-off).
    """

    class Kind(models.TextChoices):
        ALERT = "alert", "Alert"
        LOOKOUT = "lookout", "Lookout (watchlist entry)"
        SIGHTING = "sighting", "Sighting"

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="outbound")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    stix_id = models.CharField(max_length=100)
    modified = models.CharField(max_length=30, help_text="STIX 'modified' (or 'created') as written.")
    bundle = models.JSONField(help_text="The bundle as sent.")
    target = models.ForeignKey(
        "targeting.Target", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    incoming = models.ForeignKey(
        "IncomingAlert", on_delete=models.PROTECT, null=True, blank=True, related_name="sightings_sent"
    )
    watchlist_entry = models.ForeignKey(
        "watchlists.WatchlistEntry", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        help_text="The watchlist entry sent as an intelligence item (a lookout), if that is what was sent.",
    )  # fmt: skip
    summary = models.CharField(max_length=300)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reason = models.TextField(blank=True)
    added_at = models.DateTimeField(auto_now_add=True, db_index=True)
    pushed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)

    objects = ScopedManager()

    class Meta:
        ordering = ["-added_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["partner", "stix_id", "modified"], name="outbound_version_once")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.stix_id} to {self.partner_id}"

    @classmethod
    def visibility_q(cls, membership: Any) -> Q:
        return Q(partner__owner_agency_id=membership.agency_id)


class IncomingAlert(models.Model):
    """An alert received from a partner: one row per STIX id, updated by a newer version."""

    class Status(models.TextChoices):
        NEW = "new", "New"
        TARGETED = "targeted", "Turned into a target"
        ATTACHED = "attached", "Attached to a subject"
        WATCHLISTED = "watchlisted", "Added to a watchlist"
        DISMISSED = "dismissed", "Dismissed"

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="incoming")
    stix_id = models.CharField(max_length=100)
    modified = models.DateTimeField()
    versions = models.PositiveIntegerField(default=1, help_text="How many versions were received.")
    name = models.CharField(max_length=300)
    description = models.TextField(blank=True)
    subject_kind = models.CharField(max_length=12)
    risk_area = models.CharField(max_length=20)
    requested_action = models.CharField(max_length=12, default="examine")
    properties = models.JSONField(default=dict)
    tlp = models.CharField(max_length=15)
    may_act = models.BooleanField(default=True)
    consent_required = models.BooleanField(default=False)
    consent_note = models.TextField(blank=True, help_text="The partner's agreement, as recorded.")
    raw = models.JSONField(help_text="The grouping as received.")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.NEW)
    target = models.ForeignKey(
        "targeting.Target", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    subject = models.ForeignKey(
        "intake.Subject", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    watchlist_entry = models.ForeignKey(
        "watchlists.WatchlistEntry", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    handled_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True, help_text="What matched, or why no work was needed.")
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager()

    class Meta:
        ordering = ["-received_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["partner", "stix_id"], name="incoming_alert_once")]

    def __str__(self) -> str:
        return f"Alert A-{self.pk:05d} from {self.partner_id}"

    @property
    def reference(self) -> str:
        return f"A-{self.pk:05d}"

    @classmethod
    def visibility_q(cls, membership: Any) -> Q:
        return Q(partner__owner_agency_id=membership.agency_id)

    @property
    def risk_area_label(self) -> str:
        from apps.targeting.models import RiskArea

        return str(dict(RiskArea.choices).get(self.risk_area, self.risk_area))

    @property
    def has_personal_data(self) -> bool:
        lookout = self.properties.get("lookout") or {}
        return bool(self.properties.get("traveller")) or lookout.get("kind") in {"person", "phone", "email"}

    @property
    def lookout(self) -> dict[str, Any]:
        """A partner's watchlist entry, when the alert is one (extension 1.1.0 ``lookout``)."""
        return self.properties.get("lookout") or {}


#: The outcomes a sighting reports (the extension's vocabulary), as people read them.
OUTCOME_LABELS = {"no_finding": "No finding", "irregularity": "Irregularity", "seizure": "Seizure",
                  "refusal": "Refusal of entry"}  # fmt: skip


class PartnerSighting(models.Model):
    """A partner's sighting of one of our alerts: what its examination found, shown on our target."""

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="sightings")
    outbound = models.ForeignKey(OutboundObject, on_delete=models.PROTECT, related_name="sightings")
    target = models.ForeignKey(
        "targeting.Target", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    stix_id = models.CharField(max_length=100)
    modified = models.DateTimeField()
    outcome = models.CharField(max_length=20, blank=True)
    finding = models.BooleanField(default=False)
    description = models.TextField(blank=True)
    properties = models.JSONField(default=dict)
    received_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager()

    class Meta:
        ordering = ["-received_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["partner", "stix_id"], name="partner_sighting_once")]

    def __str__(self) -> str:
        return f"Sighting {self.stix_id} from {self.partner_id}"

    @property
    def outcome_label(self) -> str:
        return OUTCOME_LABELS.get(self.outcome, self.outcome.replace("_", " ").capitalize())

    @classmethod
    def visibility_q(cls, membership: Any) -> Q:
        return Q(partner__owner_agency_id=membership.agency_id)


class TaxiiStatus(models.Model):
    """The status resource of a POST to a partner's collection on our server (TAXII 2.1 §4.3)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="statuses")
    request_at = models.DateTimeField(auto_now_add=True)
    successes = models.JSONField(default=list)
    failures = models.JSONField(default=list)

    class Meta:
        ordering = ["-request_at"]

    def __str__(self) -> str:
        return f"TAXII status {self.id}"

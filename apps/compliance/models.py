"""The law, kept by the software: who saw which personal data and why, unmasking, retention runs."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from apps.agencies.scoping import ScopedManager
from apps.compliance.chain import ChainHead, HashChained

__all__ = ["AccessLogEntry", "ChainHead", "Purpose", "RetentionRun", "UnmaskRequest"]


class Purpose(models.TextChoices):
    RISK_ANALYSIS = "risk_analysis", "Risk analysis and targeting"
    EXAMINATION = "examination", "Preparing or carrying out an examination"
    INVESTIGATION = "investigation", "Criminal investigation (case reference required)"
    PARTNER_REQUEST = "partner_request", "Request from a partner agency"
    AUDIT = "audit", "Audit or data protection review"
    DATA_SUBJECT = "data_subject", "Request of the person concerned"


class AccessLogEntry(HashChained):
    """One view, search, export or disclosure of personal data. Append-only and hash-chained."""

    class Action(models.TextChoices):
        VIEW = "view", "Viewed"
        SEARCH = "search", "Searched"
        EXPORT = "export", "Exported"
        DISCLOSE = "disclose", "Disclosed"
        UNMASK = "unmask", "Unmasked"

    CHAINED = ("at", "user", "agency", "action", "purpose", "purpose_text", "object_type", "object_id", "summary", "disclosed_to")  # fmt: skip

    at = models.DateTimeField(db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    agency = models.ForeignKey("agencies.Agency", on_delete=models.PROTECT, related_name="+")
    action = models.CharField(max_length=10, choices=Action.choices)
    purpose = models.CharField(max_length=20, choices=Purpose.choices)
    purpose_text = models.CharField(max_length=300, blank=True)
    object_type = models.CharField(max_length=40)
    object_id = models.CharField(max_length=64, blank=True)
    summary = models.CharField(max_length=300, help_text="What was seen (never the data itself).")
    disclosed_to = models.CharField(max_length=100, blank=True)
    # The agency that owns the source of the data read (a subject's source owner). Not in CHAINED: it is
    # derived from the object, so the owner's data protection officer can find partners' reads of it.
    data_owner_agency = models.ForeignKey(
        "agencies.Agency", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    objects = ScopedManager()

    class Meta:
        ordering = ["-seq"]
        verbose_name_plural = "access log entries"

    def __str__(self) -> str:
        return f"#{self.seq} {self.user_id} {self.action} {self.object_type} {self.object_id}"

    @classmethod
    def visibility_q(cls, membership) -> Q:
        # The log itself is personal data about officers: an agency sees its own officers' reads, and, as
        # the data owner, every agency's reads of the data from its sources (its DPO must see them all).
        return Q(agency_id=membership.agency_id) | Q(data_owner_agency_id=membership.agency_id)


class UnmaskRequest(models.Model):
    """Break-glass: seeing a depersonalised record again needs a second person's approval, for a while."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for approval"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"

    subject = models.ForeignKey("intake.Subject", on_delete=models.CASCADE, related_name="unmask_requests")
    agency = models.ForeignKey("agencies.Agency", on_delete=models.PROTECT, related_name="+")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decision_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Unmask {self.subject_id} for {self.requested_by_id}: {self.status}"

    @classmethod
    def visibility_q(cls, membership) -> Q:
        return Q(agency_id=membership.agency_id)


class RetentionRun(models.Model):
    """A pass of the retention task: what was depersonalised and deleted, counted (never listed)."""

    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    masked = models.PositiveIntegerField(default=0)
    deleted = models.PositiveIntegerField(default=0)
    outcomes_kept = models.PositiveIntegerField(default=0)
    per_source = models.JSONField(default=dict)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"Retention run {self.started_at:%Y-%m-%d %H:%M}: {self.masked} masked, {self.deleted} deleted"

"""The shift handover: per shift and desk, what the outgoing supervisor hands to the incoming one.

A desk is the national centre of an agency, one port's team, or a partner agency's desk. The outgoing
supervisor prepares the handover from a summary the product computes (``services.compute_summary``,
through the models' own scoping), lists the open items, and submits it; the incoming supervisor
acknowledges it. Open items are carried into the next handover of the same desk. Once submitted a
handover and its items no longer change; every step is also written to ``HandoverRecord``, append-only
and hash-chained like the targets' transitions, so the record survives and can be verified.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Q
from django.utils import timezone

from apps.agencies.models import Shift
from apps.agencies.scoping import ScopedManager
from apps.compliance.chain import HashChained

__all__ = ["DeskKind", "Handover", "HandoverItem", "HandoverRecord"]


class DeskKind(models.TextChoices):
    NATIONAL = "national", "National desk"
    PORT = "port", "Port desk"
    AGENCY = "agency", "Agency desk"


def handover_q(membership: Any, prefix: str = "") -> Q:
    """Handovers of the member's agency; a port team's member sees his ports' desks only."""
    from apps.targeting.routing import is_port_team, port_ids_of

    q = Q(**{f"{prefix}owner_agency_id": membership.agency_id})
    if is_port_team(membership):
        q &= Q(
            **{f"{prefix}desk_kind": DeskKind.PORT, f"{prefix}port_id__in": sorted(port_ids_of(membership))}
        )
    return q


class Handover(models.Model):
    """One desk's handover for one shift: draft → submitted (awaiting acknowledgement) → acknowledged."""

    class State(models.TextChoices):
        DRAFT = "draft", "Draft"
        SUBMITTED = "submitted", "Awaiting acknowledgement"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"

    owner_agency = models.ForeignKey("agencies.Agency", on_delete=models.PROTECT, related_name="+")
    desk_kind = models.CharField(max_length=10, choices=DeskKind.choices)
    port = models.ForeignKey(
        "agencies.Port", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    desk = models.CharField(max_length=20, help_text="national, agency or port:<LOCODE>: one key per desk.")
    shift_date = models.DateField()
    shift = models.CharField(max_length=10, choices=Shift.choices)
    state = models.CharField(max_length=12, choices=State.choices, default=State.DRAFT)
    version = models.PositiveIntegerField(default=1)
    summary = models.JSONField(default=dict, help_text="The prepared summary, as handed over.")
    notes = models.TextField(blank=True, help_text="The outgoing supervisor's words to the next shift.")
    previous = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        help_text="The desk's handover this one follows (its open items were carried over).",
    )  # fmt: skip
    prepared_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    prepared_at = models.DateTimeField(default=timezone.now)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledgement = models.TextField(blank=True, help_text="What the incoming supervisor noted.")

    objects = ScopedManager()

    class Meta:
        ordering = ["-shift_date", "-prepared_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner_agency", "desk", "shift_date", "shift"], name="one_handover_per_desk_shift"
            )
        ]
        indexes = [models.Index(fields=["owner_agency", "state"], name="handover_agency_state")]

    def __str__(self) -> str:
        return f"Handover {self.desk_label}, {self.shift_date} {self.get_shift_display()}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding and self.pk is not None:
            stored = type(self)._base_manager.filter(pk=self.pk).values_list("state", flat=True).first()
            if stored and stored != self.State.DRAFT:
                raise PermissionDenied("A handover no longer changes once it is handed over.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        if self.state != self.State.DRAFT:
            raise PermissionDenied("A handover is kept once it is handed over.")
        return super().delete(*args, **kwargs)

    @classmethod
    def visibility_q(cls, membership: Any) -> Q:
        return handover_q(membership)

    def check_operation(self, membership: Any, operation: str) -> None:
        """Write and acknowledge only at a desk the member serves (``services.may_serve``)."""
        from apps.handover.services import may_serve

        if operation in {"handover.write", "handover.acknowledge"} and not may_serve(
            membership, self.desk_kind, self.port
        ):
            raise PermissionDenied("You do not serve this desk.")

    @property
    def desk_label(self) -> str:
        if self.desk_kind == DeskKind.PORT and self.port is not None:
            return f"{self.port.name} port desk"
        return self.get_desk_kind_display()

    @property
    def is_open(self) -> bool:
        return self.state == self.State.DRAFT


class HandoverItem(models.Model):
    """Something the next shift must pick up; open items carry over to the desk's next handover."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        DONE = "done", "Done"

    handover = models.ForeignKey(Handover, on_delete=models.CASCADE, related_name="items")
    text = models.TextField()
    target = models.ForeignKey(
        "targeting.Target", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    status = models.CharField(max_length=5, choices=Status.choices, default=Status.OPEN)
    resolution = models.TextField(blank=True)
    carried_from = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="carried_to"
    )
    raised_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    raised_at = models.DateTimeField(
        default=timezone.now, help_text="When it was first raised (kept when carried)."
    )
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    objects = ScopedManager()

    class Meta:
        ordering = ["raised_at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_status_display()}: {self.text[:60]}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        state = Handover._base_manager.filter(pk=self.handover_id).values_list("state", flat=True).first()
        if state and state != Handover.State.DRAFT:
            raise PermissionDenied("A handover's items no longer change once it is handed over.")
        super().save(*args, **kwargs)

    @classmethod
    def visibility_q(cls, membership: Any) -> Q:
        return handover_q(membership, "handover__")

    @property
    def carried(self) -> bool:
        return self.carried_from_id is not None


class HandoverRecord(HashChained):
    """Each step of each handover (prepared, submitted, acknowledged), append-only and hash-chained;
    ``digest`` is the SHA-256 of what was handed over, so a later change to the row would show."""

    CHAINED = ("handover", "action", "actor", "actor_agency", "digest", "at")

    handover = models.ForeignKey(Handover, on_delete=models.PROTECT, related_name="records")
    action = models.CharField(max_length=15)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    actor_agency = models.ForeignKey("agencies.Agency", on_delete=models.PROTECT, related_name="+")
    digest = models.CharField(max_length=64, blank=True)
    at = models.DateTimeField(default=timezone.now)

    objects = ScopedManager()

    class Meta:
        ordering = ["at", "id"]
        verbose_name = "handover record"

    def __str__(self) -> str:
        return f"{self.handover_id} {self.action}"

    @classmethod
    def visibility_q(cls, membership: Any) -> Q:
        return handover_q(membership, "handover__")

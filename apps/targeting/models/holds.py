"""Deconfliction holds: an agency asks that a target is not examined."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from apps.agencies.scoping import ScopedManager
from apps.targeting.models.target import Target


class Hold(models.Model):
    """A deconfliction hold: an agency asks that a target is not examined (a controlled delivery).

    Only the holding agency releases it. A held target is in state ``on_hold`` and cannot be
    dispatched; the hold row itself is the record of who held it, when and why, and who released it.
    """

    target = models.ForeignKey(Target, on_delete=models.PROTECT, related_name="holds")
    agency = models.ForeignKey("agencies.Agency", on_delete=models.PROTECT, related_name="+")
    placed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField()
    placed_at = models.DateTimeField(default=timezone.now)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    released_at = models.DateTimeField(null=True, blank=True)
    release_reason = models.TextField(blank=True)

    objects = ScopedManager()

    class Meta:
        ordering = ["-placed_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["target", "agency"],
                condition=Q(released_at__isnull=True),
                name="one_active_hold_per_agency",
            )
        ]

    def __str__(self) -> str:
        return f"Hold on {self.target_id} by {self.agency_id}"

    @classmethod
    def visibility_q(cls, membership: Any) -> Q:
        return Q(target__in=Target.visible_pks(membership))

    @property
    def active(self) -> bool:
        return self.released_at is None

"""Joint operations: targets of several agencies grouped under one name over a time window."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from apps.agencies.scoping import ScopedManager


class JointOperation(models.Model):
    """A named operation over a time window grouping targets of several agencies, with its members."""

    name = models.CharField(max_length=200)
    owner_agency = models.ForeignKey("agencies.Agency", on_delete=models.PROTECT, related_name="+")
    agencies = models.ManyToManyField("agencies.Agency", blank=True, related_name="+")
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    description = models.TextField(blank=True)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager()

    class Meta:
        ordering = ["-starts_at"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="operation_window")
        ]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def visibility_q(cls, membership: Any) -> Q:
        participating = JointOperation.agencies.through.objects.filter(agency_id=membership.agency_id)
        return Q(owner_agency_id=membership.agency_id) | Q(pk__in=participating.values("jointoperation_id"))

    def is_running(self, now: datetime | None = None) -> bool:
        now = now or timezone.now()
        return self.starts_at <= now < self.ends_at

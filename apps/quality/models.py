"""Data quality by carrier: weekly figures per feed and carrier, the carriers' contacts, and the
requests for missing data sent to them.

Every row hangs off a data source and is seen by whoever may see that source
(``DataSource.visibility_q``: its owner agency, and agencies it is shared with), so a partner agency
sees the quality of the feeds shared with it and nothing else.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q

from apps.agencies.scoping import ScopedManager
from apps.intake.models import DataSource

__all__ = ["CarrierContact", "CarrierWeek", "DataRequest", "source_q"]


def source_q(membership: Any, field: str = "source") -> Q:
    """Rows of the sources the member's agency may see: the source's own rule, applied once."""
    return Q(**{f"{field}__in": DataSource.objects.filter(DataSource.visibility_q(membership)).values("pk")})


class FeedKind(models.TextChoices):
    API = "api", "Airline API (PAXLST)"
    PNR = "pnr", "Airline PNR (PNRGOV)"
    MANIFEST = "manifest", "Cargo manifest / air waybill"
    DECLARATION = "declaration", "Customs declaration"


class CarrierWeek(models.Model):
    """What one carrier sent on one feed of one source in one week (Monday to Sunday, UTC).

    Recomputed from intake's own rows (subjects, messages, intake runs) by
    ``apps.quality.measure.refresh``; never edited by hand. ``missing`` counts, per required field, the
    records without it. Lateness is counted only on records whose deadline is known (``timed``).
    """

    source = models.ForeignKey(DataSource, on_delete=models.CASCADE, related_name="+")
    feed = models.CharField(max_length=12, choices=FeedKind.choices)
    carrier = models.CharField(max_length=40, blank=True, help_text="Empty: the record names none.")
    week = models.DateField(help_text="The Monday of the week.")
    records = models.PositiveIntegerField(default=0)
    complete = models.PositiveIntegerField(default=0, help_text="Records with every required field.")
    missing = models.JSONField(default=dict, help_text="{field: records without it}")
    timed = models.PositiveIntegerField(default=0, help_text="Records whose deadline is known.")
    late = models.PositiveIntegerField(default=0)
    late_hours = models.FloatField(default=0.0, help_text="Sum of hours past the deadline.")
    messages = models.PositiveIntegerField(default=0)
    problems = models.PositiveIntegerField(default=0, help_text="Parse errors in this carrier's files.")
    rejected = models.PositiveIntegerField(default=0, help_text="Files rejected whole.")
    computed_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager()

    class Meta:
        ordering = ["source", "feed", "carrier", "week"]
        constraints = [
            models.UniqueConstraint(fields=["source", "feed", "carrier", "week"], name="carrier_week_once")
        ]
        indexes = [models.Index(fields=["week", "source"], name="carrier_week_recent")]

    def __str__(self) -> str:
        return f"{self.carrier or '?'} on {self.feed} of {self.source_id}, week of {self.week}"

    @classmethod
    def visibility_q(cls, membership: Any) -> Q:
        return source_q(membership)


class CarrierContact(models.Model):
    """Where a request for missing data goes: the carrier's data contact for one source."""

    source = models.ForeignKey(DataSource, on_delete=models.CASCADE, related_name="+")
    carrier = models.CharField(max_length=40)
    name = models.CharField(max_length=200, help_text="The carrier's name, as the request addresses it.")
    email = models.EmailField()

    objects = ScopedManager()

    class Meta:
        ordering = ["source", "carrier"]
        constraints = [models.UniqueConstraint(fields=["source", "carrier"], name="carrier_contact_once")]

    def __str__(self) -> str:
        return f"{self.carrier} ({self.name}) <{self.email}>"

    @property
    def owner_agency_id(self) -> int:
        """The source's owner: only it changes the contact (a partner that sees the source does not)."""
        return self.source.owner_agency_id

    @classmethod
    def visibility_q(cls, membership: Any) -> Q:
        return source_q(membership)


class DataRequest(models.Model):
    """A request sent to a carrier for the data it left out: what, how much, by when; kept as sent."""

    source = models.ForeignKey(DataSource, on_delete=models.PROTECT, related_name="+")
    feed = models.CharField(max_length=12, choices=FeedKind.choices)
    carrier = models.CharField(max_length=40)
    sent_to = models.EmailField()
    missing = models.JSONField(default=list, help_text="[{field, label, records}]")
    due_by = models.DateField()
    subject_line = models.CharField(max_length=250)
    body = models.TextField()
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    sent_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager()

    class Meta:
        ordering = ["-sent_at", "-pk"]

    def __str__(self) -> str:
        return f"Request to {self.carrier} <{self.sent_to}> due {self.due_by}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        from django.core.exceptions import PermissionDenied

        if self.pk is not None and not self._state.adding:
            raise PermissionDenied("A request is kept as it was sent.")
        super().save(*args, **kwargs)

    @classmethod
    def visibility_q(cls, membership: Any) -> Q:
        return source_q(membership)

# ruff: noqa: RUF001 - typographic dashes, minus and times signs are meant for readers
"""Models of the performance reporting capability (BRIEF capability 7).

- :class:`DailyStat` is the summary table of subject-level figures (arrivals, assessed, channel,
  interventions, time to release of untargeted subjects) per arrival day, port, owner agency, source,
  subject kind, channel and risk area. It carries ``owner_agency`` and ``source`` exactly as a subject
  does, so it is scoped with the very same rule as ``Subject`` (``visible_to``). It is rebuilt from the
  operational tables by :func:`apps.reports.stats.refresh_daily_stats` (a Celery task and on demand).
- :class:`StatRefresh` records each rebuild, so a page can say how fresh its figures are.
- :class:`RuleReview` is the annual review of a rule (keep, modify or retire) with its rationale.
- :class:`ReportSubscription` is a person who receives the weekly report by e-mail.

No model here holds personal data about a subject: every row is a count or a sum.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q

from apps.agencies.scoping import ScopedManager


class DailyStat(models.Model):
    """Counts of subjects that arrived on one day, per port, owner agency, source, kind, channel and area.

    ``channel`` and ``risk_area`` are those of the subject's latest assessment (blank when it was never
    assessed). ``release_seconds`` sums, over the untargeted subjects of the row, the time from arrival
    to release (release = arrival when the subject was assessed before it arrived, else the moment of
    its first assessment).
    """

    day = models.DateField()
    port = models.ForeignKey(
        "agencies.Port", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    owner_agency = models.ForeignKey("agencies.Agency", on_delete=models.CASCADE, related_name="+")
    source = models.ForeignKey("intake.DataSource", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=12)
    channel = models.CharField(max_length=6, blank=True)
    risk_area = models.CharField(max_length=20, blank=True)
    arrivals = models.PositiveIntegerField(default=0)
    assessed = models.PositiveIntegerField(default=0)
    random_control = models.PositiveIntegerField(default=0)
    targeted = models.PositiveIntegerField(default=0)
    intervened = models.PositiveIntegerField(default=0)
    release_seconds = models.FloatField(default=0)
    refreshed_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager()

    class Meta:
        ordering = ["day"]
        indexes = [
            models.Index(fields=["day", "owner_agency"], name="dailystat_day_agency"),
            models.Index(fields=["owner_agency", "day"], name="dailystat_agency_day"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.port_id} {self.owner_agency_id}: {self.arrivals} arrivals"

    @classmethod
    def visibility_q(cls, membership: Any) -> Q:
        """The same rule as ``Subject``: owned by the member's agency, or from a source granted to it."""
        from apps.intake.models import Subject

        return Subject.visibility_q(membership)


class StatRefresh(models.Model):
    """One rebuild of the summary table over a range of days."""

    first_day = models.DateField()
    last_day = models.DateField()
    rows = models.PositiveIntegerField(default=0)
    seconds = models.FloatField(default=0)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    finished_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-finished_at", "-pk"]

    def __str__(self) -> str:
        return f"Refresh {self.first_day}–{self.last_day} at {self.finished_at:%Y-%m-%d %H:%M}"


class ReviewOutcome(models.TextChoices):
    KEEP = "keep", "Keep"
    MODIFY = "modify", "Modify"
    RETIRE = "retire", "Retire"


class RuleReview(models.Model):
    """The (at least) annual review of a rule: who reviewed it, when, why, and what was decided."""

    rule = models.ForeignKey("risk.Rule", on_delete=models.CASCADE, related_name="reviews")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reviewed_on = models.DateField()
    rationale = models.TextField()
    outcome = models.CharField(max_length=8, choices=ReviewOutcome.choices)
    figures = models.JSONField(default=dict, help_text="The ledger figures the reviewer saw.")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager()

    class Meta:
        ordering = ["-reviewed_on", "-pk"]

    def __str__(self) -> str:
        return f"Review of rule {self.rule_id} on {self.reviewed_on}: {self.get_outcome_display()}"

    @classmethod
    def visibility_q(cls, membership: Any) -> Q:
        from apps.risk.models import Rule

        return Q(rule__in=Rule.objects.filter(Rule.visibility_q(membership)).values("pk"))


class ReportSubscription(models.Model):
    """A person who receives the weekly performance report (PDF attached) by e-mail."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    active = models.BooleanField(default=True)
    port = models.ForeignKey(
        "agencies.Port",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Only this port's figures; blank for all.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_sent_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager()

    class Meta:
        ordering = ["user__username"]

    def __str__(self) -> str:
        return f"Weekly report to {self.user}"

    @classmethod
    def visibility_q(cls, membership: Any) -> Q:
        return Q(user__membership__agency_id=membership.agency_id)

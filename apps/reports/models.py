# ruff: noqa: RUF001 - typographic dashes, minus and times signs are meant for readers
"""Models of the performance reporting capability (BRIEF capability 7).

- :class:`DailyStat` is the summary table of subject-level figures (arrivals, assessed, channel,
  interventions, time to release of untargeted subjects) per arrival day, port, owner agency, source,
  subject kind, channel and risk area. It carries ``owner_agency`` and ``source`` exactly as a subject
  does, so it is scoped with the very same rule as ``Subject`` (``visible_to``). It is rebuilt from the
  operational tables by :func:`apps.reports.stats.refresh_daily_stats` (a Celery task and on demand).
- :class:`TargetStat` is the target summary: one pre-joined row per target with what the report counts
  of it (state, decision, examination, findings, value), scoped like ``Target``. Workflow commits
  rewrite a target's row; it is rebuilt in bulk with the daily summary.
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
    # Counted at the refresh (every minute for recent days): whether the arrival time had passed, and
    # of those, released with no intervention, or still held by a target not yet decided or dispatched.
    arrived = models.PositiveIntegerField(default=0)
    released = models.PositiveIntegerField(
        default=0, help_text="Arrived, no instruction ever sent to a port and no target still open."
    )
    held = models.PositiveIntegerField(
        default=0, help_text="Arrived, no instruction sent, but a target still open (not decided or on hold)."
    )
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


#: What a scoped pass over the target summary filters on besides its days: the scope's owner agency and
#: key (the covering indexes carry them; a slice by port, area or channel reads the rows as before).
_SCOPE_COLUMNS = ["owner_agency", "target"]


class TargetStat(models.Model):
    """What the report counts of one target, pre-joined into one narrow row (the target summary).

    The page's target and examination figures (targets by state, examinations, findings, hit rates,
    revenue, value seized, release and decision times, missed targets, queue breaches, workload per
    port, officer and risk area) are sums over these rows, instead of joins at request time of
    targets, transitions, corrected examination results, seized goods, subjects and assessments.

    One row per target rather than one per day and dimension: the report slices by port, agency, risk
    area, channel, officer and rule, and a target is visible to its owner agency *and* to the agencies
    it is shared with, so a per-day aggregate would hold about as many rows as there are targets and
    could not follow sharing or rules exactly. The primary key is the target's, so the row is scoped
    with the very same rule as ``Target``. Rows are rewritten by
    :func:`apps.reports.stats.refresh_target_stats` after every workflow commit that touches the target
    and rebuilt in bulk with the daily summary.
    """

    target = models.OneToOneField(
        "targeting.Target", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    owner_agency = models.ForeignKey("agencies.Agency", on_delete=models.CASCADE, related_name="+")
    port = models.ForeignKey(
        "agencies.Port", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    risk_area = models.CharField(max_length=20)
    channel = models.CharField(max_length=6, blank=True, help_text="Of the subject's latest assessment.")
    random_control = models.BooleanField(default=False)
    state = models.CharField(max_length=20)
    nominated_day = models.DateField()
    decision_hours = models.FloatField(
        null=True, blank=True, help_text="Nomination to first approval, rejection or withdrawal (≥ 0)."
    )
    dispatch_hours = models.FloatField(
        null=True, blank=True, help_text="First approval to first dispatch to a port (≥ 0)."
    )
    result_hours = models.FloatField(
        null=True, blank=True, help_text="First dispatch to the first result recorded (≥ 0)."
    )
    arrival_at = models.DateTimeField(null=True, blank=True)
    decision_due = models.DateTimeField(
        null=True, blank=True, help_text="When the decision was due (targeting.models.decision_due)."
    )
    breached = models.BooleanField(default=False, help_text="Not decided by ``decision_due``.")
    missed_day = models.DateField(null=True, blank=True)
    # The examination, as its latest correction says (all blank while the target is not examined).
    # A plain key, not a foreign key: the report works without frontline examinations installed.
    result_id = models.BigIntegerField(null=True, blank=True, help_text="The current ExaminationResult.")
    exam_day = models.DateField(null=True, blank=True)
    method = models.CharField(max_length=12, blank=True)
    officer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    finding = models.BooleanField(default=False)
    revenue = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    seized_value = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    exam_hours = models.FloatField(default=0)
    release_hours = models.FloatField(
        null=True, blank=True, help_text="Subject's arrival to the end of the examination (≥ 0)."
    )
    refreshed_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager()

    class Meta:
        # The page's passes (``apps.reports.onepass``) read one range of days each. Each index carries
        # (``include``) every column its pass reads and the scope's, so PostgreSQL answers an
        # unsliced page with index-only scans instead of reading the wide rows (the nominations pass
        # read the whole table). No more: a wider index costs the planner more than the table's
        # rows would. SQLite ignores ``include``.
        indexes = [
            models.Index(
                fields=["nominated_day"],
                include=[*_SCOPE_COLUMNS, "state", "decision_hours", "dispatch_hours", "result_hours"],
                name="targetstat_nominated",
            ),
            models.Index(
                fields=["exam_day"],
                include=[
                    *_SCOPE_COLUMNS,
                    "port",
                    "risk_area",
                    "method",
                    "officer",
                    "random_control",
                    "finding",
                    "revenue",
                    "seized_value",
                    "release_hours",
                    "exam_hours",
                    "result_id",
                ],
                name="targetstat_exam",
            ),
            models.Index(fields=["arrival_at"], name="targetstat_arrival"),
            models.Index(fields=["missed_day"], include=_SCOPE_COLUMNS, name="targetstat_missed"),
            # Queue breaches are counted by when the decision fell due; only breached rows are asked for.
            models.Index(
                fields=["decision_due"],
                include=_SCOPE_COLUMNS,
                condition=Q(breached=True),
                name="targetstat_breached",
            ),
        ]

    def __str__(self) -> str:
        return f"Target {self.target_id}: {self.state}"

    @classmethod
    def visibility_q(cls, membership: Any) -> Q:
        """The same rule as ``Target``: the keys are equal, so the target's own ``Q`` applies as it is,
        a plain filter the report's indexes serve; a role whose view of targets is narrowed further
        (by target columns this summary does not carry) goes through the targets themselves."""
        from apps.targeting.models import Target

        if Target.narrows(membership):
            return Q(target_id__in=Target.visible_pks(membership))
        return Target.visibility_q(membership)


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

"""The risk engine's records: rules and their immutable versions, assessments and hits, backtests.

A ``Rule`` is the identity and lifecycle of a selectivity criterion; what it says (condition, weight,
scope, validity...) lives in ``RuleVersion`` rows that are never changed: every edit adds one, and each
``Hit`` names the version that fired. The lifecycle is draft → shadow (evaluated, never nominates) →
active → retired; each move is a ``RuleTransition`` row, kept for ever.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from guardian.models import GroupObjectPermissionBase

from apps.agencies.scoping import AgencyOwned, ScopedManager, granted_pks
from apps.intake.models import DataSource, SubjectKind


class RuleState(models.TextChoices):
    DRAFT = "draft", "Draft"
    SHADOW = "shadow", "Shadow"
    ACTIVE = "active", "Active"
    RETIRED = "retired", "Retired"


class Channel(models.TextChoices):
    GREEN = "green", "Green (release)"
    YELLOW = "yellow", "Yellow (documents)"
    RED = "red", "Red (physical)"
    BLUE = "blue", "Blue (post-clearance audit)"


def risk_area_choices() -> list[tuple[str, str]]:
    """The targeting app's risk areas: one list for the whole floor."""
    from apps.targeting.models import RiskArea

    return RiskArea.choices


class Rule(AgencyOwned):
    """A selectivity criterion owned by one agency (visible to it, and to others only by grant).

    ``state`` and ``live_version`` say what the engine runs: in shadow and active states it evaluates
    ``live_version``; a newer version (an edit not yet published) waits as the latest version until a
    risk manager publishes it.
    """

    name = models.CharField(max_length=200)
    officer_text = models.CharField(
        max_length=300,
        blank=True,
        help_text="What anyone who may not read the rule (a partner agency's analyst, the dispatcher writing "
        "the port's instruction) is told when it fires: plain words, never the condition or an identifier it "
        "watches. Empty: the rule's name. Frontline officers are told no reasons, only the instruction.",
    )
    state = models.CharField(max_length=10, choices=RuleState.choices, default=RuleState.DRAFT, db_index=True)
    live_version = models.ForeignKey(
        "RuleVersion", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    latest_number = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name

    @staticmethod
    def plain_line(name: str, officer_text: str = "") -> str:
        """The line a target nominated by this rule carries for those who may not read the rule:
        ``officer_text``, else one made of the rule's name (a risk manager names rules in words)."""
        return officer_text.strip() or f"Matches the targeting profile “{name}”."

    @property
    def latest(self) -> RuleVersion | None:
        return self.versions.order_by("-number").first()

    @property
    def has_unpublished_changes(self) -> bool:
        return self.live_version is not None and self.live_version.number < self.latest_number


class RuleGroupObjectPermission(GroupObjectPermissionBase):
    """Explicit grants of a rule to another agency's group (``view_rule``)."""

    content_object = models.ForeignKey(Rule, on_delete=models.CASCADE)


class RuleVersion(models.Model):
    """One immutable wording of a rule. Saving an existing version is refused."""

    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    condition = models.JSONField(help_text="The condition tree (see apps.risk.conditions).")
    text = models.TextField(help_text="The condition in the text syntax.")
    subject_kind = models.CharField(max_length=12, choices=SubjectKind.choices)
    risk_area = models.CharField(max_length=20)
    weight = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text="Points out of 100 the rule adds to the risk score when it fires.",
    )
    ports = models.JSONField(default=list, blank=True, help_text="UN/LOCODEs; empty means national.")
    valid_from = models.DateField(null=True, blank=True)
    valid_to = models.DateField(null=True, blank=True)
    rationale = models.TextField()
    note = models.CharField(max_length=300, blank=True, help_text="What changed in this version.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager()

    class Meta:
        ordering = ["rule", "-number"]
        constraints = [models.UniqueConstraint(fields=["rule", "number"], name="rule_version_once")]

    def __str__(self) -> str:
        return f"{self.rule.name} v{self.number}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise ValidationError("A rule version is immutable; make a new version instead.")
        super().save(*args, **kwargs)

    @classmethod
    def visibility_q(cls, membership: Any) -> Q:
        return Q(rule__owner_agency_id=membership.agency_id) | Q(rule_id__in=granted_pks(Rule, membership))

    @property
    def national(self) -> bool:
        return not self.ports

    def valid_on(self, day: date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_to is None or day <= self.valid_to
        )

    @property
    def ref(self) -> str:
        return f"rule:{self.rule_id}@v{self.number}"


class RuleTransition(models.Model):
    """One lifecycle move of a rule, who made it and why: an append-only record."""

    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="transitions")
    version = models.ForeignKey(RuleVersion, on_delete=models.PROTECT, related_name="+", null=True)
    from_state = models.CharField(max_length=10, choices=RuleState.choices)
    to_state = models.CharField(max_length=10, choices=RuleState.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    reason = models.CharField(max_length=300, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.rule_id}: {self.from_state} → {self.to_state}"


class RiskSettings(models.Model):
    """The engine's thresholds and random-control defaults: one row, changed in the admin.

    Channel: score ≥ ``red_threshold`` → red; ≥ ``yellow_threshold`` → yellow, or blue when every
    contributing component is of the revenue risk area (revenue risk is best audited after release);
    otherwise green. A score ≥ ``nomination_threshold`` nominates a target.
    """

    yellow_threshold = models.FloatField(default=30.0)
    red_threshold = models.FloatField(default=60.0)
    nomination_threshold = models.FloatField(default=60.0)
    random_control_share = models.FloatField(
        default=0.01,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text="Default share of subjects selected by chance (per port and kind unless overridden).",
    )
    random_salt = models.CharField(
        max_length=64, default="ratc-random-control", help_text="Changing it draws a new random sample."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "risk settings"

    def __str__(self) -> str:
        return "Risk engine settings"

    @classmethod
    def current(cls) -> RiskSettings:
        row = cls.objects.order_by("pk").first()
        return row if row is not None else cls.objects.create()

    def clean(self) -> None:
        if not 0 <= self.yellow_threshold <= self.red_threshold <= 100:
            raise ValidationError("Thresholds must satisfy 0 ≤ yellow ≤ red ≤ 100.")


class RandomControlRate(models.Model):
    """The share of subjects of one kind selected by chance at one port (all ports when blank)."""

    port = models.ForeignKey(
        "agencies.Port", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    subject_kind = models.CharField(max_length=12, choices=SubjectKind.choices)
    share = models.FloatField(validators=[MinValueValidator(0.0), MaxValueValidator(1.0)])

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["port", "subject_kind"], name="one_random_rate_per_port_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.port or 'All ports'} {self.subject_kind}: {self.share:.2%}"


def _subject_visibility(membership: Any, prefix: str) -> Q:
    """What a member may see of records about subjects: follows the subject's own visibility."""
    return Q(**{f"{prefix}owner_agency_id": membership.agency_id}) | Q(
        **{f"{prefix}source_id__in": granted_pks(DataSource, membership)}
    )


class Assessment(models.Model):
    """One assessment of one subject: the score, the channel and how they were made.

    ``explanation`` is a JSON document: ``{"formula", "components": [...], "shadow": [...],
    "by_area": {...}, "thresholds": {...}, "random_control": {...}}``; the assessment page draws it.
    Random-control assessments are flagged so statistics can keep them apart.
    """

    subject = models.ForeignKey("intake.Subject", on_delete=models.CASCADE, related_name="assessments")
    score = models.FloatField()
    channel = models.CharField(max_length=6, choices=Channel.choices)
    risk_area = models.CharField(max_length=20, blank=True)
    explanation = models.JSONField(default=dict)
    random_control = models.BooleanField(default=False, db_index=True)
    nominated = models.BooleanField(default=False)
    target_id = models.PositiveIntegerField(null=True, blank=True, help_text="targeting.Target nominated.")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = ScopedManager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            # Few assessments lead to a target: a partial index finds "the assessments behind target T"
            # (results, rule pages, reports) without reading the million that led to none.
            models.Index(
                fields=["target_id"], name="assessment_target", condition=Q(target_id__isnull=False)
            ),
        ]

    def __str__(self) -> str:
        return f"Assessment of {self.subject_id}: {self.score:.0f} {self.channel}"

    @classmethod
    def visibility_q(cls, membership: Any) -> Q:
        return _subject_visibility(membership, "subject__")


class Hit(models.Model):
    """A rule version that fired in an assessment (``shadow``: it would have fired, never nominates)."""

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="hits")
    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="hits")
    rule_version = models.ForeignKey(RuleVersion, on_delete=models.PROTECT, related_name="hits")
    shadow = models.BooleanField(default=False)
    weight = models.PositiveSmallIntegerField()
    risk_area = models.CharField(max_length=20)
    matched = models.JSONField(
        default=dict, help_text="The facts the condition read, as the subject had them."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["rule_version", "shadow"], name="hit_version_shadow"),
            # A rule page's "recent hits": the newest few of one rule, not a sort of all its hits.
            models.Index(F("rule"), F("created_at").desc(), F("id").desc(), name="hit_rule_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.rule_version} on assessment {self.assessment_id}"

    @classmethod
    def visibility_q(cls, membership: Any) -> Q:
        return _subject_visibility(membership, "assessment__subject__")


class Backtest(AgencyOwned):
    """A run of a rule version over a period of history, with progress and results.

    Owned by the rule's agency. It reads only subjects visible to the person who asked, so a result
    never counts what that person could not see. ``results`` holds per-port and per-day hits,
    examinations, precision on subjects with known outcomes, and the same for the compared version.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="backtests")
    version = models.ForeignKey(RuleVersion, on_delete=models.PROTECT, related_name="+")
    compare_version = models.ForeignKey(
        RuleVersion, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    period_start = models.DateField()
    period_end = models.DateField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    results = models.JSONField(default=dict)
    error = models.TextField(blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Backtest {self.pk} of {self.version}"

    @classmethod
    def visibility_q(cls, membership: Any) -> Q:
        return Q(owner_agency_id=membership.agency_id) | Q(rule_id__in=granted_pks(Rule, membership))

    @property
    def percent(self) -> int:
        if not self.progress_total:
            return 100 if self.finished_at else 0
        return min(100, round(100 * self.progress_done / self.progress_total))

    @property
    def finished(self) -> bool:
        return self.status in {self.Status.DONE, self.Status.FAILED}


def reference_day(arrival_at: datetime | None, received_at: datetime | None) -> date | None:
    """The day a rule's validity is judged on for a subject: its arrival, else its receipt."""
    moment = arrival_at or received_at
    return moment.date() if moment is not None else None

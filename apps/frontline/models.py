"""Frontline examination results (BRIEF capability 6): what an officer found, with goods and photos.

A result is written once and never changed. A supervisor's correction is a new row whose
``original`` is the first result of the examination; the result shown is the latest correction.
Every row carries the idempotency key made on the tablet, unique in the table, so a result sent
twice (a retry after a dropped connection, an offline outbox replayed) is stored once.

``ExaminationFeedback`` is the outcome as seen by each rule version, watchlist entry and model
version that caused the target: the risk app keeps no outcome statistics, so they live here and are
read with :func:`apps.frontline.services.outcome_counts_for`.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Q
from django.utils import timezone

from apps.agencies.models import ExaminationMethod
from apps.agencies.operations import membership_of
from apps.agencies.scoping import ScopedManager, ScopedQuerySet
from apps.core.storage import uploads


class ExaminationOutcome(models.TextChoices):
    NO_FINDING = "no_finding", "No finding"
    IRREGULARITY = "irregularity", "Irregularity"
    SEIZURE = "seizure", "Seizure"
    REFUSAL = "refusal", "Refusal of entry"


#: Outcomes that count as a finding (hit rate = findings / examinations).
FINDING_OUTCOMES = frozenset(
    {ExaminationOutcome.IRREGULARITY, ExaminationOutcome.SEIZURE, ExaminationOutcome.REFUSAL}
)
#: ``intake.Outcome.severity`` per outcome, on the scale of imported history (``critical_fraud`` 0/1).
SEVERITY = {
    ExaminationOutcome.NO_FINDING: 0,
    ExaminationOutcome.IRREGULARITY: 0,
    ExaminationOutcome.REFUSAL: 1,
    ExaminationOutcome.SEIZURE: 1,
}


class GoodsKind(models.TextChoices):
    """The controlled list of what can be found; ``GOODS_GROUPS`` groups it for the picker."""

    COCAINE = "cocaine", "Cocaine"
    HEROIN = "heroin", "Heroin"
    CANNABIS = "cannabis", "Cannabis"
    SYNTHETIC = "synthetic", "Synthetic drugs (amphetamine, MDMA, methamphetamine)"
    NEW_PSYCHOACTIVE = "nps", "New psychoactive substances"
    PRECURSORS = "precursors", "Drug precursors"
    OTHER_DRUGS = "other_drugs", "Other drugs"
    FIREARMS = "firearms", "Firearms and parts"
    AMMUNITION = "ammunition", "Ammunition"
    EXPLOSIVES = "explosives", "Explosives"
    OTHER_WEAPONS = "other_weapons", "Other weapons"
    COUNTERFEIT = "counterfeit", "Counterfeit goods"
    CITES = "cites", "CITES species (animals, plants, products)"
    CURRENCY = "currency", "Currency (undeclared cash)"
    TOBACCO = "tobacco", "Tobacco and cigarettes"
    ALCOHOL = "alcohol", "Alcohol"
    MEDICINES = "medicines", "Falsified or illegal medicines"
    SPS = "sps", "Prohibited food, plants or animal products"
    STRATEGIC = "strategic", "Strategic or dual-use goods"
    UNDECLARED = "undeclared", "Undeclared or misdeclared goods"
    OTHER = "other", "Other"


GOODS_GROUPS: tuple[tuple[str, tuple[GoodsKind, ...]], ...] = (
    ("Drugs", (GoodsKind.COCAINE, GoodsKind.HEROIN, GoodsKind.CANNABIS, GoodsKind.SYNTHETIC,
               GoodsKind.NEW_PSYCHOACTIVE, GoodsKind.PRECURSORS, GoodsKind.OTHER_DRUGS)),
    ("Weapons", (GoodsKind.FIREARMS, GoodsKind.AMMUNITION, GoodsKind.EXPLOSIVES, GoodsKind.OTHER_WEAPONS)),
    ("Revenue and trade", (GoodsKind.TOBACCO, GoodsKind.ALCOHOL, GoodsKind.COUNTERFEIT, GoodsKind.UNDECLARED)),
    ("Protected and restricted", (GoodsKind.CITES, GoodsKind.SPS, GoodsKind.MEDICINES, GoodsKind.STRATEGIC)),
    ("Other", (GoodsKind.CURRENCY, GoodsKind.OTHER)),
)  # fmt: skip


class Unit(models.TextChoices):
    KG = "kg", "kg"
    G = "g", "g"
    L = "l", "litres"
    PIECES = "pcs", "pieces"
    PACKAGES = "pkg", "packages"
    STICKS = "sticks", "sticks (cigarettes)"
    MONEY = "money", "amount (cash)"


class ResultQuerySet(ScopedQuerySet):
    """Results are visible to whoever may see their target (a frontline officer: his ports only)."""

    def visible_to(self, user: Any) -> ResultQuerySet:
        from apps.targeting.models import Target

        if membership_of(user) is None:
            return self.none()
        return self.filter(target__in=Target.objects.visible_to(user).values("pk"))


class ExaminationResult(models.Model):
    """One examination result, or one correction of it (``original`` set); never changed once saved."""

    target = models.ForeignKey(
        "targeting.Target", on_delete=models.PROTECT, related_name="examination_results"
    )
    instruction = models.ForeignKey(
        "targeting.Instruction", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    original = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="corrections",
        help_text="The first result of the examination, when this row corrects it.",
    )  # fmt: skip
    idempotency_key = models.UUIDField(unique=True, help_text="Made on the tablet; a retry sends the same.")
    method = models.CharField(max_length=12, choices=ExaminationMethod.choices)
    outcome = models.CharField(max_length=15, choices=ExaminationOutcome.choices)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField()
    revenue_at_stake = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    notes = models.TextField(blank=True)
    reason = models.TextField(blank=True, help_text="Why a correction was made.")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_by_agency = models.ForeignKey("agencies.Agency", on_delete=models.PROTECT, related_name="+")
    entered_at = models.DateTimeField(null=True, blank=True, help_text="When the tablet saved it (offline).")
    recorded_at = models.DateTimeField(default=timezone.now, db_index=True)
    outcome_record = models.ForeignKey(
        "intake.Outcome", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        help_text="The learning loop's row for this examination (one per examination, shows the latest).",
    )  # fmt: skip

    objects = models.Manager.from_queryset(ResultQuerySet)()

    class Meta:
        ordering = ["-recorded_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["target"], condition=Q(original__isnull=True), name="one_examination_per_target"
            ),
            models.CheckConstraint(
                condition=Q(ended_at__gte=models.F("started_at")), name="exam_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        kind = "Correction" if self.original_id else "Result"
        return f"{kind} {self.pk} of target {self.target_id}: {self.get_outcome_display()}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding:
            raise PermissionDenied("Examination results are never changed: record a correction.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise PermissionDenied("Examination results are never deleted.")

    @property
    def is_finding(self) -> bool:
        return self.outcome in FINDING_OUTCOMES

    @property
    def root_id(self) -> int:
        return self.original_id or self.pk

    @property
    def duration_minutes(self) -> int:
        return max(0, round((self.ended_at - self.started_at).total_seconds() / 60))

    @property
    def seized_value(self) -> Any:
        return sum((g.estimated_value or 0) for g in self.goods.all())


class SeizedGoods(models.Model):
    """One line of goods found: a kind from the controlled list, a quantity with its unit, a value."""

    result = models.ForeignKey(ExaminationResult, on_delete=models.CASCADE, related_name="goods")
    kind = models.CharField(max_length=15, choices=GoodsKind.choices)
    description = models.CharField(max_length=200, blank=True)
    quantity = models.DecimalField(max_digits=14, decimal_places=3)
    unit = models.CharField(max_length=8, choices=Unit.choices)
    estimated_value = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)

    class Meta:
        ordering = ["pk"]
        verbose_name_plural = "seized goods"

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.quantity_text} {self.unit}"

    @property
    def quantity_text(self) -> str:
        """The quantity without trailing zeros or exponent, grouped: ``48.6``, ``120,000``."""
        return format(self.quantity.normalize(), ",f")


class PhotoQuerySet(ScopedQuerySet):
    def visible_to(self, user: Any) -> PhotoQuerySet:
        return self.filter(result__in=ExaminationResult.objects.visible_to(user).values("pk"))


def photo_path(instance: ExaminationPhoto, filename: str) -> str:
    """``frontline/YYYY/MM/<sha256>.<ext>``: named by content, never by what the tablet called it."""
    ext = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}.get(instance.content_type, "bin")
    now = timezone.now()
    return f"frontline/{now:%Y/%m}/{instance.sha256}.{ext}"


class ExaminationPhoto(models.Model):
    """A photo taken at the examination: checked by content, kept in the uploads storage with its SHA-256."""

    result = models.ForeignKey(ExaminationResult, on_delete=models.PROTECT, related_name="photos")
    file = models.FileField(upload_to=photo_path, max_length=200, storage=uploads)
    sha256 = models.CharField(max_length=64)
    content_type = models.CharField(max_length=30)
    size = models.PositiveIntegerField()
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    uploaded_at = models.DateTimeField(default=timezone.now)

    objects = models.Manager.from_queryset(PhotoQuerySet)()

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"Photo {self.sha256[:12]} of result {self.result_id}"


class ExaminationFeedback(models.Model):
    """The outcome of one examination as seen by one thing that caused the target.

    ``kind`` is ``rule``, ``rule_shadow`` (a shadow rule version that also fired), ``watchlist``,
    ``model`` or ``random``; ``ref`` is the reason's reference (``rule:12@v3``, ``watchlist-entry:881``,
    ``model:4``, ``random``). One row per examination and reference, kept in step with corrections.
    """

    examination = models.ForeignKey(ExaminationResult, on_delete=models.PROTECT, related_name="feedback")
    target = models.ForeignKey("targeting.Target", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=12)
    ref = models.CharField(max_length=100)
    outcome = models.CharField(max_length=15, choices=ExaminationOutcome.choices)
    finding = models.BooleanField()
    random_control = models.BooleanField(default=False)
    revenue_at_stake = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    seized_value = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    examined_at = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager()

    class Meta:
        ordering = ["kind", "ref"]
        constraints = [
            models.UniqueConstraint(fields=["examination", "kind", "ref"], name="feedback_once_per_ref")
        ]
        indexes = [models.Index(fields=["kind", "ref"], name="feedback_ref")]

    def __str__(self) -> str:
        return f"{self.ref}: {self.get_outcome_display()}"

    @classmethod
    def visibility_q(cls, membership: Any) -> Q:
        from apps.targeting.models import Target

        return Q(target__in=Target.visible_pks(membership))

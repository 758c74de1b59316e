"""Models of the learning loop: trained model versions, training runs and weekly drift checks.

A :class:`ModelVersion` is one trained risk model of one agency: the data it learnt from (sources and
date window), its inputs and parameters, its out-of-time metrics, and the serialised model itself,
kept as a file in the uploads storage with its SHA-256 (the database row holds only what pages and
reports read). At most one version per agency is active; the risk engine scores with it.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Q

from apps.agencies.scoping import ScopedManager
from apps.core.storage import uploads


class ModelStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ACTIVE = "active", "Active"
    RETIRED = "retired", "Retired"


def _model_path(instance: ModelVersion, filename: str) -> str:
    return f"models/{instance.owner_agency_id}/{filename}"


class OwnedByAgency(models.Model):
    """Visible to its owner agency only: models and their training data are never shared."""

    owner_agency = models.ForeignKey("agencies.Agency", on_delete=models.PROTECT, related_name="+")

    objects = ScopedManager()

    class Meta:
        abstract = True

    @classmethod
    def visibility_q(cls, membership: Any) -> Q:
        return Q(owner_agency_id=membership.agency_id)

    def check_operation(self, membership: Any, operation: str) -> None:
        """Only the owner agency trains, activates or retires its models."""
        if membership is None or membership.agency_id != self.owner_agency_id:
            raise PermissionDenied("Only the owner agency may act on this model.")


class ModelVersion(OwnedByAgency):
    """One trained risk model: what it learnt from, how well it ranks, and the model file."""

    number = models.PositiveIntegerField(help_text="Version number within the owner agency.")
    status = models.CharField(max_length=8, choices=ModelStatus.choices, default=ModelStatus.DRAFT)
    sources = models.ManyToManyField("intake.DataSource", related_name="+", blank=True)
    source_names = models.JSONField(default=list, help_text="Names of the sources, as at training time.")
    window_start = models.DateField(null=True, blank=True)
    window_end = models.DateField(null=True, blank=True)
    features = models.JSONField(default=list, help_text="Input feature names, in model order.")
    parameters = models.JSONField(default=dict)
    metrics = models.JSONField(
        default=dict, help_text="precision@k / recall@k (1, 5, 10 %), AUC… on the time-ordered holdout."
    )
    importance = models.JSONField(
        default=list, help_text="[{name, description, gain, share}], largest first."
    )
    data_summary = models.JSONField(default=dict, help_text="Rows, findings, random-control weighting.")
    model_file = models.FileField(upload_to=_model_path, blank=True, storage=uploads)
    sha256 = models.CharField(max_length=64, blank=True)
    risk_area = models.CharField(max_length=20, default="revenue")
    score_weight = models.FloatField(
        default=1.0, help_text="The component score is 100 x probability x this weight."
    )
    training_seconds = models.FloatField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    activated_at = models.DateTimeField(null=True, blank=True)
    activated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    retired_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["owner_agency", "number"], name="model_number_per_agency"),
            models.UniqueConstraint(
                fields=["owner_agency"], condition=Q(status="active"), name="one_active_model_per_agency"
            ),
        ]

    def __str__(self) -> str:
        return f"Risk model v{self.number}"

    def metric(self, name: str) -> float | None:
        value = self.metrics.get(name)
        return None if value is None else float(value)


class TrainingRun(OwnedByAgency):
    """One training job (the page, the API, the command or the schedule) and its progress."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    sources = models.ManyToManyField("intake.DataSource", related_name="+", blank=True)
    parameters = models.JSONField(default=dict, blank=True)
    activate = models.BooleanField(default=False, help_text="Activate the new version when done.")
    progress = models.FloatField(default=0, help_text="0 to 1.")
    message = models.CharField(max_length=200, blank=True)
    error = models.TextField(blank=True)
    model_version = models.ForeignKey(
        ModelVersion, on_delete=models.SET_NULL, null=True, blank=True, related_name="runs"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Training run {self.pk}: {self.get_status_display()}"

    @property
    def percent(self) -> int:
        return max(0, min(100, round(100 * self.progress)))

    @property
    def finished(self) -> bool:
        return self.status in {self.Status.DONE, self.Status.FAILED}


class DriftCheck(models.Model):
    """A comparison of one week's scores and inputs with the model's training time (PSI)."""

    model_version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="drift_checks")
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    rows = models.PositiveIntegerField(default=0)
    score_psi = models.FloatField(null=True, blank=True)
    features = models.JSONField(default=list, help_text="[{name, description, psi, warning}], largest first.")
    warning = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager()

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Drift of {self.model_version} on {self.window_end:%Y-%m-%d}"

    @classmethod
    def visibility_q(cls, membership: Any) -> Q:
        return Q(model_version__owner_agency_id=membership.agency_id)

    @property
    def max_feature_psi(self) -> float:
        return max((f["psi"] for f in self.features), default=0.0)

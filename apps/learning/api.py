"""API of the learning loop: model versions (list, retrieve, activate/retire) and training runs.

``PATCH /api/v1/model-versions/{id}/`` with ``{"status": "active"}`` activates a version through the
service (``"retired"`` retires it); ``POST /api/v1/training-runs/`` queues training, and
``GET /api/v1/training-runs/{id}/`` reports its progress.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.exceptions import PermissionDenied as ApiPermissionDenied
from rest_framework.exceptions import ValidationError as ApiValidationError
from rest_framework.response import Response

from apps.agencies.operations import membership_of
from apps.core.api import ScopedViewSetMixin
from apps.intake.models import DataSource
from apps.learning import services
from apps.learning.models import ModelStatus, ModelVersion, TrainingRun


class ModelVersionSerializer(serializers.ModelSerializer):
    owner_agency: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        read_only=True, slug_field="code"
    )

    class Meta:
        model = ModelVersion
        fields = ["id", "number", "owner_agency", "status", "source_names", "window_start", "window_end",
                  "features", "parameters", "metrics", "importance", "data_summary", "sha256", "risk_area",
                  "score_weight", "training_seconds", "created_at", "activated_at", "retired_at"]  # fmt: skip
        read_only_fields = fields


class ModelStatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=[ModelStatus.ACTIVE, ModelStatus.RETIRED])


def _service_errors(call):
    try:
        return call()
    except PermissionDenied as exc:
        raise ApiPermissionDenied(str(exc)) from None
    except ValidationError as exc:
        raise ApiValidationError(exc.messages) from None


class ModelVersionViewSet(
    ScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Model versions of your agency; PATCH ``status`` to activate (or roll back to) or retire one."""

    queryset = ModelVersion.objects.select_related("owner_agency")
    serializer_class = ModelVersionSerializer
    operations = {"partial_update": "model.activate", "*": "model.view"}
    filterset_fields = {"status": ["exact"], "risk_area": ["exact"]}
    ordering_fields = ("number", "created_at", "id")
    http_method_names = ["get", "patch", "head", "options"]

    @extend_schema(request=ModelStatusSerializer, responses=ModelVersionSerializer)
    def partial_update(self, request, *args, **kwargs):
        version = self.get_object()
        data = ModelStatusSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        action = (
            services.activate_version
            if data.validated_data["status"] == "active"
            else services.retire_version
        )
        version = _service_errors(lambda: action(actor=request.user, version=version))
        return Response(ModelVersionSerializer(version).data)


class TrainingRunSerializer(serializers.ModelSerializer):
    sources: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        many=True, read_only=True, slug_field="name"
    )
    percent = serializers.IntegerField(read_only=True)

    class Meta:
        model = TrainingRun
        fields = ["id", "status", "sources", "parameters", "activate", "progress", "percent", "message", "error",
                  "model_version", "created_at", "started_at", "finished_at"]  # fmt: skip
        read_only_fields = fields


class TrainingRequestSerializer(serializers.Serializer):
    sources = serializers.ListField(
        child=serializers.IntegerField(),
        help_text="Ids of declaration sources your agency owns.",
        allow_empty=False,
    )
    activate = serializers.BooleanField(default=False)
    parameters = serializers.DictField(required=False, help_text="Training parameters (e.g. max_rounds).")


class TrainingRunViewSet(ScopedViewSetMixin, mixins.CreateModelMixin, mixins.RetrieveModelMixin,
                         mixins.ListModelMixin, viewsets.GenericViewSet):  # fmt: skip
    """Queue training and follow its progress."""

    queryset = TrainingRun.objects.prefetch_related("sources")
    serializer_class = TrainingRunSerializer
    operations = {"create": "model.train", "*": "model.view"}
    filterset_fields = {"status": ["exact"], "model_version": ["exact"]}
    ordering_fields = ("created_at", "id")

    @extend_schema(request=TrainingRequestSerializer, responses={202: TrainingRunSerializer})
    def create(self, request, *args, **kwargs):
        data = TrainingRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        membership = membership_of(request.user)
        wanted = set(data.validated_data["sources"])
        sources = list(DataSource.objects.visible_to(request.user).filter(pk__in=wanted))
        if len(sources) != len(wanted):
            raise ApiValidationError({"sources": "unknown data source"})
        if any(s.owner_agency_id != membership.agency_id for s in sources):
            raise ApiPermissionDenied("You may train only on your own agency's sources.")
        run = _service_errors(
            lambda: services.submit_training(
                actor=request.user,
                sources=sources,
                params=data.validated_data.get("parameters"),
                activate=data.validated_data["activate"],
            )
        )
        run.refresh_from_db()
        return Response(TrainingRunSerializer(run).data, status=status.HTTP_202_ACCEPTED)

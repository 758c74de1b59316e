"""API for integrators: data sources, intake (files or JSON pushed, progress pulled) and subjects."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.exceptions import PermissionDenied as ApiPermissionDenied
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from apps.agencies.scoping import get_object_for
from apps.compliance.masking import masked_facts, masked_subjects_q, masked_title, subject_is_masked
from apps.core.api import ScopedReadOnlyViewSet, ScopedViewSetMixin
from apps.intake.models import DataSource, IntakeRun, SourceKind, Subject
from apps.intake.services import FORMATS, submit_files

# _SOURCE_NOTE: a serializer field named ``source`` is a declared field to DRF (collected from the class
# body), while the stubs read it as overriding ``Field.source`` (a field's attribute path); the ignores
# on those lines say only that.


class DataSourceSerializer(serializers.ModelSerializer):
    owner_agency: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        read_only=True, slug_field="code"
    )

    class Meta:
        model = DataSource
        fields = [
            "id", "name", "kind", "owner_agency", "legal_basis", "retention_days",
            "depersonalise_after_days", "allows_self_learning", "description",
        ]  # fmt: skip


class DataSourceViewSet(ScopedReadOnlyViewSet):
    queryset = DataSource.objects.select_related("owner_agency")
    serializer_class = DataSourceSerializer
    operations = {"*": "source.view"}
    filterset_fields = {"kind": ["exact"]}
    ordering_fields = ("name", "id")


class IntakeRunSerializer(serializers.ModelSerializer):
    source = serializers.SlugRelatedField(  # type: ignore[var-annotated,assignment]  # see _SOURCE_NOTE
        read_only=True, slug_field="name"
    )
    percent = serializers.IntegerField(read_only=True)

    class Meta:
        model = IntakeRun
        fields = ["id", "source", "status", "format", "files", "progress_done", "progress_total", "percent",
                  "counts", "problems", "created_at", "finished_at"]  # fmt: skip


# The push comes in two shapes, each documented as its own request body so that a generated client can
# send either: files in multipart (``IntakeSubmitSerializer``) or declarations in JSON
# (``IntakePayloadSerializer``). One lenient serializer (``IntakeInputSerializer``) validates both, and the
# view answers a push with neither files nor payload with a 400 naming what to send.


class IntakeSubmitSerializer(serializers.Serializer):
    """A multipart push: one or more files in a format the intake reads."""

    source = serializers.IntegerField(help_text="Id of a data source your agency owns.")  # type: ignore[assignment]  # see _SOURCE_NOTE
    format = serializers.ChoiceField(choices=FORMATS, default="auto")
    files = serializers.ListField(child=serializers.FileField(), help_text="The files to take in.")


class IntakePayloadSerializer(serializers.Serializer):
    """A JSON push: the declarations themselves (format 'json')."""

    source = serializers.IntegerField(help_text="Id of a data source your agency owns.")  # type: ignore[assignment]  # see _SOURCE_NOTE
    format = serializers.ChoiceField(choices=FORMATS, default="auto")
    payload = serializers.JSONField(
        help_text="JSON declarations (format 'json'), or a trader register (format 'traders-json', the "
        "default for a trader-register source)."
    )


class IntakeInputSerializer(serializers.Serializer):
    """Validates either push (files and payload both optional here; the view asks for one of them)."""

    source = serializers.IntegerField()  # type: ignore[assignment]  # see _SOURCE_NOTE
    format = serializers.ChoiceField(choices=FORMATS, default="auto")
    files = serializers.ListField(child=serializers.FileField(), required=False)
    payload = serializers.JSONField(required=False)


class IntakeRunViewSet(ScopedViewSetMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Push data and follow its intake. POST files (multipart) or a JSON payload; GET the run for progress."""

    queryset = IntakeRun.objects.select_related("source")
    serializer_class = IntakeRunSerializer
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    operations = {"create": "intake.upload", "*": "source.view"}
    filterset_fields = {"source": ["exact"], "status": ["exact"], "format": ["exact"],
                        "created_at": ["gte", "lt"]}  # fmt: skip
    ordering_fields = ("created_at", "id")

    # A JSON payload, or files in multipart (form-urlencoded cannot carry files).
    @extend_schema(
        request={"application/json": IntakePayloadSerializer, "multipart/form-data": IntakeSubmitSerializer},
        responses={202: IntakeRunSerializer},
    )
    def create(self, request, *args, **kwargs):
        data = IntakeInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        source = get_object_for(request.user, DataSource, pk=data.validated_data["source"])
        files = [(f.name, f.chunks()) for f in request.FILES.getlist("files")]
        fmt = data.validated_data["format"]
        if "payload" in data.validated_data:
            import json

            files.append(("api.json", [json.dumps(data.validated_data["payload"]).encode()]))
            if fmt == "auto":
                fmt = "traders-json" if source.kind == SourceKind.TRADER_REGISTER else "json"
        if not files:
            raise ValidationError({"files": "send files (multipart) or a JSON payload"})
        try:
            run = submit_files(actor=request.user, source=source, files=files, fmt=fmt)
        except PermissionDenied as exc:
            raise ApiPermissionDenied(str(exc)) from None
        run.refresh_from_db()
        return Response(IntakeRunSerializer(run).data, status=status.HTTP_202_ACCEPTED)


class SubjectSerializer(serializers.ModelSerializer):
    source = serializers.SlugRelatedField(  # type: ignore[var-annotated,assignment]  # see _SOURCE_NOTE
        read_only=True, slug_field="name"
    )
    port: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        read_only=True, slug_field="locode", allow_null=True
    )

    class Meta:
        model = Subject
        fields = ["id", "kind", "source", "external_id", "version", "status", "title", "port", "arrival_at",
                  "facts", "received_at"]  # fmt: skip

    def to_representation(self, instance: Subject) -> dict:
        data = super().to_representation(instance)
        if subject_is_masked(self.context["request"].user, instance):
            data["facts"] = masked_facts(data["facts"])
            data["title"] = masked_title(instance)
            data["external_id"] = "masked"
            data["masked"] = True
        return data


@extend_schema(parameters=[OpenApiParameter("kind", str), OpenApiParameter("q", str)])
class SubjectViewSet(ScopedReadOnlyViewSet):
    """Subjects and their search. The personal-data gate (purpose header, access log) is applied to
    these routes in ``api_urls.py``."""

    queryset = Subject.objects.select_related("source", "port").order_by("-received_at", "-id")
    serializer_class = SubjectSerializer
    operations = {"*": "subject.view"}
    # ``kind``, ``q``: get_queryset (``q`` never matches a masked field); no filter on what masking hides.
    filterset_fields = {"status": ["exact"], "source": ["exact"], "port": ["exact"],
                        "received_at": ["gte", "lt"]}  # fmt: skip
    ordering_fields = ("received_at", "id")

    def get_queryset(self):
        rows = super().get_queryset()
        if kind := self.request.query_params.get("kind"):
            rows = rows.filter(kind=kind)
        if q := self.request.query_params.get("q"):
            # Never found by the fields that were masked (see apps.compliance.masking).
            rows = rows.filter(title__icontains=q).exclude(masked_subjects_q(self.request.user))
        return rows

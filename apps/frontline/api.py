"""Examination results over the API, for port systems: POST with an idempotency key, GET what the caller may see.

A POST is recorded by the same service as the tablet's form: a key already stored returns the stored
result with 200 (201 when this call recorded it), so a port system may retry freely.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.datastructures import MultiValueDict
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.exceptions import ValidationError as ApiValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from apps.agencies.models import ExaminationMethod
from apps.core.api import ScopedViewSetMixin
from apps.core.errors import id_or_none
from apps.core.requests import signed_in
from apps.frontline import services
from apps.frontline.forms import goods_line, parse_moment
from apps.frontline.models import ExaminationOutcome, ExaminationPhoto, ExaminationResult, SeizedGoods
from apps.targeting.disclosure import disclose


class GoodsSerializer(serializers.ModelSerializer):
    class Meta:
        model = SeizedGoods
        fields = ["kind", "description", "quantity", "unit", "estimated_value"]


class PhotoSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = ExaminationPhoto
        fields = ["id", "sha256", "content_type", "size", "width", "height", "url"]

    def get_url(self, obj: ExaminationPhoto) -> str:
        return reverse("frontline:photo", args=[obj.pk])


class ResultSerializer(serializers.ModelSerializer):
    """A stored result (or correction: ``original`` set). The latest row of a target is the one that counts."""

    target_reference = serializers.CharField(source="target.reference", read_only=True)
    finding = serializers.BooleanField(source="is_finding", read_only=True)
    recorded_by = serializers.CharField(source="recorded_by.username", read_only=True)
    recorded_by_agency = serializers.CharField(source="recorded_by_agency.code", read_only=True)
    goods = GoodsSerializer(many=True, read_only=True)
    photos = PhotoSerializer(many=True, read_only=True)
    notes = serializers.SerializerMethodField()
    reason = serializers.SerializerMethodField()

    class Meta:
        model = ExaminationResult
        fields = [
            "id", "target", "target_reference", "instruction", "original", "idempotency_key", "method", "outcome",
            "finding", "started_at", "ended_at", "revenue_at_stake", "notes", "reason", "goods", "photos",
            "recorded_by", "recorded_by_agency", "entered_at", "recorded_at",
        ]  # fmt: skip
        read_only_fields = fields

    def _texts(self, obj: ExaminationResult) -> dict[str, str]:
        return disclose(self.context["request"].user, obj.target).result_texts(obj)

    def get_notes(self, obj: ExaminationResult) -> str:
        return self._texts(obj)["notes"]

    def get_reason(self, obj: ExaminationResult) -> str:
        return self._texts(obj)["reason"]


class GoodsInputSerializer(serializers.Serializer):
    kind = serializers.CharField()
    quantity = serializers.CharField()
    unit = serializers.CharField()
    estimated_value = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    description = serializers.CharField(required=False, allow_blank=True)


class RecordJsonSerializer(serializers.Serializer):
    """What a port system sends as JSON: the instruction, a UUID it made, and the result (goods as a list).

    Photos need a multipart request (``RecordSerializer``, the same fields and ``photos``).
    """

    instruction = serializers.IntegerField()
    idempotency_key = serializers.UUIDField()
    method = serializers.ChoiceField(choices=ExaminationMethod.choices)
    outcome = serializers.ChoiceField(choices=ExaminationOutcome.choices)
    started_at = serializers.CharField(required=False, allow_blank=True)
    ended_at = serializers.CharField(required=False, allow_blank=True)
    revenue_at_stake = serializers.DecimalField(
        max_digits=14, decimal_places=2, required=False, allow_null=True
    )
    notes = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    goods = GoodsInputSerializer(many=True, required=False)


class RecordSerializer(RecordJsonSerializer):
    """The same result sent in multipart, with ``photos`` files; there ``goods`` is a JSON-encoded list.

    It validates both requests (``photos`` is optional and read from the request's files).
    """

    photos = serializers.ListField(child=serializers.ImageField(), required=False, write_only=True)


def _payload(request: Request) -> dict[str, Any]:
    """The request's data, with a multipart ``goods`` JSON string decoded."""
    if isinstance(request.data, MultiValueDict):  # a form's (multipart) QueryDict
        data: dict[str, Any] = {k: request.data.get(k) for k in request.data if k != "photos"}
        if isinstance(data.get("goods"), str):
            try:
                data["goods"] = json.loads(data["goods"] or "[]")
            except json.JSONDecodeError:
                raise ApiValidationError({"goods": "goods must be a JSON list."}) from None
        return data
    if not isinstance(request.data, dict):
        raise ApiValidationError({"non_field_errors": ["Send a JSON object with the result's fields."]})
    return dict(request.data)


class ExaminationResultViewSet(
    ScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):  # fmt: skip
    """Examination results visible to the caller; ``?target=<id>`` narrows to one target's results."""

    queryset = ExaminationResult.objects.select_related(
        "target", "recorded_by", "recorded_by_agency"
    ).prefetch_related("goods", "photos")
    serializer_class = ResultSerializer
    operations = {"*": "exam.view", "create": "exam.record"}
    # ``target``: the hand filter in get_queryset
    filterset_fields = {"instruction": ["exact"], "outcome": ["exact"], "method": ["exact"],
                        "recorded_at": ["gte", "lt"]}  # fmt: skip
    ordering_fields = ("recorded_at", "id")
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def get_queryset(self):
        queryset = super().get_queryset().order_by("-recorded_at", "-pk")
        if self.request.query_params.get("target", "") != "":
            queryset = queryset.filter(target_id=id_or_none(self.request.query_params["target"]) or 0)
        return queryset

    # JSON, or multipart when photos are sent (form-urlencoded cannot carry the goods list or photos).
    @extend_schema(
        request={"application/json": RecordJsonSerializer, "multipart/form-data": RecordSerializer},
        responses={200: ResultSerializer, 201: ResultSerializer},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Record a result; the same ``idempotency_key`` again returns the stored result with 200."""
        incoming = RecordSerializer(data=_payload(request))
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        found = services.get_instruction_for(request.user, data["instruction"])
        tz_name = found.port.timezone or "UTC"
        try:
            result_input = services.ResultInput(
                idempotency_key=data["idempotency_key"],
                method=data["method"],
                outcome=data["outcome"],
                started_at=parse_moment(data.get("started_at"), tz_name),
                ended_at=parse_moment(data.get("ended_at"), tz_name),
                revenue_at_stake=data.get("revenue_at_stake"),
                notes=data.get("notes", ""),
                goods=[goods_line(dict(g), i) for i, g in enumerate(data.get("goods", []), start=1)],
            )
            done = services.record_examination(
                actor=signed_in(request),
                instruction=found,
                data=result_input,
                photos=request.FILES.getlist("photos"),
            )
        except services.Conflict as error:
            return Response({"errors": error.message_dict}, status=status.HTTP_409_CONFLICT)
        except ValidationError as error:
            detail = error.message_dict if hasattr(error, "error_dict") else {"__all__": error.messages}
            raise ApiValidationError(detail) from None
        body = ResultSerializer(done.result, context={"request": request}).data
        return Response(body, status=status.HTTP_201_CREATED if done.created else status.HTTP_200_OK)

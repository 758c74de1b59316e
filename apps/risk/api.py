"""API of the risk engine: rules (through the services), assessments (read), backtests (start and follow)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from apps.agencies.scoping import get_object_for
from apps.core.api import ScopedReadOnlyViewSet, ScopedViewSetMixin
from apps.core.errors import parse_id
from apps.core.requests import signed_in
from apps.intake.models import SubjectKind
from apps.risk import backtest as lab
from apps.risk import services
from apps.risk.models import Assessment, Backtest, Hit, Rule, RuleTransition, RuleVersion, risk_area_choices
from apps.risk.random_control import random_control_agency, random_control_told_to


def _raise(error: DjangoValidationError) -> None:
    raise ValidationError(error.message_dict if hasattr(error, "error_dict") else {"detail": error.messages})


class RuleVersionSerializer(serializers.ModelSerializer):
    class Meta:
        model = RuleVersion
        fields = ["id", "number", "text", "condition", "subject_kind", "risk_area", "weight", "ports", "valid_from",
                  "valid_to", "rationale", "note", "created_at"]  # fmt: skip


class RuleSerializer(serializers.ModelSerializer):
    owner_agency: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        read_only=True, slug_field="code"
    )
    live_version = RuleVersionSerializer(read_only=True, allow_null=True)
    latest_version = serializers.SerializerMethodField()

    class Meta:
        model = Rule
        fields = [
            "id",
            "name",
            "state",
            "owner_agency",
            "live_version",
            "latest_version",
            "created_at",
            "updated_at",
        ]

    @extend_schema_field(RuleVersionSerializer)
    def get_latest_version(self, obj: Rule) -> dict[str, Any]:
        return RuleVersionSerializer(obj.latest).data


class RuleWriteSerializer(serializers.Serializer):
    """A rule's wording: give ``text`` (the text syntax) or ``condition`` (the JSON tree)."""

    name = serializers.CharField(max_length=200, required=False)
    text = serializers.CharField(required=False, allow_blank=True)
    condition = serializers.JSONField(required=False)
    subject_kind = serializers.ChoiceField(choices=SubjectKind.choices, required=False)
    risk_area = serializers.ChoiceField(choices=(), required=False)
    weight = serializers.IntegerField(min_value=1, max_value=100, required=False)
    ports = serializers.ListField(child=serializers.CharField(max_length=5), required=False)
    valid_from = serializers.DateField(required=False, allow_null=True)
    valid_to = serializers.DateField(required=False, allow_null=True)
    rationale = serializers.CharField(required=False)
    note = serializers.CharField(max_length=300, required=False, allow_blank=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        risk_area = self.fields["risk_area"]
        assert isinstance(risk_area, serializers.ChoiceField)  # declared so above
        risk_area.choices = risk_area_choices()


class RuleTransitionSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor.username", default=None, allow_null=True)
    version = serializers.IntegerField(source="version.number", default=None, allow_null=True)

    class Meta:
        model = RuleTransition
        fields = ["from_state", "to_state", "version", "actor", "reason", "at"]


class TransitionSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=sorted(services.TRANSITIONS))
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class RuleViewSet(
    ScopedViewSetMixin, mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet
):
    """Rules your agency owns or was granted. Create and update call the same services as the pages."""

    queryset = Rule.objects.select_related("owner_agency", "live_version").order_by("name", "pk")
    serializer_class = RuleSerializer
    operations = {"create": "rule.edit", "update": "rule.edit", "partial_update": "rule.edit",
                  "*": "rule.view"}  # fmt: skip
    filterset_fields = {"state": ["exact"]}
    ordering_fields = ("name", "updated_at", "created_at", "id")

    @extend_schema(request=RuleWriteSerializer, responses={201: RuleSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        payload = RuleWriteSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        missing = [f for f in ("name", "subject_kind", "risk_area", "weight", "rationale") if f not in data]
        if missing or not (data.get("text") or data.get("condition")):
            raise ValidationError({f: "This field is required." for f in missing or ["text"]})
        try:
            rule = services.create_rule(actor=signed_in(request), **data)
        except DjangoValidationError as error:
            _raise(error)
        return Response(RuleSerializer(rule).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=RuleWriteSerializer, responses=RuleSerializer)
    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        rule = self.get_object()
        payload = RuleWriteSerializer(data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        try:
            services.update_rule(actor=signed_in(request), rule=rule, **payload.validated_data)
        except DjangoValidationError as error:
            _raise(error)
        rule.refresh_from_db()
        return Response(RuleSerializer(rule).data)

    @extend_schema(methods=["GET"], responses=RuleTransitionSerializer(many=True))
    @extend_schema(methods=["POST"], request=TransitionSerializer, responses=RuleSerializer)
    @action(detail=True, methods=["get", "post"])
    def transitions(self, request: Request, pk: str | None = None) -> Response:
        """GET: the rule's lifecycle history. POST ``{"action": "shadow"|"activate"|"retire", "reason"}``
        moves it (risk managers of the owner agency; the service checks ``rule.publish``)."""
        rule = self.get_object()
        if request.method == "GET":
            rows = rule.transitions.select_related("actor", "version")
            return Response(RuleTransitionSerializer(rows, many=True).data)
        payload = TransitionSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        move = services.TRANSITIONS[payload.validated_data["action"]]
        try:
            move(actor=signed_in(request), rule=rule, reason=payload.validated_data["reason"])
        except DjangoValidationError as error:
            _raise(error)
        return Response(RuleSerializer(rule).data)


class HitSerializer(serializers.ModelSerializer):
    rule_version = serializers.CharField(source="rule_version.ref")

    class Meta:
        model = Hit
        fields = ["rule", "rule_version", "shadow", "weight", "risk_area", "matched"]


class AssessmentSerializer(serializers.ModelSerializer):
    hits = HitSerializer(many=True, read_only=True)
    explanation = serializers.SerializerMethodField()
    random_control = serializers.SerializerMethodField(
        help_text="Drawn for random control; null unless your agency owns the subject (the owner's floor "
        "alone is told which subjects were drawn by chance)."
    )

    def get_explanation(self, obj: Assessment) -> dict:
        return services.explanation_for(self.context["request"].user, obj)

    def get_random_control(self, obj: Assessment) -> bool | None:
        viewer = self.context["request"].user
        if not random_control_told_to(random_control_agency(viewer), obj.subject):
            return None
        return obj.random_control

    class Meta:
        model = Assessment
        fields = ["id", "subject", "score", "channel", "risk_area", "random_control", "nominated", "target_id",
                  "explanation", "hits", "created_at"]  # fmt: skip


class AssessmentViewSet(ScopedReadOnlyViewSet):
    """Assessments of subjects you may see; filter with ``?subject=<id>``."""

    # The subject comes along: each row's explanation and random draw are disclosed by its owner and masking.
    queryset = (
        Assessment.objects.select_related("subject")
        .prefetch_related("hits__rule_version")
        .order_by("-created_at", "-pk")
    )
    serializer_class = AssessmentSerializer
    operations = {"*": "rule.view"}
    filterset_fields = {"channel": ["exact"], "risk_area": ["exact"], "nominated": ["exact"],
                        "created_at": ["gte", "lt"]}  # fmt: skip
    ordering_fields = ("created_at", "score", "id")

    def get_queryset(self):
        queryset = super().get_queryset()
        if subject := self.request.query_params.get("subject"):
            queryset = queryset.filter(subject_id=parse_id(subject, field="subject"))
        return queryset


class BacktestSerializer(serializers.ModelSerializer):
    version = serializers.CharField(source="version.ref", read_only=True)
    compare_version = serializers.CharField(
        source="compare_version.ref", read_only=True, default=None, allow_null=True
    )
    percent = serializers.IntegerField(read_only=True)

    class Meta:
        model = Backtest
        fields = ["id", "rule", "version", "compare_version", "period_start", "period_end", "status",
                  "progress_done", "progress_total", "percent", "results", "error", "created_at", "finished_at"]  # fmt: skip


class BacktestRequestSerializer(serializers.Serializer):
    rule = serializers.IntegerField()
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    version = serializers.IntegerField(required=False, help_text="Version number; the latest by default.")
    compare_version = serializers.IntegerField(
        required=False, help_text="Id of a rule version to compare with."
    )


class BacktestViewSet(ScopedViewSetMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Start a backtest (it runs in the background) and GET it for progress and results."""

    queryset = Backtest.objects.select_related("version", "compare_version").order_by("-created_at", "-pk")
    serializer_class = BacktestSerializer
    operations = {"create": "rule.backtest", "*": "rule.view"}
    filterset_fields = {"rule": ["exact"], "status": ["exact"]}
    ordering_fields = ("created_at", "id")

    @extend_schema(request=BacktestRequestSerializer, responses={202: BacktestSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        payload = BacktestRequestSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        rule = services.get_rule_for(signed_in(request), data["rule"], operation="rule.backtest")
        version = None
        if "version" in data:
            version = rule.versions.filter(number=data["version"]).first()
            if version is None:
                raise ValidationError({"version": "No such version of this rule."})
        compare = None
        if "compare_version" in data:
            compare = get_object_for(
                request.user, RuleVersion.objects.select_related("rule"), pk=data["compare_version"]
            )
        try:
            backtest = lab.start_backtest(actor=signed_in(request), rule=rule, period_start=data["period_start"],
                                          period_end=data["period_end"], version=version, compare_version=compare)  # fmt: skip
        except DjangoValidationError as error:
            _raise(error)
        backtest.refresh_from_db()
        return Response(BacktestSerializer(backtest).data, status=status.HTTP_202_ACCEPTED)

"""Targeting API: targets (list, retrieve, nominate, transitions, claim), queues, holds and instructions.

Every queryset goes through ``visible_to`` (an unshared target is 404) and every change calls the same
service functions as the pages. A stale change or an illegal move answers 409 with the service's message.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch
from django.http import Http404
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, NotFound, ValidationError
from rest_framework.exceptions import PermissionDenied as ApiPermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.api import ScopedViewSetMixin
from apps.core.rest import StaleVersion
from apps.intake.models import Subject
from apps.targeting import services
from apps.targeting.disclosure import disclose
from apps.targeting.models import TARGET_ROW, Hold, Instruction, Target, TargetShare
from apps.targeting.queries import (
    allowed_actions,
    filter_targets,
    loaded_through_scope,
    move_context,
    queue_summary,
    take_move_context,
)


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The target was changed by someone else."
    default_code = "conflict"


def call_service(func, **kwargs: Any) -> Any:
    """Call a service and translate its exceptions into API answers."""
    try:
        return func(**kwargs)
    except services.StaleChange as error:
        raise StaleVersion(str(error)) from None  # 412 instead under If-Match (apps.core.problems)
    except services.TransitionRefused as error:
        raise Conflict(str(error)) from None
    except DjangoValidationError as error:
        raise ValidationError(
            error.message_dict if hasattr(error, "error_dict") else error.messages
        ) from None
    except Http404:
        raise NotFound() from None
    except DjangoPermissionDenied as error:
        raise ApiPermissionDenied(str(error)) from None


class HistoryLineSerializer(serializers.Serializer):
    """One history line as ``disclose`` gave it: ``reason_withheld`` says a reason exists but is not yours."""

    from_state = serializers.CharField()
    to_state = serializers.CharField()
    version = serializers.IntegerField()
    reason = serializers.CharField()
    reason_withheld = serializers.BooleanField(source="withheld")
    actor = serializers.CharField(source="actor_name", allow_null=True)
    agency = serializers.CharField(allow_null=True)
    at = serializers.DateTimeField()


class TargetSerializer(serializers.ModelSerializer):
    reference = serializers.CharField(read_only=True)
    owner_agency = serializers.CharField(source="owner_agency.code")
    port = serializers.CharField(source="port.locode", default=None, allow_null=True)
    claimed_by = serializers.CharField(source="claimed_by.username", default=None, allow_null=True)
    subject = serializers.SerializerMethodField()
    reasons = serializers.SerializerMethodField()
    sla = serializers.SerializerMethodField()
    # The one priority every screen shows (``Target.display_priority``); ``urgency`` is the queues'
    # ranking key (the priority raised as arrival nears), not a second priority.
    priority = serializers.IntegerField(source="display_priority", read_only=True)
    urgency = serializers.SerializerMethodField()
    score = serializers.SerializerMethodField()
    random_control = serializers.SerializerMethodField()
    shared_with = serializers.SerializerMethodField()
    operation = serializers.SerializerMethodField()

    class Meta:
        model = Target
        fields = [
            "id", "reference", "state", "version", "risk_area", "priority", "urgency", "score", "scope",
            "reasons", "subject", "owner_agency", "shared_with", "port", "arrival_at", "sla", "by_engine",
            "random_control", "claimed_by", "operation", "created_at", "updated_at",
        ]  # fmt: skip

    def _user(self):
        return self.context["request"].user

    def get_subject(self, obj: Target) -> dict[str, Any]:
        return disclose(self._user(), obj).subject_dict()

    def get_reasons(self, obj: Target) -> list[dict[str, str]]:
        return disclose(self._user(), obj).reasons

    def get_operation(self, obj: Target) -> int | None:
        """The joint operation's id, only for an agency taking part in it."""
        operation = disclose(self._user(), obj).operation
        return operation.pk if operation is not None else None

    def get_sla(self, obj: Target) -> str:
        return obj.sla_status()

    def get_urgency(self, obj: Target) -> int:
        return obj.urgency_now()

    def get_score(self, obj: Target) -> float | None:
        """The engine's score, null to whoever may not be told of random control (``Disclosure.score``)."""
        return disclose(self._user(), obj).score

    def get_random_control(self, obj: Target) -> bool | None:
        """Told only to the owner agency's floor (``disclosure``): null to the officer at the port and to a
        partner agency, for every target alike, so that a draw is examined and acted on as any other."""
        seen = disclose(self._user(), obj)
        return seen.random_control if seen.knows_random_control else None

    def get_shared_with(self, obj: Target) -> list[dict[str, str]]:
        if disclose(self._user(), obj).briefing_only:  # the officer at the port has no part in sharing
            return []
        return [{"agency": s.agency.code, "code": s.code} for s in obj.shares.all()]


class NominateSerializer(serializers.Serializer):
    subject = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    risk_area = serializers.CharField()
    reasons = serializers.ListField(child=serializers.DictField(), required=False, default=list)
    reason = serializers.CharField(required=False, default="", allow_blank=True)
    priority = serializers.IntegerField(required=False, default=50, min_value=0, max_value=100)


class ActionSerializer(serializers.Serializer):
    action = serializers.CharField()
    expected_version = serializers.IntegerField(
        min_value=1, max_value=2**31 - 1, required=False,
        help_text='The version the move is made against; or send it as If-Match: "<version>".',
    )  # fmt: skip
    reason = serializers.CharField(required=False, default="", allow_blank=True)
    method = serializers.CharField(required=False, default="", allow_blank=True)
    instruction = serializers.CharField(required=False, default="", allow_blank=True)


class TargetViewSet(ScopedViewSetMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Targets the caller may see. ``POST`` nominates; ``transitions`` moves; ``claim`` claims/releases."""

    queryset = Target.objects.select_related(*TARGET_ROW)
    serializer_class = TargetSerializer
    operations = {"*": "target.pull", "create": "target.nominate", "claim": "target.view"}
    version_field = "version"
    # port, risk_area, agency, state, work and operation: filter_targets below (the pages' own filters)
    filterset_fields = {"by_engine": ["exact"], "created_at": ["gte", "lt"], "arrival_at": ["gte", "lt"],
                        "claimed_by": ["exact"]}  # fmt: skip
    ordering_fields = ("created_at", "id")

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.action == "list":  # many targets: their holders joined, not read one by one (``TARGET_ROW``)
            queryset = queryset.select_related("claimed_by")
        if self.action == "transitions" and self.request.method == "POST" and (context := move_context()):
            # What the move and its checks read (shares, proposers, configuration, latest assessment) comes
            # with the target, in its one query.
            queryset = queryset.annotate(**context)
        else:
            queryset = queryset.prefetch_related(
                Prefetch("shares", queryset=TargetShare.objects.select_related("agency"))
            )
        return filter_targets(queryset, self.request.query_params, self.request.user)

    def get_object(self) -> Target:
        # Loaded through ``visible_to(request.user)`` (``get_queryset``): the service acting on it for the
        # same user does not ask the database whether he sees it a second time.
        return take_move_context(loaded_through_scope(super().get_object(), self.request.user))

    @extend_schema(request=NominateSerializer, responses=TargetSerializer)
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = NominateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        subject = Subject.objects.visible_to(request.user).filter(pk=data.validated_data["subject"]).first()
        if subject is None:
            raise ValidationError({"subject": "No such subject."})
        target, created = call_service(
            services.nominate, actor=request.user, subject=subject, risk_area=data.validated_data["risk_area"],
            reasons=data.validated_data["reasons"], reason=data.validated_data["reason"],
            priority=data.validated_data["priority"],
        )  # fmt: skip
        # An open target the caller may see already covers the subject and area: 200 with it, not a new one.
        return Response(
            self.get_serializer(target).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    @extend_schema(methods=["POST"], request=ActionSerializer, responses=TargetSerializer)
    @action(detail=True, methods=["get", "post"])
    def transitions(self, request: Request, pk: str | None = None) -> Response:
        """``GET``: the history and the actions the caller may take now. ``POST``: take one."""
        target = self.get_object()
        if request.method == "GET":
            history = HistoryLineSerializer(disclose(request.user, target).history(), many=True)
            return Response({"version": target.version, "state": target.state,
                             "allowed": allowed_actions(request.user, target), "history": history.data})  # fmt: skip
        data = ActionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        fields["expected_version"] = self.expected_version(fields.get("expected_version"))
        if fields["expected_version"] is None:
            raise ValidationError({"expected_version": 'Send expected_version, or If-Match: "<version>".'})
        target = call_service(services.run_action, actor=request.user, target=target, **fields)
        return Response(self.get_serializer(target).data)

    @action(detail=True, methods=["get", "post", "delete"])
    def claim(self, request: Request, pk: str | None = None) -> Response:
        """``GET``: who works the target. ``POST``: claim it (409 if taken). ``DELETE``: release it."""
        target = self.get_object()
        if request.method == "POST":
            target = call_service(services.claim_target, actor=request.user, target=target)
        elif request.method == "DELETE":
            target = call_service(services.release_claim, actor=request.user, target=target)
        return Response(
            {"target": target.pk, "claimed_by": target.claimed_by.username if target.claimed_by else None}
        )


class QueueLineSerializer(serializers.Serializer):
    key = serializers.CharField()
    # A declared field named label (collected from the class body); the stubs read Field.label.
    label = serializers.CharField()  # type: ignore[assignment]
    count = serializers.IntegerField()
    oldest = serializers.DateTimeField(allow_null=True)
    breaches = serializers.IntegerField()


# One object of three dimensions, not a list: ``many=False`` keeps drf-spectacular from wrapping the
# ``list`` action's answer in an array.
@extend_schema_serializer(many=False)
class QueueSummarySerializer(serializers.Serializer):
    port = QueueLineSerializer(many=True)
    risk_area = QueueLineSerializer(many=True)
    agency = QueueLineSerializer(many=True)


class QueueViewSet(viewsets.ViewSet):
    """Open targets the caller may see, counted by port, risk area and agency."""

    serializer_class = QueueSummarySerializer

    @extend_schema(responses=QueueSummarySerializer)
    def list(self, request: Request) -> Response:
        from apps.agencies.operations import can

        if not can(request.user, "target.pull"):
            raise ApiPermissionDenied("Your role may not perform target.pull.")
        summary = queue_summary(request.user)
        return Response({
            dimension: [{"key": line.param, "label": line.label, "count": line.count, "oldest": line.oldest,
                         "breaches": line.breaches} for line in lines]
            for dimension, lines in summary.items()
        })  # fmt: skip


class HoldSerializer(serializers.ModelSerializer):
    """A hold as ``disclose`` gives it: its reasons are read only by the holding agency."""

    agency = serializers.SerializerMethodField()
    placed_by = serializers.SerializerMethodField()
    released_by = serializers.SerializerMethodField()
    reason = serializers.SerializerMethodField()
    release_reason = serializers.SerializerMethodField()
    reason_withheld = serializers.SerializerMethodField()

    class Meta:
        model = Hold
        fields = ["id", "target", "agency", "reason", "reason_withheld", "placed_by", "placed_at", "released_at",
                  "released_by", "release_reason"]  # fmt: skip
        read_only_fields = fields

    def _seen(self, obj: Hold) -> Any:
        return disclose(self.context["request"].user, obj.target).hold(obj)

    def get_agency(self, obj: Hold) -> str:
        return self._seen(obj).agency_code

    def get_placed_by(self, obj: Hold) -> str:
        return self._seen(obj).placed_by

    def get_released_by(self, obj: Hold) -> str | None:
        return self._seen(obj).released_by

    def get_reason(self, obj: Hold) -> str:
        return self._seen(obj).reason

    def get_release_reason(self, obj: Hold) -> str:
        return self._seen(obj).release_reason

    def get_reason_withheld(self, obj: Hold) -> bool:
        return self._seen(obj).withheld


class PlaceHoldSerializer(serializers.Serializer):
    target = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    reason = serializers.CharField()
    expected_version = serializers.IntegerField(required=False, min_value=1, max_value=2**31 - 1)


class ReleaseHoldSerializer(serializers.Serializer):
    release_reason = serializers.CharField(required=False, default="", allow_blank=True)


class HoldViewSet(
    ScopedViewSetMixin, mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet
):
    """Deconfliction holds. ``POST`` places one; ``PATCH {"release_reason": ...}`` releases it."""

    queryset = Hold.objects.select_related("agency", "placed_by", "released_by", "target")
    serializer_class = HoldSerializer
    operations = {
        "*": "target.view",
        "create": "target.hold",
        "partial_update": "target.hold",
        "update": "target.hold",
    }
    http_method_names = ["get", "post", "patch", "head", "options"]
    version_field = "target.version"
    filterset_fields = {"target": ["exact"], "agency": ["exact"], "released_at": ["isnull"]}
    ordering_fields = ("placed_at", "id")

    @extend_schema(request=PlaceHoldSerializer, responses=HoldSerializer)
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = PlaceHoldSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        target = Target.objects.visible_to(request.user).filter(pk=data.validated_data["target"]).first()
        if target is None:
            raise NotFound()
        hold = call_service(
            services.place_hold, actor=request.user, target=target, reason=data.validated_data["reason"],
            expected_version=data.validated_data.get("expected_version"),
        )  # fmt: skip
        return Response(self.get_serializer(hold).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ReleaseHoldSerializer, responses=HoldSerializer)
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        hold = self.get_object()
        data = ReleaseHoldSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        hold = call_service(
            services.release_hold,
            actor=request.user,
            hold=hold,
            reason=data.validated_data["release_reason"],
        )
        return Response(self.get_serializer(hold).data)


class InstructionSerializer(serializers.ModelSerializer):
    port = serializers.CharField(source="port.locode")
    reference = serializers.CharField(source="target.reference")
    state = serializers.CharField(source="target.state")
    version = serializers.IntegerField(source="target.version")
    risk_area = serializers.CharField(source="target.risk_area")

    class Meta:
        model = Instruction
        fields = ["id", "target", "reference", "state", "version", "risk_area", "port", "method", "shift",
                  "instruction", "dispatched_at"]  # fmt: skip


class InstructionViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Examination instructions the caller may see (a frontline officer: those for his ports)."""

    queryset = Instruction.objects.select_related("port", "target")
    serializer_class = InstructionSerializer
    operations = {"*": "target.pull"}  # a port system pulls its port's instructions too
    filterset_fields = {"target": ["exact"], "port": ["exact"], "port__locode": ["exact"], "method": ["exact"],
                        "shift": ["exact"], "dispatched_at": ["gte", "lt"]}  # fmt: skip
    ordering_fields = ("dispatched_at", "id")

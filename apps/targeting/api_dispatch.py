"""Targeting API for joint operations and dispatch proposals (with their acceptance).

The same services and checks as the operations pages and the dispatch page: every queryset through
``visible_to``; every change through the page's service (``call_service``); a proposal shows only the rows
of targets the caller may see. Officers at the port (and port systems) read no proposal at all
(``DispatchProposal.visibility_q``): it names the random-control draws.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from apps.agencies.models import Agency, ExaminationMethod, Port, Shift
from apps.agencies.operations import can
from apps.core.api import ScopedViewSetMixin
from apps.core.errors import id_or_none
from apps.targeting import services
from apps.targeting.api import InstructionSerializer, call_service
from apps.targeting.api_work import LIST_ERRORS, READ_ERRORS, WRITE_ERRORS, person_name, visible_target
from apps.targeting.models import DispatchProposal, JointOperation, Target

# --------------------------------------------------------------------------- joint operations


class MemberSerializer(serializers.Serializer):
    name = serializers.CharField()
    agency = serializers.CharField(allow_null=True)


class JointOperationSerializer(serializers.ModelSerializer):
    """A joint operation: its window, its owner and the agencies and people taking part."""

    owner_agency = serializers.CharField(source="owner_agency.code", read_only=True)
    agencies = serializers.SerializerMethodField()
    members = serializers.SerializerMethodField()
    running = serializers.SerializerMethodField()

    class Meta:
        model = JointOperation
        fields = ["id", "name", "description", "owner_agency", "agencies", "members", "starts_at", "ends_at",
                  "running", "created_at"]  # fmt: skip
        read_only_fields = fields

    def get_agencies(self, obj: JointOperation) -> list[str]:
        return sorted(a.code for a in obj.agencies.all())

    @extend_schema_field(MemberSerializer(many=True))
    def get_members(self, obj: JointOperation) -> list[dict[str, Any]]:
        out = []
        for user in obj.members.all():
            membership = getattr(user, "membership", None)
            out.append({"name": person_name(user), "agency": membership.agency.code if membership else None})
        return out

    def get_running(self, obj: JointOperation) -> bool:
        return obj.is_running()


class CreateOperationSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    agencies = serializers.SlugRelatedField(
        # many=True makes a ManyRelatedField (whose default is a list); the stubs type the one-agency field.
        slug_field="code", queryset=Agency.objects.all(), many=True, required=False, default=list,  # type: ignore[arg-type]
        help_text="Codes of the partner agencies taking part (they then see the operation).",
    )  # fmt: skip
    description = serializers.CharField(required=False, default="", allow_blank=True)

    def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if user is not None:
            agencies = self.fields["agencies"]
            assert isinstance(agencies, serializers.ManyRelatedField)  # declared with many=True above
            # The stubs type ``queryset`` with Manager, a descriptor: mypy reads any assignment as its __get__.
            agencies.child_relation.queryset = Agency.objects.visible_to(user)  # type: ignore[arg-type]


class OperationTargetSerializer(serializers.ModelSerializer):
    """A target of an operation as the operation's own queue lists it (no subject: a list shows none)."""

    reference = serializers.CharField(read_only=True)
    owner_agency = serializers.CharField(source="owner_agency.code", read_only=True)
    port = serializers.CharField(source="port.locode", default=None, read_only=True, allow_null=True)
    priority = serializers.IntegerField(source="display_priority", read_only=True)
    sla = serializers.SerializerMethodField()

    class Meta:
        model = Target
        fields = ["id", "reference", "state", "version", "risk_area", "priority", "owner_agency", "port",
                  "arrival_at", "sla"]  # fmt: skip
        read_only_fields = fields

    def get_sla(self, obj: Target) -> str:
        return obj.sla_status()


class AddToOperationSerializer(serializers.Serializer):
    target = serializers.IntegerField(min_value=1, max_value=2**63 - 1)


@extend_schema_view(
    list=extend_schema(responses={200: JointOperationSerializer(many=True), **LIST_ERRORS}),
    retrieve=extend_schema(responses={200: JointOperationSerializer, **READ_ERRORS}),
)
class JointOperationViewSet(ScopedViewSetMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Joint operations the caller's agency runs or takes part in. ``POST`` opens one; ``targets`` lists
    its queue (``GET``) or adds a target the caller's agency owns (``POST``)."""

    queryset = JointOperation.objects.select_related("owner_agency").prefetch_related(
        "agencies", "members__membership__agency"
    )
    serializer_class = JointOperationSerializer
    operations = {"*": "target.view", "create": "target.share", "add_target": "target.withdraw"}
    filterset_fields = {"owner_agency": ["exact"], "starts_at": ["gte", "lt"], "ends_at": ["gte", "lt"]}
    ordering_fields = ("starts_at", "id")

    @extend_schema(
        request=CreateOperationSerializer, responses={201: JointOperationSerializer, **WRITE_ERRORS}
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = CreateOperationSerializer(data=request.data, user=request.user)
        data.is_valid(raise_exception=True)
        operation = call_service(services.create_operation, actor=request.user, **data.validated_data)
        return Response(
            self.get_serializer(self.get_queryset().get(pk=operation.pk)).data, status=status.HTTP_201_CREATED
        )

    def _targets(self, operation: JointOperation) -> QuerySet:
        # The operation page's queue: the targets of the operation the caller may see, most urgent first.
        return (
            Target.objects.visible_to(self.request.user)
            .filter(operation=operation)
            .select_related("port", "owner_agency")
            .with_urgency(timezone.now())
            .order_by("-urgency", "id")
        )

    @extend_schema(responses={200: OperationTargetSerializer(many=True), **READ_ERRORS})
    # No filter backends: the operations' filters and ordering (``owner_agency``, ``starts_at``...) are not
    # the target list's, and must neither be documented here nor narrow the lookup of the one operation
    # (nor hand the cursor an operation field to order targets by).
    @action(detail=True, methods=["get"], filter_backends=[])
    def targets(self, request: Request, pk: str | None = None) -> Response:
        """The operation's targets the caller may see, most urgent first."""
        targets = self._targets(self.get_object())
        page = self.paginate_queryset(targets)
        if page is not None:
            return self.get_paginated_response(OperationTargetSerializer(page, many=True).data)
        return Response(OperationTargetSerializer(targets, many=True).data)

    @extend_schema(
        request=AddToOperationSerializer, responses={200: OperationTargetSerializer, **WRITE_ERRORS}
    )
    @targets.mapping.post
    def add_target(self, request: Request, pk: str | None = None) -> Response:
        """Group a target the caller's agency owns under this operation."""
        operation = self.get_object()
        data = AddToOperationSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        target = visible_target(request, data.validated_data["target"])
        target = call_service(
            services.add_to_operation, actor=request.user, operation=operation, target=target
        )
        return Response(OperationTargetSerializer(self._targets(operation).get(pk=target.pk)).data)


# --------------------------------------------------------------------------- dispatch proposals


class CapacityLineSerializer(serializers.Serializer):
    method = serializers.CharField()
    slots = serializers.IntegerField()
    # A declared field named source (collected from the class body); the stubs read Field.source.
    source = serializers.CharField()  # type: ignore[assignment]


class ProposalRowSerializer(serializers.Serializer):
    """A target the proposal sends. ``p`` and ``value`` are null for a random-control draw (sent whatever
    its score); ``instruction`` is what the officer would be told, offered only to someone who may still
    accept the proposal."""

    target = serializers.IntegerField()
    reference = serializers.CharField()
    risk_area = serializers.CharField()
    state = serializers.CharField()
    version = serializers.IntegerField(allow_null=True)
    method = serializers.CharField()
    random = serializers.BooleanField()
    p = serializers.FloatField(allow_null=True)
    value = serializers.FloatField(allow_null=True)
    basis = serializers.CharField(allow_null=True)
    instruction = serializers.CharField(allow_null=True)


class LeftOutRowSerializer(serializers.Serializer):
    target = serializers.IntegerField()
    reference = serializers.CharField()
    risk_area = serializers.CharField()
    reason = serializers.CharField()
    basis = serializers.CharField(allow_null=True)


class DispatchProposalSerializer(serializers.ModelSerializer):
    """A dispatch proposal as the dispatch page shows it: only the rows of targets the caller may see."""

    port = serializers.CharField(source="port.locode", read_only=True)
    agency = serializers.CharField(source="agency.code", read_only=True)
    created_by = serializers.SerializerMethodField()
    accepted_by = serializers.SerializerMethodField()
    capacity = serializers.SerializerMethodField()
    selected = serializers.SerializerMethodField()
    left_out = serializers.SerializerMethodField()
    gain = serializers.SerializerMethodField()

    class Meta:
        model = DispatchProposal
        fields = ["id", "port", "shift", "date", "agency", "created_by", "created_at", "capacity", "selected",
                  "left_out", "expected_findings", "baseline_findings", "gain", "accepted_by", "accepted_at"]  # fmt: skip
        read_only_fields = fields

    def _user(self) -> Any:
        return self.context["request"].user

    def _targets(self, obj: DispatchProposal) -> dict[int, Target]:
        cache = obj.__dict__.setdefault("_api_targets", {})
        if not cache:
            ids = [r["target"] for r in obj.selected] + [r["target"] for r in obj.left_out]
            cache.update(
                Target.objects.visible_to(self._user()).select_related("port", "subject").in_bulk(ids)
            )
        return cache

    def get_created_by(self, obj: DispatchProposal) -> str | None:
        return person_name(obj.created_by)

    def get_accepted_by(self, obj: DispatchProposal) -> str | None:
        return person_name(obj.accepted_by)

    @extend_schema_field(CapacityLineSerializer(many=True))
    def get_capacity(self, obj: DispatchProposal) -> list[dict[str, Any]]:
        return [
            {"method": m, "slots": n, "source": obj.capacity_source.get(m, "weekly default")}
            for m, n in obj.capacity.items()
        ]

    @extend_schema_field(ProposalRowSerializer(many=True))
    def get_selected(self, obj: DispatchProposal) -> list[dict[str, Any]]:
        user = self._user()
        targets = self._targets(obj)
        offer = obj.accepted_at is None and can(user, "target.dispatch")
        rows = []
        for r in obj.selected:
            t = targets.get(r["target"])
            if t is None:
                continue
            rows.append({
                "target": t.pk, "reference": t.reference, "risk_area": t.risk_area, "state": t.state,
                "version": r.get("version"), "method": r["method"],
                "random": bool(r.get("random")),
                "p": None if r.get("random") else r.get("p"),
                "value": None if r.get("random") else r.get("value"),
                "basis": r.get("basis"),
                "instruction": services.default_instruction(t, user) if offer else None,
            })  # fmt: skip
        return rows

    @extend_schema_field(LeftOutRowSerializer(many=True))
    def get_left_out(self, obj: DispatchProposal) -> list[dict[str, Any]]:
        targets = self._targets(obj)
        return [
            {"target": t.pk, "reference": t.reference, "risk_area": t.risk_area, "reason": r["reason"],
             "basis": r.get("basis")}
            for r in obj.left_out
            if (t := targets.get(r["target"])) is not None
        ]  # fmt: skip

    def get_gain(self, obj: DispatchProposal) -> float:
        return obj.expected_findings - obj.baseline_findings


class ProposeSerializer(serializers.Serializer):
    port = serializers.SlugRelatedField(
        slug_field="locode", queryset=Port.objects.all(), help_text="UN/LOCODE."
    )
    shift = serializers.ChoiceField(choices=Shift.choices)
    date = serializers.DateField(
        required=False, allow_null=True, default=None, help_text="The shift's day; today by default."
    )

    def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if user is not None:
            port = self.fields["port"]
            assert isinstance(port, serializers.RelatedField)  # declared as a SlugRelatedField above
            # The stubs type ``queryset`` with Manager, a descriptor: mypy reads any assignment as its __get__.
            port.queryset = Port.objects.visible_to(user)  # type: ignore[arg-type]


class AcceptSerializer(serializers.Serializer):
    choices = serializers.DictField(
        child=serializers.ChoiceField(choices=ExaminationMethod.choices), required=False, allow_null=True,
        default=None,
        help_text="Target id → method, to edit the proposal (a target left out is not sent); omitted: as proposed.",
    )  # fmt: skip
    instructions = serializers.DictField(
        child=serializers.CharField(allow_blank=True), required=False, default=dict,
        help_text="Target id → what its officer is told; else ``instruction``, else the analyst's words.",
    )  # fmt: skip
    instruction = serializers.CharField(required=False, default="", allow_blank=True)

    @staticmethod
    def _by_target(value: dict[str, Any] | None, field: str) -> dict[int, Any] | None:
        if value is None:
            return None
        out = {}
        for key, item in value.items():
            pk = id_or_none(key)
            if pk is None:
                raise serializers.ValidationError({field: f"{key!r} is not a target id."})
            out[pk] = item
        return out

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs["choices"] = self._by_target(attrs["choices"], "choices")
        attrs["instructions"] = self._by_target(attrs["instructions"], "instructions")
        return attrs


class AcceptedSerializer(serializers.Serializer):
    proposal = DispatchProposalSerializer()
    instructions = InstructionSerializer(many=True)
    problems = serializers.ListField(child=serializers.CharField(), help_text="Targets not sent, and why.")


@extend_schema_view(
    list=extend_schema(
        responses={200: DispatchProposalSerializer(many=True), **LIST_ERRORS},
    ),
    retrieve=extend_schema(responses={200: DispatchProposalSerializer, **READ_ERRORS}),
)
class DispatchProposalViewSet(ScopedViewSetMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """The dispatcher's proposals of the caller's agency. ``POST`` makes one for a port, shift and day;
    ``accept`` dispatches it (possibly edited), exactly as the dispatch page's button does."""

    queryset = DispatchProposal.objects.select_related("port", "agency", "created_by", "accepted_by")
    serializer_class = DispatchProposalSerializer
    # ``accept``: the object first (another agency's proposal is 404, as on the page), then the service
    # checks ``target.dispatch``.
    operations = {"*": "target.view", "create": "target.dispatch"}
    filterset_fields = {"port": ["exact"], "port__locode": ["exact"], "shift": ["exact"], "date": ["exact"],
                        "accepted_at": ["isnull"]}  # fmt: skip
    ordering_fields = ("created_at", "id")

    @extend_schema(request=ProposeSerializer, responses={201: DispatchProposalSerializer, **WRITE_ERRORS})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = ProposeSerializer(data=request.data, user=request.user)
        data.is_valid(raise_exception=True)
        proposal = call_service(services.propose_dispatch, actor=request.user, **data.validated_data)
        return Response(self.get_serializer(proposal).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=AcceptSerializer, responses={200: AcceptedSerializer, **WRITE_ERRORS})
    @action(detail=True, methods=["post"])
    def accept(self, request: Request, pk: str | None = None) -> Response:
        """Dispatch the proposal's targets; one moved since the proposal is skipped and named in
        ``problems``. A proposal is accepted once (409 after)."""
        proposal = self.get_object()
        data = AcceptSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        done, problems = call_service(
            services.accept_proposal, actor=request.user, proposal=proposal, **data.validated_data
        )
        proposal = self.get_queryset().get(pk=proposal.pk)
        context = self.get_serializer_context()
        return Response({
            "proposal": DispatchProposalSerializer(proposal, context=context).data,
            "instructions": InstructionSerializer(done, many=True, context=context).data,
            "problems": problems,
        })  # fmt: skip

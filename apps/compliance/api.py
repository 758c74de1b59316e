"""Oversight API: the access log for auditors, and break-glass unmasking requests.

The same rules as the oversight pages, through the same functions: the log is read with
:func:`access_log_for` (``audit.view``, the page's filters), requests are made with
:func:`request_unmask` (``unmask.request``) and decided with :func:`decide_unmask` (``unmask.approve``,
never by the person who asked, once). Every queryset is ``visible_to`` the caller, so another agency's
entries and requests answer 404 as if they did not exist.

Neither answer holds a subject's data (a request names its subject by id and kind only; a log entry says
what was read, never the data), so these routes need no declared purpose, as their pages do not.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.core.exceptions import PermissionDenied
from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException
from rest_framework.exceptions import PermissionDenied as ApiPermissionDenied
from rest_framework.exceptions import ValidationError as ApiValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from apps.agencies.operations import can
from apps.agencies.scoping import get_object_for
from apps.compliance.models import AccessLogEntry, UnmaskRequest
from apps.compliance.services import LOG_SCOPES, access_log_for, decide_unmask, request_unmask
from apps.core.api import ScopedViewSetMixin
from apps.core.problems import CONTENT_TYPE as PROBLEM_CONTENT_TYPE
from apps.core.requests import signed_in

__all__ = ["AccessLogViewSet", "UnmaskRequestViewSet"]


#: The problem-detail component the API schema registers for every operation (apps.core.schema).
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}


def problem(code: int, description: str) -> dict[tuple[int, str], OpenApiResponse]:
    """An error answer in the schema: a problem detail (``apps.core.problems``) saying when it happens."""
    return {(code, PROBLEM_CONTENT_TYPE): OpenApiResponse(response=PROBLEM_REF, description=description)}


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "This request has already been decided."
    default_code = "conflict"


# --------------------------------------------------------------------------- the access log


class AccessLogEntrySerializer(serializers.ModelSerializer):
    """What the access log page shows of an entry: who read what, when, why, and whose data it was."""

    user: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        read_only=True, slug_field="username"
    )
    agency: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        read_only=True, slug_field="code"
    )
    data_owner_agency: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        read_only=True, slug_field="code", allow_null=True
    )

    class Meta:
        model = AccessLogEntry
        fields = ["id", "seq", "at", "user", "agency", "data_owner_agency", "action", "object_type", "object_id",
                  "summary", "purpose", "purpose_text", "disclosed_to"]  # fmt: skip
        read_only_fields = fields


@extend_schema_view(
    list=extend_schema(
        summary="The access log your agency's auditors may review (newest first)",
        parameters=[
            OpenApiParameter("user", str, description="Part of the reader's username."),
            OpenApiParameter("object", str, description="A record id (digits), or text of the summary."),
            OpenApiParameter("action", str, enum=AccessLogEntry.Action.values),
            OpenApiParameter(
                "scope",
                str,
                enum=list(LOG_SCOPES),
                description="ours: reads by your agency; partners: other agencies' reads of your data.",
            ),
        ],
        responses={
            200: AccessLogEntrySerializer(many=True),
            **problem(403, "Only auditors read the access log."),
        },
    )
)
class AccessLogViewSet(ScopedViewSetMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Every view, search, export and disclosure of personal data by your agency, and every read by any
    agency of data from your agency's sources. Append-only: there is nothing to change here."""

    queryset = AccessLogEntry.objects.all()
    serializer_class = AccessLogEntrySerializer
    operations = {"*": "audit.view"}

    def get_queryset(self):
        params = self.request.query_params
        # The page's own filtering (and its ``audit.view`` check), over ``visible_to`` of the caller.
        return access_log_for(
            signed_in(self.request),
            user=params.get("user", ""),
            obj=params.get("object", ""),
            action=params.get("action", ""),
            scope=params.get("scope", ""),
        )


# --------------------------------------------------------------------------- unmasking requests


class UnmaskRequestSerializer(serializers.ModelSerializer):
    """A request as the unmasking page lists it: the record by id and kind, never its data."""

    subject_kind = serializers.CharField(source="subject.kind", read_only=True)
    requested_by: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        read_only=True, slug_field="username"
    )
    decided_by: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        read_only=True, slug_field="username", allow_null=True
    )

    class Meta:
        model = UnmaskRequest
        fields = ["id", "subject", "subject_kind", "requested_by", "reason", "status", "decided_by",
                  "decision_reason", "created_at", "decided_at", "expires_at"]  # fmt: skip
        read_only_fields = fields


class UnmaskAskSerializer(serializers.Serializer):
    subject = serializers.IntegerField(help_text="The depersonalised record (a subject id you may see).")
    reason = serializers.CharField(
        max_length=2000, help_text="Why you need to see it again (at least a sentence)."
    )


class UnmaskDecisionSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


DECISION_ERRORS = {
    **problem(403, "Your role may not decide, or you asked yourself."),
    **problem(404, "No such request in your agency."),
    **problem(409, "The request has already been decided."),
}


@extend_schema_view(
    list=extend_schema(
        summary="Your agency's unmasking requests, for the officers who decide them",
        responses={
            200: UnmaskRequestSerializer(many=True),
            **problem(403, "Only authorising officers list the requests."),
        },
    )
)
class UnmaskRequestViewSet(ScopedViewSetMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Break-glass: ask to see a depersonalised record again; a second, authorising officer approves it
    (for 24 hours) or refuses it."""

    queryset = UnmaskRequest.objects.select_related("subject", "requested_by", "decided_by")
    serializer_class = UnmaskRequestSerializer
    # Deciding is checked by the service after the request is found, as on the page: an outsider's 404
    # comes before any role's 403.
    operations = {"list": "unmask.approve", "create": "unmask.request"}
    filterset_fields = {"status": ["exact"], "subject": ["exact"]}
    ordering_fields = ("id", "created_at")

    @extend_schema(
        summary="Ask to see a depersonalised record again",
        request=UnmaskAskSerializer,
        responses={
            201: UnmaskRequestSerializer,
            **problem(400, "No such subject, or no reason given: the body names the field."),
            **problem(403, "Your role may not ask."),
        },
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = UnmaskAskSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            # By label: compliance sits below intake and does not import it (CONVENTIONS 16).
            subject = get_object_for(
                request.user, apps.get_model("intake", "Subject"), pk=data.validated_data["subject"]
            )
        except Http404:  # missing or outside your scope: the same answer
            raise ApiValidationError({"subject": ["No such subject."]}) from None
        try:
            unmask = request_unmask(
                actor=signed_in(request), subject=subject, reason=data.validated_data["reason"]
            )
        except ValueError as exc:
            raise ApiValidationError({"reason": [str(exc)]}) from None
        return Response(UnmaskRequestSerializer(unmask).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Approve a request: the record is shown again to the person who asked, for 24 hours",
        request=UnmaskDecisionSerializer,
        responses={200: UnmaskRequestSerializer, **DECISION_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: Any = None) -> Response:
        return self._decide(request, approve=True)

    @extend_schema(
        summary="Refuse a request",
        request=UnmaskDecisionSerializer,
        responses={200: UnmaskRequestSerializer, **DECISION_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def refuse(self, request: Request, pk: Any = None) -> Response:
        return self._decide(request, approve=False)

    def _decide(self, request: Request, *, approve: bool) -> Response:
        unmask = self.get_object()
        data = UnmaskDecisionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            unmask = decide_unmask(
                actor=signed_in(request), unmask=unmask, approve=approve, reason=data.validated_data["reason"]
            )
        except PermissionDenied as exc:
            unmask.refresh_from_db(fields=["status"])
            # Only someone who could have decided it learns that it is decided already.
            may_decide = can(request.user, "unmask.approve") and unmask.requested_by_id != request.user.pk
            if may_decide and unmask.status != UnmaskRequest.Status.PENDING:
                raise Conflict() from None
            raise ApiPermissionDenied(str(exc)) from None
        return Response(UnmaskRequestSerializer(unmask).data)

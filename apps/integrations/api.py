"""Webhooks API: a system account manages its endpoints and reads its deliveries and their attempts.

Every queryset goes through ``visible_to`` (another account's endpoint is 404) and every change calls the
service functions the admin calls too. The secret is in the answer to the create and ``rotate-secret``
calls only.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.exceptions import PermissionDenied as ApiPermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.api import ScopedReadOnlyViewSet, ScopedViewSetMixin
from apps.integrations import services
from apps.integrations.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint


def call_service(func: Any, **kwargs: Any) -> Any:
    """Call a service and translate its exceptions into API answers."""
    try:
        return func(**kwargs)
    except DjangoValidationError as error:
        raise ValidationError(
            error.message_dict if hasattr(error, "error_dict") else error.messages
        ) from None
    except (WebhookEndpoint.DoesNotExist, WebhookDelivery.DoesNotExist):
        raise NotFound() from None
    except DjangoPermissionDenied as error:
        raise ApiPermissionDenied(str(error)) from None


class WebhookEndpointSerializer(serializers.ModelSerializer):
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=list(services.EVENT_TYPES)), allow_empty=False
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["id", "url", "description", "events", "is_active", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]


class NewWebhookEndpointSerializer(WebhookEndpointSerializer):
    """The answer to a create: the endpoint and its signing secret, the only time it is shown."""

    secret = serializers.CharField(read_only=True, help_text="The signing secret (whsec_…): store it now.")

    class Meta(WebhookEndpointSerializer.Meta):
        fields = [*WebhookEndpointSerializer.Meta.fields, "secret"]


class WebhookAttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookAttempt
        fields = ["number", "started_at", "duration_ms", "status_code", "error"]


class WebhookDeliverySerializer(serializers.ModelSerializer):
    attempt_log = WebhookAttemptSerializer(many=True, read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = ["id", "endpoint", "event_id", "event_type", "instruction", "status", "attempts",
                  "created_at", "next_attempt_at", "delivered_at", "last_status_code", "last_error",
                  "attempt_log"]  # fmt: skip


class WebhookEndpointViewSet(ScopedViewSetMixin, viewsets.ModelViewSet):
    """The caller's webhook endpoints: the URL and the instruction events posted to it, signed with the
    endpoint's secret (Standard Webhooks headers; see docs/integration.md)."""

    queryset = WebhookEndpoint.objects.select_related("owner")
    serializer_class = WebhookEndpointSerializer
    operations = {"*": "webhook.manage"}

    @extend_schema(responses={201: NewWebhookEndpointSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        incoming = self.get_serializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        endpoint, secret = call_service(
            services.create_endpoint, actor=request.user, url=data["url"], events=data["events"],
            description=data.get("description", ""),
        )  # fmt: skip
        if data.get("is_active") is False:
            call_service(services.update_endpoint, actor=request.user, endpoint=endpoint, is_active=False)
        body = NewWebhookEndpointSerializer(endpoint).data
        body["secret"] = secret
        return Response(body, status=status.HTTP_201_CREATED)

    def perform_update(self, serializer: serializers.BaseSerializer) -> None:
        serializer.instance = call_service(
            services.update_endpoint, actor=self.request.user, endpoint=serializer.instance,
            **serializer.validated_data,
        )  # fmt: skip

    def perform_destroy(self, instance: WebhookEndpoint) -> None:
        call_service(services.delete_endpoint, actor=self.request.user, endpoint=instance)

    @extend_schema(
        request=None,
        responses={200: inline_serializer("WebhookSecret", {"secret": serializers.CharField()})},
    )
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request: Request, pk: Any = None) -> Response:
        """A new signing secret, in force at once for every later attempt; shown in this answer only."""
        secret = call_service(services.rotate_secret, actor=request.user, endpoint=self.get_object())
        return Response({"secret": secret})


class WebhookDeliveryViewSet(ScopedReadOnlyViewSet):
    """Deliveries to the caller's endpoints, newest first, each with its attempts (``?status=failed`` for
    those that gave up, ``?endpoint=<id>`` for one endpoint's)."""

    queryset = WebhookDelivery.objects.prefetch_related(
        Prefetch("attempt_log", queryset=WebhookAttempt.objects.order_by("number"))
    )
    serializer_class = WebhookDeliverySerializer
    operations = {"*": "webhook.manage"}
    filterset_fields = ["status", "event_type", "endpoint"]

    @extend_schema(request=None, responses={202: WebhookDeliverySerializer})
    @action(detail=True, methods=["post"])
    def redeliver(self, request: Request, pk: Any = None) -> Response:
        """Send a failed delivery once more (same event id); a delivered one is never sent again."""
        delivery = call_service(services.redeliver, actor=request.user, delivery=self.get_object())
        return Response(self.get_serializer(delivery).data, status=status.HTTP_202_ACCEPTED)

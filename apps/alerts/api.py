"""API of the alert exchange: what was sent to partners (read), and sending a target or a watchlist entry
(``POST /api/v1/alert-exports/``). The service checks the role (``alert.export``: supervisors) and the
agency first, as for the pages; the partners themselves use the TAXII server (``apps.alerts.taxii``)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.exceptions import PermissionDenied as ApiPermissionDenied
from rest_framework.exceptions import ValidationError as ApiValidationError
from rest_framework.response import Response

from apps.alerts import services
from apps.alerts.models import OutboundObject
from apps.compliance.services import purpose_of
from apps.core.api import ScopedViewSetMixin


class OutboundSerializer(serializers.ModelSerializer):
    partner = serializers.CharField(source="partner.name", read_only=True)
    sent_by = serializers.CharField(source="sent_by.username", read_only=True, default=None)

    class Meta:
        model = OutboundObject
        fields = ["id", "kind", "partner", "stix_id", "modified", "summary", "reason", "sent_by", "target",
                  "watchlist_entry", "added_at", "pushed_at", "attempts"]  # fmt: skip


class ExportSerializer(serializers.Serializer):
    partner = serializers.IntegerField(help_text="Id of a partner administration of your agency.")
    target = serializers.IntegerField(required=False, help_text="Id of a target shared with the partner.")
    watchlist_entry = serializers.IntegerField(
        required=False, help_text="Id of an entry of your agency's list shared with the partner."
    )
    reason = serializers.CharField(help_text="Why it goes to the partner (written to the access log).")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("target" in attrs) == ("watchlist_entry" in attrs):
            raise serializers.ValidationError("Name either a target or a watchlist entry.")
        return attrs


class ExportViewSet(ScopedViewSetMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Alerts, lookouts and sightings sent to your agency's partners; POST sends one."""

    queryset = OutboundObject.objects.select_related("partner", "sent_by")
    serializer_class = OutboundSerializer
    filterset_fields = {"kind": ["exact"], "partner": ["exact"]}
    ordering_fields = ("id", "added_at")

    def list(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        services.check_alert(request.user, "alert.view")
        return super().list(request, *args, **kwargs)

    @extend_schema(request=ExportSerializer, responses={201: OutboundSerializer})
    def create(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        from apps.targeting.models import Target
        from apps.watchlists.models import WatchlistEntry

        services.check_alert(request.user, "alert.export")
        data = ExportSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        purpose = purpose_of(request)
        extra = {"purpose": purpose.code} if purpose else {}
        try:
            partner = services.get_partner_for(request.user, values["partner"])
            if "target" in values:
                target = Target.objects.visible_to(request.user).filter(pk=values["target"]).first()
                if target is None:
                    raise Http404("Not found.")
                row = services.export_target(
                    actor=request.user, target=target, partner=partner, reason=values["reason"], **extra
                )
            else:
                entry = (
                    WatchlistEntry.objects.visible_to(request.user)
                    .filter(pk=values["watchlist_entry"])
                    .first()
                )
                if entry is None:
                    raise Http404("Not found.")
                row = services.export_entry(
                    actor=request.user, entry=entry, partner=partner, reason=values["reason"], **extra
                )
        except ValidationError as exc:
            raise ApiValidationError(
                exc.message_dict if hasattr(exc, "error_dict") else exc.messages
            ) from None
        except PermissionDenied as exc:
            raise ApiPermissionDenied(str(exc)) from None
        return Response(OutboundSerializer(row).data, status=status.HTTP_201_CREATED)

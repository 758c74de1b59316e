"""API for reference data and the caller's own membership."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import api_view
from rest_framework.request import Request
from rest_framework.response import Response

from apps.agencies.models import Agency, Membership, Port, PortCapacity
from apps.agencies.operations import OPERATIONS, membership_of
from apps.core.api import ScopedReadOnlyViewSet


class AgencySerializer(serializers.ModelSerializer):
    class Meta:
        model = Agency
        fields = ["id", "code", "name", "kind", "country"]


class PortCapacitySerializer(serializers.ModelSerializer):
    class Meta:
        model = PortCapacity
        fields = ["shift", "method", "slots"]


class PortSerializer(serializers.ModelSerializer):
    capacities = PortCapacitySerializer(many=True, read_only=True)

    class Meta:
        model = Port
        fields = ["id", "locode", "name", "mode", "iata_code", "timezone", "capacities"]


class MembershipSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username")
    agency = AgencySerializer()
    ports: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        many=True, read_only=True, slug_field="locode"
    )
    operations = serializers.SerializerMethodField()

    class Meta:
        model = Membership
        fields = ["username", "agency", "role", "title", "ports", "operations"]

    def get_operations(self, obj: Membership) -> list[str]:
        return sorted(op for op, roles in OPERATIONS.items() if obj.role in roles)


class AgencyViewSet(ScopedReadOnlyViewSet):
    queryset = Agency.objects.all()
    serializer_class = AgencySerializer
    operations = {"*": "reference.view"}
    filterset_fields = {"kind": ["exact"], "country": ["exact"]}
    ordering_fields = ("code", "name", "id")


class PortViewSet(ScopedReadOnlyViewSet):
    queryset = Port.objects.prefetch_related("capacities")
    serializer_class = PortSerializer
    lookup_field = "locode"
    operations = {"*": "reference.view"}
    filterset_fields = {"mode": ["exact"]}
    ordering_fields = ("locode", "name", "id")


@extend_schema(responses=MembershipSerializer)
@api_view(["GET"])
def me(request: Request) -> Response:
    """Who the caller is on the floor: agency, role, ports and the operations the role allows."""
    membership = Membership.objects.select_related("agency", "user").get(pk=membership_of(request.user).pk)
    return Response(MembershipSerializer(membership).data)

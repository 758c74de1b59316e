"""API for data sources."""

from rest_framework import serializers

from apps.core.api import ScopedReadOnlyViewSet
from apps.intake.models import DataSource


class DataSourceSerializer(serializers.ModelSerializer):
    owner_agency = serializers.SlugRelatedField(read_only=True, slug_field="code")

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

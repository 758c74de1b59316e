from django.contrib import admin

from apps.agencies.models import Agency, CentreConfiguration, Membership, Port, PortCapacity
from apps.core.admin import ScopedInlineMixin, ScopedModelAdmin


@admin.register(Agency)
class AgencyAdmin(ScopedModelAdmin):
    national_only = True  # reference data of the whole floor: the national centre keeps it
    list_display = ["code", "name", "kind", "country"]
    list_filter = ["kind"]
    search_fields = ["code", "name"]


class PortCapacityInline(ScopedInlineMixin, admin.TabularInline):
    model = PortCapacity
    extra = 0


@admin.register(Port)
class PortAdmin(ScopedModelAdmin):
    national_only = True
    list_display = ["locode", "name", "mode", "iata_code"]
    list_filter = ["mode"]
    search_fields = ["locode", "name"]
    inlines = [PortCapacityInline]


@admin.register(Membership)
class MembershipAdmin(ScopedModelAdmin):
    list_display = ["user", "agency", "role", "title"]
    list_filter = ["agency", "role"]
    search_fields = ["user__username", "user__first_name", "user__last_name"]
    filter_horizontal = ["ports"]


@admin.register(CentreConfiguration)
class CentreConfigurationAdmin(ScopedModelAdmin):
    list_display = ["operating_model", "national_agency", "updated_at"]
    national_only = True

    def has_add_permission(self, request) -> bool:
        return super().has_add_permission(request) and not CentreConfiguration.objects.exists()

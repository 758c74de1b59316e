from django.contrib import admin

from apps.agencies.models import Agency, CentreConfiguration, Membership, Port, PortCapacity


@admin.register(Agency)
class AgencyAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "country"]
    list_filter = ["kind"]
    search_fields = ["code", "name"]


class PortCapacityInline(admin.TabularInline):
    model = PortCapacity
    extra = 0


@admin.register(Port)
class PortAdmin(admin.ModelAdmin):
    list_display = ["locode", "name", "mode", "iata_code"]
    list_filter = ["mode"]
    search_fields = ["locode", "name"]
    inlines = [PortCapacityInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "agency", "role", "title"]
    list_filter = ["agency", "role"]
    search_fields = ["user__username", "user__first_name", "user__last_name"]
    filter_horizontal = ["ports"]


@admin.register(CentreConfiguration)
class CentreConfigurationAdmin(admin.ModelAdmin):
    list_display = ["operating_model", "national_agency", "updated_at"]

    def has_add_permission(self, request) -> bool:
        return not CentreConfiguration.objects.exists()

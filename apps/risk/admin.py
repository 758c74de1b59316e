"""Admin for the engine's settings (thresholds, random-control shares). Rules are managed on the risk pages."""

from django.contrib import admin

from apps.core.admin import ScopedModelAdmin
from apps.risk.models import RandomControlRate, RiskSettings


@admin.register(RiskSettings)
class RiskSettingsAdmin(ScopedModelAdmin):
    national_only = True
    list_display = [
        "yellow_threshold",
        "red_threshold",
        "nomination_threshold",
        "random_control_share",
        "updated_at",
    ]

    def has_add_permission(self, request) -> bool:
        return super().has_add_permission(request) and not RiskSettings.objects.exists()


@admin.register(RandomControlRate)
class RandomControlRateAdmin(ScopedModelAdmin):
    national_only = True
    list_display = ["port", "subject_kind", "share"]
    list_filter = ["subject_kind", "port"]

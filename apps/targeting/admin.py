"""Admin: read-mostly views of targets and their records (state changes go through the services)."""

from django.contrib import admin

from apps.core.admin import ScopedModelAdmin
from apps.targeting.models import JointOperation, Target, Transition


@admin.register(Target)
class TargetAdmin(ScopedModelAdmin):
    list_display = ["id", "risk_area", "state", "owner_agency", "port", "priority", "arrival_at"]
    list_filter = ["state", "risk_area", "owner_agency"]
    readonly_fields = [f.name for f in Target._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(Transition)
class TransitionAdmin(ScopedModelAdmin):
    list_display = ["target", "from_state", "to_state", "actor", "at"]

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(JointOperation)
class JointOperationAdmin(ScopedModelAdmin):
    list_display = ["name", "owner_agency", "starts_at", "ends_at"]

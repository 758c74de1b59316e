"""Admin: read-mostly views of targets and their records (state changes go through the services)."""

from django.contrib import admin

from apps.agencies.operations import membership_of
from apps.core.admin import ScopedModelAdmin
from apps.targeting.models import ExaminationFocus, JointOperation, Target, Transition


@admin.register(Target)
class TargetAdmin(ScopedModelAdmin):
    list_display = ["id", "risk_area", "state", "owner_agency", "port", "priority", "arrival_at"]
    list_filter = ["state", "risk_area", "owner_agency"]
    readonly_fields = [f.name for f in Target._meta.fields]
    #: What a target shared with the viewer's agency keeps from it: the subject (from a source it may not
    #: see), the joint operation (of agencies it is not in), the reasons (the owner's words) and whether it
    #: was drawn for random control (``random_control_told_to``: the owner's floor only) are shown on the
    #: target page as disclosure allows, never raw here.
    OWNER_ONLY = ("subject", "operation", "reasons", "random_control")

    def has_add_permission(self, request) -> bool:
        return False

    def _shared_only(self, request, obj) -> bool:
        membership = membership_of(request.user)
        return (
            obj is not None
            and not request.user.is_superuser
            and (membership is None or membership.agency_id != obj.owner_agency_id)
        )

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        if self._shared_only(request, obj):
            return [f for f in fields if f not in self.OWNER_ONLY]
        return fields

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        if self._shared_only(request, obj):
            return [f for f in fields if f not in self.OWNER_ONLY]
        return fields


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


@admin.register(ExaminationFocus)
class ExaminationFocusAdmin(ScopedModelAdmin):
    """The centre's words for what to look for per risk area (the start of every default instruction)."""

    national_only = True  # reference data of the whole floor: the national centre keeps it
    list_display = ["risk_area", "text", "updated_at"]

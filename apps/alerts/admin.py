"""Partners in the admin: an administrator of the owning agency configures each partner administration
(its agency, its system account here, its TAXII server and credentials there) and sees its status."""

from __future__ import annotations

from django.contrib import admin

from apps.alerts.models import IncomingAlert, OutboundObject, Partner
from apps.core.admin import ScopedModelAdmin


@admin.register(Partner)
class PartnerAdmin(ScopedModelAdmin):
    list_display = ["name", "agency", "status", "last_ok_at", "failures", "last_error"]
    readonly_fields = ["collection_id", "last_push_at", "last_poll_at", "last_ok_at", "last_error", "failures",
                       "next_attempt_at", "poll_cursor"]  # fmt: skip
    fields = ["name", "agency", "owner_agency", "account", "collection_id", "taxii_api_root", "taxii_collection",
              "auth", "username", "secret", "active", *readonly_fields[1:]]  # fmt: skip


@admin.register(IncomingAlert)
class IncomingAlertAdmin(ScopedModelAdmin):
    list_display = ["reference", "partner", "risk_area", "subject_kind", "status", "received_at"]
    list_filter = ["status", "risk_area"]
    readonly_fields = [f.name for f in IncomingAlert._meta.fields]

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(OutboundObject)
class OutboundObjectAdmin(ScopedModelAdmin):
    list_display = ["stix_id", "kind", "partner", "summary", "added_at", "pushed_at", "attempts"]
    readonly_fields = [f.name for f in OutboundObject._meta.fields]

    def has_add_permission(self, request, obj=None) -> bool:
        return False

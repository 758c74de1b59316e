"""Partners in the admin: an administrator of the owning agency configures each partner administration
(its agency, its system account here, its TAXII server and credentials there) and sees its status."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin

from apps.alerts.models import IncomingAlert, OutboundObject, Partner
from apps.core.admin import ScopedModelAdmin


class PartnerForm(forms.ModelForm):
    """The credential at the partner is write-only: typed in, stored encrypted, never rendered back."""

    new_secret = forms.CharField(
        label="Password or token at the partner", required=False, strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Stored encrypted and never shown again. Leave empty to keep the current one.",
    )  # fmt: skip
    clear_secret = forms.BooleanField(label="Remove the stored credential", required=False)
    taxii_api_root = forms.URLField(
        required=False, assume_scheme="https", label="TAXII API root",
        help_text="The partner's TAXII 2.1 API root URL.",
    )  # fmt: skip

    class Meta:
        model = Partner
        fields = ["name", "agency", "owner_agency", "account", "taxii_api_root", "taxii_collection", "auth",
                  "username", "active"]  # fmt: skip

    def save(self, commit: bool = True) -> Partner:
        partner = super().save(commit=False)
        if self.cleaned_data.get("new_secret"):
            partner.secret = self.cleaned_data["new_secret"]
        elif self.cleaned_data.get("clear_secret"):
            partner.secret = ""
        if commit:
            partner.save()
            self.save_m2m()
        return partner


@admin.register(Partner)
class PartnerAdmin(ScopedModelAdmin):
    form = PartnerForm
    list_display = ["name", "agency", "status", "last_ok_at", "failures", "last_error"]
    readonly_fields = ["collection_id", "credential", "last_push_at", "last_poll_at", "last_ok_at", "last_error",
                       "failures", "next_attempt_at", "poll_cursor"]  # fmt: skip
    fields = ["name", "agency", "owner_agency", "account", "collection_id", "taxii_api_root", "taxii_collection",
              "auth", "username", "credential", "new_secret", "clear_secret", "active",
              *readonly_fields[2:]]  # fmt: skip

    @admin.display(description="Credential at the partner")
    def credential(self, obj: Any) -> str:
        return "stored (encrypted)" if obj is not None and obj.has_secret else "none"


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

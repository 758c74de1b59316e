"""Webhooks in the admin: an agency's administrator registers endpoints for its system accounts (the
secret shown once), disables them, and sees every delivery with its attempts, failed ones first to hand."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from apps.agencies.roles import Role
from apps.core.admin import ScopedInlineMixin, ScopedModelAdmin, ShowsSecretOnce, visible_rows
from apps.core.requests import signed_in
from apps.integrations import services
from apps.integrations.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint


class WebhookEndpointForm(forms.ModelForm):
    url = forms.URLField(max_length=500, assume_scheme="https")
    events = forms.MultipleChoiceField(
        choices=[(name, f"{name}: {meaning}") for name, meaning in services.EVENT_TYPES.items()],
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["owner", "url", "description", "events", "is_active"]

    def clean_url(self) -> str:
        try:
            return services.check_url(self.cleaned_data["url"])
        except ValidationError as error:
            raise forms.ValidationError(error.messages) from None


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ShowsSecretOnce, ScopedModelAdmin):
    form = WebhookEndpointForm
    list_display = ["url", "owner", "events", "is_active", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["url", "description", "owner__username"]
    once_template = "admin/integrations/webhookendpoint/created.html"
    once_title = "Copy the webhook's signing secret"
    once_object_name = "endpoint"

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return [] if obj is None else ["owner"]  # an endpoint stays with the account it signs for

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "owner":
            accounts = get_user_model().objects.filter(membership__role=Role.SYSTEM, is_active=True)
            kwargs["queryset"] = visible_rows(request, accounts)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: WebhookEndpoint, form: Any, change: bool) -> None:
        data = form.cleaned_data
        try:
            if change:
                services.update_endpoint(
                    actor=signed_in(request), endpoint=obj, url=data["url"], events=data["events"],
                    description=data.get("description", ""), is_active=data.get("is_active", True),
                )  # fmt: skip
            else:
                endpoint, secret = services.create_endpoint(
                    actor=signed_in(request), owner=data["owner"], url=data["url"], events=data["events"],
                    description=data.get("description", ""),
                )  # fmt: skip
                if not data.get("is_active", True):
                    services.update_endpoint(actor=signed_in(request), endpoint=endpoint, is_active=False)
                obj.pk = endpoint.pk
                obj.refresh_from_db()
                self.show_secret_once(request, secret)
        except ValidationError as error:  # the form checked the URL and events; the account is checked here
            raise forms.ValidationError(error.messages) from None
        self._recheck(request, obj)


class WebhookAttemptInline(ScopedInlineMixin, admin.TabularInline):
    model = WebhookAttempt
    extra = 0
    can_delete = False
    fields = readonly_fields = ("number", "started_at", "duration_ms", "status_code", "error")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ScopedModelAdmin):
    """Deliveries are the record of what was posted: read here, never edited; a failed one can be sent
    once more. Not the body: it carries the instruction's intelligence, which an administrator may not
    read (``target.view`` is not his)."""

    list_display = ["event_id", "event_type", "endpoint", "instruction", "status", "attempts", "created_at",
                    "delivered_at", "last_status_code", "last_error"]  # fmt: skip
    list_filter = ["status", "event_type"]
    search_fields = ["event_id", "endpoint__url"]
    inlines = [WebhookAttemptInline]
    actions = ["redeliver"]
    readonly_fields = ("endpoint", "event_id", "event_type", "instruction", "status", "attempts", "created_at",
                       "next_attempt_at", "delivered_at", "last_status_code", "last_error")  # fmt: skip
    fields = readonly_fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description="Send the selected failed deliveries once more")
    def redeliver(self, request: HttpRequest, queryset: Any) -> None:
        count = 0
        for delivery in queryset.filter(status="failed"):
            services.redeliver(actor=signed_in(request), delivery=delivery)
            count += 1
        self.message_user(request, f"{count} delivery(ies) queued again.", messages.SUCCESS)

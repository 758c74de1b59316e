from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.http import HttpRequest
from django.utils import timezone

from apps.agencies import tokens
from apps.agencies.models import (
    Agency,
    ApiToken,
    CapacityDay,
    CentreConfiguration,
    Membership,
    Port,
    PortCapacity,
)
from apps.agencies.roles import Role
from apps.core.admin import ScopedInlineMixin, ScopedModelAdmin, ShowsSecretOnce, visible_rows


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


@admin.register(CapacityDay)
class CapacityDayAdmin(ScopedModelAdmin):
    """The capacity calendar: a day's slots per port, shift and method, over the weekly default."""

    national_only = True  # like ports and their weekly capacity: the national centre keeps the floor's plan
    list_display = ["date", "port", "shift", "method", "slots", "note"]
    list_filter = ["port", "shift", "method"]
    date_hierarchy = "date"
    search_fields = ["port__locode", "port__name", "note"]


@admin.register(Membership)
class MembershipAdmin(ScopedModelAdmin):
    list_display = ["user", "agency", "role", "title"]
    list_filter = ["agency", "role"]
    search_fields = ["user__username", "user__first_name", "user__last_name"]
    filter_horizontal = ["ports", "sources"]


@admin.register(CentreConfiguration)
class CentreConfigurationAdmin(ScopedModelAdmin):
    list_display = ["operating_model", "national_agency", "updated_at"]
    national_only = True

    def has_add_permission(self, request) -> bool:
        return super().has_add_permission(request) and not CentreConfiguration.objects.exists()

    def save_model(self, request, obj, form, change) -> None:
        """A switch of the operating model goes through the service that re-routes open work."""
        if change and "operating_model" in form.changed_data:
            from apps.targeting.operating_model import change_operating_model

            rerouted = change_operating_model(
                actor=request.user, operating_model=obj.operating_model, config=obj
            )
            request._ratc_rerouted = rerouted.summary()
            messages.info(request, rerouted.summary())
            return
        super().save_model(request, obj, form, change)

    def log_change(self, request, obj, message):
        """The admin's history of the configuration says what the switch re-routed."""
        if summary := getattr(request, "_ratc_rerouted", None):
            message = summary
        return super().log_change(request, obj, message)


class ApiTokenAddForm(forms.ModelForm):
    """A new token: the account (a system account of the agency), a name and an expiry."""

    class Meta:
        model = ApiToken
        fields = ["user", "name", "expires_at"]

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data  # what the model form's clean returns (the stubs say "or None")
        if not self.errors:
            try:
                tokens.validate_new(data["user"], data["name"].strip(), data["expires_at"])
            except forms.ValidationError as error:
                self.add_error(None, error)
        return data


@admin.register(ApiToken)
class ApiTokenAdmin(ShowsSecretOnce, ScopedModelAdmin):
    """API tokens of the agency's system accounts: made here (the secret shown once), listed with their
    last use, and revoked at once. Never edited, never deleted (the list is the record of who had access),
    and never shown: the table holds only a hash."""

    list_display = ["name", "user", "prefix_shown", "status", "created_at", "expires_at", "last_used_at",
                    "last_used_ip", "use_count"]  # fmt: skip
    list_filter = ["revoked_at"]
    search_fields = ["name", "user__username", "prefix"]
    actions = ["revoke"]
    once_template = "admin/agencies/apitoken/issued.html"
    once_title = "Copy the new API token"
    once_object_name = "token"
    readonly_fields = ["user", "name", "prefix_shown", "status", "created_at", "created_by", "expires_at",
                       "revoked_at", "revoked_by", "last_used_at", "last_used_ip", "use_count"]  # fmt: skip

    @admin.display(description="Token")
    def prefix_shown(self, obj: ApiToken) -> str:
        return f"{obj.prefix}…"

    @admin.display(description="Status")
    def status(self, obj: ApiToken) -> str:
        return obj.status

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        if obj is None:
            kwargs["form"] = ApiTokenAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ["user", "name", "expires_at"] if obj is None else self.readonly_fields

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return [] if obj is None else self.readonly_fields

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        return {"expires_at": timezone.now() + tokens.DEFAULT_LIFETIME}

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "user":
            people = get_user_model().objects.filter(membership__role=Role.SYSTEM, is_active=True)
            kwargs["queryset"] = visible_rows(request, people)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: ApiToken, form: Any, change: bool) -> None:
        if change:
            return  # nothing of a token is edited; revoking is the list's action
        issued = tokens.issue(
            user=obj.user, name=obj.name, expires_at=obj.expires_at, created_by=request.user
        )
        obj.pk = issued.token.pk
        obj.refresh_from_db()
        self.show_secret_once(request, issued.secret)
        self._recheck(request, obj)

    @admin.action(description="Revoke the selected tokens now")
    def revoke(self, request: HttpRequest, queryset: Any) -> None:
        count = 0
        for token in queryset.filter(revoked_at__isnull=True):
            tokens.revoke(token, by=request.user)
            count += 1
        self.message_user(request, f"{count} token(s) revoked.", messages.SUCCESS)

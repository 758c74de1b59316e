"""The admin, scoped by agency: a non-superuser administrator sees and edits only what his agency may see.

Every model admin of the project derives from :class:`ScopedModelAdmin` (inlines from
:class:`ScopedInlineMixin`). For a non-superuser:

- lists, change, delete and history pages read ``Model.objects.visible_to(user)``, the same method the
  pages and the API use; an object outside it answers like a missing one (the admin redirects to its
  index with "does not exist"), and ``has_view/change/delete_permission`` say no for it;
- foreign-key and many-to-many choices, and related list filters, offer only visible rows;
- a model without ``visible_to`` is superuser-only, unless its admin says otherwise: ``scope_q`` (a
  ``Q`` for the viewer's membership, for tables such as users and API tokens) or ``national_only``
  (installation-wide settings that only the national centre's administrators change);
- what is saved is checked again inside the admin's transaction: an object that would leave the
  administrator's scope (another agency as its owner) is refused and nothing is stored.

Superusers see everything: they run the installation, not an agency.

This module also registers the auth admins through the same base, so that a customs administrator lists
only his agency's people; API tokens (hashed, never readable) have their admin in apps/agencies/admin.py.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin
from django.contrib.admin import RelatedOnlyFieldListFilter
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Q
from django.http import HttpRequest
from django.template.response import TemplateResponse
from rest_framework.authtoken.models import TokenProxy

from apps.agencies.operations import membership_of

__all__ = [
    "ScopedInlineMixin",
    "ScopedModelAdmin",
    "scope_every_admin",
    "visible_rows",
]

ScopeQ = Callable[[Any], Q]

#: Row scopes for models that have no ``visible_to`` of their own but appear as choices in admin forms.
EXTRA_SCOPES: dict[type[models.Model], ScopeQ] = {}


def _is_root(request: HttpRequest) -> bool:
    return bool(request.user.is_active and request.user.is_superuser)


def visible_rows(
    request: HttpRequest, queryset: models.QuerySet, scope_q: ScopeQ | None = None
) -> models.QuerySet:
    """``queryset`` narrowed to what the requesting administrator may see (everything for a superuser)."""
    if _is_root(request):
        return queryset
    if hasattr(queryset, "visible_to"):
        return queryset.visible_to(request.user)
    scope_q = scope_q or EXTRA_SCOPES.get(queryset.model)
    membership = membership_of(request.user)
    if scope_q is None or membership is None:
        return queryset.none()
    return queryset.filter(scope_q(membership))


class ScopedInlineMixin:
    """Queryset and choices of an admin (or inline) scoped to the administrator's agency."""

    #: A ``Q`` for the viewer's membership, for a model without ``visible_to``.
    scope_q: ScopeQ | None = None
    #: Foreign keys to an agency that name the owner: a non-superuser may only choose his own agency.
    owner_fields: tuple[str, ...] = ("owner_agency", "agency")

    def get_queryset(self, request: HttpRequest) -> models.QuerySet:
        return self.scope(request, super().get_queryset(request))  # type: ignore[misc]

    def scope(self, request: HttpRequest, queryset: models.QuerySet) -> models.QuerySet:
        return visible_rows(request, queryset, self.scope_q)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if not _is_root(request) and "queryset" not in kwargs:
            kwargs["queryset"] = self._choices(db_field, request)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)  # type: ignore[misc]

    # ``request`` optional as in the auth GroupAdmin's signature (a base of GroupAdmin below); the admin
    # always passes it.
    def formfield_for_manytomany(
        self, db_field: Any, request: HttpRequest | None = None, **kwargs: Any
    ) -> Any:
        assert request is not None
        if not _is_root(request) and "queryset" not in kwargs:
            kwargs["queryset"] = visible_rows(request, db_field.remote_field.model._default_manager.all())
        return super().formfield_for_manytomany(db_field, request, **kwargs)  # type: ignore[misc]

    def _choices(self, db_field: Any, request: HttpRequest) -> models.QuerySet:
        related = db_field.remote_field.model
        rows = visible_rows(request, related._default_manager.all())
        if db_field.name in self.owner_fields and related._meta.label_lower == "agencies.agency":
            membership = membership_of(request.user)
            rows = rows.filter(pk=membership.agency_id if membership else None)
        return rows


class ShowsSecretOnce:
    """An admin whose "add" makes a secret (an API token, a webhook's signing key) that is shown on one page
    right after, and never again: not as a message, since messages are stored in the session.

    ``save_model`` calls :meth:`show_secret_once`; ``once_template`` renders it with the new object under
    ``once_object_name`` and the secret as ``secret``. The admin's views are ``never_cache``, so no browser
    cache keeps that page either.
    """

    once_template: str = ""
    once_title: str = ""
    once_object_name: str = "object"

    def show_secret_once(self, request: HttpRequest, secret: str) -> None:
        request._ratc_secret_once = secret  # type: ignore[attr-defined]  # read by response_add, then gone

    def response_add(self, request: HttpRequest, obj: Any, post_url_continue: Any = None) -> Any:
        secret = getattr(request, "_ratc_secret_once", None)
        if secret is None:
            return super().response_add(request, obj, post_url_continue)  # type: ignore[misc]
        context = {
            **self.admin_site.each_context(request),  # type: ignore[attr-defined]
            "title": self.once_title,
            self.once_object_name: obj,
            "secret": secret,
            "opts": self.model._meta,  # type: ignore[attr-defined]
        }
        return TemplateResponse(request, self.once_template, context)


class ScopedModelAdmin(ScopedInlineMixin, admin.ModelAdmin):
    """The base of every model admin of the project (see the module's docstring)."""

    #: Installation-wide settings: only superusers and administrators of the national agency.
    national_only: bool = False

    def _allowed_model(self, request: HttpRequest) -> bool:
        if _is_root(request):
            return True
        membership = membership_of(request.user)
        if membership is None:
            return False
        if self.national_only:
            from apps.agencies.models import CentreConfiguration

            national = CentreConfiguration.current().national_agency_id
            return national is not None and membership.agency_id == national
        return (
            hasattr(self.model._default_manager.all(), "visible_to")
            or self.scope_q is not None
            or self.model in EXTRA_SCOPES
        )

    def scope(self, request: HttpRequest, queryset: models.QuerySet) -> models.QuerySet:
        if not self._allowed_model(request):
            return queryset.none()
        if self.national_only:
            return queryset
        return super().scope(request, queryset)

    def _in_scope(self, request: HttpRequest, obj: Any) -> bool:
        if obj is None or _is_root(request):
            return True
        return self.get_queryset(request).filter(pk=obj.pk).exists()

    def _owned(self, request: HttpRequest, obj: Any) -> bool:
        """Seeing another agency's record (shared with ours) never lets us change or delete it."""
        owner = getattr(obj, "owner_agency_id", None)
        if obj is None or owner is None or _is_root(request):
            return True
        membership = membership_of(request.user)
        return membership is not None and owner == membership.agency_id

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._allowed_model(request) and super().has_module_permission(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return (
            self._allowed_model(request)
            and super().has_view_permission(request, obj)
            and self._in_scope(request, obj)
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._allowed_model(request) and super().has_add_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return (
            self._allowed_model(request)
            and super().has_change_permission(request, obj)
            and self._in_scope(request, obj)
            and self._owned(request, obj)
        )

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return (
            self._allowed_model(request)
            and super().has_delete_permission(request, obj)
            and self._in_scope(request, obj)
            and self._owned(request, obj)
        )

    def get_list_filter(self, request: HttpRequest) -> Any:
        """Related filters list only values found in the visible rows, not every row of the table."""
        filters = super().get_list_filter(request)
        if _is_root(request):
            return filters
        scoped = []
        for item in filters:
            if isinstance(item, str) and "__" not in item:
                field = self.model._meta.get_field(item)
                if field.is_relation:
                    item = (item, RelatedOnlyFieldListFilter)
            scoped.append(item)
        return scoped

    def _recheck(self, request: HttpRequest, obj: Any) -> None:
        # Inside the admin's transaction: an object saved out of the administrator's own scope (another
        # agency as owner, an operation his agency left) is refused, and the transaction rolls back.
        if _is_root(request) or self.national_only:
            return
        if not (self._in_scope(request, obj) and self._owned(request, obj)):
            raise PermissionDenied("This change would put the record outside your agency.")

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        self._recheck(request, obj)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        self._recheck(request, form.instance)


def scope_every_admin(site: admin.AdminSite) -> list[str]:
    """Put every registered admin that does not derive from :class:`ScopedModelAdmin` (a library's own,
    such as the sign-in throttle's) behind it: superuser-only unless its model has ``visible_to``.

    Called from ``CoreConfig.ready``, after the admin has imported every app's ``admin`` module, so that
    a new library cannot open an unscoped table to an agency's administrator. Returns what it wrapped.
    """
    wrapped = []
    for model, model_admin in list(site._registry.items()):
        if isinstance(model_admin, ScopedModelAdmin):
            continue
        cls = type(model_admin)
        scoped_cls = type(f"Scoped{cls.__name__}", (ScopedModelAdmin, cls), {"__module__": cls.__module__})
        site.unregister(model)
        site.register(model, scoped_cls)
        wrapped.append(model._meta.label)
    return wrapped


# --- people and groups ------------------------------------------------------------------------------------

User = get_user_model()


def _user_scope(membership: Any) -> Q:
    # People of the agency, and accounts not yet given to any agency (so that an administrator can
    # create one and then give it a membership). Nobody else's names, and never a superuser, whose
    # password an agency's administrator must not be able to reset.
    people = Q(membership__agency_id=membership.agency_id) | Q(membership__isnull=True)
    return people & Q(is_superuser=False)


EXTRA_SCOPES[User] = _user_scope

for _model in (User, Group, TokenProxy):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)


@admin.register(User)
class UserAdmin(ScopedModelAdmin, DjangoUserAdmin):
    """Users of the administrator's agency; privileges stay with superusers."""

    scope_q = staticmethod(_user_scope)
    PRIVILEGES = ("is_superuser", "groups", "user_permissions")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = list(super().get_readonly_fields(request, obj))
        return fields if _is_root(request) else [*fields, *self.PRIVILEGES]


@admin.register(Group)
class GroupAdmin(ScopedModelAdmin, DjangoGroupAdmin):
    """Agency groups carry cross-agency grants: superusers only (no ``visible_to``, no ``scope_q``)."""


# --- API tokens -------------------------------------------------------------------------------------------


# API tokens are ``apps.agencies.models.ApiToken`` (hashed, named, expiring; admin in apps/agencies/admin.py).
# DRF's clear-text tokens no longer authenticate, so their admin (registered by ``rest_framework.authtoken``)
# is taken off above, and no one makes one there.

"""Scoping: the one way a queryset is narrowed to what a user's agency may see.

Every model a user can reach has ``objects.visible_to(user)``. Pages, API views, exports, counts, form
choices and websocket subscriptions use it; nothing filters by agency by hand. Agency scoping is a
plain foreign-key filter plus, for explicit cross-agency grants, a subquery on the model's
django-guardian direct-foreign-key table.

Grants are django-guardian object permissions given to an agency's group (``Agency.group``), never to
people; people are not members of that group, and a member sees what his agency was granted. Grants are
read here only, so that a grant means the same thing on every page, in the API, exports and sockets:
the objects granted to a group from guardian's direct-foreign-key table of the model (``granted_pks``,
the subquery ``get_objects_for_group`` builds, without its detour), the groups holding a grant on an
object through guardian's ``get_groups_with_perms``.
"""

from __future__ import annotations

from functools import cache
from typing import Any, Protocol, TypeVar, runtime_checkable

from django.core.exceptions import ObjectDoesNotExist
from django.db import models
from django.db.models import Q
from django.http import Http404

from apps.agencies.operations import check, membership_of

M = TypeVar("M", bound=models.Model)


@runtime_checkable
class Scoped(Protocol):
    """A model class that says which of its rows a membership sees (a classmethod on each scoped model)."""

    def visibility_q(self, membership: Any) -> Q: ...


class ScopedQuerySet(models.QuerySet):
    """A queryset whose model defines ``visibility_q(membership) -> Q``."""

    def visible_to(self, user: Any) -> ScopedQuerySet:
        membership = membership_of(user)
        if membership is None:
            return self.none()
        model = self.model
        assert isinstance(model, Scoped), f"{model.__name__} has no visibility_q"
        return self.filter(model.visibility_q(membership))


ScopedManager = models.Manager.from_queryset(ScopedQuerySet)


def granted_pks(model: type[models.Model], membership: Any, codename: str | None = None) -> models.QuerySet:
    """Primary keys of ``model`` rows granted to the member's agency group (``view_<model>`` by default).

    A lazy subquery for ``Q(pk__in=...)``: the grants are read in the same SQL query as the page's rows.
    It selects what ``get_objects_for_group(group, codename, model, any_perm=True,
    accept_global_perms=False)`` selects, the granted keys of the model's direct-foreign-key table, for
    this group and this permission of this model's content type, without wrapping them in a second
    subquery over the model's own table (a grant's row goes with its object: the key is a foreign key)
    nor building guardian's four querysets on every scoped query. A model-wide permission of the group
    is no grant, as there.
    """
    from django.contrib.contenttypes.models import ContentType

    return (
        _direct_grant_table(model)
        .objects.filter(
            group_id=membership.agency.group_id,
            permission__content_type=ContentType.objects.get_for_model(model),  # cached by Django
            permission__codename=codename or f"view_{model._meta.model_name}",
        )
        .values_list("content_object_id", flat=True)
    )


def agencies_granted(obj: models.Model, codename: str | None = None) -> models.QuerySet:
    """The agencies whose group holds a grant on ``obj`` (``view_<model>`` by default), as a lazy queryset."""
    from guardian.shortcuts import get_groups_with_perms

    from apps.agencies.models import Agency

    _direct_grant_table(type(obj))
    groups = get_groups_with_perms(obj, only_with_perms_in=[codename or f"view_{obj._meta.model_name}"])
    # Without attach_perms guardian returns a queryset of groups; its annotation says "Group | dict".
    return Agency.objects.filter(group__in=groups)  # type: ignore[misc]


@cache
def _direct_grant_table(model: type[models.Model]) -> Any:
    """Guardian's direct-foreign-key group permission table of ``model``: grants live in a table per
    model, as the generic table is slow at scale, and a model without its own table would silently fall
    back to it. Read from the models' metadata once per model."""
    from guardian.models import GroupObjectPermissionBase
    from guardian.utils import get_group_obj_perms_model

    # guardian reads the class of an instance and takes a class as is; its annotation says instance only.
    perms_model = get_group_obj_perms_model(model)  # type: ignore[arg-type]
    assert issubclass(perms_model, GroupObjectPermissionBase)  # the generic table or a direct one
    if perms_model.objects.is_generic():
        raise TypeError(f"{model.__name__} has no guardian direct-foreign-key group permission table")
    return perms_model


class AgencyOwned(models.Model):
    """An object owned by one agency; others see it only through an explicit grant to their agency."""

    owner_agency = models.ForeignKey("agencies.Agency", on_delete=models.PROTECT, related_name="+")

    objects = ScopedManager()

    class Meta:
        abstract = True

    @classmethod
    def visibility_q(cls, membership: Any) -> Q:
        return Q(owner_agency_id=membership.agency_id) | Q(pk__in=granted_pks(cls, membership))


def get_object_for(
    user: Any, queryset: models.QuerySet[M] | type[M], *, operation: str | None = None, **lookup: Any
) -> M:
    """The object matching ``lookup`` if the user may see it, else 404; 403 only when visible but not allowed.

    "Outside your scope" and "does not exist" give the same answer, so an outsider learns nothing.
    """
    if isinstance(queryset, type):
        queryset = queryset._default_manager.all()
    assert isinstance(queryset, ScopedQuerySet), f"{queryset.model.__name__} is not scoped"
    try:
        obj = queryset.visible_to(user).get(**lookup)
    # get() raises only the model's own DoesNotExist, a subclass of ObjectDoesNotExist.
    except (ObjectDoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404("Not found.") from None
    if operation is not None:
        check(user, operation, obj)
    return obj

"""Scoping: the one way a queryset is narrowed to what a user's agency may see.

Every model a user can reach has ``objects.visible_to(user)``. Pages, API views, exports, counts, form
choices and websocket subscriptions use it; nothing filters by agency by hand. Agency scoping is a
plain foreign-key filter plus, for explicit cross-agency grants, a subquery on the model's
django-guardian direct-foreign-key table.

Grants are django-guardian object permissions given to an agency's group (``Agency.group``), never to
people; people are not members of that group, and a member sees what his agency was granted. Grants are
read here only, through guardian's public API (``get_objects_for_group``, ``get_groups_with_perms``),
so that a grant means the same thing on every page, in the API, exports and sockets.
"""

from __future__ import annotations

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
    """
    from guardian.shortcuts import get_objects_for_group

    _require_direct_grant_table(model)
    # ``any_perm``: with one permission "any" and "all" agree, and only guardian's "any" path stays a
    # subquery (its "all of several" path reads the grants into Python). ``accept_global_perms``: a
    # model-wide permission of the group is no grant, and asking for one would cost a query.
    return get_objects_for_group(
        membership.agency.group,
        codename or f"view_{model._meta.model_name}",
        model,
        any_perm=True,
        accept_global_perms=False,
    ).values("pk")


def agencies_granted(obj: models.Model, codename: str | None = None) -> models.QuerySet:
    """The agencies whose group holds a grant on ``obj`` (``view_<model>`` by default), as a lazy queryset."""
    from guardian.shortcuts import get_groups_with_perms

    from apps.agencies.models import Agency

    _require_direct_grant_table(type(obj))
    groups = get_groups_with_perms(obj, only_with_perms_in=[codename or f"view_{obj._meta.model_name}"])
    # Without attach_perms guardian returns a queryset of groups; its annotation says "Group | dict".
    return Agency.objects.filter(group__in=groups)  # type: ignore[misc]


def _require_direct_grant_table(model: type[models.Model]) -> None:
    """Grants live in a direct-foreign-key table per model: guardian's generic table is slow at scale,
    and a model without its own table would silently fall back to it."""
    from guardian.models import GroupObjectPermissionBase
    from guardian.utils import get_group_obj_perms_model

    # guardian reads the class of an instance and takes a class as is; its annotation says instance only.
    perms_model = get_group_obj_perms_model(model)  # type: ignore[arg-type]
    assert issubclass(perms_model, GroupObjectPermissionBase)  # the generic table or a direct one
    if perms_model.objects.is_generic():
        raise TypeError(f"{model.__name__} has no guardian direct-foreign-key group permission table")


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

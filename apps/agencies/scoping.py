"""Scoping: the one way a queryset is narrowed to what a user's agency may see.

Every model a user can reach has ``objects.visible_to(user)``. Pages, API views, exports, counts, form
choices and websocket subscriptions use it; nothing filters by agency by hand. Agency scoping is a
plain foreign-key filter plus, for explicit cross-agency grants, a subquery on the model's
django-guardian direct-foreign-key table (given to agency groups).
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.db import models
from django.db.models import Q
from django.http import Http404

from apps.agencies.operations import check, membership_of

M = TypeVar("M", bound=models.Model)


class ScopedQuerySet(models.QuerySet):
    """A queryset whose model defines ``visibility_q(membership) -> Q``."""

    def visible_to(self, user: Any) -> ScopedQuerySet:
        membership = membership_of(user)
        if membership is None:
            return self.none()
        return self.filter(self.model.visibility_q(membership))


ScopedManager = models.Manager.from_queryset(ScopedQuerySet)


def granted_pks(model: type[models.Model], membership: Any, codename: str | None = None) -> models.QuerySet:
    """Primary keys of ``model`` rows granted to the member's agency group through guardian."""
    from guardian.models import GroupObjectPermissionBase

    grant_model = next(
        (
            rel.related_model
            for rel in model._meta.related_objects
            if isinstance(rel.related_model, type)
            and issubclass(rel.related_model, GroupObjectPermissionBase)
        ),
        None,
    )
    if grant_model is None:
        raise TypeError(f"{model.__name__} has no guardian direct-foreign-key group permission table")
    codename = codename or f"view_{model._meta.model_name}"
    return grant_model.objects.filter(
        group_id=membership.agency.group_id, permission__codename=codename
    ).values("content_object_id")


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
    try:
        obj = queryset.visible_to(user).get(**lookup)
    except (queryset.model.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404("Not found.") from None
    if operation is not None:
        check(user, operation, obj)
    return obj

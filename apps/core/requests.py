"""The request a signed-in view receives, for the type checker.

Behind ``login_required`` (and the API's authenticated permission) ``request.user`` is a ``User`` row,
never ``AnonymousUser``; annotating such views with :class:`AuthedRequest` says so once, instead of
narrowing ``request.user`` in every view before it is passed to a service as the actor; where the
annotation cannot go, :func:`signed_in` narrows it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db.models import BigIntegerField, QuerySet
from django.db.models.expressions import RawSQL
from django.http import HttpRequest
from rest_framework.request import Request

if TYPE_CHECKING:
    from apps.agencies.models import Membership


class AuthedRequest(HttpRequest):
    """An ``HttpRequest`` whose user has signed in (only ever used as an annotation)."""

    user: User
    #: The user's membership, or None (``apps.agencies.middleware``, lazily).
    membership: Membership | None


def signed_in(request: HttpRequest | Request) -> User:
    """The request's user where only a signed-in user arrives (the admin, API views behind ``IsMember``),
    for the places that cannot be annotated with :class:`AuthedRequest` (overridden methods). Refuses an
    anonymous request rather than passing it on as an actor."""
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied("Sign in first.")
    return user


#: Where a view leaves the route's object it loaded through its scope (:func:`note_object`); the
#: personal-data gate (``apps.compliance.gate``) reads it after the view.
OBJECT_ATTR = "_personal_data_object"


def note_object(request: HttpRequest | Request, obj: object) -> None:
    """For a view that loaded the route's object through its scope: the access log names the data's
    owner from it (and its subject, when loaded with it) rather than reading both again. Kept here, in
    core, because the API's base view (``apps.core.api``) notes its objects and may not import the gate."""
    setattr(getattr(request, "_request", request), OBJECT_ATTR, obj)


#: Where the personal-data gate leaves, for a route that logs the view of one object, the SQL that takes
#: the access-log entry's key from its table's sequence (PostgreSQL only; ``apps.compliance.chain``).
ACCESS_KEY_SQL_ATTR = "_personal_data_key_sql"
#: The annotation, on the object loaded with :func:`drawing_access_key`, that holds that key.
ACCESS_KEY = "ratc_access_log_key"

Q = TypeVar("Q", bound=QuerySet)


def drawing_access_key(request: HttpRequest | Request, queryset: Q) -> Q:
    """``queryset`` that also takes the key of the access-log entry the gate writes after the view, when
    the gate asked for one: the object's own query brings it, instead of a ``SELECT nextval`` of the
    log's own. Only for the query that loads the route's one object (a key is taken per row returned;
    one not used leaves a gap in the keys, as a failed INSERT does, and the chain's ``seq`` none)."""
    sql = getattr(getattr(request, "_request", request), ACCESS_KEY_SQL_ATTR, None)
    if sql is None:
        return queryset
    # The SQL is ``next_key_sql``'s, made from the models' metadata: nothing of the request is in it.
    key = RawSQL(sql, (), output_field=BigIntegerField())  # noqa: S611
    return queryset.annotate(**{ACCESS_KEY: key})

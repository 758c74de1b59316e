"""The request a signed-in view receives, for the type checker.

Behind ``login_required`` (and the API's authenticated permission) ``request.user`` is a ``User`` row,
never ``AnonymousUser``; annotating such views with :class:`AuthedRequest` says so once, instead of
narrowing ``request.user`` in every view before it is passed to a service as the actor; where the
annotation cannot go, :func:`signed_in` narrows it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
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

"""The API's conventions that DRF loads from ``REST_FRAMEWORK``: cursor pagination, filters that cannot
widen a scope, throttles per token or user, and the exceptions of conditional requests.

Nothing here imports a model at import time: DRF imports these classes while settings are read.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django_filters import rest_framework as filters
from rest_framework import exceptions, status
from rest_framework.pagination import CursorPagination
from rest_framework.throttling import SimpleRateThrottle

from apps.core.problems import QueryParameterError

__all__ = [
    "ApiCursorPagination",
    "PreconditionFailed",
    "ScopedFilterBackend",
    "ScopedFilterSet",
    "StaleVersion",
    "TokenRateThrottle",
    "UserRateThrottle",
    "default_ordering",
]


class StaleVersion(exceptions.APIException):
    """The service refused a change made against an old version: 409, or 412 under ``If-Match``."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "It was changed by someone else; reload it and try again."
    default_code = "stale_version"


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = "If-Match does not match the current version; reload it and try again."
    default_code = "precondition_failed"


# --- Pagination -----------------------------------------------------------------------------------


def default_ordering(view: Any, queryset: Any) -> tuple[str, ...]:
    """The order a list is walked in when the client asks for none: the view's ``ordering``, else the
    queryset's own ``order_by``, else the model's ``Meta.ordering``, else newest first (``-pk``).

    Cursor pagination needs plain field names; an expression or a related lookup falls back to ``-pk``.
    """
    for candidate in (
        getattr(view, "ordering", None),
        tuple(queryset.query.order_by),
        tuple(queryset.model._meta.ordering),
    ):
        if not candidate:
            continue
        ordering = (candidate,) if isinstance(candidate, str) else tuple(candidate)
        if all(isinstance(f, str) and "__" not in f and f.lstrip("-") != "?" for f in ordering):
            return ordering
    return ("-pk",)


class ApiCursorPagination(CursorPagination):
    """Every list is walked with an opaque ``cursor`` (``next``/``previous`` links): stable while rows are
    added, unlike offsets, and no ``COUNT(*)`` over a large scope. ``page_size`` up to ``max_page_size``."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
    ordering = "-pk"
    # The cursor holds the first ordering field's value and how many rows with that value were already
    # sent. One intake run stamps thousands of subjects with one ``received_at``: DRF's cap of 1000 would
    # make the walk repeat rows past it. 100 000 still bounds what a forged cursor can make the database skip.
    offset_cutoff = 100_000

    def get_ordering(self, request: Any, queryset: Any, view: Any = None) -> tuple[str, ...]:
        # The paginator is made per view instance, so setting the default here is per request.
        self.ordering = default_ordering(view, queryset)
        return super().get_ordering(request, queryset, view)


# --- Filters --------------------------------------------------------------------------------------


class ScopedFilterSet(filters.FilterSet):
    """A filterset that can only narrow the view's ``visible_to`` queryset.

    A relation is filtered by its id as a plain number, not a model choice: a choice field would check
    the id against every row of the related table and answer "not a valid choice" for a missing id but
    an empty list for another agency's, telling one from the other.
    """

    @classmethod
    def filter_for_lookup(cls, field: Any, lookup_type: str) -> tuple[type, dict[str, Any]]:
        if field.is_relation and (field.many_to_one or field.one_to_one) and lookup_type == "exact":
            return filters.NumberFilter, {}
        if field.is_relation and (field.many_to_one or field.one_to_one) and lookup_type == "in":
            return filters.BaseInFilter, {}
        return super().filter_for_lookup(field, lookup_type)


class ScopedFilterBackend(filters.DjangoFilterBackend):
    """``DjangoFilterBackend`` over :class:`ScopedFilterSet`; a bad value is a problem naming the parameter."""

    filterset_base = ScopedFilterSet

    def filter_queryset(self, request: Any, queryset: Any, view: Any) -> Any:
        filterset = self.get_filterset(request, queryset, view)
        if filterset is None:
            return queryset
        if not filterset.is_valid() and self.raise_exception:
            raise QueryParameterError({k: list(v) for k, v in filterset.errors.items()})
        return filterset.qs


# --- Throttles ------------------------------------------------------------------------------------


class _PerCallerThrottle(SimpleRateThrottle):
    """One bucket per caller, with the rate read from ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]``."""

    def get_rate(self) -> str | None:
        # Read at each request (not at class definition) so that settings overrides apply in tests.
        return settings.REST_FRAMEWORK.get("DEFAULT_THROTTLE_RATES", {}).get(self.scope)

    def __init__(self) -> None:
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)


class TokenRateThrottle(_PerCallerThrottle):
    """Per API token (``apps.agencies.tokens``): two tokens of one system account have a bucket each."""

    scope = "token"

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        token = request.auth
        if token is None or not hasattr(token, "pk"):
            return None  # a session: UserRateThrottle counts it
        return self.cache_format % {"scope": self.scope, "ident": token.pk}


class UserRateThrottle(_PerCallerThrottle):
    """Per signed-in person (session); an anonymous caller by address (it gets 401/403 anyway)."""

    scope = "user"

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        if request.auth is not None and hasattr(request.auth, "pk"):
            return None  # a token: TokenRateThrottle counts it
        authenticated = request.user and request.user.is_authenticated
        ident = request.user.pk if authenticated else self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}

"""The API's conventions that DRF loads from ``REST_FRAMEWORK``: cursor pagination, filters that cannot
widen a scope, throttles per token or user, and the exceptions of conditional requests.

Nothing here imports a model at import time: DRF imports these classes while settings are read.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django_filters import rest_framework as filters
from rest_framework import exceptions, status
from rest_framework.exceptions import NotFound
from rest_framework.pagination import CursorPagination
from rest_framework.throttling import SimpleRateThrottle

from apps.core.problems import QueryParameterError

__all__ = [
    "INT64_MAX",
    "INT64_MIN",
    "MAX_UTC_OFFSET",
    "ApiCursorPagination",
    "NumberInFilter",
    "PreconditionFailed",
    "ScopedFilterBackend",
    "ScopedFilterSet",
    "StaleVersion",
    "TokenRateThrottle",
    "UserRateThrottle",
    "default_ordering",
    "to_utc",
]

#: The signed 64-bit range of a ``bigint`` (PostgreSQL) or an SQLite integer: a number beyond it is not an
#: id or a count of ours, and binding it raises (``OverflowError`` on SQLite) instead of matching nothing.
INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
#: PostgreSQL refuses a UTC offset of 16 hours or more ("time zone displacement out of range"), although
#: ISO 8601 and Python allow up to 24; no real zone is beyond ±14:00.
MAX_UTC_OFFSET = dt.timedelta(hours=15, minutes=59)


def to_utc(value: dt.datetime) -> dt.datetime:
    """An aware date-time in UTC; ``ValueError`` for an offset beyond ±15:59 or a time UTC cannot hold."""
    offset = value.utcoffset()
    if offset is not None and abs(offset) > MAX_UTC_OFFSET:
        raise ValueError("The UTC offset must be between -15:59 and +15:59.")
    if offset is None:
        return value
    try:
        return value.astimezone(dt.UTC)
    except OverflowError as exc:  # 0001-01-01T00:00+01:00 is in year 0 in UTC
        raise ValueError("The date-time is out of range in UTC.") from exc


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
    ordering: str | list[str] | tuple[str, ...] = "-pk"  # as CursorPagination declares it
    # The cursor holds the first ordering field's value and how many rows with that value were already
    # sent. One intake run stamps thousands of subjects with one ``received_at``: DRF's cap of 1000 would
    # make the walk repeat rows past it. 100 000 still bounds what a forged cursor can make the database skip.
    offset_cutoff = 100_000

    def get_ordering(self, request: Any, queryset: Any, view: Any = None) -> tuple[str, ...]:
        # The paginator is made per view instance, so setting the default here is per request.
        self.ordering = default_ordering(view, queryset)
        return super().get_ordering(request, queryset, view)

    def decode_cursor(self, request: Any) -> Any:
        # DRF answers a cursor it cannot read with 404, as if the list did not exist: it is the client's
        # parameter that is wrong, so 400 naming it, like any other invalid query parameter.
        try:
            return super().decode_cursor(request)
        except NotFound:
            raise _bad_cursor() from None

    def paginate_queryset(self, queryset: Any, request: Any, view: Any = None) -> Any:
        cursor = self.decode_cursor(request)
        if cursor is not None and cursor.position is not None:
            # A forged cursor carries any position; the database must not be the one to refuse it (a
            # 500, or an aborted transaction on PostgreSQL).
            ordering = self.get_ordering(request, queryset, view)
            _check_position(queryset.model, ordering[0].lstrip("-"), cursor.position)
        return super().paginate_queryset(queryset, request, view)


def _bad_cursor() -> QueryParameterError:
    return QueryParameterError({"cursor": ["Invalid cursor: use the next or previous link of a page."]})


def _check_position(model: Any, field_name: str, position: str) -> None:
    """The cursor's position must be a value of the ordering field that the database can compare."""
    try:
        field = model._meta.pk if field_name == "pk" else model._meta.get_field(field_name)
    except FieldDoesNotExist:
        return
    try:
        value = field.to_python(position)
        if isinstance(value, int) and not INT64_MIN <= value <= INT64_MAX:
            raise ValueError(value)
        if isinstance(value, dt.datetime):
            to_utc(value)
    except (DjangoValidationError, ValueError, TypeError, OverflowError):
        raise _bad_cursor() from None


# --- Filters --------------------------------------------------------------------------------------


class NumberInFilter(filters.BaseInFilter, filters.NumberFilter):
    """``?field__in=1,2,3``: each item a number (bounded like every number filter)."""


class _UtcDateTimeField:
    """Mixed into a filter's date-time form field: a valid ISO 8601 date-time the database can take.

    Converted to UTC, so the database never sees the client's offset; an offset beyond ±15:59 (valid ISO
    8601, but PostgreSQL refuses it) is an invalid value, not a server error.
    """

    def to_python(self, value: Any) -> Any:
        parsed = super().to_python(value)  # type: ignore[misc]
        if isinstance(parsed, dt.datetime):
            try:
                return to_utc(parsed)
            except ValueError as exc:
                raise DjangoValidationError(str(exc), code="invalid") from None
        return parsed


def _bounded_field_class(field_class: type) -> type:
    """``field_class`` with the checks every filter value needs before it reaches the database."""
    if issubclass(field_class, forms.DateTimeField) and not issubclass(field_class, _UtcDateTimeField):
        return type(f"Utc{field_class.__name__}", (_UtcDateTimeField, field_class), {})
    return field_class


class ScopedFilterSet(filters.FilterSet):
    """A filterset that can only narrow the view's ``visible_to`` queryset.

    A relation is filtered by its id as a plain number, not a model choice: a choice field would check
    the id against every row of the related table and answer "not a valid choice" for a missing id but
    an empty list for another agency's, telling one from the other.

    Every value is checked before it reaches the database, whichever filters a viewset declares: a number
    within the signed 64-bit range, a date-time with a UTC offset PostgreSQL accepts (then in UTC).
    Otherwise the database refuses it (a 500) where the client deserves a 400 naming the parameter.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for filter_ in self.filters.values():  # deep copies of the class's filters: safe to adjust
            if isinstance(filter_, filters.NumberFilter):
                filter_.extra.setdefault("min_value", Decimal(INT64_MIN))
                filter_.extra.setdefault("max_value", Decimal(INT64_MAX))
            filter_.field_class = _bounded_field_class(filter_.field_class)
            filter_.__dict__.pop("_field", None)  # a form field built before (the schema) is built anew

    @classmethod
    def filter_for_lookup(cls, field: Any, lookup_type: str) -> tuple[type, dict[str, Any]]:
        if field.is_relation and (field.many_to_one or field.one_to_one) and lookup_type == "exact":
            return filters.NumberFilter, {}
        if field.is_relation and (field.many_to_one or field.one_to_one) and lookup_type == "in":
            numeric = field.target_field.get_internal_type().endswith(("IntegerField", "AutoField"))
            return (NumberInFilter if numeric else filters.BaseInFilter), {}
        return super().filter_for_lookup(field, lookup_type)


_AUTO_FILTERSETS: dict[tuple[type, type], Any] = {}


def _asked(filterset_class: Any, params: Any) -> bool:
    """Whether a request with query ``params`` gets anything from ``filterset_class`` but the queryset
    itself: some parameter names one of its filters (``name``, or ``name_<suffix>`` for the range
    widgets), or one of them is required. Otherwise every filter sees an empty value and returns the
    queryset as it is, and the form, its fields and the deep copies of the filters are work for nothing.
    """
    names = filterset_class.base_filters
    if any(f.extra.get("required") for f in names.values()):
        return True
    return any(key == name or key.startswith(f"{name}_") for key in params for name in names)


class ScopedFilterBackend(filters.DjangoFilterBackend):
    """``DjangoFilterBackend`` over :class:`ScopedFilterSet`; a bad value is a problem naming the parameter."""

    filterset_base = ScopedFilterSet

    def get_filterset_class(self, view: Any, queryset: Any = None) -> Any:
        # django-filter builds a new ``AutoFilterSet`` class from ``filterset_fields`` (a class attribute
        # of every viewset here) on every request; it is the same class each time for one view and model.
        if getattr(view, "filterset_class", None) or queryset is None:
            return super().get_filterset_class(view, queryset)
        key = (type(view), queryset.model)
        if key not in _AUTO_FILTERSETS:
            _AUTO_FILTERSETS[key] = super().get_filterset_class(view, queryset)
        return _AUTO_FILTERSETS[key]

    def filter_queryset(self, request: Any, queryset: Any, view: Any) -> Any:
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is None or not _asked(filterset_class, request.query_params):
            return queryset  # what the filterset would answer when none of its parameters is given
        filterset = self.get_filterset(request, queryset, view)
        if not filterset.is_valid() and self.raise_exception:
            raise QueryParameterError({k: list(v) for k, v in filterset.errors.items()})
        return filterset.qs


# --- Throttles ------------------------------------------------------------------------------------


class _PerCallerThrottle(SimpleRateThrottle):
    """One bucket per caller, with the rate read from ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]``."""

    def get_rate(self) -> str | None:
        # Read at each request (not at class definition) so that settings overrides apply in tests.
        rates = settings.REST_FRAMEWORK.get("DEFAULT_THROTTLE_RATES", {})
        assert isinstance(rates, dict)  # the settings' dict of mixed values types each as object
        return rates.get(self.scope)

    def __init__(self) -> None:
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)

    def allow_request(self, request: Any, view: Any) -> bool:
        """DRF's sliding window, with Redis in one round trip (``_WINDOW``) instead of a GET and a SET of
        the pickled list of times; DRF's own code with any other cache (tests on SQLite, no Redis)."""
        from apps.core.events import redis_client

        found = redis_client() if self.rate is not None else None
        if found is None:
            return bool(super().allow_request(request, view))
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        client, backend = found
        self.now = self.timer()
        key = backend.make_and_validate_key(_WINDOW_PREFIX + self.key)
        allowed, count, oldest = _window_script(client)(
            keys=[key], args=[repr(self.now), self.duration, self.num_requests], client=client
        )
        # What DRF's ``wait`` reads: how many times the window holds and the oldest of them.
        self.history = [float(oldest)] * int(count) if oldest is not None else []
        return bool(allowed)


#: The caller's times of the last ``duration`` seconds, newest first, as a Redis list (DRF keeps the same
#: list pickled under its cache key): drop the times that left the window, refuse when ``limit`` remain,
#: else add now. One script, so two requests of one caller at once cannot both take the last place.
_WINDOW = """
local key, now, duration, limit = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local oldest = redis.call('LINDEX', key, -1)
while oldest and tonumber(oldest) <= now - duration do
  redis.call('RPOP', key)
  oldest = redis.call('LINDEX', key, -1)
end
local count = redis.call('LLEN', key)
if count >= limit then
  return {0, count, oldest}
end
redis.call('LPUSH', key, ARGV[1])
redis.call('EXPIRE', key, duration)
return {1, count + 1, redis.call('LINDEX', key, -1)}
"""
#: Not DRF's key: its value there is a pickled list, not a Redis list.
_WINDOW_PREFIX = "rate:"
_window: Any = None


def _window_script(client: Any) -> Any:
    """The script's handle (its SHA computed once per process; sent by ``EVALSHA``, by ``EVAL`` after a
    Redis restart forgot it)."""
    global _window
    if _window is None:
        _window = client.register_script(_WINDOW)
    return _window


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

"""Base pieces for API views: every queryset goes through ``visible_to``, each action names its operation,
and every viewset built on :class:`ScopedViewSetMixin` gets the API's conventions without more code:

- lists paginated by cursor (``apps.core.rest.ApiCursorPagination``), filtered with ``filterset_fields``
  and ordered with ``ordering_fields`` (both declared per viewset; filters narrow the scoped queryset only);
- ``ETag`` on reads (a SHA-256 of the JSON representation) and ``If-None-Match`` → 304;
- ``If-Match`` on changes to one object: the ETag of its read, or ``"<version>"`` where the viewset names a
  ``version_field``; a mismatch is 412, and :meth:`ScopedViewSetMixin.expected_version` hands the version
  to the service, whose own stale check then also answers 412 (``apps.core.problems``);
- ``Idempotency-Key`` on every POST (``apps.core.idempotency``);
- errors as problem details, including error responses a view builds by hand.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django.http import HttpResponse, HttpResponseNotModified
from django.utils.cache import patch_cache_control
from django.utils.http import parse_etags, quote_etag
from rest_framework import viewsets
from rest_framework.exceptions import PermissionDenied as ApiPermissionDenied
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from apps.agencies.operations import can
from apps.agencies.scoping import ScopedQuerySet
from apps.core import idempotency
from apps.core.problems import from_data, is_problem, set_problem_content_type
from apps.core.requests import drawing_access_key, note_object
from apps.core.rest import PreconditionFailed

__all__ = ["ScopedReadOnlyViewSet", "ScopedViewSetMixin", "etag_for"]

SAFE_METHODS = ("GET", "HEAD")


def etag_for(data: Any) -> str:
    """A strong ETag: the SHA-256 of the data rendered as JSON (whatever renderer the client chose)."""
    return quote_etag(hashlib.sha256(JSONRenderer().render(data)).hexdigest()[:40])


class _Replay(Exception):  # not an error: the stored answer short-circuits the view
    def __init__(self, row: Any) -> None:
        self.row = row

    def response(self) -> HttpResponse:
        answer = HttpResponse(
            bytes(self.row.response_body), status=self.row.status, content_type=self.row.content_type
        )
        answer[idempotency.REPLAYED_HEADER] = "true"
        answer[idempotency.HEADER] = self.row.key
        return answer


# The mixin is only ever mixed into DRF's generic viewsets (below): to the type checker it is one.
if TYPE_CHECKING:
    _ViewSet = viewsets.GenericViewSet
else:
    _ViewSet = object


class ScopedViewSetMixin(_ViewSet):
    """Narrows ``queryset`` with ``visible_to(request.user)`` and checks a named operation per action.

    ``operations`` maps a DRF action to an operation name; ``"*"`` is the default. An object outside the
    scope is simply not in the queryset, so DRF answers 404, exactly as for an object that does not exist.
    Filters (``filterset_fields``) and orderings (``ordering_fields``) apply after the scope, so they can
    only narrow it; only the fields a viewset lists may order it (an order by a withheld field would
    leak it), ``id`` by default.
    """

    operations: dict[str, str] = {}
    #: The object's optimistic version (``"version"``, or ``"target.version"`` for a child), if it has one.
    version_field: str | None = None
    ordering_fields: Sequence[str] = ("id",)

    def get_queryset(self):
        queryset = super().get_queryset()
        assert isinstance(queryset, ScopedQuerySet), f"{queryset.model.__name__} is not scoped"
        queryset = queryset.visible_to(self.request.user)
        if getattr(self, "_loading_object", False):  # the route's one object (``get_object``)
            queryset = drawing_access_key(self.request, queryset)
        return queryset

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        operation = self.operations.get(self.action or "", self.operations.get("*"))
        if operation and not can(request.user, operation):
            raise ApiPermissionDenied(f"Your role may not perform {operation}.")
        self._idempotency_row = None
        if request.method == "POST" and (key := request.headers.get(idempotency.HEADER)) is not None:
            claimed = idempotency.claim(
                user=request.user, key=key.strip(), method=request.method, path=request.get_full_path(),
                body_hash=idempotency.request_hash(request),
            )  # fmt: skip
            if claimed.replay is not None:
                raise _Replay(claimed.replay)
            self._idempotency_row = claimed.row

    def handle_exception(self, exc):
        if isinstance(exc, _Replay):
            return exc.response()
        return super().handle_exception(exc)

    # --- If-Match -------------------------------------------------------------------------------

    def object_version(self, obj: Any) -> int | None:
        if not self.version_field:
            return None
        value = obj
        for part in self.version_field.split("."):
            value = getattr(value, part, None)
        return value

    def get_object(self):
        self._loading_object = True  # its query takes the access-log key the gate asked for, if any
        try:
            obj = super().get_object()
        finally:
            self._loading_object = False
        note_object(self.request, obj)  # loaded through the scope: the access log need not read it again
        header = self.request.headers.get("If-Match")
        if self.request.method not in SAFE_METHODS and header is not None:
            self._check_if_match(obj, header)
        return obj

    def _check_if_match(self, obj: Any, header: str) -> None:
        """RFC 9110 §13.1.1: strong comparison against the version tag or the representation's ETag."""
        tags = parse_etags(header)
        version = self.object_version(obj)
        if "*" in tags:
            self._if_match_version = version
            return
        if version is not None and quote_etag(str(version)) in tags:
            self._if_match_version = version
            return
        if etag_for(self.get_serializer(obj).data) in tags:
            self._if_match_version = version
            return
        raise PreconditionFailed()

    def expected_version(self, body_value: int | None = None) -> int | None:
        """The version a change is made against: ``If-Match`` when sent (checked by ``get_object``), else
        the body's ``expected_version``. Services refuse a stale one atomically (``StaleChange``)."""
        from_header = getattr(self, "_if_match_version", None)
        return from_header if from_header is not None else body_value

    # --- Responses ------------------------------------------------------------------------------

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if isinstance(response, Response) and response.status_code >= 400 and not is_problem(response.data):
            # An error answer a view built by hand (not raised): the same problem shape as the rest.
            response.data = from_data(response.status_code, response.data, instance=request.path)
            set_problem_content_type(response, request)
        row = getattr(self, "_idempotency_row", None)
        if row is not None:
            self._idempotency_row = None
            if isinstance(response, Response):
                response.render()
            # Only a success is kept: an error changed nothing, so a retry with the same key must run.
            idempotency.finish(
                row, status_code=response.status_code, content_type=response.get("Content-Type", ""),
                body=response.content if not response.streaming else b"",
            )  # fmt: skip
            if response.status_code < 400:
                response[idempotency.HEADER] = row.key
        if (
            request.method in SAFE_METHODS
            and response.status_code == 200
            and isinstance(response, Response)
            and response.data is not None
        ):
            etag = etag_for(response.data)
            response["ETag"] = etag
            patch_cache_control(response, private=True, no_cache=True)
            sent = request.headers.get("If-None-Match")
            # Weak comparison for If-None-Match (RFC 9110 §13.1.2): a W/ prefix does not matter.
            if sent and (sent.strip() == "*" or etag in [t.removeprefix("W/") for t in parse_etags(sent)]):
                not_modified = HttpResponseNotModified()
                for header in ("ETag", "Cache-Control", "Vary"):
                    if header in response:
                        not_modified[header] = response[header]
                return not_modified
        return response


class ScopedReadOnlyViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    pass

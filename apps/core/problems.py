"""Every API error as an RFC 9457 problem detail (``application/problem+json``).

One shape for all of them — DRF's exceptions (validation, 403, 404, 409, 412, 429...), error responses a
view built by hand, and Django's own 400/403/404/500 under ``/api/`` (``apps.core.errors``)::

    {"type": "urn:ratc:problem:validation", "title": "Your request has invalid fields.", "status": 400,
     "detail": "...", "instance": "/api/v1/targets/", "errors": [{"field": "subject", "pointer": "#/subject",
     "detail": "No such subject.", "code": "invalid"}]}

A small handler of our own rather than ``drf-standardized-errors``: we need the same builder for Django's
error handlers outside DRF, error responses some views build by hand, and our own codes (stale version,
idempotency), and the whole of it is a page of code. Nothing here imports a model, so that DRF can load
the handler at settings time.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from django.core.exceptions import BadRequest
from django.http import HttpRequest, JsonResponse
from rest_framework import exceptions
from rest_framework.response import Response

__all__ = [
    "CONTENT_TYPE",
    "PROBLEM_TYPES",
    "QueryParameterError",
    "errors_list",
    "exception_handler",
    "is_problem",
    "problem",
    "problem_response",
    "problem_type",
]

CONTENT_TYPE = "application/problem+json"

#: ``type`` and ``title`` per code: a URN names the kind of problem without promising a page behind it.
PROBLEM_TYPES: dict[str, tuple[str, str]] = {
    "invalid": ("urn:ratc:problem:validation", "Your request has invalid fields."),
    "invalid_parameter": ("urn:ratc:problem:invalid-parameter", "A query parameter is invalid."),
    "parse_error": ("urn:ratc:problem:malformed", "The request body could not be parsed."),
    "not_authenticated": ("urn:ratc:problem:not-authenticated", "Authentication is required."),
    "authentication_failed": ("urn:ratc:problem:authentication-failed", "The credentials were refused."),
    "permission_denied": ("urn:ratc:problem:forbidden", "You may not do this."),
    "purpose_required": (
        "urn:ratc:problem:purpose-required",
        "State the purpose of access to personal data.",
    ),
    "not_found": ("urn:ratc:problem:not-found", "Not found."),
    "method_not_allowed": ("urn:ratc:problem:method-not-allowed", "Method not allowed."),
    "not_acceptable": ("urn:ratc:problem:not-acceptable", "No acceptable representation."),
    "unsupported_media_type": ("urn:ratc:problem:unsupported-media-type", "Unsupported media type."),
    "conflict": ("urn:ratc:problem:conflict", "The change conflicts with the current state."),
    "stale_version": ("urn:ratc:problem:stale-version", "Someone else changed it first."),
    "precondition_failed": ("urn:ratc:problem:precondition-failed", "The If-Match precondition failed."),
    "idempotency_key_reused": (
        "urn:ratc:problem:idempotency-key-reused",
        "This Idempotency-Key was used for a different request.",
    ),
    "idempotency_key_in_flight": (
        "urn:ratc:problem:idempotency-key-in-flight",
        "A request with this Idempotency-Key is still being processed.",
    ),
    "throttled": ("urn:ratc:problem:throttled", "Too many requests."),
    "server_error": ("urn:ratc:problem:server-error", "Server error."),
}


class QueryParameterError(exceptions.ValidationError):
    """A query parameter (a filter, an ordering) is invalid: its errors name ``parameter``, not a pointer."""

    default_code = "invalid_parameter"


def problem_type(code: str | None, status: int) -> tuple[str, str]:
    """``(type, title)`` for a problem code, else ``about:blank`` with the HTTP status phrase (RFC 9457 §4.2.1)."""
    if code in PROBLEM_TYPES:
        return PROBLEM_TYPES[code]
    try:
        return "about:blank", HTTPStatus(status).phrase
    except ValueError:
        return "about:blank", "Error"


def problem(
    status: int,
    detail: str,
    *,
    instance: str = "",
    code: str | None = None,
    title: str | None = None,
    errors: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The problem detail body: ``type``, ``title``, ``status``, ``detail``, ``instance`` (and ``errors``)."""
    type_, default_title = problem_type(code, status)
    body: dict[str, Any] = {
        "type": type_,
        "title": title or default_title,
        "status": status,
        "detail": detail,
        "instance": instance,
    }
    if errors is not None:
        body["errors"] = errors
    return body


def is_problem(data: Any) -> bool:
    return isinstance(data, dict) and {"type", "title", "status"} <= data.keys()


def problem_response(request: HttpRequest, status: int, detail: str, **kwargs: Any) -> JsonResponse:
    """A Django (not DRF) response with a problem body, for the error handlers outside DRF."""
    return JsonResponse(
        problem(status, detail, instance=request.path, **kwargs), status=status, content_type=CONTENT_TYPE
    )


def _pointer(parts: list[str]) -> str:
    # RFC 6901: "~" and "/" inside a name are escaped.
    return "#" + "".join("/" + p.replace("~", "~0").replace("/", "~1") for p in parts)


def errors_list(
    detail: Any, *, parameters: bool = False, _path: list[str] | None = None
) -> list[dict[str, Any]]:
    """DRF's nested error detail flattened into one entry per message, each naming its field.

    A body field gets ``field`` (dotted: ``goods.0.kind``) and ``pointer`` (a JSON pointer into the request
    body); a query parameter gets ``field`` and ``parameter``. ``non_field_errors`` concern the whole
    body (``#``).
    """
    path = _path or []
    out: list[dict[str, Any]] = []
    if isinstance(detail, dict):
        for key, value in detail.items():
            key = str(key)
            inner = path if key in ("non_field_errors", "__all__") and not path else [*path, key]
            out.extend(errors_list(value, parameters=parameters, _path=inner))
    elif isinstance(detail, list | tuple):
        if all(isinstance(item, str) for item in detail):  # the messages of one field
            for item in detail:
                out.extend(errors_list(item, parameters=parameters, _path=path))
        else:  # a list of nested objects (``goods``): the index is part of the path
            for index, item in enumerate(detail):
                if item:  # DRF puts {} for the items that were fine
                    out.extend(errors_list(item, parameters=parameters, _path=[*path, str(index)]))
    else:
        entry: dict[str, Any] = {"detail": str(detail), "code": getattr(detail, "code", None) or "invalid"}
        entry["field"] = ".".join(path) or None
        if parameters:
            entry["parameter"] = entry["field"]
        else:
            entry["pointer"] = _pointer(path)
        out.append(entry)
    return out


def _validation_detail(errors: list[dict[str, Any]]) -> str:
    if len(errors) == 1:
        entry = errors[0]
        name = entry.get("field") or entry.get("parameter")
        return f"{name}: {entry['detail']}" if name else entry["detail"]
    return f"{len(errors)} problems with the request; see errors."


def from_data(status: int, data: Any, *, instance: str, code: str | None = None) -> dict[str, Any]:
    """A problem from an error response's ``data`` as DRF or a view left it (a message, or field errors)."""
    if is_problem(data):
        return data
    if isinstance(data, dict) and set(data) <= {"detail", "code"}:
        detail = data.get("detail", "")
        return problem(status, str(detail), instance=instance, code=code or getattr(detail, "code", None))
    if isinstance(data, str):
        return problem(status, data, instance=instance, code=code)
    # Field errors: a ValidationError's dict, or a view's own ``{"errors": {...}}``.
    if isinstance(data, dict) and set(data) == {"errors"}:
        data = data["errors"]
    errors = errors_list(data, parameters=code == "invalid_parameter")
    if status == 400 and code is None:
        code = "invalid"
    return problem(status, _validation_detail(errors), instance=instance, code=code, errors=errors)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's ``EXCEPTION_HANDLER``: DRF's own answer (its headers: ``Retry-After``, ``WWW-Authenticate``),
    with the body made a problem detail."""
    from rest_framework.views import exception_handler as drf_exception_handler  # not at settings time

    request = context.get("request")
    if isinstance(exc, BadRequest) and hasattr(exc, "as_dict"):  # apps.core.errors.BadInput: a query value
        exc = QueryParameterError(exc.as_dict())
    # A stale version is 409, but 412 when the client made it a precondition with If-Match (RFC 9110 §13.1.1).
    stale = getattr(exc, "default_code", None) == "stale_version"
    if stale and request is not None and request.headers.get("If-Match"):
        from apps.core.rest import PreconditionFailed

        exc = PreconditionFailed(str(getattr(exc, "detail", exc)))
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a 500: Django's handler500 (apps.core.errors.server_error) answers it
    code = getattr(exc, "default_code", None)
    if isinstance(exc, exceptions.ValidationError):
        code = "invalid_parameter" if isinstance(exc, QueryParameterError) else "invalid"
    elif isinstance(detail := getattr(exc, "detail", None), exceptions.ErrorDetail) and detail.code:
        code = detail.code
    if isinstance(exc, exceptions.Throttled):
        code = "throttled"
    response.data = from_data(
        response.status_code, response.data, instance=request.path if request else "", code=code
    )
    # Throttled sets ``wait`` in __init__; the stubs leave the attribute out.
    if isinstance(exc, exceptions.Throttled) and exc.wait is not None:  # type: ignore[attr-defined]
        response.data["retry_after"] = int(exc.wait + 0.999)  # type: ignore[attr-defined]
    set_problem_content_type(response, request)
    return response


def set_problem_content_type(response: Response, request: Any) -> None:
    """Label a JSON error ``application/problem+json``; the browsable API keeps its HTML."""
    renderer = getattr(request, "accepted_renderer", None) if request is not None else None
    if renderer is None or getattr(renderer, "format", "json") == "json":
        response.content_type = CONTENT_TYPE

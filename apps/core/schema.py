"""The OpenAPI schema documents the API's conventions on every operation they apply to.

drf-spectacular already documents the cursor pagination (``cursor``, ``page_size``, the ``next``/``previous``
envelope) and the django-filter and ordering parameters. This schema class adds what it cannot see: the
conditional-request and idempotency headers, 304/412/422/429, every error as a problem detail (winning
over an error a view documented another way), and the ``X-Access-Purpose`` header on exactly the routes the
personal-data gate marks (``apps.compliance.gate``: the URL map, not each view, says which those are).
"""

from __future__ import annotations

import functools
from typing import Any

import uritemplate
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent

from apps.core.problems import CONTENT_TYPE

__all__ = ["ApiAutoSchema"]

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "An RFC 9457 problem detail, sent as application/problem+json.",
    "properties": {
        "type": {
            "type": "string",
            "description": "A URI naming the kind of problem (about:blank or urn:ratc:problem:...).",
        },
        "title": {"type": "string", "description": "A short summary of the kind of problem."},
        "status": {"type": "integer", "description": "The HTTP status code."},
        "detail": {"type": "string", "description": "What went wrong with this request."},
        "instance": {"type": "string", "description": "The path of the request that failed."},
        "errors": {
            "type": "array",
            "description": "For invalid input: one entry per message, naming the field or parameter.",
            "items": {
                "type": "object",
                "properties": {
                    "detail": {"type": "string"},
                    "code": {"type": "string"},
                    "field": {"type": "string", "nullable": True, "description": "Dotted field name."},
                    "pointer": {"type": "string", "description": "JSON pointer into the request body."},
                    "parameter": {"type": "string", "nullable": True, "description": "Query parameter."},
                },
                "required": ["detail", "code"],
            },
        },
        "retry_after": {"type": "integer", "description": "429 only: seconds to wait (as Retry-After)."},
    },
    "required": ["type", "title", "status", "detail", "instance"],
}

_ERRORS = {
    400: "Invalid input: the problem's errors name each field or parameter.",
    401: "No or refused credentials.",
    403: "Your role or agency may not do this.",
    404: "Not found, or not yours to see (the same answer).",
    409: "Conflicts with the current state (a stale version, a claimed target, a key in flight).",
    412: "If-Match does not match the current version or ETag.",
    422: "The Idempotency-Key was used before for a different request.",
    429: "Rate limit reached: wait for Retry-After seconds.",
}
#: What any operation can answer: a bad parameter or body (400), a filter or body naming an object the
#: caller may not see (404, on lists too), besides the answers of authentication and throttling.
_ALWAYS = (400, 401, 403, 404, 429)
#: What a change can answer besides: a conflict or stale version, If-Match, a reused Idempotency-Key.
_ON_WRITES = (409, 412, 422)
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
PURPOSE_HEADER = "X-Access-Purpose"


@functools.lru_cache(maxsize=4)
def _personal_endpoints(resolver: Any) -> frozenset[tuple[str, str]]:
    """``(path_regex, method)`` of every API route the personal-data gate marks, for ``resolver``'s URL map.

    The gate marks the URL pattern's callback (``personal_data``, read duck-typed: core sits below
    compliance), which the schema class never sees; the same enumerator as the generator's finds it.
    """
    from drf_spectacular.generators import EndpointEnumerator

    return frozenset(
        (path_regex, method)
        for _path, path_regex, method, callback in EndpointEnumerator().get_api_endpoints()
        if getattr(callback, "personal_data", None) is not None
    )


def is_personal(path_regex: str, method: str) -> bool:
    from django.urls import get_resolver

    return (path_regex, method.upper()) in _personal_endpoints(get_resolver())


def _header(name: str, description: str) -> dict[str, Any]:
    return {
        "in": "header",
        "name": name,
        "required": False,
        "schema": {"type": "string"},
        "description": description,
    }


class ApiAutoSchema(AutoSchema):
    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        from apps.core.api import ScopedViewSetMixin  # not at settings time

        problem = ResolvedComponent(
            name="Problem", type=ResolvedComponent.SCHEMA, object="Problem", schema=PROBLEM_SCHEMA
        )
        self.registry.register_on_missing(problem)
        conventions = isinstance(self.view, ScopedViewSetMixin)
        detail = bool(set(uritemplate.variables(path)) - {"format"})
        responses: dict[str, Any] = operation["responses"]
        parameters: list[dict[str, Any]] = operation.setdefault("parameters", [])
        codes = list(_ALWAYS)
        if self.method in WRITE_METHODS:
            codes += _ON_WRITES
        if is_personal(path_regex, self.method):
            parameters.append({
                **_header(
                    PURPOSE_HEADER,
                    "The purpose of this access to personal data, a purpose code (the 403 without it lists them);"
                    " an investigation also sends X-Access-Purpose-Text with its case reference. A session may"
                    " have declared it once instead.",
                ),
                "required": True,
            })  # fmt: skip
        if conventions and self.method == "GET":
            parameters.append(
                _header("If-None-Match", "The ETag of a copy you hold: 304 if it is still current.")
            )
            responses.setdefault(
                "304", {"description": "Not modified: your copy (If-None-Match) is current."}
            )
            for code, response in responses.items():
                if code.startswith("2"):
                    response.setdefault("headers", {})["ETag"] = {
                        "schema": {"type": "string"},
                        "description": "A strong validator of this representation; send it as If-None-Match.",
                    }
        if conventions and detail and self.method in ("PUT", "PATCH", "POST", "DELETE"):
            parameters.append(_header(
                "If-Match",
                'Change only if it is unchanged: the ETag of its read, or "<version>" where it has a version '
                "(the body's expected_version otherwise). 412 if it has changed.",
            ))  # fmt: skip
        if conventions and self.method == "POST":
            parameters.append(_header(
                "Idempotency-Key",
                "A unique key (a UUID) per operation: a retry with the same key and body gets the first "
                "success again (Idempotent-Replayed: true), without doing it twice; kept 24 hours.",
            ))  # fmt: skip
            for code, response in responses.items():
                if code.startswith("2"):
                    response.setdefault("headers", {})["Idempotent-Replayed"] = {
                        "schema": {"type": "string", "enum": ["true"]},
                        "description": "Present when this is the stored answer to an earlier request with the key.",
                    }
        for number in sorted(set(codes)):
            responses.setdefault(str(number), {"description": _ERRORS[number]})
        for code, entry in responses.items():
            if code[0] in "45":
                # Every error is a problem detail, whatever a view's own ``responses=`` said of its body.
                entry["content"] = {CONTENT_TYPE: {"schema": problem.ref}}
            if code == "429":
                entry.setdefault("headers", {})["Retry-After"] = {
                    "schema": {"type": "integer"},
                    "description": "Seconds to wait before the next request.",
                }
        if not parameters:
            del operation["parameters"]
        operation["responses"] = dict(sorted(responses.items()))
        return operation

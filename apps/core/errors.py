"""Bad input answers 400 naming the field; errors answer our own page, or a problem detail under ``/api/``.

A view or service that reads a value by hand (``int()``, a date) raises :class:`BadInput` instead of
letting a ``ValueError`` become a 500. Django turns it into a 400 through ``handler400``
(:func:`bad_request`), which renders ``templates/400.html`` or, for the API, an RFC 9457 problem detail
(``apps.core.problems``) naming the field.
"""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import BadRequest
from django.http import HttpRequest, HttpResponse
from django.template import loader
from django.views import defaults

from apps.core.problems import problem_response

__all__ = [
    "MAX_ID",
    "BadInput",
    "bad_request",
    "form_status",
    "id_or_none",
    "is_api",
    "page_not_found",
    "parse_id",
    "permission_denied",
    "scrub_paths",
    "server_error",
]

#: The largest primary key a database column holds (bigint); a larger number cannot name a row.
MAX_ID = 2**63 - 1


class BadInput(BadRequest):
    """A request value that cannot be used: answered 400, with the field and what is wrong with it."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")

    def as_dict(self) -> dict[str, list[str]]:
        return {self.field: [self.message]}


def parse_id(value: Any, *, field: str) -> int:
    """A primary key from a form or query value, or :class:`BadInput` naming ``field``.

    ``str.isdigit`` is not enough: "²" is a digit to it but not to ``int()``, and a number past bigint
    makes the database driver raise.
    """
    text = value.strip() if isinstance(value, str) else value
    if isinstance(text, bool) or not (isinstance(text, int) or (isinstance(text, str) and text.isdecimal())):
        raise BadInput(field, "must be a whole number.")
    number = int(text)
    if not 0 < number <= MAX_ID:
        raise BadInput(field, "is not an id.")
    return number


def id_or_none(value: Any) -> int | None:
    """``parse_id``'s number, or None where a bad id simply finds nothing (a filter, a form's choice)."""
    try:
        return parse_id(value, field="id")
    except BadInput:
        return None


def form_status(request: HttpRequest, *forms: Any) -> int:
    """400 when a submitted form is re-shown with its field errors, 200 otherwise.

    An htmx request keeps 200: htmx does not swap a 4xx answer, and the fragment carries the errors.
    """
    htmx = getattr(request, "htmx", None)
    if htmx and not htmx.boosted:
        return 200
    invalid = any(form is not None and form.is_bound and form.errors for form in forms)
    return 400 if invalid else 200


# An absolute path (two parts or more) not inside a URL; its last part is kept.
_PATH = re.compile(r"(?<![\w.:/~])/(?:[^\s'\"/:,;()]+/)+([^\s'\"/:,;()]*)")
# The random prefix the upload spools put before a file's own name.
_SPOOL_PREFIX = re.compile(r"\b[0-9a-f]{8}__(?=\S)")


def scrub_paths(text: str) -> str:
    """``text`` with every server path cut to the file's name, for messages people read.

    A failed import or training run stores its exception's text; ``OSError`` and many libraries put the
    full path in it (the spool folder under ``MEDIA_ROOT``), which tells a user how the server is laid out.
    """
    return _SPOOL_PREFIX.sub("", _PATH.sub(lambda m: m.group(1) or "…", text))


def is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """``handler400``: the field and the problem, never more (no value echoed, no traceback)."""
    fields = exception.as_dict() if isinstance(exception, BadInput) else {}
    text = str(exception) if isinstance(exception, BadInput) else "The request could not be understood."
    if is_api(request):
        if isinstance(exception, BadInput):
            errors = [{"field": exception.field, "parameter": exception.field, "detail": exception.message,
                       "code": "invalid"}]  # fmt: skip
            return problem_response(request, 400, text, code="invalid_parameter", errors=errors)
        return problem_response(request, 400, text)
    body = loader.render_to_string("400.html", {"exception": text, "fields": fields}, request)
    return HttpResponse(body, status=400)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:  # Django always passes it
    if is_api(request):
        detail = str(exception) or "You do not have permission to perform this action."
        return problem_response(request, 403, detail, code="permission_denied")
    return defaults.permission_denied(request, exception)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if is_api(request):
        return problem_response(request, 404, "Not found.", code="not_found")
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    """``handler500``: JSON for the API (clients parse it), our page elsewhere; both say nothing more."""
    if is_api(request):
        return problem_response(request, 500, "Server error. The error has been logged.", code="server_error")
    return defaults.server_error(request)

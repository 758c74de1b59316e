"""One gate for personal data, applied by the URL map rather than remembered per view.

A route that can answer with a person's data is marked where it is declared: ``personal_data(path(...),
object_type="target", model="targeting.Target")`` in an app's ``urls.py``, ``personal_data_api(router,
{...})`` for a DRF router, next to the route in each app's URL conf. Marking wraps the route's
view, so every answer of that route passes the gate, whoever wrote the view and however it is asked:

- without a declared purpose, nothing personal is answered: pages redirect to the purpose form (with
  ``next=``), htmx requests get a 403 fragment and an ``HX-Redirect`` to that form, the API a 403 JSON
  naming the ``X-Access-Purpose`` header;
- with one, each successful answer writes exactly one access-log entry: the object type and id from the
  URL kwargs, or, for a list or a search, action "search" with the query and the number of items
  returned (never the personal data itself).

``tests/compliance/test_gate.py`` walks the URL map and the OpenAPI schema and fails for any route
whose answer holds a traveller's data but that is not marked, so a new route cannot slip past.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import URLPattern, reverse
from django.utils.html import escape
from django.utils.http import urlencode

from apps.compliance.models import Purpose
from apps.core.requests import ACCESS_KEY, ACCESS_KEY_SQL_ATTR, OBJECT_ATTR

__all__ = [
    "PersonalRoute",
    "gate_of",
    "note_results",
    "personal_data",
    "personal_data_api",
]

log = logging.getLogger("apps.compliance.gate")

RESULTS_ATTR = "_personal_data_results"


@dataclass(frozen=True)
class PersonalRoute:
    """What a marked route reads: the kind of object, and how to find whose data it is.

    ``model`` ("app_label.Model") and ``subject`` (the attribute path from that model to the subject,
    "" when it is the subject) let the log name the agency that owns the data; ``lookup`` is the URL
    kwarg naming the object (a route without it is a list or a search); ``export`` logs an export.
    """

    object_type: str
    model: str = ""
    subject: str = "subject"
    lookup: str = "pk"
    export: bool = False


def personal_data(patterns: Any, *, object_type: str, model: str = "", subject: str = "subject",
                  lookup: str = "pk", export: bool = False) -> Any:  # fmt: skip
    """Mark one ``path()`` (or a list of them) as answering with personal data; returns what it got."""
    spec = PersonalRoute(object_type, model, subject, lookup, export)
    for pattern in patterns if isinstance(patterns, list | tuple) else [patterns]:
        _mark(pattern, spec)
    return patterns


def personal_data_api(router: Any, specs: dict[str, PersonalRoute]) -> list[URLPattern]:
    """A DRF router's URLs with every route of the marked basenames gated (list, detail and actions)."""
    names: dict[str, PersonalRoute] = {}
    for _prefix, viewset, basename in router.registry:
        if basename in specs:
            for route in router.get_routes(viewset):
                names[route.name.format(basename=basename)] = specs[basename]
    urls = router.urls
    for pattern in urls:
        if isinstance(pattern, URLPattern) and pattern.name in names:
            _mark(pattern, names[pattern.name])
    return urls


def gate_of(callback: Callable[..., Any]) -> PersonalRoute | None:
    """The gate's description of a route's view, or None when the route is not marked personal."""
    return getattr(callback, "personal_data", None)


def note_results(request: HttpRequest, count: int) -> None:
    """For a page that lists people: how many items it returned, for the access log's search entry."""
    setattr(request, RESULTS_ATTR, count)


# --- the gate -----------------------------------------------------------------------------------------


def _mark(pattern: URLPattern, spec: PersonalRoute) -> None:
    if gate_of(pattern.callback) is None:
        pattern.callback = _gated(pattern.callback, spec)


def _gated(view: Callable[..., HttpResponse], spec: PersonalRoute) -> Callable[..., HttpResponse]:
    is_api = hasattr(view, "cls")  # a DRF view: it authenticates (tokens too) inside, after this gate

    @wraps(view)  # keeps ``cls``, ``actions``, ``csrf_exempt``: DRF and drf-spectacular read them
    def gated(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        from apps.compliance.services import purpose_of

        if not is_api and not request.user.is_authenticated:
            return view(request, *args, **kwargs)  # the view sends the anonymous to sign in
        from apps.accounts.second_factor import refuse_unverified_session

        # A session on a password alone sees no personal data (docs/sign-in.md); tokens are not sessions.
        if (refused := refuse_unverified_session(request, is_api)) is not None:
            return refused
        if purpose_of(request) is None:
            return _refuse(request, is_api)
        if spec.lookup and kwargs.get(spec.lookup) and (key_sql := _key_sql()):
            # The view's query of the route's object takes the entry's key (``drawing_access_key``).
            setattr(request, ACCESS_KEY_SQL_ATTR, key_sql)
        response = view(request, *args, **kwargs)
        if 200 <= response.status_code < 300:
            _log(request, response, spec, kwargs)
        return response

    gated.personal_data = spec  # type: ignore[attr-defined]
    return gated


def _key_sql() -> str | None:
    """The SQL that takes an access-log entry's key from the log's sequence (None on SQLite)."""
    from apps.compliance.chain import next_key_sql
    from apps.compliance.models import AccessLogEntry

    return next_key_sql(AccessLogEntry)


def _drawn_key(noted: Any) -> int | None:
    """The access-log key the view's query of its object took (``drawing_access_key``), once only."""
    key = getattr(noted, ACCESS_KEY, None)
    if key is not None:
        setattr(noted, ACCESS_KEY, None)  # a second entry (none today) takes a key of its own
    return key


def _refuse(request: HttpRequest, is_api: bool) -> HttpResponse:
    if is_api:
        from apps.core.problems import problem_response

        return problem_response(
            request,
            403,
            "This answer holds personal data: state the purpose of access in the X-Access-Purpose header "
            f"(one of: {', '.join(Purpose.values)}; an investigation also needs X-Access-Purpose-Text with "
            "its case reference).",
            code="purpose_required",
        )
    if request.headers.get("HX-Request") == "true":
        # Back to the page the person is on (not this fragment's URL) once a purpose is declared.
        current = urlsplit(request.headers.get("HX-Current-URL", ""))
        back = (current.path + (f"?{current.query}" if current.query else "")) or request.get_full_path()
        form = f"{reverse('compliance:purpose')}?{urlencode({'next': back})}"
        response = HttpResponse(
            '<div class="alert" role="alert">This holds personal data: '
            f'<a href="{escape(form)}">state the purpose of your access</a> first.</div>',
            status=403,
        )
        response["HX-Redirect"] = form
        return response
    return redirect(f"{reverse('compliance:purpose')}?{urlencode({'next': request.get_full_path()})}")


def _log(request: HttpRequest, response: HttpResponse, spec: PersonalRoute, kwargs: dict[str, Any]) -> None:
    from apps.agencies.operations import membership_of
    from apps.compliance.services import record_access

    # DRF authenticates inside the view (a token, say): its request knows the user, ours may not.
    drf_request = (getattr(response, "renderer_context", None) or {}).get("request")
    if drf_request is not None:
        request.user = drf_request.user
    if not request.user.is_authenticated or membership_of(request.user) is None:
        return
    object_id = kwargs.get(spec.lookup, "") if spec.lookup else ""
    route = request.resolver_match.view_name if request.resolver_match else request.path
    surface = f"{route}{' (htmx)' if request.headers.get('HX-Request') == 'true' else ''}"
    if request.method not in {"GET", "HEAD"}:
        surface += f" {request.method}"
    noted = getattr(request, OBJECT_ATTR, None)
    subject = _subject(spec, object_id, noted) if object_id else None
    if spec.export:
        action, summary = "export", f"{surface} {request.GET.urlencode()[:150]}".strip()
    elif object_id:
        action, summary = "view", surface + _masked_note(request, subject)
    else:
        count = _count(request, response)
        query = request.GET.urlencode()[:150]
        action = "search"
        summary = f"{surface} q={query or '-'}" + (f", {count} item(s) returned" if count is not None else "")
    record_access(
        request=request, action=action, object_type=spec.object_type, object_id=object_id,
        summary=summary, obj=subject, key=_drawn_key(noted),
    )  # fmt: skip


def _subject(spec: PersonalRoute, object_id: Any, noted: Any = None) -> Any:
    """The subject whose data the object holds (for the data owner), or None.

    ``noted``: the object the view loaded (``note_object``), used only when it is the route's object
    and every step of the path to its subject is already loaded with it; else it is read here.
    """
    if not spec.model or not str(object_id).isdigit():
        return None
    from django.apps import apps

    if (
        noted is not None
        and noted._meta.label == spec.model
        and str(noted.pk) == str(object_id)
        and _path_loaded(noted, spec.subject)
    ):
        obj = noted
        for name in filter(None, spec.subject.split(".")):
            obj = getattr(obj, name, None)
        return obj if hasattr(obj, "source_id") else None
    objects = apps.get_model(spec.model).objects
    if spec.subject:  # the object and its subject in one query, not one query per step of the path
        objects = objects.select_related(spec.subject.replace(".", "__"))
    obj = objects.filter(pk=int(object_id)).first()
    for name in filter(None, spec.subject.split(".")):
        obj = getattr(obj, name, None)
    return obj if hasattr(obj, "source_id") else None


def _path_loaded(obj: Any, path: str) -> bool:
    """Whether following ``path`` ("target.subject") from ``obj`` reads nothing from the database."""
    for name in filter(None, path.split(".")):
        field = obj._meta.get_field(name)
        if not field.is_cached(obj):
            return False
        obj = getattr(obj, name)
        if obj is None:
            return True
    return True


def _masked_note(request: HttpRequest, subject: Any) -> str:
    from apps.compliance.masking import subject_is_masked

    if subject is not None and subject.kind == "traveller" and subject_is_masked(request.user, subject):
        return " (depersonalised)"
    return ""


def _count(request: HttpRequest, response: HttpResponse) -> int | None:
    if (noted := getattr(request, RESULTS_ATTR, None)) is not None:
        return noted
    data = getattr(response, "data", None)
    if isinstance(data, dict) and isinstance(data.get("results"), list):
        return len(data["results"])
    if isinstance(data, list):
        return len(data)
    return None

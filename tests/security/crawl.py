"""The crawl's machinery: routes found in the URL map and the OpenAPI schema, which kind of object each
parameterised route takes (found by probing, not listed), requests in every variant, and the checks.

Nothing here names a route: a new page, partial, export or endpoint is crawled the day it is added.
"""

from __future__ import annotations

import functools
import gzip
import io
import re
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from apps.compliance.services import SESSION_KEY
from tests.security.seed import MISSING_ID, SENTINELS, World, scoped_models

#: Never crawled: signing out would end the session the crawl runs in.
SKIPPED_ROUTES = {"logout"}
PURPOSE = "risk_analysis"
#: Probed, in this order, to learn which kind of object a route takes: the first few who see it.
#: People tried in turn when the first who sees an object is refused the route for his role.
PROBE_ROUNDS = 3
PROBE_PREFERENCE = [
    "supervisor", "analyst", "riskmanager", "manager", "auditor", "admin", "integrator", "officer.felixstowe",
    "officer.heathrow", "police.liaison", "immigration.liaison", "police.auditor", "bio.analyst",
    "biosecurity.liaison", "officer.dover",
]  # fmt: skip


@dataclass(frozen=True)
class Route:
    """A URL pattern: its name, a template with ``{param}`` holes, and the parameters' converters."""

    name: str
    template: str
    params: tuple[tuple[str, str], ...]  # (name, converter: "int" | "str" | "path" | "slug" | "uuid")
    methods: frozenset[str] = frozenset()  # from the OpenAPI schema; empty for plain Django views

    @property
    def is_api(self) -> bool:
        return self.template.startswith("/api/")

    @property
    def is_admin(self) -> bool:
        return self.template.startswith("/admin/")

    @property
    def int_param(self) -> str | None:
        ints = [n for n, c in self.params if c == "int"]
        return ints[0] if len(ints) == 1 and len(self.params) == 1 else None

    def url(self, value: Any = None) -> str:
        out = self.template
        for name, _ in self.params:
            out = out.replace("{" + name + "}", str(value))
        return out


_CONVERTER = re.compile(r"<(?:(?P<conv>[a-z_]+):)?(?P<name>\w+)>")


def _django_routes() -> Iterator[Route]:
    def walk(patterns: list, prefix: str, namespace: str) -> Iterator[Route]:
        for p in patterns:
            text = str(p.pattern)
            if isinstance(p, URLResolver):
                ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
                yield from walk(p.url_patterns, prefix + text, ns)
                continue
            if not isinstance(p, URLPattern) or not p.name or "format" in p.pattern.regex.groupindex:
                continue
            full = prefix + text
            if "(?P<" in full or "^" in full or "$" in full or "\\" in full:
                if "format" in p.pattern.regex.groupindex:
                    continue  # DRF's format-suffix twins
                full = _regex_to_template(full)
                if full is None:
                    continue
            params = tuple((m["name"], m["conv"] or "str") for m in _CONVERTER.finditer(full))
            template = _CONVERTER.sub(lambda m: "{" + m["name"] + "}", full)
            yield Route(name=namespace + p.name, template="/" + template.lstrip("/"), params=params)

    yield from walk(get_resolver().url_patterns, "", "")


_REGEX_CONVERTERS = {"pk": "int", "id": "int", "object_id": "path"}


def _regex_to_template(regex: str) -> str | None:
    """Admin and DRF routes are regexes: turn ``^(?P<pk>[^/.]+)/$`` into ``<str:pk>/``."""
    out = regex.replace("^", "").replace("$", "").replace("\\Z", "").replace("\\.", ".")
    out = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: f"<{_REGEX_CONVERTERS.get(m[1], 'str')}:{m[1]}>", out)
    out = out.replace("(?:", "").replace(")?", "")
    return None if re.search(r"[()\[\]*+?|\\]", out) else out


def openapi_operations() -> dict[str, frozenset[str]]:
    """``{path template: methods}`` of the OpenAPI schema (drf-spectacular), the API's own account."""
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    methods = {"get", "post", "put", "patch", "delete"}
    return {path: frozenset(m.upper() for m in ops if m in methods) for path, ops in schema["paths"].items()}


def all_routes() -> list[Route]:
    """Every route of the URL map, with the methods the schema declares for API routes, plus any path
    the schema has that the URL map walk did not produce (so both sources must agree to be skipped)."""
    operations = openapi_operations()
    by_template: dict[str, Route] = {}
    for route in _django_routes():
        if route.name in SKIPPED_ROUTES:
            continue
        key = re.sub(r"\{\w+\}", "{}", route.template)
        if key in by_template:
            continue
        by_template[key] = route
    for path, methods in operations.items():
        key = re.sub(r"\{\w+\}", "{}", path)
        known = by_template.get(key)
        if known is not None:
            by_template[key] = Route(known.name, known.template, known.params, methods)
        else:
            params = tuple((n, "int" if n in {"id", "pk"} else "str") for n in re.findall(r"\{(\w+)\}", path))
            by_template[key] = Route(f"openapi:{path}", path, params, methods)
    return sorted(by_template.values(), key=lambda r: r.template)


# --------------------------------------------------------------------------- requests and answers


@dataclass
class Answer:
    status: int
    body: bytes
    content_type: str

    def normalised(self, url: str) -> bytes:
        return normalise(self.body, url)


_CSRF = re.compile(rb"(csrf[\w-]*[\"']?\s*(?:[:=]|value=|content=)\s*[\"'])[A-Za-z0-9]{20,}", re.I)
_CSRF_INPUT = re.compile(rb"(name=[\"']csrfmiddlewaretoken[\"'][^>]*value=[\"'])[A-Za-z0-9]+", re.I)
_NONCE = re.compile(rb"(nonce=[\"'])[A-Za-z0-9+/=_-]+")


def normalise(body: bytes, url: str) -> bytes:
    """The body without what differs between two identical answers: CSRF tokens, nonces, the URL."""
    body = _CSRF.sub(rb"\1CSRF", body)
    body = _CSRF_INPUT.sub(rb"\1CSRF", body)
    body = _NONCE.sub(rb"\1NONCE", body)
    return body.replace(url.encode(), b"{URL}")


def readable(answer: Answer) -> bytes:
    """The bytes to search for sentinels: the body, with XLSX unzipped and PDF streams inflated."""
    body = answer.body
    if body[:2] == b"PK":
        try:
            with zipfile.ZipFile(io.BytesIO(body)) as archive:
                return b"\n".join(archive.read(n) for n in archive.namelist())
        except zipfile.BadZipFile:
            return body
    if body[:5] == b"%PDF-":
        parts = [body]
        for stream in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", body, re.S):
            raw = stream.group(1)
            for decode in (zlib.decompress, _ascii85_then_flate):
                try:
                    parts.append(decode(raw))
                    break
                except Exception:  # noqa: S112 (not every stream is compressed, or compressed so)
                    continue
        return b"\n".join(parts)
    if body[:2] == b"\x1f\x8b":
        return gzip.decompress(body)
    return body


def _ascii85_then_flate(raw: bytes) -> bytes:
    import base64

    text = raw.strip()
    if text.endswith(b"~>"):
        text = text[:-2]
    return zlib.decompress(base64.a85decode(text))


def withheld_in(answer: Answer, username: str, url: str = "") -> list[str]:
    """The sentinels in the answer that ``username`` may not read. What the person typed into a search
    (the URL's query values) is taken out first: a search box showing its own words leaks nothing."""
    from urllib.parse import parse_qsl, urlsplit

    text = readable(answer)
    for _, value in parse_qsl(urlsplit(url).query):
        text = text.replace(value.encode(), b"{QUERY}")
    return [s for s, readers in SENTINELS.items() if username not in readers and s.encode() in text]


class Crawler:
    """Signed-in clients per person, and one request in one variant."""

    VARIANTS_PAGE = ("plain", "htmx")
    VARIANTS_API = ("plain", "header")

    def __init__(self, world: World) -> None:
        self.world = world
        self.clients: dict[str, Client] = {}

    def client(self, username: str) -> Client:
        if username not in self.clients:
            client = Client(raise_request_exception=False)
            client.force_login(self.world.users[username])
            session = client.session
            session[SESSION_KEY] = {"code": PURPOSE, "text": ""}
            session.save()
            self.clients[username] = client
        return self.clients[username]

    def variants(self, route: Route) -> tuple[str, ...]:
        return self.VARIANTS_API if route.is_api else self.VARIANTS_PAGE

    def request(self, username: str, method: str, url: str, variant: str = "plain") -> Answer:
        headers: dict[str, str] = {}
        if variant == "htmx":
            headers["HX-Request"] = "true"
        elif variant == "header":
            headers["X-Access-Purpose"] = PURPOSE
        client = self.client(username)
        call = getattr(client, method.lower())
        if method == "GET":
            response = call(url, headers=headers)
        else:
            response = (
                call(url, {}, content_type="application/json", headers=headers)
                if "/api/" in url
                else call(url, {}, headers=headers)
            )
        body = (
            b"".join(response.streaming_content)
            if getattr(response, "streaming", False)
            else response.content
        )
        return Answer(response.status_code, body, response.get("Content-Type", ""))


# --------------------------------------------------------------------------- who sees what


@dataclass
class Visibility:
    """For each scoped model: the ids each person sees, and each object's audience (who sees it)."""

    models: list[type]
    seen: dict[str, dict[type, set[int]]] = field(default_factory=dict)
    everything: dict[type, list[int]] = field(default_factory=dict)

    @classmethod
    def of(cls, world: World) -> Visibility:
        models = scoped_models()
        out = cls(models=models)
        for model in models:
            out.everything[model] = list(model._default_manager.order_by("pk").values_list("pk", flat=True))
        for username, user in world.users.items():
            out.seen[username] = {
                m: set(m._default_manager.visible_to(user).values_list("pk", flat=True)) for m in models
            }
        return out

    def audience(self, model: type, pk: int) -> frozenset[str]:
        return frozenset(u for u, seen in self.seen.items() if pk in seen[model])

    def invisible_sample(self, username: str, model: type, cap: int = 3) -> list[int]:
        """One invisible id per reason of invisibility (objects seen by the same people are one reason),
        the near misses first (seen by the most others), at most ``cap``."""
        picked: dict[frozenset[str], int] = {}
        for pk in self.everything[model]:
            if pk not in self.seen[username][model]:
                picked.setdefault(self.audience(model, pk), pk)
        ranked = sorted(picked.items(), key=lambda item: (-len(item[0]), item[1]))
        return [pk for _, pk in ranked[:cap]]

    def visible(self, username: str, model: type, cap: int = 12) -> list[int]:
        """Ids the person sees: one per audience first (each carries other sentinels), then the rest."""
        seen = sorted(self.seen[username][model])
        first: dict[frozenset[str], int] = {}
        for pk in seen:
            first.setdefault(self.audience(model, pk), pk)
        ordered = sorted(first.values()) + [pk for pk in seen if pk not in first.values()]
        return ordered[:cap]


def probe_route_models(
    crawler: Crawler, visibility: Visibility, routes: list[Route]
) -> dict[str, list[type]]:
    """For each route with one integer parameter, the model whose ids it answers differently from a
    missing id, as seen by someone who may see an object of that model (one id names one kind of
    object, so the first model that answers differently is the route's). Models whose name appears in
    the route are tried first, which makes this quick; the rest are tried all the same. Run in a
    savepoint that is rolled back, so that probing a POST-only action changes nothing."""
    takes: dict[str, list[type]] = {}
    probes: dict[type, list[tuple[str, int]]] = {}
    for model in visibility.models:
        seen_by = [u for u in PROBE_PREFERENCE if visibility.seen.get(u, {}).get(model)]
        probes[model] = [(u, min(visibility.seen[u][model])) for u in seen_by[:PROBE_ROUNDS]]
    with transaction.atomic():
        for route in routes:
            if route.int_param is None or route.is_admin:
                continue
            method = _method_for(crawler, route)
            baseline: dict[str, bytes] = {}
            differs = functools.partial(_differs, crawler, route, method, baseline)
            ordered = sorted(probes, key=lambda m: -_name_score(route, m))
            found = next(
                (
                    m
                    for r in range(PROBE_ROUNDS)
                    for m in ordered
                    if len(probes[m]) > r and differs(*probes[m][r])
                ),
                None,
            )
            if found is not None:
                takes[route.name] = [found]
        transaction.set_rollback(True)
    return takes


def _answer_key(crawler: Crawler, method: str, username: str, url: str) -> bytes:
    answer = crawler.request(username, method, url)
    return bytes([answer.status % 256]) + answer.normalised(url)


def _differs(
    crawler: Crawler, route: Route, method: str, baseline: dict[str, bytes], username: str, pk: int
) -> bool:
    """Whether the route answers ``pk`` otherwise than a missing id (checked twice: not a change of state)."""
    missing = route.url(MISSING_ID)
    if username not in baseline:
        baseline[username] = _answer_key(crawler, method, username, missing)
    if _answer_key(crawler, method, username, route.url(pk)) == baseline[username]:
        return False
    baseline[username] = _answer_key(crawler, method, username, missing)
    return _answer_key(crawler, method, username, route.url(pk)) != baseline[username]


def _name_score(route: Route, model: type) -> int:
    words = re.split(r"[^a-z]+", (route.template + " " + route.name).lower().replace("-", ""))
    names = {model._meta.model_name, str(model._meta.verbose_name).replace(" ", ""),
             str(model._meta.verbose_name_plural).replace(" ", "")}  # fmt: skip
    if any(w and (w in names or w.rstrip("s") in names) for w in words):
        return 2
    return 1 if any(w and len(w) > 3 and any(w.rstrip("s") in n for n in names) for w in words) else 0


_METHOD_CACHE: dict[str, str] = {}


def _method_for(crawler: Crawler, route: Route) -> str:
    """GET, or POST when GET is not allowed (an action): decided once per route, as a desk user."""
    if route.name not in _METHOD_CACHE:
        if route.methods and "GET" not in route.methods:
            _METHOD_CACHE[route.name] = "POST" if "POST" in route.methods else sorted(route.methods)[0]
        else:
            answer = crawler.request("supervisor", "GET", route.url(MISSING_ID))
            _METHOD_CACHE[route.name] = "POST" if answer.status == 405 else "GET"
    return _METHOD_CACHE[route.name]


def write_methods(route: Route) -> list[str]:
    """The schema's writing methods of an API route (tried with ids the person may not see)."""
    return sorted(m for m in route.methods if m in {"POST", "PUT", "PATCH", "DELETE"})

"""The personal-data gate, proven over every route rather than a list of them.

The URL map and the OpenAPI schema are walked; every GET route is asked, with its kwargs filled from a
world around one traveller whose data are sentinels (tests/compliance/personal_world.py), by the owning
agency's analyst and by the port officer the traveller was sent to:

- with a declared purpose: a route whose answer holds a sentinel must be marked personal (the failure
  names it), and each answer of a marked route writes an access-log entry;
- without one, as a page and as an htmx request: no answer holds a sentinel.

A new route is covered without anyone listing it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse

from apps.agencies.roles import Role
from apps.compliance.gate import gate_of
from apps.compliance.models import AccessLogEntry
from apps.compliance.services import SESSION_KEY
from tests.compliance import personal_world
from tests.compliance.personal_world import SURNAME, found_sentinels
from tests.factories import member

#: Routes that are not asked: the admin (scoped by its own tests) and the schema itself (static, slow).
NOT_ASKED_NAMESPACES = {"admin"}
NOT_ASKED = {"api-schema", "api-docs", "logout"}


def _routes() -> Iterator[tuple[str, str, set[str]]]:
    """(name, regex, kwarg names) of every named route outside the admin."""

    def walk(patterns: Any, namespace: str, prefix: str) -> Iterator[tuple[str, str, set[str]]]:
        for p in patterns:
            regex = prefix + p.pattern.regex.pattern.lstrip("^")
            if isinstance(p, URLResolver):
                if p.namespace in NOT_ASKED_NAMESPACES:
                    continue
                yield from walk(
                    p.url_patterns, f"{namespace}{p.namespace}:" if p.namespace else namespace, regex
                )
            elif isinstance(p, URLPattern) and p.name and f"{namespace}{p.name}" not in NOT_ASKED:
                yield f"{namespace}{p.name}", regex, set(re.compile(regex).groupindex)

    yield from walk(get_resolver().url_patterns, "", "")


def _candidates(seeded: Any, world: Any) -> dict[str, list[Any]]:
    objects = [seeded.traveller, seeded.companion, seeded.target, seeded.assessment, seeded.instruction,
               seeded.hold, seeded.comment, seeded.result, seeded.entry, seeded.watchlist, seeded.source]  # fmt: skip
    return {
        "pk": sorted({o.pk for o in objects}),
        "subject_pk": [seeded.traveller.pk],
        "locode": [world.port_b.locode, world.port_a.locode],
        # TAXII collections and statuses (apps.alerts): a partner's token only; people get 401 whatever the id.
        "collection_id": ["4f6a8b2c-1d3e-4a5b-9c7d-8e9f0a1b2c3d"],
        "status_id": ["4f6a8b2c-1d3e-4a5b-9c7d-8e9f0a1b2c3d"],
        "object_id": ["indicator--4f6a8b2c-1d3e-4a5b-9c7d-8e9f0a1b2c3d"],
        # A handover's item (apps.handover): an action, POST only; any number proves the GET is refused.
        "item_pk": [seeded.target.pk],
        # A carrier's data quality (apps.quality): the source and the carrier code it names.
        "source_pk": [seeded.source.pk],
        "carrier": ["QK"],
    }


def _urls(seeded: Any, world: Any) -> list[tuple[str, str]]:
    """Every (route name, URL) to ask: the URL map's GET routes, then the OpenAPI schema's."""
    candidates = _candidates(seeded, world)
    found: dict[str, str] = {}
    for name, _regex, kwargs in _routes():
        if "format" in kwargs:  # DRF's format-suffix twins of routes asked anyway
            continue
        missing = kwargs - set(candidates)
        assert not missing, f"teach {__name__} how to fill {missing} for {name}"
        combos: list[dict[str, Any]] = [{}]
        for kwarg in sorted(kwargs):
            combos = [{**c, kwarg: v} for c in combos for v in candidates[kwarg]]
        for combo in combos:
            url = reverse(name, kwargs=combo)
            found[url] = name
            if not combo:
                # A search by part of the name: a page that echoes the query shows no whole sentinel.
                found[f"{url}?q={SURNAME[:6]}"] = name
    for path, operations in _schema()["paths"].items():
        if "get" not in operations:
            continue
        params = re.findall(r"{(\w+)}", path)
        combos = [path]
        for param in params:
            values = candidates["pk" if param in {"id", "pk"} else param]
            combos = [c.replace(f"{{{param}}}", str(v)) for c in combos for v in values]
        for url in combos:
            found.setdefault(url, resolve(url).view_name)
    return sorted((name, url) for url, name in found.items())


def _schema() -> dict[str, Any]:
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator().get_schema(request=None, public=True)


def _body(response: Any) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode(errors="replace")
    return response.content.decode(errors="replace")


def _client(user: Any, purpose: bool) -> Client:
    client = Client()
    client.force_login(user)
    if purpose:
        session = client.session
        session[SESSION_KEY] = {"code": "risk_analysis", "text": ""}
        session.save()
    return client


def _is_marked(url: str) -> bool:
    return gate_of(resolve(url.split("?")[0]).func) is not None


@pytest.fixture
def seeded(world):
    return personal_world.build(world)


@pytest.fixture
def readers(world, customs_analyst):
    return [customs_analyst, member("tablet", world.customs, Role.FRONTLINE, ports=[world.port_b])]


def test_every_route_that_answers_with_personal_data_is_gated(world, seeded, readers):
    urls = _urls(seeded, world)
    assert len(urls) > 100
    leaking: dict[str, str] = {}
    unlogged: list[str] = []
    for user in readers:
        client = _client(user, purpose=True)
        for name, url in urls:
            before = AccessLogEntry.objects.count()
            response = client.get(url)
            if response.status_code >= 300:
                continue
            if found_sentinels(_body(response)):
                leaking.setdefault(name, url)
            # At least the gate's entry (a list may log each person it shows besides).
            if _is_marked(url) and AccessLogEntry.objects.count() == before:
                unlogged.append(f"{url} as {user.username}")
    # The world is built right: the pages everyone knows to show the traveller do.
    assert {"intake:subject", "targeting:detail", "subject-detail", "target-detail"} <= set(leaking)
    unmarked = sorted(f"{name} ({url})" for name, url in leaking.items() if not _is_marked(url))
    assert not unmarked, (
        f"These routes answer with a traveller's data but are not marked personal: {unmarked}"
    )
    assert not unlogged, f"A marked route must log its answers: {unlogged}"


def test_without_a_purpose_no_route_answers_with_personal_data(world, seeded, readers):
    urls = _urls(seeded, world)
    leaks: list[str] = []
    for user in readers:
        client = _client(user, purpose=False)
        for _name, url in urls:
            for headers in ({}, {"HTTP_HX_REQUEST": "true", "HTTP_HX_CURRENT_URL": "http://testserver/"}):
                response = client.get(url, **headers)
                if found := found_sentinels(_body(response)):
                    leaks.append(f"{url}{' (htmx)' if headers else ''} as {user.username}: {found}")
    assert not leaks, f"Personal data answered without a declared purpose: {leaks}"
    assert not AccessLogEntry.objects.exists()


def test_refusals_say_how_to_declare_a_purpose(world, seeded, customs_analyst):
    client = _client(customs_analyst, purpose=False)
    page = reverse("targeting:detail", args=[seeded.target.pk])
    answer = client.get(page)
    assert answer.status_code == 302 and answer.url.startswith(reverse("compliance:purpose"))
    assert "next=" in answer.url
    htmx = client.get(page, HTTP_HX_REQUEST="true", HTTP_HX_CURRENT_URL=f"http://testserver{page}")
    assert htmx.status_code == 403 and htmx["HX-Redirect"].startswith(reverse("compliance:purpose"))
    assert "purpose" in htmx.content.decode()
    api = client.get(reverse("target-list"))
    assert api.status_code == 403 and "X-Access-Purpose" in api.json()["detail"]
    assert client.get(reverse("target-list"), HTTP_X_ACCESS_PURPOSE="risk_analysis").status_code == 200


def test_searches_are_logged_with_the_query_and_the_count_never_the_data(world, seeded, customs_analyst):
    client = _client(customs_analyst, purpose=True)
    client.get(reverse("intake:subjects"), {"q": "PLAIN"})
    client.get(reverse("target-list"))
    # By insertion: on PostgreSQL the chain numbers (seq) rows after the commit, on a sealer thread.
    page, api = AccessLogEntry.objects.order_by("pk")
    assert (page.action, page.object_type, page.object_id) == ("search", "subject", "")
    assert "q=PLAIN" in page.summary and "1 item(s)" in page.summary
    assert (api.action, api.object_type) == ("search", "target") and "1 item(s)" in api.summary
    detail = client.get(reverse("target-detail", args=[seeded.target.pk]), HTTP_X_ACCESS_PURPOSE="audit")
    assert detail.status_code == 200
    [entry] = AccessLogEntry.objects.order_by("pk")[2:]  # one entry per request, not one per layer
    assert (entry.action, entry.object_type, entry.object_id, entry.purpose) == (
        "view", "target", str(seeded.target.pk), "audit"
    )  # fmt: skip
    assert entry.data_owner_agency_id == world.customs.pk
    assert not found_sentinels(" ".join(e.summary for e in AccessLogEntry.objects.all()))

"""The security crawl (issue 16): every route of the URL map and of the OpenAPI schema, as every demo
person, with the ids of every kind of object each may not see, and every withheld string.

- ``test_invisible_ids_answer_as_missing``: for each parameterised route and each kind of object it
  takes (found by probing, see ``crawl.probe_route_models``), an id the person may not see answers
  404, or exactly what a never-used id answers; GET, GET as htmx, the API with a declared purpose
  header, POST ``{}`` where GET is 405, and the API's writing methods.
- ``test_withheld_strings_reach_nobody``: every page, partial, API answer and export the person may
  open, with every id the person may see, contains no sentinel the person may not read
  (``seed.SENTINELS``).

Each test collects every problem it finds and fails once with the list (set ``CRAWL_REPORT=path`` to
also append them to a file).
"""

from __future__ import annotations

import os

import pytest

from apps.core.demo import DEMO_USERS
from apps.reports.views import TABLES
from tests.security.crawl import Answer, Route, _method_for, withheld_in, write_methods
from tests.security.seed import DOB_FORMS, EXTRA_USERS, MISSING_ID, SENTINELS

PEOPLE = [u.username for u in DEMO_USERS] + [name for name, _, _ in EXTRA_USERS]
#: What the withheld-strings tests of this run saw: who was crawled, which sentinels a reader found.
RUN: dict[str, set[str]] = {"people": set(), "read": set()}

#: Query strings that open other answers of the same route (exports in each format, searches).
EXTRA_QUERIES: dict[str, list[str]] = {
    "reports:export": [f"?table={t}&format={f}" for t in TABLES for f in ("csv", "xlsx")],
    "reports:home": ["?period=year"],
    "targeting:list": ["?q=SNTLNAMEKOVAC", "?q=SNTL", "?state=on_hold"],
    "targeting:export": ["?q=SNTL"],
    "intake:subjects": ["?q=SNTLNAMEKOVAC", "?q=SNTLDOC7741", "?kind=traveller"],
    "subject-list": ["?q=SNTLNAMEKOVAC", "?search=SNTLNAMEKOVAC"],
    "target-list": ["?q=SNTLNAMEKOVAC"],
    "watchlists:screen": ["?name=SNTLPOLWLPERSON+Petrov", "?q=SNTLPOLWLPERSON"],
}


def _report(title: str, problems: list[str]) -> None:
    path = os.environ.get("CRAWL_REPORT")
    if path and problems:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(f"\n## {title}\n" + "".join(f"- {p}\n" for p in problems))


def _snippet(answer: Answer) -> str:
    return answer.body[:120].decode("latin-1").replace("\n", " ")


def _leak(username: str, method: str, url: str, variant: str, answer: Answer) -> list[str]:
    found = withheld_in(answer, username, url)
    out = []
    if found:
        out.append(f"{method} {url} [{variant}] as {username}: {answer.status} shows {', '.join(found)}")
    if answer.status >= 500:
        out.append(f"{method} {url} [{variant}] as {username}: {answer.status} {_snippet(answer)}")
    return out


def test_the_crawl_finds_the_routes_and_the_schema(crawl, db):
    """The URL map and the OpenAPI schema are both walked, and the probe recognises what routes take."""
    names = {r.name for r in crawl.routes}
    assert any(r.is_api and r.methods for r in crawl.routes), "no API route carries the schema's methods"
    assert not [n for n in names if n.startswith("openapi:")], (
        f"paths in the OpenAPI schema that the URL map walk did not find: "
        f"{sorted(n for n in names if n.startswith('openapi:'))}"
    )
    taking = {name: [m._meta.label for m in models] for name, models in crawl.takes.items()}
    signed_in = crawl.crawler.request("immigration.liaison", "GET", "/targets/")
    assert signed_in.status == 200, f"the crawl's clients are not signed in: {signed_in.status}"
    assert "targeting.Target" in taking.get("targeting:detail", []), taking
    assert "targeting.Target" in taking.get("target-detail", []), taking


@pytest.mark.parametrize("username", PEOPLE)
def test_invisible_ids_answer_as_missing(crawl, username, seeded, db):
    crawler, visibility = crawl.crawler, crawl.visibility
    problems: list[str] = []
    for route in crawl.routes:
        models = crawl.takes.get(route.name)
        if not models or (route.is_admin and not seeded.users[username].is_staff):
            continue  # the admin's login page stands before every admin route for the others
        method = "GET" if route.is_admin else _method_for(crawler, route)
        calls = [(method, v) for v in crawler.variants(route)]
        writes = [(m, "header") for m in write_methods(route) if m != method] if route.is_api else []
        baseline: dict[tuple[str, str], tuple[int, bytes]] = {}
        for model in models:
            for index, pk in enumerate(visibility.invisible_sample(username, model)):
                url = route.url(pk)
                for call_method, variant in calls + (writes if index == 0 else []):
                    if (call_method, variant) not in baseline:
                        missing_url = route.url(MISSING_ID)
                        missing = crawler.request(username, call_method, missing_url, variant)
                        baseline[call_method, variant] = (missing.status, missing.normalised(missing_url))
                    answer = crawler.request(username, call_method, url, variant)
                    problems += _leak(username, call_method, url, variant, answer)
                    if answer.status == 404:
                        continue
                    if (answer.status, answer.normalised(url)) != baseline[call_method, variant]:
                        problems.append(
                            f"{call_method} {url} [{variant}] as {username}: {answer.status} for a "
                            f"{model._meta.label} it may not see, {baseline[call_method, variant][0]} for a "
                            f"missing id: {_snippet(answer)}"
                        )
    _report(f"invisible ids, {username}", problems)
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems)


@pytest.mark.parametrize("username", PEOPLE)
def test_withheld_strings_reach_nobody(crawl, username, seeded, db):
    crawler, visibility = crawl.crawler, crawl.visibility
    user = seeded.users[username]
    problems: list[str] = []
    locodes = sorted(seeded.ports)
    searches: list[tuple[Route, str]] = []

    def get(route: Route, url: str) -> None:
        for variant in ("plain",) if route.is_admin else crawler.variants(route):
            answer = crawler.request(username, "GET", url, variant)
            problems.extend(_leak(username, "GET", url, variant, answer))
            if answer.status == 200:
                text = answer.body
                RUN["read"].update(
                    s for s, readers in SENTINELS.items() if username in readers and s.encode() in text
                )

    for route in crawl.routes:
        if route.methods and "GET" not in route.methods:
            continue
        if route.is_admin and not (
            user.is_staff and route.name.endswith(("_changelist", "_change", "index"))
        ):
            continue
        if not route.params:
            get(route, route.url())
            # Last: a search is logged with its words, and the access log would show them back.
            searches += [(route, route.url() + query) for query in EXTRA_QUERIES.get(route.name, [])]
        elif route.name in crawl.takes:
            if not route.is_admin and _method_for(crawler, route) != "GET":
                continue
            for model in crawl.takes[route.name]:
                for pk in visibility.visible(username, model, cap=3 if route.is_admin else 12):
                    get(route, route.url(pk))
        elif route.params[0][0] == "locode":
            for locode in locodes:
                get(route, route.url(locode))
    for route, url in searches:
        get(route, url)
    RUN["people"].add(username)
    _report(f"withheld strings, {username}", problems)
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems)


def test_every_sentinel_is_read_by_someone(db):
    """The table's readers do find the sentinels: one that nobody finds would make the crawl prove
    nothing about it. Needs every ``test_withheld_strings_reach_nobody`` case in the same run."""
    if len(RUN["people"]) < len(PEOPLE):
        pytest.skip("only part of the crawl ran")
    never = sorted(s for s in SENTINELS if s not in RUN["read"])
    # Dates of birth have several spellings: one of them being found is enough.
    if any(form in RUN["read"] for form in DOB_FORMS):
        never = [s for s in never if s not in DOB_FORMS]
    assert not never, f"sentinels no permitted reader found anywhere: {never}"


def test_the_crawl_catches_a_child_that_forgets_its_parent(crawl, db, monkeypatch):
    """The crawl's own check: with holds scoped by agency only (finding 2 of issue 16), the port A
    officer reads port B's hold, and both checks of the crawl say so."""
    from django.db.models import Q

    from apps.targeting.models import Hold

    monkeypatch.setattr(
        Hold, "visibility_q", classmethod(lambda cls, m: Q(target__owner_agency_id=m.agency_id))
    )
    hold = Hold.objects.get(reason="SNTL-HOLDB-9b7")
    route = next(r for r in crawl.routes if r.is_api and crawl.takes.get(r.name) == [Hold])
    answer = crawl.crawler.request("officer.felixstowe", "GET", route.url(hold.pk))
    assert answer.status == 200
    assert withheld_in(answer, "officer.felixstowe", route.url(hold.pk)) == ["SNTL-HOLDB-9b7"]

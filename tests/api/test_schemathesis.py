"""Schemathesis against ``/api/schema/``, for each role of the seeded world (issue 22's acceptance).

For every operation of the schema and every role (a port system with an API token; an analyst, a
supervisor, a port officer, a manager and an auditor signed in by session), requests generated from the
schema must not end in a server error, and every answer must match the schema: its status code and
content type documented, its body valid against the documented response. On top of schemathesis' own
checks, one of ours: **no 200 for an object outside the caller's scope**, applied to every fuzzed answer
and, because fuzzing rarely guesses a foreign id, to a targeted walk that asks every detail route for
the ids the caller may not see (the seeded world gives each model its own id range, so an id names one
object of one kind: one that is invisible to the caller must be answered like a missing one).

How: the schema is loaded from the app over WSGI (``schemathesis.openapi.from_wsgi``), in process and on
the test's own database connection, so the seeded world (built inside a transaction that is rolled back
at the end of the module) is what the API sees; a live server would need the world committed. Each
fuzzed request runs in a savepoint that is rolled back, so examples do not leak into one another (and a
database error in one does not abort the transaction for the next). The stateful run keeps its changes
between steps (links need the created objects) and rolls back once at its end.

Budget: three examples per operation and role, generation phases only (no shrinking: a failure is
reported as found), derandomised so CI sees the same cases every run; about 80 s for the module on one
PostgreSQL worker. ``RATC_SCHEMATHESIS_EXAMPLES`` raises the number locally.

Stateful: drf-spectacular writes no OpenAPI ``links``; schemathesis (4.x) infers them from the schema (an
id a POST returns, fed to the detail routes), and a few short scenarios follow them for two roles.

Not exercised: large uploads (generated multipart bodies are a few bytes, which the intake and photo code
refuse as unreadable: a documented 400); the PDF report's body (binary, only its status is checked).
A failure lists, per role and operation, the first failing check with the server's own problem detail.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import hypothesis
import pytest
import schemathesis
from django.conf import settings
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from django.test import Client, override_settings
from hypothesis import HealthCheck, Phase
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from apps.agencies import tokens
from apps.compliance.services import SESSION_KEY
from tests.security.seed import MISSING_ID, World, model_of_id, scoped_models

#: The roles of issue 22's acceptance, by the seeded world's usernames, with the purpose each declares.
ROLES: dict[str, tuple[str, str]] = {
    "system": ("integrator", "examination"),
    "analyst": ("analyst", "risk_analysis"),
    "supervisor": ("supervisor", "risk_analysis"),
    "port_officer": ("officer.felixstowe", "examination"),
    "manager": ("manager", "risk_analysis"),
    "auditor": ("auditor", "audit"),
}
EXAMPLES = int(os.environ.get("RATC_SCHEMATHESIS_EXAMPLES", "3"))
#: Roles whose stateful run follows the schema's links (each run costs seconds; two roles that write).
STATEFUL_ROLES = ("supervisor", "system")
#: A request header that carries the caller into our check (which sees the request that was sent).
ROLE_HEADER = "X-Acceptance-Role"
CSRF = "acceptanceacceptanceacceptance12"  # 32 characters: Django's unmasked CSRF secret
DETAIL_PARAM = re.compile(r"\{(id|pk)\}")
#: Invisible ids asked of each detail route, per model it serves (the lowest ids: one of each seeded kind).
IDS_PER_MODEL = 8


@dataclass
class Caller:
    role: str
    username: str
    headers: dict[str, str]
    cookies: dict[str, str]


@dataclass
class Api:
    schema: Any
    world: World
    callers: dict[str, Caller]
    seen: dict[str, dict[type, set[int]]]
    everything: dict[type, list[int]]
    models: list[type] = field(default_factory=list)


_API: Api | None = None  # for the check, which schemathesis calls with (ctx, response, case) only


@pytest.fixture(scope="module")
def api(seeded: World) -> Iterator[Api]:
    global _API
    logging.getLogger("django.request").setLevel(logging.ERROR)  # thousands of expected 4xx
    # Fuzzing sends hundreds of requests a minute per caller: the rate limit is tested on its own.
    rates = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "token": "100000/min", "user": "100000/min"}
    # As Django's test client does: the WSGI handler would otherwise close the test's connection (and
    # with it the transaction that holds the seeded world) at the end of every request.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        with override_settings(REST_FRAMEWORK={**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}):
            schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())
            callers = {role: _caller(seeded, role, name, purpose) for role, (name, purpose) in ROLES.items()}
            models = scoped_models()
            seen = {
                c.username: {
                    m: set(
                        m._default_manager.visible_to(seeded.users[c.username]).values_list("pk", flat=True)
                    )
                    for m in models
                }
                for c in callers.values()
            }
            everything = {
                m: list(m._default_manager.order_by("pk").values_list("pk", flat=True)) for m in models
            }
            _API = Api(
                schema=schema, world=seeded, callers=callers, seen=seen, everything=everything, models=models
            )
            yield _API
    finally:
        _API = None
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def _caller(world: World, role: str, username: str, purpose: str) -> Caller:
    user = world.users[username]
    headers = {"X-Access-Purpose": purpose, ROLE_HEADER: username}
    cookies: dict[str, str] = {}
    if role == "system":
        issued = tokens.issue(user=user, name="acceptance (schemathesis)")
        headers["Authorization"] = f"Token {issued.secret}"
    else:
        client = Client()
        client.force_login(user)
        session = client.session
        session[SESSION_KEY] = {"code": purpose, "text": ""}
        session.save()
        # Cookies go as cookies, not as a Cookie header: werkzeug's test client replaces that header with
        # its own cookie jar, and the person would silently be anonymous.
        cookies = {settings.SESSION_COOKIE_NAME: session.session_key, settings.CSRF_COOKIE_NAME: CSRF}
        headers["X-CSRFToken"] = CSRF
    return Caller(role=role, username=username, headers=headers, cookies=cookies)


# --------------------------------------------------------------------------- our check


def _object_id(case: Any) -> int | None:
    """The integer id of a detail route's object, or None for a route that names none."""
    for name in ("id", "pk"):
        value = (case.path_parameters or {}).get(name)
        if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
            return int(value)
    return None


@schemathesis.check
def no_object_outside_scope(ctx: Any, response: Any, case: Any) -> bool | None:
    """A 2xx answer on a route naming an object the caller may not see is a leak (404 is the answer)."""
    if _API is None or response.status_code >= 300 or case.method.upper() not in {"GET", "HEAD"}:
        return None
    pk = _object_id(case)
    username = response.request.headers.get(ROLE_HEADER)  # the headers that were sent
    if pk is None or username is None:
        return None
    model = model_of_id(pk, _API.models)
    if model is None or pk not in _API.everything.get(model, ()):
        return None  # not a seeded object of a scoped model (reference data, or an id nobody has)
    if pk not in _API.seen[username][model]:
        raise AssertionError(
            f"{response.status_code} for {model._meta.label} {pk}, which {username} may not see "
            f"(expected 404 or 403)"
        )
    return None


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    no_object_outside_scope,
]


# --------------------------------------------------------------------------- running and reporting


@dataclass(frozen=True)
class Found:
    role: str
    method: str
    path: str
    status: int | None
    check: str
    detail: str

    def __str__(self) -> str:
        return f"{self.method} {self.path} [{self.role}] -> {self.status}: {self.check}: {self.detail}"


class Findings:
    """The first failure of each (role, operation, check): enough to fix, short enough to read."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str, str, str], Found] = {}

    def add(self, role: str, case: Any, status: int | None, check: str, detail: str) -> None:
        key = (role, case.method.upper(), case.operation.path, check)
        first_line = " ".join(detail.strip().split())[:400]
        self.items.setdefault(key, Found(role, key[1], key[2], status, check, first_line))

    def record(self, role: str, case: Any, response: Any, group: FailureGroup) -> None:
        body = ""
        if response.status_code >= 400:  # the server's own words say why it refused
            body = " | body: " + response.content[:160].decode("utf-8", "replace")
        for failure in group.exceptions:
            if isinstance(failure, Failure):
                self.add(role, case, response.status_code, failure.title, (failure.message or "") + body)
            else:
                self.add(role, case, response.status_code, type(failure).__name__, str(failure) + body)

    def report(self) -> str:
        lines = sorted(str(found) for found in self.items.values())
        text = f"{len(lines)} failing (role, operation, check):\n" + "\n".join(lines)
        print(text)  # in full in the captured output: pytest shortens a long assertion message
        return text


@contextmanager
def _rolled_back() -> Iterator[None]:
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def _exercise(api: Api, caller: Caller, case: Any, findings: Findings) -> Any:
    """Send ``case`` as ``caller`` and run the checks; what fails is recorded, not raised (no shrinking)."""
    if caller.role != "system" and case.headers:
        case.headers.pop("Authorization", None)  # a person is the session, not a generated token
    try:
        response = case.call(headers=caller.headers, cookies=caller.cookies)
    except Exception as exc:  # the app raised through the WSGI handler: a server error by another name
        findings.add(caller.role, case, None, "exception", f"{type(exc).__name__}: {exc}")
        return None
    try:
        case.validate_response(response, checks=CHECKS, headers=caller.headers)
    except FailureGroup as group:
        findings.record(caller.role, case, response, group)
    return response


def _operations(api: Api) -> list[Any]:
    found = []
    for result in api.schema.get_all_operations():
        found.append(result.ok())
    return found


@pytest.mark.parametrize("role", list(ROLES))
def test_each_role_is_signed_in(api: Api, role: str, db: None) -> None:
    """Guard for the harness itself: a caller who is silently anonymous would pass every check on 403s."""
    caller = api.callers[role]
    response = api.schema["/api/v1/me/"]["GET"].Case().call(headers=caller.headers, cookies=caller.cookies)
    assert response.status_code == 200, response.content
    assert caller.username in response.text


@pytest.mark.parametrize("role", list(ROLES))
def test_fuzzed_requests_pass_the_checks(api: Api, role: str, db: None) -> None:
    caller = api.callers[role]
    findings = Findings()
    started = time.monotonic()
    operations = _operations(api)

    for operation in operations:

        @hypothesis.settings(
            max_examples=EXAMPLES, phases=[Phase.explicit, Phase.generate], deadline=None, database=None,
            derandomize=True, suppress_health_check=list(HealthCheck), report_multiple_bugs=False,
        )  # fmt: skip
        @hypothesis.given(case=operation.as_strategy())
        def fuzz(case: Any) -> None:
            with _rolled_back():
                _exercise(api, caller, case, findings)

        fuzz()
    print(
        f"\n{role}: {len(operations)} operations x {EXAMPLES} examples in {time.monotonic() - started:.1f}s"
    )
    assert not findings.items, findings.report()


def _models_of(path: str, models: list[type]) -> list[type]:
    """The scoped models a detail route probably serves, by its collection's name ("watchlist-entries":
    WatchlistEntry, "sources": DataSource); every model when none matches, so nothing is left unasked.
    An id of another model is one the route never saw: asking it proves nothing the crawl does not."""
    segment = path.split("{")[0].rstrip("/").rsplit("/", 1)[-1].replace("-", "").lower()
    stems = {segment, segment[:-1], segment[:-2], segment[:-3] + "y"}  # plural forms: s, es, ies
    found = [
        m
        for m in models
        if any(m.__name__.lower() == s or m.__name__.lower().endswith(s) for s in stems if s)
    ]
    return found or models


@pytest.mark.parametrize("role", list(ROLES))
def test_no_object_outside_the_callers_scope(api: Api, role: str, db: None) -> None:
    """Every detail route, asked for every kind of object the caller may not see (a few ids per kind)."""
    caller = api.callers[role]
    findings = Findings()
    invisible = {
        model: [pk for pk in pks if pk not in api.seen[caller.username][model]]
        for model, pks in api.everything.items()
    }
    detail_gets = [
        op for op in _operations(api)
        if op.method.upper() == "GET" and DETAIL_PARAM.search(op.path) and op.path.count("{") == 1
    ]  # fmt: skip
    assert detail_gets, "the schema has no detail routes: the check would prove nothing"
    asked = 0
    with _rolled_back():
        for operation in detail_gets:
            name = DETAIL_PARAM.search(operation.path).group(1)
            models = _models_of(operation.path, api.models)
            ids = [*sorted({pk for m in models for pk in invisible[m][:IDS_PER_MODEL]}), MISSING_ID]
            for pk in ids:
                case = operation.Case(path_parameters={name: pk}, query={})
                _exercise(api, caller, case, findings)
                asked += 1
    print(f"\n{role}: {asked} requests for objects outside the scope")
    leaks = sorted(str(found) for found in findings.items.values() if "may not see" in found.detail)
    assert not leaks, "answered for objects outside the scope:\n" + "\n".join(leaks)
    assert not findings.items, findings.report()


@pytest.mark.parametrize("role", STATEFUL_ROLES)
def test_stateful_links_are_followed(api: Api, role: str, db: None) -> None:
    """Schemathesis infers links between operations (an id a POST returns, used by the detail GET) from
    the schema, as drf-spectacular writes no OpenAPI ``links``; a few short scenarios per role."""
    caller = api.callers[role]
    findings = Findings()
    machine = api.schema.as_state_machine()
    steps: list[str] = []

    class Scenario(machine):  # type: ignore[misc, valid-type]
        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"headers": caller.headers, "cookies": caller.cookies}

        def call(self, case: Any, **kwargs: Any) -> Any:
            if caller.role != "system" and case.headers:
                case.headers.pop("Authorization", None)
            steps.append(f"{case.method} {case.operation.path}")
            savepoint = transaction.savepoint()
            response = case.call(**kwargs)
            if response.status_code >= 500:  # a failed statement would abort the steps that follow
                transaction.savepoint_rollback(savepoint)
            else:
                transaction.savepoint_commit(savepoint)
            return response

        def validate_response(
            self, response: Any, case: Any, additional_checks: Any = None, **kwargs: Any
        ) -> None:
            try:
                case.validate_response(response, checks=CHECKS, headers=caller.headers)
            except FailureGroup as group:
                findings.record(caller.role, case, response, group)

    started = time.monotonic()
    with _rolled_back():
        Scenario.run(
            settings=hypothesis.settings(
                max_examples=4, stateful_step_count=4, deadline=None, database=None, derandomize=True,
                phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck),
            )
        )  # fmt: skip
    print(f"\n{role}: stateful scenarios, {len(steps)} steps in {time.monotonic() - started:.1f}s")
    assert steps, "no stateful step ran: schemathesis found no links on this schema"
    assert not findings.items, findings.report()

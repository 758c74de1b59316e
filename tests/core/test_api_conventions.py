"""What API users expect, on every viewset built on ``ScopedViewSetMixin``: cursor pages, filters that never
widen the scope, ETag/If-None-Match, If-Match, Idempotency-Key, rate limits per token, problem details."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import timedelta
from unittest import mock

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework.test import APIClient

from apps.agencies import tokens
from apps.agencies.roles import Role
from apps.core.idempotency import purge_expired
from apps.core.models import IdempotencyKey
from apps.frontline import services as frontline_services
from apps.frontline.models import ExaminationResult
from apps.targeting.models import Hold, Instruction, Target
from tests.factories import member
from tests.frontline.conftest import jpeg_bytes
from tests.targeting.factories import SubjectFactory, TargetFactory

PURPOSE = {"HTTP_X_ACCESS_PURPOSE": "risk_analysis"}
PROBLEM = "application/problem+json"


def customs_target(world, **kwargs) -> Target:
    subject = SubjectFactory(source__owner_agency=world.customs, port=kwargs.pop("port", world.port_a))
    return TargetFactory(subject=subject, **kwargs)


def bio_target(world) -> Target:
    """A target of another agency, shared with nobody: out of CUS's scope."""
    return TargetFactory(subject=SubjectFactory(source__owner_agency=world.bio, port=world.port_a))


def as_user(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def walk(client: APIClient, url: str) -> tuple[list[int], int]:
    """Every id of a cursor-paginated list, following ``next``; and how many pages it took."""
    ids: list[int] = []
    pages = 0
    while url:
        page = client.get(url, **PURPOSE)
        assert page.status_code == 200, page.content
        body = page.json()
        assert set(body) == {"next", "previous", "results"}  # no count: no COUNT(*) over the scope
        ids += [row["id"] for row in body["results"]]
        url = body["next"]
        pages += 1
    return ids, pages


# --- Cursor pagination and filters ----------------------------------------------------------------


def test_cursor_pagination_walks_every_visible_item_once(world, customs_analyst):
    mine = [customs_target(world).pk for _ in range(7)]
    hidden = bio_target(world)
    ids, pages = walk(as_user(customs_analyst), "/api/v1/targets/?page_size=3")
    assert sorted(ids) == sorted(mine) and len(ids) == len(set(ids)) and hidden.pk not in ids
    assert pages == 3
    # Newest first by default (the model's ordering), and an allowed ordering is honoured.
    assert ids == sorted(mine, reverse=True)
    ascending, _ = walk(as_user(customs_analyst), "/api/v1/targets/?page_size=4&ordering=id")
    assert ascending == sorted(mine)


def test_page_size_is_capped(world, customs_analyst):
    for _ in range(3):
        customs_target(world)
    with mock.patch("apps.core.rest.ApiCursorPagination.max_page_size", 2):
        body = as_user(customs_analyst).get("/api/v1/targets/?page_size=1000", **PURPOSE).json()
    assert len(body["results"]) == 2 and body["next"]


def test_a_filter_cannot_reveal_an_out_of_scope_object(
    world, customs_analyst, customs_supervisor, port_officer
):
    hidden = bio_target(world)
    Hold.objects.create(target=hidden, agency=world.bio, placed_by=member("bea", world.bio, Role.ANALYST),
                        reason="Their controlled delivery")  # fmt: skip
    analyst = as_user(customs_analyst)
    by_hidden = analyst.get(f"/api/v1/holds/?target={hidden.pk}", **PURPOSE)
    by_missing = analyst.get("/api/v1/holds/?target=999999999", **PURPOSE)
    # The other agency's target and a target that does not exist answer the same: nothing.
    assert by_hidden.status_code == by_missing.status_code == 200
    assert by_hidden.json()["results"] == by_missing.json()["results"] == []
    # A port officer filtering for another port's instructions gets none, though they exist.
    other_port = customs_target(world, port=world.port_b, state="dispatched")
    Instruction.objects.create(target=other_port, port=world.port_b, method="scan", instruction="x",
                               dispatched_by=customs_supervisor)  # fmt: skip
    listed = as_user(port_officer).get(
        "/api/v1/instructions/?port__locode=GBLHR", HTTP_X_ACCESS_PURPOSE="examination"
    )
    assert listed.status_code == 200 and listed.json()["results"] == []


def test_a_filter_narrows_and_a_bad_filter_value_names_the_parameter(world, customs_analyst):
    engine = customs_target(world, by_engine=True)
    customs_target(world, by_engine=False)
    analyst = as_user(customs_analyst)
    listed = analyst.get("/api/v1/targets/?by_engine=true", **PURPOSE).json()["results"]
    assert [row["id"] for row in listed] == [engine.pk]
    bad = analyst.get("/api/v1/holds/?target=abc", **PURPOSE)
    assert bad.status_code == 400 and bad["Content-Type"] == PROBLEM
    assert [e["parameter"] for e in bad.json()["errors"]] == ["target"]


def _parameters_of(response) -> list[str]:
    assert response.status_code == 400 and response["Content-Type"] == PROBLEM, response.content
    return [e["parameter"] for e in response.json()["errors"]]


def test_a_cursor_that_is_not_ours_is_a_400_naming_the_cursor(world, customs_analyst):
    for _ in range(3):
        customs_target(world)
    analyst = as_user(customs_analyst)
    assert _parameters_of(analyst.get("/api/v1/targets/?cursor=not-a-cursor", **PURPOSE)) == ["cursor"]
    # Well formed, but its position is no id: refused before the database compares it.
    forged = base64.b64encode(b"p=abc").decode()
    assert _parameters_of(analyst.get(f"/api/v1/targets/?cursor={forged}", **PURPOSE)) == ["cursor"]
    # The cursor of a real page still walks on.
    following = analyst.get("/api/v1/targets/?page_size=2", **PURPOSE).json()["next"]
    assert analyst.get(following, **PURPOSE).status_code == 200


def test_a_date_time_filter_takes_any_real_offset_and_refuses_one_beyond_15_59(world, customs_analyst):
    target = customs_target(world)
    analyst = as_user(customs_analyst)
    # The same instant written with a far offset matches as in UTC.
    at = target.created_at.astimezone(timezone.get_fixed_timezone(14 * 60)).isoformat()
    listed = analyst.get("/api/v1/targets/", {"created_at__gte": at}, **PURPOSE)
    assert [row["id"] for row in listed.json()["results"]] == [target.pk]
    # ISO 8601 allows +23:59, PostgreSQL refuses 16:00 and beyond: a 400 naming it, not a 500.
    for offset in ("+16:00", "-23:59"):
        refused = analyst.get(
            "/api/v1/targets/", {"created_at__lt": f"2026-01-01T00:00:00{offset}"}, **PURPOSE
        )
        assert _parameters_of(refused) == ["created_at__lt"]


def test_a_number_beyond_64_bits_in_a_filter_is_a_400_naming_it(world, customs_analyst):
    analyst = as_user(customs_analyst)
    huge = str(2**63)
    assert _parameters_of(analyst.get(f"/api/v1/holds/?target={huge}", **PURPOSE)) == ["target"]
    assert _parameters_of(analyst.get(f"/api/v1/holds/?target=-{huge}1", **PURPOSE)) == ["target"]
    # The largest id the database holds is still a plain filter that finds nothing.
    fits = analyst.get(f"/api/v1/holds/?target={2**63 - 1}", **PURPOSE)
    assert fits.status_code == 200 and fits.json()["results"] == []


# --- ETag / If-None-Match -------------------------------------------------------------------------


def test_etag_and_if_none_match_answer_304_until_it_changes(world, customs_analyst):
    target = customs_target(world)
    client = as_user(customs_analyst)
    url = f"/api/v1/targets/{target.pk}/"
    first = client.get(url, **PURPOSE)
    etag = first["ETag"]
    assert first.status_code == 200 and etag.startswith('"') and etag.endswith('"')
    again = client.get(url, HTTP_IF_NONE_MATCH=etag, **PURPOSE)
    assert again.status_code == 304 and again.content == b"" and again["ETag"] == etag
    client.post(f"/api/v1/targets/{target.pk}/claim/", **PURPOSE)  # changes what the read shows
    changed = client.get(url, HTTP_IF_NONE_MATCH=etag, **PURPOSE)
    assert changed.status_code == 200 and changed["ETag"] != etag and changed.json()["claimed_by"] == "alice"
    # Lists carry one too.
    listed = client.get("/api/v1/targets/", **PURPOSE)
    assert client.get("/api/v1/targets/", HTTP_IF_NONE_MATCH=listed["ETag"], **PURPOSE).status_code == 304


# --- If-Match ---------------------------------------------------------------------------------------


def test_if_match_version_moves_the_target_and_a_stale_one_is_412(world, customs_supervisor):
    target = customs_target(world, state="awaiting_approval")
    client = as_user(customs_supervisor)
    url = f"/api/v1/targets/{target.pk}/transitions/"
    ok = client.post(
        url, {"action": "approve", "reason": "Strong"}, format="json", HTTP_IF_MATCH='"1"', **PURPOSE
    )
    assert ok.status_code == 200, ok.content
    assert ok.json()["state"] == "approved" and ok.json()["version"] == 2
    stale = client.post(
        url, {"action": "withdraw", "reason": "x"}, format="json", HTTP_IF_MATCH='"1"', **PURPOSE
    )
    assert stale.status_code == 412 and stale["Content-Type"] == PROBLEM
    assert stale.json()["type"] == "urn:ratc:problem:precondition-failed"
    target.refresh_from_db()
    assert target.state == "approved" and target.version == 2
    # Without If-Match the body's stale version is still a 409 conflict, as before.
    conflict = client.post(
        url, {"action": "withdraw", "expected_version": 1, "reason": "x"}, format="json", **PURPOSE
    )
    assert conflict.status_code == 409 and conflict.json()["type"] == "urn:ratc:problem:stale-version"


def test_if_match_accepts_the_etag_of_the_read(world, customs_supervisor):
    target = customs_target(world, state="awaiting_approval")
    client = as_user(customs_supervisor)
    etag = client.get(f"/api/v1/targets/{target.pk}/", **PURPOSE)["ETag"]
    url = f"/api/v1/targets/{target.pk}/transitions/"
    moved = client.post(
        url, {"action": "approve", "reason": "ok"}, format="json", HTTP_IF_MATCH=etag, **PURPOSE
    )
    assert moved.status_code == 200 and moved.json()["version"] == 2
    # The same ETag no longer matches: the read it came from is out of date.
    again = client.post(
        url, {"action": "withdraw", "reason": "x"}, format="json", HTTP_IF_MATCH=etag, **PURPOSE
    )
    assert again.status_code == 412


def test_if_match_on_a_child_uses_the_parents_version(world, customs_supervisor):
    target = customs_target(world, state="approved")
    hold = Hold.objects.create(
        target=target, agency=world.customs, placed_by=customs_supervisor, reason="wait"
    )
    client = as_user(customs_supervisor)
    url = f"/api/v1/holds/{hold.pk}/"
    refused = client.patch(url, {"release_reason": "go"}, format="json", HTTP_IF_MATCH='"99"', **PURPOSE)
    assert refused.status_code == 412
    hold.refresh_from_db()
    assert hold.released_at is None


# --- Idempotency-Key --------------------------------------------------------------------------------


def _result(instruction) -> dict:
    return {"instruction": instruction.pk, "idempotency_key": str(uuid.uuid4()), "method": "scan",
            "outcome": "no_finding", "started_at": ""}  # fmt: skip


@pytest.fixture
def instruction(world, customs_supervisor) -> Instruction:
    target = customs_target(world, state="dispatched")
    return Instruction.objects.create(target=target, port=world.port_a, method="scan", instruction="Scan it.",
                                      dispatched_by=customs_supervisor)  # fmt: skip


def test_a_post_repeated_with_its_idempotency_key_is_stored_once_and_replayed(instruction, port_officer):
    client = as_user(port_officer)
    body = _result(instruction)
    with mock.patch.object(
        frontline_services, "record_examination", wraps=frontline_services.record_examination
    ) as run:
        first = client.post("/api/v1/examination-results/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
        again = client.post("/api/v1/examination-results/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == 201, first.content
    assert run.call_count == 1  # the view ran once
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert json.loads(again.content) == first.json()
    assert ExaminationResult.objects.count() == 1
    assert IdempotencyKey.objects.get(key="k-1").status == 201
    assert "Idempotent-Replayed" not in first


def test_a_multipart_result_with_photos_is_replayed_and_another_photo_refused(instruction, port_officer):
    def post(color: str):
        photo = SimpleUploadedFile("seizure.jpg", jpeg_bytes(color=color), content_type="image/jpeg")
        data = {
            **_result(instruction),
            "idempotency_key": "6f1c2a52-98a4-4d7e-9a40-2d3b1c5e7f10",
            "photos": [photo],
        }
        return as_user(port_officer).post(
            "/api/v1/examination-results/", data, format="multipart", HTTP_IDEMPOTENCY_KEY="k-photo"
        )

    first, again, other = post("orange"), post("orange"), post("blue")
    assert first.status_code == 201 and len(first.json()["photos"]) == 1, first.content
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert other.status_code == 422  # the same key, another file
    assert ExaminationResult.objects.count() == 1


def test_the_same_key_with_another_body_is_refused(instruction, port_officer):
    client = as_user(port_officer)
    body = _result(instruction)
    client.post("/api/v1/examination-results/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    other = client.post("/api/v1/examination-results/", {**body, "outcome": "seizure"}, format="json",
                        HTTP_IDEMPOTENCY_KEY="k-2")  # fmt: skip
    assert other.status_code == 422 and other["Content-Type"] == PROBLEM
    assert other.json()["type"] == "urn:ratc:problem:idempotency-key-reused"
    assert ExaminationResult.objects.count() == 1


def test_a_duplicate_in_flight_is_409_and_keys_are_per_account(instruction, port_officer, world):
    body = _result(instruction)
    client = as_user(port_officer)
    first = client.post("/api/v1/examination-results/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-3")
    # As if the first request were still running: its row has no answer yet.
    IdempotencyKey.objects.filter(key="k-3").update(status=None)
    in_flight = client.post("/api/v1/examination-results/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-3")
    assert first.status_code == 201 and in_flight.status_code == 409
    assert in_flight.json()["type"] == "urn:ratc:problem:idempotency-key-in-flight"
    # Another account's same key is its own.
    colleague = member("otto", world.customs, Role.FRONTLINE, ports=[world.port_a])
    theirs = as_user(colleague).post("/api/v1/examination-results/", {**body, "idempotency_key": str(uuid.uuid4())},
                                     format="json", HTTP_IDEMPOTENCY_KEY="k-3")  # fmt: skip
    assert theirs.status_code == 409 and theirs.json()["type"] != "urn:ratc:problem:idempotency-key-in-flight"


def test_an_error_releases_the_key_and_expired_keys_are_purged(instruction, port_officer):
    client = as_user(port_officer)
    body = _result(instruction)
    bad = client.post("/api/v1/examination-results/", {**body, "method": "x-ray-vision"}, format="json",
                      HTTP_IDEMPOTENCY_KEY="k-4")  # fmt: skip
    assert bad.status_code == 400 and not IdempotencyKey.objects.filter(key="k-4").exists()
    good = client.post("/api/v1/examination-results/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-4")
    assert good.status_code == 201
    IdempotencyKey.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert purge_expired() == 1 and not IdempotencyKey.objects.exists()


# --- Rate limits ------------------------------------------------------------------------------------


def test_each_token_has_its_own_rate_limit_answered_429_with_retry_after(world, settings):
    cache.clear()
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK,
                               "DEFAULT_THROTTLE_RATES": {"token": "2/min", "user": "100/min"}}  # fmt: skip
    system = member("pcs.throttle", world.customs, Role.SYSTEM, ports=[world.port_a])
    one, two = APIClient(), APIClient()
    one.credentials(HTTP_AUTHORIZATION=f"Token {tokens.issue(user=system, name='one').secret}")
    two.credentials(HTTP_AUTHORIZATION=f"Token {tokens.issue(user=system, name='two').secret}")
    assert [one.get("/api/v1/ports/").status_code for _ in range(2)] == [200, 200]
    limited = one.get("/api/v1/ports/")
    assert limited.status_code == 429 and int(limited["Retry-After"]) > 0
    assert limited["Content-Type"] == PROBLEM and limited.json()["type"] == "urn:ratc:problem:throttled"
    assert two.get("/api/v1/ports/").status_code == 200  # the other token's bucket is its own


def test_a_session_is_limited_per_person(world, customs_analyst, settings):
    cache.clear()
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK,
                               "DEFAULT_THROTTLE_RATES": {"token": "100/min", "user": "1/min"}}  # fmt: skip
    client = as_user(customs_analyst)
    assert client.get("/api/v1/ports/").status_code == 200
    assert client.get("/api/v1/agencies/").status_code == 429


def test_the_window_slides_and_says_how_long_to_wait(world, customs_analyst, settings):
    """The same sliding window with Redis (one script) as DRF's with any other cache: times older than
    the period leave it, and ``wait`` is DRF's answer from the times it holds."""
    from types import SimpleNamespace

    from apps.core.rest import UserRateThrottle

    cache.clear()
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK,
                               "DEFAULT_THROTTLE_RATES": {"token": "100/min", "user": "2/min"}}  # fmt: skip
    request = SimpleNamespace(auth=None, user=customs_analyst, META={"REMOTE_ADDR": "127.0.0.1"})

    def ask(now: float) -> tuple[bool, float | None]:
        throttle = UserRateThrottle()
        throttle.timer = lambda: now  # type: ignore[method-assign]
        allowed = throttle.allow_request(request, None)
        return allowed, (None if allowed else throttle.wait())

    assert ask(1000.0) == (True, None) and ask(1030.0) == (True, None)
    refused, wait = ask(1045.0)
    assert not refused and wait == pytest.approx(15.0)  # the time of 1000 leaves the window at 1060
    assert ask(1060.5) == (True, None)  # it has left; 1030 and 1060.5 are held
    assert ask(1070.0)[0] is False
    assert ask(1090.5)[0] is True


# --- Problem details --------------------------------------------------------------------------------


def test_a_validation_error_is_a_problem_naming_the_field(world, customs_analyst):
    subject = SubjectFactory(source__owner_agency=world.customs, port=world.port_a)
    response = as_user(customs_analyst).post("/api/v1/targets/", {"subject": subject.pk, "priority": 500},
                                             format="json", **PURPOSE)  # fmt: skip
    assert response.status_code == 400 and response["Content-Type"] == PROBLEM
    body = response.json()
    assert {"type", "title", "status", "detail", "instance"} <= set(body)
    assert body["status"] == 400 and body["instance"] == "/api/v1/targets/"
    assert body["type"] == "urn:ratc:problem:validation"
    named = {e["field"]: e for e in body["errors"]}
    assert set(named) == {"risk_area", "priority"}
    assert named["risk_area"]["pointer"] == "#/risk_area" and named["risk_area"]["code"] == "required"


def test_nested_errors_point_into_the_body(instruction, port_officer):
    body = {
        **_result(instruction),
        "goods": [{"kind": "tobacco", "quantity": "1", "unit": "kg"}, {"kind": "x"}],
    }
    response = as_user(port_officer).post("/api/v1/examination-results/", body, format="json")
    assert response.status_code == 400
    pointers = {e["pointer"] for e in response.json()["errors"]}
    assert {"#/goods/1/quantity", "#/goods/1/unit"} <= pointers


def test_not_found_forbidden_and_django_level_errors_are_problems(world, customs_analyst, port_officer):
    hidden = bio_target(world)
    analyst = as_user(customs_analyst)
    missing = analyst.get(f"/api/v1/targets/{hidden.pk}/", **PURPOSE)
    assert missing.status_code == 404 and missing["Content-Type"] == PROBLEM
    problem = missing.json()
    assert problem["type"] == "urn:ratc:problem:not-found" and problem["status"] == 404
    assert problem["instance"] == f"/api/v1/targets/{hidden.pk}/" and problem["title"] and problem["detail"]
    forbidden = as_user(port_officer).post("/api/v1/rules/", {}, format="json")
    assert forbidden.status_code == 403 and forbidden.json()["type"] == "urn:ratc:problem:forbidden"
    # A value a view parses by hand (apps.core.errors.BadInput) and an unknown route under /api/.
    bad = as_user(member("rita", world.customs, Role.RISK_MANAGER)).get(
        "/api/v1/assessments/?subject=abc", **PURPOSE
    )
    assert bad.status_code == 400 and bad["Content-Type"] == PROBLEM
    assert bad.json()["errors"][0]["parameter"] == "subject"
    unknown = analyst.get("/api/v1/no-such-thing/")
    assert (
        unknown.status_code == 404 and unknown["Content-Type"] == PROBLEM and unknown.json()["status"] == 404
    )


# --- Schema -----------------------------------------------------------------------------------------


def test_the_schema_documents_the_conventions(world, customs_analyst):
    schema = as_user(customs_analyst).get("/api/schema/?format=json").json()
    transitions = schema["paths"]["/api/v1/targets/{id}/transitions/"]["post"]
    headers = {p["name"] for p in transitions["parameters"] if p["in"] == "header"}
    assert {"If-Match", "Idempotency-Key"} <= headers
    assert {"400", "412", "422", "429"} <= set(transitions["responses"])
    assert "Retry-After" in transitions["responses"]["429"]["headers"]
    assert "application/problem+json" in transitions["responses"]["412"]["content"]
    listed = schema["paths"]["/api/v1/targets/"]["get"]
    names = {p["name"] for p in listed["parameters"]}
    assert {"cursor", "page_size", "ordering", "by_engine", "If-None-Match"} <= names
    assert "304" in listed["responses"] and "ETag" in listed["responses"]["200"]["headers"]
    # A list can answer 404 too (a filter naming another agency's object), and every error is a problem.
    assert {"400", "401", "403", "404", "429"} <= set(listed["responses"])
    for path in schema["paths"].values():
        for operation in path.values():
            for code, response in operation["responses"].items():
                if code >= "400":
                    assert list(response["content"]) == ["application/problem+json"], (path, code)
    # The purpose header is required exactly where the personal-data gate stands.
    assert {p["name"]: p.get("required") for p in listed["parameters"]}["X-Access-Purpose"] is True
    agencies = schema["paths"]["/api/v1/agencies/"]["get"]
    assert "X-Access-Purpose" not in {p["name"] for p in agencies["parameters"]}
    assert set(schema["components"]["schemas"]["Problem"]["required"]) >= {
        "type",
        "title",
        "status",
        "detail",
    }


def test_a_missing_purpose_is_a_problem_too(world, customs_analyst):
    refused = as_user(customs_analyst).get("/api/v1/targets/")
    assert refused.status_code == 403 and refused["Content-Type"] == PROBLEM
    assert (
        refused.json()["type"] == "urn:ratc:problem:purpose-required"
        and "X-Access-Purpose" in refused.json()["detail"]
    )

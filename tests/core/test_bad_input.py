"""Bad input answers 4xx naming the field, as HTML or (under /api/) JSON — never a 500 or a traceback.

Run with DEBUG off, as the demo and production run: strings where ids are wanted, lists where one value
is, dates that do not exist or overflow, numbers past what a database column holds.
"""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from apps.core.errors import BadInput, parse_id
from apps.risk.models import Rule, RuleVersion

pytestmark = pytest.mark.django_db

GARBAGE_IDS = ["abc", "²", "99999999999999999999999", "-1", "0", "1.5", ""]


@pytest.fixture(autouse=True)
def _no_debug(settings):
    settings.DEBUG = False


@pytest.fixture
def api(client_for):
    """A signed-in client whose unhandled exceptions become responses, as a browser would see them."""

    def sign_in(user):
        client = client_for(user)
        client.raise_request_exception = False
        client.defaults["HTTP_X_ACCESS_PURPOSE"] = "risk_analysis"
        return client

    return sign_in


def _no_trace(response) -> None:
    body = response.content.decode()
    assert "Traceback" not in body and "File &quot;" not in body and 'File "' not in body
    assert "django" not in body.lower().replace("csrfmiddlewaretoken", "")


@pytest.mark.parametrize("value", GARBAGE_IDS)
def test_parse_id_names_the_field(value):
    with pytest.raises(BadInput) as raised:
        parse_id(value, field="stop")
    assert raised.value.field == "stop" and str(raised.value).startswith("stop: ")


def test_parse_id_takes_an_id():
    assert parse_id(" 42 ", field="x") == 42 and parse_id(7, field="x") == 7


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"end": "0001-01-01"}, "end"),
        ({"start": "2026-13-45"}, "start"),
        ({"start": "9999-12-31"}, "start"),
        ({"agency": "abc"}, "agency"),
        ({"rule": "99999999999999999999999"}, "rule"),
    ],
)
def test_report_pages_answer_400_naming_the_field(api, manager, query, field):
    client = api(manager)
    for url in (reverse("reports:home"), reverse("reports:pdf"), reverse("reports:export")):
        response = client.get(url, query)
        assert response.status_code == 400, (url, query, response.status_code)
        body = response.content.decode()
        assert f'data-field="{field}"' in body or f"{field}: " in body
        _no_trace(response)


@pytest.mark.parametrize(
    ("route", "param"),
    [("risk-assessment-list", "subject"), ("watchlistentry-list", "watchlist")],
)
@pytest.mark.parametrize("value", ["abc", "²", "99999999999999999999999"])
def test_api_filters_answer_400_json_naming_the_parameter(api, risk_manager, route, param, value):
    response = api(risk_manager).get(reverse(route), {param: value})
    assert response.status_code == 400, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    assert param in [error["parameter"] for error in response.json()["errors"]]


@pytest.mark.parametrize(
    "payload",
    [
        {"rule": "abc", "period_start": "2026-01-01", "period_end": "2026-02-01"},
        {"rule": ["1"], "period_start": "2026-01-01", "period_end": "2026-02-01"},
        {"rule": 10**30, "period_start": "2026-01-01", "period_end": "2026-02-01"},
        {"rule": "R", "period_start": "2026-13-45", "period_end": "2026-02-01"},
        {"rule": "R", "period_start": ["2026-01-01"], "period_end": "2026-02-01"},
        {"rule": "R", "period_start": "2026-01-01", "period_end": "0001-01-01"},
        {"rule": "R", "period_start": "0001-01-01", "period_end": "9999-12-31"},
    ],
)
def test_api_bodies_answer_4xx_json(api, risk_manager, world, payload):
    rule = Rule.objects.create(owner_agency=world.customs, name="R", state="active")
    RuleVersion.objects.create(
        rule=rule, number=1, condition={}, text="origin_country = 'EC'", subject_kind="consignment",
        risk_area="narcotics", weight=70, rationale="test",
    )  # fmt: skip
    payload = {**payload, "rule": rule.pk} if payload["rule"] == "R" else payload
    response = api(risk_manager).post(
        reverse("risk-backtest-list"), json.dumps(payload), content_type="application/json"
    )
    assert 400 <= response.status_code < 500, (payload, response.status_code)
    assert response["Content-Type"].startswith("application/problem+json")
    _no_trace(response)


@pytest.mark.parametrize(
    "data",
    [
        {"period_start": "2026-13-45", "period_end": "2026-02-01"},
        {"period_start": "0001-01-01", "period_end": "9999-12-31", "rule": "abc"},
        {"rule": "99999999999999999999999", "period_start": "x", "period_end": "y"},
    ],
)
def test_html_forms_answer_400_with_the_field_errors(api, risk_manager, data):
    response = api(risk_manager).post(reverse("risk:lab"), data)
    assert response.status_code == 400
    assert 'class="text-danger small" role="alert"' in response.content.decode()
    _no_trace(response)


def test_an_unknown_api_route_answers_json_404(api, risk_manager):
    response = api(risk_manager).get("/api/v1/no-such-thing/")
    assert response.status_code == 404 and response.json() == {
        "type": "urn:ratc:problem:not-found", "title": "Not found.", "status": 404, "detail": "Not found.",
        "instance": "/api/v1/no-such-thing/",
    }  # fmt: skip


def test_an_unhandled_error_is_our_page_or_json_without_a_trace(api, risk_manager, monkeypatch):
    from apps.core import views as core_views
    from apps.risk import api as risk_api

    def broken(*args, **kwargs):
        raise RuntimeError("/srv/secret/path exploded")

    monkeypatch.setattr(risk_api.AssessmentViewSet, "get_queryset", broken)
    monkeypatch.setattr(core_views, "membership_of", broken)
    client = api(risk_manager)
    response = client.get(reverse("risk-assessment-list"))
    assert response.status_code == 500 and response["Content-Type"].startswith("application/problem+json")
    assert "secret" not in response.content.decode()
    page = client.get(reverse("home"))
    assert page.status_code == 500 and b"Something went wrong" in page.content
    assert b"secret" not in page.content
    _no_trace(page)

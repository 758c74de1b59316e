"""The database out of reach (a restart, a failover): 503 with Retry-After, never our 500 page."""

from __future__ import annotations

from unittest import mock

import pytest
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.urls import path
from redis.exceptions import ConnectionError as RedisConnectionError

from apps.core.unavailable import RETRY_AFTER_SECONDS

RESTART = "terminating connection due to administrator command"  # what PostgreSQL says on a restart


def _database_gone(request: HttpRequest) -> HttpResponse:
    raise OperationalError(RESTART)


def _connection_closed(request: HttpRequest) -> HttpResponse:
    raise InterfaceError("connection already closed")


def _redis_restarting(request: HttpRequest) -> HttpResponse:
    raise RedisConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")


def _bug(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a plain bug")


urlpatterns = [
    path("api/v1/gone/", _database_gone),
    path("gone/", _database_gone),
    path("closed/", _connection_closed),
    path("api/v1/redis/", _redis_restarting),
    path("bug/", _bug),
]


@pytest.fixture
def signed_in(client, customs_analyst):
    client.force_login(customs_analyst)
    client.raise_request_exception = False
    return client


@pytest.mark.django_db
@pytest.mark.urls(__name__)
def test_api_answers_503_problem_with_retry_after_while_the_database_restarts(signed_in):
    response = signed_in.get("/api/v1/gone/")
    assert response.status_code == 503
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert response["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == 503 and "Try again" in body["detail"]
    assert RESTART not in response.content.decode()  # nothing about the database is told


@pytest.mark.django_db
@pytest.mark.urls(__name__)
@pytest.mark.parametrize("url", ["/gone/", "/closed/", "/api/v1/redis/"])
def test_page_answers_503_not_the_error_page(signed_in, url):
    response = signed_in.get(url)
    assert response.status_code == 503
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert b"Try again" in response.content and b"Something went wrong" not in response.content


@pytest.mark.django_db
def test_outage_while_loading_the_signed_in_user_is_503(signed_in):
    """The session's user is read by the first middleware that asks for it: still 503, not 500."""
    with mock.patch("apps.accounts.principal.get_user", side_effect=OperationalError(RESTART)):
        response = signed_in.get("/api/v1/me/")
    assert response.status_code == 503
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)


@pytest.mark.django_db
@pytest.mark.urls(__name__)
def test_other_errors_stay_500(signed_in):
    response = signed_in.get("/bug/")
    assert response.status_code == 500
    assert "Retry-After" not in response


@pytest.mark.django_db
def test_outage_while_reading_the_second_factors_device_is_503(signed_in):
    """django-otp reads the session's verified device when the user is handed to the views
    (``UserInHandMiddleware``): an outage there is 503 too."""
    with mock.patch(
        "django_otp.middleware.OTPMiddleware._verify_user_sync", side_effect=OperationalError(RESTART)
    ):
        response = signed_in.get("/targets/")
    assert response.status_code == 503
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)

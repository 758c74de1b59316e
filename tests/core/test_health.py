"""Liveness and readiness for load balancers: alive without the database, ready only with every part."""

import pytest
from django.test import override_settings


def test_healthz_answers_without_login(db, client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_readyz_names_each_part_it_checked(db, client):
    response = client.get("/readyz")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "ready" and body["checks"]["database"]["ok"] is True


@pytest.mark.django_db
@override_settings(REDIS_URL="redis://127.0.0.1:1/0")
def test_readyz_is_503_naming_the_part_that_is_down(client):
    """Nothing listens on port 1: a real refused connection, answered as 'not ready', never a 500."""
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["redis"]["ok"] is False and body["checks"]["database"]["ok"] is True

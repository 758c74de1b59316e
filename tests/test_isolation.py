"""Every parameterised page and endpoint answers 404 to a user of another agency."""

import re

import pytest
from django.urls import reverse

from apps.compliance.services import SESSION_KEY
from tests.isolation import ACCOUNT_ROUTES, REFERENCE_ROUTES, SCOPED_ROUTES, parameterised_route_names


def declare_purpose(client) -> None:
    """Both people state a purpose, so that a 404 is about scope, not about a missing purpose."""
    session = client.session
    session[SESSION_KEY] = {"code": "risk_analysis", "text": ""}
    session.save()
    client.defaults["HTTP_X_ACCESS_PURPOSE"] = "risk_analysis"


def test_every_parameterised_route_is_covered():
    uncovered = [
        n
        for n in parameterised_route_names()
        if n not in SCOPED_ROUTES and n not in REFERENCE_ROUTES and n not in ACCOUNT_ROUTES
    ]
    assert not uncovered, f"Add these routes to tests/isolation.py with an isolation maker: {uncovered}"


@pytest.mark.parametrize("route", sorted(SCOPED_ROUTES))
def test_outsider_gets_404_and_owner_gets_200(route, world, customs_analyst, outsider, client):
    url = reverse(route, kwargs=SCOPED_ROUTES[route](world))
    client.force_login(outsider)
    declare_purpose(client)
    response = client.get(url)
    if response.status_code == 405:  # an action (POST only): the outsider's POST must not find it either
        response = client.post(url, {})
        assert response.status_code == 404, f"POST {url} answered {response.status_code} to another agency"
        return
    assert response.status_code == 404, f"{url} answered {response.status_code} to another agency"
    # Whole words only: the page's random CSRF token may hold the letters "CUS".
    assert not re.search(rb"\bCUS\b|Customs", response.content)
    client.force_login(customs_analyst)
    declare_purpose(client)
    assert client.get(url).status_code == 200, f"{url} should be visible to its owner agency"


@pytest.mark.parametrize("route", sorted(ACCOUNT_ROUTES))
def test_another_agencys_system_gets_404_and_the_owning_account_does_not(route, world):
    """Routes only system accounts use (webhooks): each account reaches its own objects only."""
    from rest_framework.test import APIClient

    kwargs, owner, other = ACCOUNT_ROUTES[route](world)
    url = reverse(route, kwargs=kwargs)
    for user, found in ((other, False), (owner, True)):
        client = APIClient()
        client.force_authenticate(user)
        response = client.get(url)
        if response.status_code == 405:  # an action (POST only)
            response = client.post(url, {})
        if found:
            assert response.status_code != 404 and response.status_code < 500, (url, response.status_code)
        else:
            assert response.status_code == 404, f"{url} answered {response.status_code} to another agency"


def test_anonymous_is_sent_to_login_or_refused(world, client):
    for route, maker in SCOPED_ROUTES.items():
        url = reverse(route, kwargs=maker(world))
        response = client.get(url)
        assert response.status_code in {302, 401, 403}, url
        if response.status_code == 302:
            assert response.url.startswith(reverse("login"))

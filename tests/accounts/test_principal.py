"""The user, membership and ports are read with the session in one query, and nothing of them outlives
the request: whatever ends a session or changes a membership takes effect on the next request, however
it was changed (a page, the admin, a ``QuerySet.update()``, SQL by hand)."""

from __future__ import annotations

import pytest
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from apps.accounts import sessions
from apps.agencies.models import Membership

pytestmark = pytest.mark.django_db

QUEUE = reverse("targeting:queue")


def _signed_in(client_for, user):
    client = client_for(user)
    assert client.get(QUEUE).status_code == 200  # this process now knows the session's user
    return client


def _to_sign_in(response) -> bool:
    return response.status_code == 302 and response.url.startswith(reverse("login"))


def test_a_signed_in_request_reads_session_user_membership_and_ports_in_one_query(client_for, port_officer):
    client = _signed_in(client_for, port_officer)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(QUEUE)
    assert response.status_code == 200
    assert response.wsgi_request.user == port_officer
    membership = response.wsgi_request.membership
    assert membership.role == "frontline" and membership.agency.code == "CUS"
    assert membership.port_codes == ["GBFXT"]
    sql = [q["sql"] for q in queries.captured_queries]
    assert "django_session" in sql[0] and "agencies_membership" in sql[0] and "agencies_port" in sql[0]
    # Nothing of the principal is read again by the page (its own queries name other tables).
    assert not any('FROM "auth_user"' in s or 'FROM "agencies_membership"' in s for s in sql[1:])
    assert not any("django_session" in s for s in sql[1:])


def test_a_revoked_membership_takes_effect_on_the_next_request(client_for, customs_analyst):
    client = _signed_in(client_for, customs_analyst)
    Membership.objects.filter(user=customs_analyst).delete()
    response = client.get(QUEUE)
    assert response.status_code == 403
    assert response.wsgi_request.membership == None  # noqa: E711 (a lazy object: ``is`` sees the wrapper)


def test_a_deactivated_user_is_signed_out_on_the_next_request(client_for, customs_analyst):
    client = _signed_in(client_for, customs_analyst)
    type(customs_analyst).objects.filter(pk=customs_analyst.pk).update(is_active=False)  # no signal
    assert _to_sign_in(client.get(QUEUE))


def test_a_changed_port_list_takes_effect_on_the_next_request(client_for, port_officer, world):
    client = _signed_in(client_for, port_officer)
    port_officer.membership.ports.set([world.port_b])
    assert client.get(QUEUE).wsgi_request.membership.port_codes == ["GBLHR"]
    port_officer.membership.ports.add(world.port_a)
    assert client.get(QUEUE).wsgi_request.membership.port_codes == ["GBFXT", "GBLHR"]


def test_a_changed_role_takes_effect_on_the_next_request(client_for, customs_analyst):
    client = _signed_in(client_for, customs_analyst)
    Membership.objects.filter(user=customs_analyst).update(role="supervisor")
    assert client.get(QUEUE).wsgi_request.membership.role == "supervisor"


def test_a_password_changed_elsewhere_ends_the_session(client_for, customs_analyst):
    client = _signed_in(client_for, customs_analyst)
    customs_analyst.set_password("another-long-password")
    customs_analyst.save()
    assert _to_sign_in(client.get(QUEUE))


def test_a_session_deleted_in_the_database_ends_on_the_next_request(client_for, customs_analyst):
    client = _signed_in(client_for, customs_analyst)
    Session.objects.all().delete()  # an operator's DELETE: no signal, no session store
    assert _to_sign_in(client.get(QUEUE))


def test_a_session_expired_in_the_database_ends_on_the_next_request(client_for, customs_analyst):
    client = _signed_in(client_for, customs_analyst)
    Session.objects.update(expire_date=timezone.now())
    assert _to_sign_in(client.get(QUEUE))


def test_signing_out_ends_the_session_cookie(client_for, customs_analyst):
    client = _signed_in(client_for, customs_analyst)
    cookie = client.cookies["sessionid"].value
    client.post(reverse("logout"))
    client.cookies["sessionid"] = cookie  # the old cookie, replayed
    assert _to_sign_in(client.get(QUEUE))


def test_a_wrong_hint_never_serves_another_users_principal(client_for, customs_analyst, outsider):
    client = _signed_in(client_for, customs_analyst)
    key = client.cookies["sessionid"].value
    sessions._remember(key, str(outsider.pk))  # as if this process had seen the key name someone else
    response = client.get(QUEUE)
    assert response.status_code == 200
    assert response.wsgi_request.user == customs_analyst
    assert response.wsgi_request.membership.agency.code == "CUS"
    assert Session.objects.get(session_key=key).get_decoded()[SESSION_KEY] == str(customs_analyst.pk)


def test_an_anonymous_request_is_anonymous(client):
    response = client.get(QUEUE)
    assert _to_sign_in(response)
    assert not response.wsgi_request.user.is_authenticated

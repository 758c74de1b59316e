from django.urls import reverse
from rest_framework.test import APIClient

from apps.agencies import tokens
from apps.agencies.roles import Role
from tests.factories import member


def test_me_describes_the_caller(client_for, port_officer):
    data = client_for(port_officer).get(reverse("api-me")).json()
    assert data["agency"]["code"] == "CUS"
    assert data["role"] == "frontline"
    assert data["ports"] == ["GBFXT"]
    assert "exam.record" in data["operations"] and "target.approve" not in data["operations"]


def test_ports_api_lists_reference_data(client_for, outsider, world):
    data = client_for(outsider).get(reverse("port-list")).json()
    assert {p["locode"] for p in data["results"]} == {"GBFXT", "GBLHR"}


def test_token_authentication_for_systems(world):
    system = member("port-system", world.customs, Role.SYSTEM)
    secret = tokens.issue(user=system, name="port system").secret
    api = APIClient()
    assert api.get(reverse("api-me")).status_code in {401, 403}
    api.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    assert api.get(reverse("api-me")).json()["role"] == "system"


def test_api_refuses_users_without_membership(db, django_user_model, client):
    client.force_login(django_user_model.objects.create_user("lonely", password="x-password-1"))
    assert client.get(reverse("port-list")).status_code == 403


def test_schema_and_docs_are_served_locally(client_for, customs_analyst):
    client = client_for(customs_analyst)
    schema = client.get(reverse("api-schema"))
    assert schema.status_code == 200 and b"/api/v1/sources/" in schema.content
    docs = client.get(reverse("api-docs")).content.decode()
    assert "swagger-ui" in docs and "/static/drf_spectacular_sidecar/" in docs
    assert "http://" not in docs.replace("http://testserver", "") and "https://" not in docs

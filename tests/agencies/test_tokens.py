"""API tokens of system accounts: hashed at rest, named, expiring, rotatable with overlap, revocable at
once, each use recorded; the admin and ``manage.py api_token`` for operators; DRF's tokens carried over."""

from __future__ import annotations

import hashlib
import io
from datetime import timedelta

import pytest
from django.apps import apps as django_apps
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from apps.agencies import tokens
from apps.agencies.models import ApiToken, CentreConfiguration
from apps.agencies.roles import Role
from tests.factories import member

ME = "/api/v1/me/"


@pytest.fixture
def system(world):
    return member("pcs", world.customs, Role.SYSTEM, ports=[world.port_a])


def call(secret: str | None, url: str = ME, keyword: str = "Token"):
    api = APIClient()
    if secret is not None:
        api.credentials(HTTP_AUTHORIZATION=f"{keyword} {secret}")
    return api.get(url)


def test_the_secret_is_shown_once_and_only_its_hash_is_stored(system):
    issued = tokens.issue(user=system, name="PCS production")
    secret = issued.secret
    assert secret.startswith("ratc_") and len(secret) >= 40
    row = ApiToken.objects.get(pk=issued.token.pk)
    assert row.digest == hashlib.sha256(secret.encode()).hexdigest()
    stored = " ".join(str(v) for v in ApiToken.objects.filter(pk=row.pk).values().first().values())
    assert secret not in stored and secret[len("ratc_") + 4 :] not in stored
    with connection.cursor() as cursor:  # nowhere in the table, whatever the ORM says
        cursor.execute("SELECT count(*) FROM agencies_apitoken WHERE digest || prefix || name LIKE %s",
                       [f"%{secret}%"])  # fmt: skip
        assert cursor.fetchone()[0] == 0


def test_a_token_authenticates_and_each_use_is_recorded(system, caplog):
    issued = tokens.issue(user=system, name="PCS production")
    with caplog.at_level("INFO", logger="ratc.api.tokens"):
        assert call(issued.secret).json()["role"] == "system"
        assert call(issued.secret, keyword="Bearer").status_code == 200
    row = ApiToken.objects.get(pk=issued.token.pk)
    assert row.use_count == 2 and row.last_used_ip == "127.0.0.1"
    assert timezone.now() - row.last_used_at < timedelta(seconds=30)
    assert any(
        "PCS production" in r.getMessage() and "GET /api/v1/me/" in r.getMessage() for r in caplog.records
    )
    assert issued.secret not in caplog.text


def test_unknown_revoked_and_expired_tokens_are_refused_on_the_next_request(system):
    a = tokens.issue(user=system, name="a")
    b = tokens.issue(user=system, name="b")
    # 401 with the scheme to use, as RFC 9110 asks of a refused credential (not a 403 "forbidden").
    missing = call(None)
    assert missing.status_code == 401 and missing["WWW-Authenticate"].startswith("Token")
    assert call("ratc_" + "x" * 43).status_code == 401
    assert call(a.secret).status_code == 200 and call(b.secret).status_code == 200
    tokens.revoke(a.token)
    refused = call(a.secret)
    assert refused.status_code == 401 and "revoked" in refused.json()["detail"]
    ApiToken.objects.filter(pk=b.token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    refused = call(b.secret)
    assert refused.status_code == 401 and "expired" in refused.json()["detail"]
    assert ApiToken.objects.get(pk=a.token.pk).use_count == 1  # a refused call is not a use


def test_rotation_overlaps_then_the_old_token_is_refused(system):
    old = tokens.issue(user=system, name="2026")
    new = tokens.rotate(old.token, name="2027", overlap=timedelta(hours=2))
    assert call(old.secret).status_code == 200 and call(new.secret).status_code == 200
    old.token.refresh_from_db()
    assert old.token.expires_at <= timezone.now() + timedelta(hours=2)
    ApiToken.objects.filter(pk=old.token.pk).update(expires_at=timezone.now())  # the overlap is over
    assert call(old.secret).status_code in {401, 403}
    assert call(new.secret).status_code == 200


def test_an_inactive_account_is_refused(system):
    issued = tokens.issue(user=system, name="a")
    system.is_active = False
    system.save()
    assert call(issued.secret).status_code in {401, 403}


def test_tokens_are_for_system_accounts_named_and_expiring(system, customs_analyst):
    with pytest.raises(ValidationError):
        tokens.issue(user=customs_analyst, name="mine")
    with pytest.raises(ValidationError):
        tokens.issue(user=system, name="  ")
    with pytest.raises(ValidationError):
        tokens.issue(user=system, name="forever", lifetime=timedelta(days=400))
    tokens.issue(user=system, name="a")
    with pytest.raises(ValidationError):
        tokens.issue(user=system, name="a")
    assert tokens.issue(user=system, name="b").token.expires_at < timezone.now() + timedelta(days=91)


def test_drf_tokens_are_carried_over_hashed_and_deleted(system):
    from importlib import import_module

    old = Token.objects.create(user=system)
    import_module("apps.agencies.migrations.0003_api_tokens").hash_drf_tokens(django_apps, None)
    assert not Token.objects.exists()
    carried = ApiToken.objects.get(user=system)
    assert (
        carried.digest == hashlib.sha256(old.key.encode()).hexdigest() and old.key not in carried.prefix * 2
    )
    assert call(old.key).json()["role"] == "system"


def test_the_demo_integrator_has_a_documented_hashed_token_for_its_port(db):
    from apps.core.demo import DEMO_API_TOKEN, ensure_demo_world

    ensure_demo_world()
    ensure_demo_world()  # idempotent
    token = ApiToken.objects.get(user__username="integrator")
    assert token.digest == tokens.digest_of(DEMO_API_TOKEN) and DEMO_API_TOKEN not in token.prefix
    data = call(DEMO_API_TOKEN).json()
    assert data["role"] == "system" and data["ports"] == ["GBFXT"]
    assert not Token.objects.exists()


def test_the_api_token_command_creates_lists_rotates_and_revokes(system):
    out, err = io.StringIO(), io.StringIO()
    call_command("api_token", "create", "pcs", "PCS production", "--days", "30", stdout=out, stderr=err)
    secret = out.getvalue().strip()
    assert call(secret).status_code == 200 and "Copy it now" in err.getvalue()
    out = io.StringIO()
    call_command("api_token", "list", stdout=out)
    assert "PCS production" in out.getvalue() and "active" in out.getvalue() and secret not in out.getvalue()
    out = io.StringIO()
    call_command("api_token", "rotate", "pcs", "PCS production", "PCS 2027", "--overlap-hours", "1", stdout=out,
                 stderr=io.StringIO())  # fmt: skip
    newer = out.getvalue().strip()
    assert call(newer).status_code == 200 and call(secret).status_code == 200
    call_command("api_token", "revoke", "pcs", "PCS production", stdout=io.StringIO())
    assert call(secret).status_code in {401, 403} and call(newer).status_code == 200


def _admin_of(user):
    user.is_staff = True
    user.save()
    user.user_permissions.set(Permission.objects.all())
    return type(user).objects.get(pk=user.pk)


def test_the_admin_makes_a_token_shows_it_once_and_revokes(client, world, system, customs_admin):
    config = CentreConfiguration.current()
    config.national_agency = world.customs
    config.save()
    police_system = member("pol-system", world.police, Role.SYSTEM)
    police_token = tokens.issue(user=police_system, name="police feed").token
    client.force_login(_admin_of(customs_admin))
    add = reverse("admin:agencies_apitoken_add")
    form = client.get(add).content.decode()
    assert f'value="{system.pk}"' in form and f'value="{police_system.pk}"' not in form
    assert f'value="{customs_admin.pk}"' not in form  # people sign in; tokens are for systems
    expires = (timezone.now() + timedelta(days=30)).strftime("%Y-%m-%d")
    made = client.post(add, {"user": system.pk, "name": "from the admin", "expires_at_0": expires,
                             "expires_at_1": "12:00:00"})  # fmt: skip
    assert made.status_code == 200 and "no-store" in made["Cache-Control"]
    token = ApiToken.objects.get(name="from the admin")
    secret = made.context["secret"]
    assert token.digest == tokens.digest_of(secret) and token.created_by == customs_admin
    listing = client.get(reverse("admin:agencies_apitoken_changelist")).content.decode()
    assert "from the admin" in listing and secret not in listing and "police feed" not in listing
    assert (
        secret not in client.get(reverse("admin:agencies_apitoken_change", args=[token.pk])).content.decode()
    )
    police_change = client.get(reverse("admin:agencies_apitoken_change", args=[police_token.pk]))
    assert police_change.status_code == 302
    client.post(reverse("admin:agencies_apitoken_changelist"),
                {"action": "revoke", "_selected_action": [token.pk, police_token.pk]})  # fmt: skip
    assert call(secret).status_code in {401, 403}
    assert ApiToken.objects.get(pk=police_token.pk).revoked_at is None


@pytest.mark.django_db(transaction=True)
async def test_live_sockets_take_no_token(world):
    """Sockets authenticate by session only: a valid token, in a header or the query, opens nothing."""
    from asgiref.sync import sync_to_async
    from channels.testing import WebsocketCommunicator

    from ratc_ops.asgi import application

    @sync_to_async
    def make_secret() -> str:
        system = member("pcs.ws", world.customs, Role.SYSTEM, ports=[world.port_a])
        return tokens.issue(user=system, name="ws").secret

    secret = await make_secret()
    for path, extra in [
        ("/ws/boards/port-GBFXT/", [(b"authorization", f"Token {secret}".encode())]),
        (f"/ws/notifications/?token={secret}", []),
    ]:
        headers = [(b"host", b"127.0.0.1"), (b"origin", b"http://127.0.0.1"), *extra]
        socket = WebsocketCommunicator(application, path, headers=headers)
        connected, _ = await socket.connect(timeout=5)
        if connected:  # accepted only to be closed at once, with nothing sent
            output = await socket.receive_output(timeout=5)
            assert output["type"] == "websocket.close", output
        await socket.disconnect()

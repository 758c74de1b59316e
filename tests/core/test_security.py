"""The security suite: throttled sign-in, sessions that end, CSRF on every form."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client, RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from apps.core import security

PASSWORD = "test-password-123"


def _fail(client, username="alice", url=None, times=1, **extra):
    for _ in range(times):
        response = client.post(
            url or reverse("login"), {"username": username, "password": "wrong-password"}, **extra
        )
    return response


def test_sign_in_is_throttled_after_repeated_failures(customs_analyst, client):
    for _ in range(4):
        assert _fail(client).status_code == 200
    # The fifth failure locks the account at this address, and says for how long, on our own page.
    fifth = _fail(client)
    assert fifth.status_code == 429
    assert b"Too many failed sign-ins for this account from this address" in fifth.content
    assert b"Try again in 15 minutes." in fifth.content
    assert b'data-testid="signin-locked"' in fifth.content and b"app.css" in fifth.content
    locked = client.post(reverse("login"), {"username": "alice", "password": PASSWORD})
    assert locked.status_code == 429 and b"Too many failed sign-ins" in locked.content
    assert "_auth_user_id" not in client.session


def test_the_message_names_the_configured_period(customs_analyst, client, settings):
    settings.AXES_COOLOFF_TIME = timedelta(hours=1)
    locked = _fail(client, times=5)
    assert locked.status_code == 429 and b"Try again in 1 hour." in locked.content


def test_an_invented_name_does_not_lock_out_the_address(customs_analyst, client):
    """Six wrong passwords for a name that does not exist lock out that name, not the whole desk."""
    desk = {"REMOTE_ADDR": "10.0.0.5"}
    _fail(client, username="no-such-officer", times=6, **desk)
    assert _fail(client, username="no-such-officer", **desk).status_code == 429
    signed_in = client.post(reverse("login"), {"username": "alice", "password": PASSWORD}, **desk)
    assert signed_in.status_code == 302 and "_auth_user_id" in client.session


def test_a_lockout_holds_for_the_account_at_that_address_only(customs_analyst, client):
    right = {"username": "alice", "password": PASSWORD}
    _fail(client, times=5, REMOTE_ADDR="10.0.0.5")
    assert client.post(reverse("login"), right, REMOTE_ADDR="10.0.0.5").status_code == 429
    # Spelling the name differently is the same account.
    assert _fail(client, username=" ALICE", REMOTE_ADDR="10.0.0.5").status_code == 429
    # Her own desk elsewhere still signs in.
    assert client.post(reverse("login"), right, REMOTE_ADDR="10.0.0.6").status_code == 302


def test_a_successful_sign_in_resets_the_account_count(customs_analyst, client):
    login = reverse("login")
    _fail(client, times=4)
    assert client.post(login, {"username": "alice", "password": PASSWORD}).status_code == 302
    client.logout()
    _fail(client, times=4)
    assert client.post(login, {"username": "alice", "password": PASSWORD}).status_code == 302


def test_admin_sign_in_is_throttled_too(db, client):
    get_user_model().objects.create_superuser("root", "root@example.org", PASSWORD)
    admin_login = reverse("admin:login")
    for _ in range(4):
        assert _fail(client, username="root", url=admin_login).status_code == 200
    assert _fail(client, username="root", url=admin_login).status_code == 429
    locked = client.post(admin_login, {"username": "root", "password": PASSWORD})
    assert locked.status_code == 429 and b"Try again in 15 minutes." in locked.content
    assert b'data-testid="signin-locked"' in locked.content
    assert "_auth_user_id" not in client.session


def test_without_a_trusted_proxy_x_forwarded_for_is_ignored(customs_analyst, client, settings):
    settings.RATC_TRUSTED_PROXIES = 0
    for n in range(5):
        _fail(client, HTTP_X_FORWARDED_FOR=f"192.0.2.{n}")
    # A guesser who writes a new X-Forwarded-For each time is still one address.
    assert _fail(client, HTTP_X_FORWARDED_FOR="192.0.2.99").status_code == 429


def test_behind_the_load_balancer_the_real_client_counts(customs_analyst, client, settings):
    settings.RATC_TRUSTED_PROXIES = 1
    balancer = {"REMOTE_ADDR": "10.1.1.1"}
    # Client 198.51.100.7 prepends forged entries; the balancer appends the address it really saw.
    for n in range(5):
        _fail(client, HTTP_X_FORWARDED_FOR=f"203.0.113.{n}, 198.51.100.7", **balancer)
    assert _fail(client, HTTP_X_FORWARDED_FOR="198.51.100.7", **balancer).status_code == 429
    # Another officer on the floor, behind the same balancer, signs in to the same account.
    other = client.post(
        reverse("login"),
        {"username": "alice", "password": PASSWORD},
        HTTP_X_FORWARDED_FOR="198.51.100.8",
        **balancer,
    )
    assert other.status_code == 302


@pytest.mark.parametrize(
    ("hops", "forwarded", "expected"),
    [
        (0, "203.0.113.9", "10.1.1.1"),
        (1, "203.0.113.9", "203.0.113.9"),
        (1, "6.6.6.6, 203.0.113.9", "203.0.113.9"),
        (2, "6.6.6.6, 203.0.113.9, 10.2.2.2", "203.0.113.9"),
        (2, "203.0.113.9", "10.1.1.1"),  # fewer hops than configured: only the socket is trusted
        (1, "not-an-address", "10.1.1.1"),
        (1, "", "10.1.1.1"),
    ],
)
def test_client_address(settings, hops, forwarded, expected):
    settings.RATC_TRUSTED_PROXIES = hops
    request = RequestFactory().get("/", REMOTE_ADDR="10.1.1.1", HTTP_X_FORWARDED_FOR=forwarded)
    assert security.client_address(request) == expected


def test_the_hand_written_throttle_is_gone():
    assert not hasattr(security, "record_failure") and not hasattr(security, "is_locked")
    assert settings.AUTHENTICATION_BACKENDS[0] == "apps.core.security.AxesBackend"


def test_sessions_last_one_shift_and_end_with_the_browser():
    assert settings.SESSION_COOKIE_AGE <= 8 * 3600
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE is True
    assert settings.SESSION_COOKIE_HTTPONLY is True


def test_expired_session_is_sent_to_sign_in(customs_analyst, client, settings):
    client.force_login(customs_analyst)
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    Session.objects.update(expire_date=timezone.now())
    response = client.get(reverse("home"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def _routes(patterns, prefix=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            if p.namespace == "admin":
                continue
            yield from _routes(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern) and "<" not in prefix + str(p.pattern) and "(?P" not in str(p.pattern):
            yield "/" + prefix + str(p.pattern).lstrip("^").rstrip("$")


def test_every_form_refuses_a_post_without_csrf_token(customs_supervisor):
    """Every page that accepts a POST from a signed-in browser checks the CSRF token."""
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(customs_supervisor)
    checked = 0
    for path in _routes(get_resolver().url_patterns):
        # The API and TAXII take tokens, not the browser's session (a signed-in browser is 401 there).
        if path.startswith(("/api/", "/static/", "/taxii2/")):
            continue
        response = browser.post(path, {"anything": "x"})
        if response.status_code == 405:  # GET-only page
            continue
        checked += 1
        assert response.status_code == 403, (
            f"POST {path} without a CSRF token answered {response.status_code}"
        )
    assert checked >= 3
    assert browser.post("/taxii2/", {}).status_code == 401


def test_api_session_calls_need_csrf_too(customs_analyst):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(customs_analyst)
    response = browser.post(reverse("intakerun-list"), {"source": 1}, content_type="application/json")
    assert response.status_code == 403

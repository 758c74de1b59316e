"""The security suite: throttled sign-in, sessions that end, CSRF on every form."""

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from apps.core import security


@pytest.fixture(autouse=True)
def _clean_counts():
    """Forget this file's sign-in failures (only those keys: the cache may be the shared Redis)."""

    def forget():
        for address in ("127.0.0.1", "10.0.0.2"):
            cache.delete_many(security._keys("alice", address))

    forget()
    yield
    forget()


def test_sign_in_is_throttled_after_repeated_failures(customs_analyst, client):
    for _ in range(5):
        response = client.post(reverse("login"), {"username": "alice", "password": "wrong-password"})
        assert response.status_code == 200
    locked = client.post(reverse("login"), {"username": "alice", "password": "test-password-123"})
    assert locked.status_code == 429 and b"Too many failed sign-ins" in locked.content
    assert "_auth_user_id" not in client.session


def test_a_successful_sign_in_resets_the_account_count(customs_analyst, client):
    login = reverse("login")
    for _ in range(4):
        client.post(login, {"username": "alice", "password": "wrong-password"})
    assert client.post(login, {"username": "alice", "password": "test-password-123"}).status_code == 302
    client.logout()
    # From another desk the account starts again; the first desk's address keeps its own count.
    other = {"REMOTE_ADDR": "10.0.0.2"}
    for _ in range(4):
        client.post(login, {"username": "alice", "password": "wrong-password"}, **other)
    assert (
        client.post(login, {"username": "alice", "password": "test-password-123"}, **other).status_code == 302
    )


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
        if path.startswith("/api/") or path.startswith("/static/"):
            continue
        response = browser.post(path, {"anything": "x"})
        if response.status_code == 405:  # GET-only page
            continue
        checked += 1
        assert response.status_code == 403, (
            f"POST {path} without a CSRF token answered {response.status_code}"
        )
    assert checked >= 3


def test_api_session_calls_need_csrf_too(customs_analyst):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(customs_analyst)
    response = browser.post(reverse("intakerun-list"), {"source": 1}, content_type="application/json")
    assert response.status_code == 403

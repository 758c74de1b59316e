"""A real OpenID provider (django-oauth-toolkit) on 127.0.0.1 for the single sign-on tests.

``oidc_provider`` starts ``tests/accounts/provider`` once per test module in a subprocess with its own
SQLite file and RSA key, and ``sso`` points the product's settings at it. ``sso_sign_in`` walks the
authorization code flow as a browser would: the product's test client for the product, an HTTP session
(``requests``) for the provider, and real redirects between them.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urljoin, urlsplit

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.accounts.provider.serve import CLIENT_ID, CLIENT_SECRET, PASSWORD

ROOT = Path(__file__).resolve().parents[2]
CALLBACK = "http://testserver/accounts/sso/callback/"

#: The product's mapping of the provider's groups to role profiles (as RATC_OIDC_GROUP_ROLES).
GROUP_ROLES = {
    "ratc-analysts": {"agency": "CUS", "role": "analyst", "ports": []},
    "ratc-officers-felixstowe": {"agency": "CUS", "role": "frontline", "ports": ["GBFXT"]},
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def oidc_provider(tmp_path_factory):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    port = _free_port()
    env = {
        **os.environ,
        "PROVIDER_DB": str(tmp_path_factory.mktemp("provider") / "provider.sqlite3"),
        "PROVIDER_RSA_KEY": pem,
        "PYTHONPATH": str(ROOT),
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.accounts.provider.serve", str(port), CALLBACK],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if requests.get(f"{base}/o/.well-known/jwks.json", timeout=1).status_code == 200:
                break
        except requests.ConnectionError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"the test OpenID provider did not start: {process.stderr.read().decode()[-2000:]}")
        time.sleep(0.1)
    yield SimpleNamespace(base=base, issuer=f"{base}/o")
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def sso(oidc_provider, settings, world):
    """Single sign-on on, against the test provider, with ``GROUP_ROLES``."""
    base = oidc_provider.base
    settings.RATC_OIDC_ENABLED = True
    settings.RATC_OIDC_PROVIDER_NAME = "Test identity provider"
    settings.RATC_OIDC_CLIENT_ID = settings.OIDC_RP_CLIENT_ID = CLIENT_ID
    settings.OIDC_RP_CLIENT_SECRET = CLIENT_SECRET
    settings.OIDC_OP_AUTHORIZATION_ENDPOINT = f"{base}/o/authorize/"
    settings.OIDC_OP_TOKEN_ENDPOINT = f"{base}/o/token/"
    settings.OIDC_OP_USER_ENDPOINT = f"{base}/o/userinfo/"
    settings.OIDC_OP_JWKS_ENDPOINT = f"{base}/o/.well-known/jwks.json"
    settings.RATC_OIDC_ISSUER = oidc_provider.issuer
    settings.RATC_OIDC_GROUP_ROLES = GROUP_ROLES
    return oidc_provider


@pytest.fixture
def sso_sign_in(client, sso):
    """``sso_sign_in(username, next=...)``: the full code flow; returns the product's last response."""

    def sign_in(username: str, next_url: str = "") -> object:
        start = client.get("/accounts/sso/start/", {"next": next_url} if next_url else {})
        assert start.status_code == 302, start
        browser = requests.Session()
        location = start["Location"]
        assert location.startswith(sso.base)
        # At the provider: authorize -> its sign-in page -> authorize again -> back to our callback.
        for _ in range(6):
            answer = browser.get(location, allow_redirects=False, timeout=10)
            if answer.status_code == 200 and 'name="password"' in answer.text:
                token = browser.cookies.get("csrftoken")
                answer = browser.post(
                    answer.url,
                    data={"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token,
                          "next": _query_value(answer.url, "next")},
                    headers={"Referer": answer.url},
                    allow_redirects=False,
                    timeout=10,
                )  # fmt: skip
            assert answer.status_code == 302, answer.text[:500]
            location = urljoin(answer.url, answer.headers["Location"])
            if location.startswith(CALLBACK):
                break
        else:
            pytest.fail("the provider never redirected back to the product")
        parts = urlsplit(location)
        return client.get(f"{parts.path}?{parts.query}")

    return sign_in


def _query_value(url: str, name: str) -> str:
    from urllib.parse import parse_qs

    return parse_qs(urlsplit(url).query).get(name, [""])[0]


@pytest.fixture
def required(settings):
    """A second factor required of everyone (``RATC_REQUIRE_SECOND_FACTOR``)."""
    settings.RATC_REQUIRE_SECOND_FACTOR = True

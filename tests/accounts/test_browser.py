"""In the browser: the sign-in page with single sign-on, and a first sign-in that enrols a phone."""

from __future__ import annotations

import re

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.agencies.roles import Role
from tests.factories import PASSWORD, member

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_first_sign_in_enrols_an_authenticator(live_server, settings, world, new_page, screenshot):
    settings.RATC_REQUIRE_SECOND_FACTOR = True
    settings.RATC_OIDC_ENABLED = True
    settings.RATC_OIDC_PROVIDER_NAME = "Government Login"
    member("alice", world.customs, Role.ANALYST)
    page = new_page()
    page.goto(f"{live_server.url}/login/")
    assert page.locator("[data-testid=sso-button]").inner_text() == "Sign in with Government Login"
    screenshot(page, "login-sso")

    page.fill("#id_username", "alice")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("[data-testid=otp-enrol]")
    assert page.locator(".otp-qr svg").is_visible()
    screenshot(page, "second-factor-enrol")

    device = TOTPDevice.objects.get(user__username="alice", confirmed=False)
    page.fill("#id_code", f"{totp(device.bin_key):06d}")
    page.click("[data-testid=otp-enrol] button[type=submit] >> text=Confirm")
    page.wait_for_selector("[data-testid=recovery-codes]")
    codes = page.locator(".recovery-codes li").all_inner_texts()
    assert len(codes) == 10 and all(re.fullmatch(r"[0-9a-f]{4}-[0-9a-f]{4}", c) for c in codes)
    screenshot(page, "second-factor-recovery-codes")
    page.click("text=I have kept them")
    page.wait_for_selector("[data-testid=who]")  # the floor is open

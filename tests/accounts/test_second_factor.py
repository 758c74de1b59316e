"""The second factor for local accounts: enrolment, verification, recovery codes, and the gate.

With ``RATC_REQUIRE_SECOND_FACTOR`` on (production's default) a password alone opens nothing personal.
"""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.accounts import second_factor
from apps.compliance.services import SESSION_KEY
from tests.factories import PASSWORD

SUBJECTS = "/data/subjects/"


def password_sign_in(client, user, next_url: str = "") -> object:
    response = client.post("/login/", {"username": user.username, "password": PASSWORD, "next": next_url})
    assert response.status_code == 302, response.content[:300]
    session = client.session
    session[SESSION_KEY] = {"code": "risk_analysis", "text": ""}  # the purpose, as asked once a session
    session.save()
    return response


def code_of(device: TOTPDevice, *, step_offset: int = 0) -> str:
    return (
        f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=step_offset):06d}"
    )


def enrolled(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="phone", confirmed=True)


def skip_throttle(user) -> None:
    """A wrong code makes the next try wait a second (django-otp's throttle): skip the wait, not sleep."""
    for model in (TOTPDevice, StaticDevice):
        model.objects.filter(user=user).update(throttling_failure_timestamp=None, throttling_failure_count=0)


def test_analyst_enrols_an_authenticator_then_sees_personal_data(client, customs_analyst, required):
    password_sign_in(client, customs_analyst)
    # The first page asked for goes to enrolment, and comes back there afterwards.
    response = client.get(SUBJECTS)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/second-factor/enrol/")
    page = client.get(response["Location"])
    html = page.content.decode()
    assert "<svg" in html and "Set up your second factor" in html
    device = TOTPDevice.objects.get(user=customs_analyst, confirmed=False)
    # The key shown to type by hand is the device's key.
    shown = re.search(r'data-testid="otp-secret">([A-Z2-7 ]+)<', html).group(1).replace(" ", "")
    from base64 import b32decode

    assert b32decode(shown) == device.bin_key

    wrong = client.post(page.request["PATH_INFO"], {"code": "000000", "next": SUBJECTS})
    assert "did not match" in wrong.content.decode()
    assert client.get(SUBJECTS).status_code == 302  # still not verified
    skip_throttle(customs_analyst)
    done = client.post(page.request["PATH_INFO"], {"code": code_of(device), "next": SUBJECTS})
    codes = re.findall(r"<code>([0-9a-f]{4}-[0-9a-f]{4})</code>", done.content.decode())
    assert len(codes) == second_factor.RECOVERY_CODE_COUNT
    assert client.get(SUBJECTS).status_code == 200


def test_a_password_alone_is_sent_to_verify_and_a_code_opens_the_floor(client, customs_analyst, required):
    device = enrolled(customs_analyst)
    response = password_sign_in(client, customs_analyst)
    home = client.get(response["Location"])
    assert home.status_code == 302 and home["Location"].startswith("/accounts/second-factor/verify/")
    refused = client.post("/accounts/second-factor/verify/", {"code": "123456", "next": SUBJECTS})
    assert "not accepted" in refused.content.decode()
    skip_throttle(customs_analyst)
    ok = client.post("/accounts/second-factor/verify/", {"code": code_of(device), "next": SUBJECTS})
    assert ok.status_code == 302 and ok["Location"] == SUBJECTS
    assert client.get(SUBJECTS).status_code == 200


def test_views_get_the_user_itself_with_what_the_second_factor_said(client, customs_analyst, required):
    """``request.user`` reaches the views as the user itself (``UserInHandMiddleware``), not lazy stand-ins,
    and still answers django-otp's question: unverified after a password, verified after a code."""
    from django.contrib.auth import get_user_model
    from django.utils.functional import LazyObject

    device = enrolled(customs_analyst)
    password_sign_in(client, customs_analyst)
    before = client.get("/healthz").wsgi_request.user
    skip_throttle(customs_analyst)
    client.post("/accounts/second-factor/verify/", {"code": code_of(device), "next": SUBJECTS})
    after = client.get(SUBJECTS)
    assert after.status_code == 200
    for user in (before, after.wsgi_request.user):
        assert type(user) is get_user_model() and not isinstance(user, LazyObject)
        assert user.pk == customs_analyst.pk
    assert before.is_verified() is False and after.wsgi_request.user.is_verified() is True


def test_a_recovery_code_works_once(client, customs_analyst, required):
    enrolled(customs_analyst)
    codes = second_factor.new_recovery_codes(customs_analyst)
    password_sign_in(client, customs_analyst)
    ok = client.post("/accounts/second-factor/verify/", {"code": codes[0], "next": SUBJECTS})
    assert ok.status_code == 302 and ok["Location"] == SUBJECTS
    client.post("/logout/")
    password_sign_in(client, customs_analyst)
    again = client.post("/accounts/second-factor/verify/", {"code": codes[0], "next": SUBJECTS})
    assert again.status_code == 200 and "not accepted" in again.content.decode()
    # Typed without the dash, the next code is fine.
    skip_throttle(customs_analyst)
    ok = client.post("/accounts/second-factor/verify/", {"code": codes[1].replace("-", ""), "next": SUBJECTS})
    assert ok.status_code == 302


def test_a_stolen_password_cannot_enrol_another_phone(client, customs_analyst, required):
    enrolled(customs_analyst)
    password_sign_in(client, customs_analyst)
    response = client.get("/accounts/second-factor/enrol/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/second-factor/verify/")
    assert not TOTPDevice.objects.filter(user=customs_analyst, confirmed=False).exists()


def test_without_the_second_factor_no_personal_data_anywhere(
    client, customs_analyst, customs_admin, required
):
    """Pages, htmx fragments and the API refuse an unverified session, whatever the role."""
    password_sign_in(client, customs_analyst)
    assert client.get(SUBJECTS)["Location"].startswith("/accounts/second-factor/enrol/")
    fragment = client.get(SUBJECTS, headers={"HX-Request": "true"})
    assert fragment.status_code == 403 and fragment["HX-Redirect"].startswith("/accounts/second-factor/")
    api = client.get("/api/v1/subjects/", headers={"X-Access-Purpose": "risk_analysis"})
    assert api.status_code == 403 and api.json()["title"] == "Second factor required"
    # A role that is not made to enrol at sign-in still meets the gate at personal data.
    client.post("/logout/")
    password_sign_in(client, customs_admin)
    assert client.get("/").status_code == 200
    assert client.get("/api/v1/subjects/", headers={"X-Access-Purpose": "risk_analysis"}).status_code == 403


def test_off_by_default_outside_production(client_for, customs_analyst, settings):
    assert settings.RATC_REQUIRE_SECOND_FACTOR is False
    assert client_for(customs_analyst).get(SUBJECTS).status_code == 200


def test_roles_that_see_personal_data_need_it_and_the_system_role_does_not():
    assert {"analyst", "supervisor", "liaison", "frontline", "risk_manager", "auditor"} <= set(
        second_factor.SECOND_FACTOR_ROLES
    )
    assert "system" not in second_factor.SECOND_FACTOR_ROLES


def test_recovery_codes_can_be_renewed_by_a_verified_session(client, customs_analyst, required):
    device = enrolled(customs_analyst)
    old = second_factor.new_recovery_codes(customs_analyst)
    password_sign_in(client, customs_analyst)
    assert client.get("/accounts/second-factor/recovery-codes/").status_code == 302
    client.post("/accounts/second-factor/verify/", {"code": code_of(device)})
    assert "10 recovery codes left" in client.get("/accounts/second-factor/recovery-codes/").content.decode()
    new = re.findall(
        r"<code>([0-9a-f-]{9})</code>",
        client.post("/accounts/second-factor/recovery-codes/").content.decode(),
    )
    assert len(new) == 10 and not set(new) & set(old)


def test_a_mistyped_role_in_the_group_mapping_stops_the_start(settings):
    settings.RATC_OIDC_GROUP_ROLES = {"analysts": {"agency": "CUS", "role": "analist"}}
    with pytest.raises(SystemCheckError, match="analist"):
        call_command("check")

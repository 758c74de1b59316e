"""Single sign-on against a real OpenID provider (django-oauth-toolkit) on 127.0.0.1.

Each sign-in is the authorization code flow with PKCE, state and nonce: the product redirects to the
provider, the person signs in there, the provider redirects back with a code, and the product exchanges
it over HTTP, checks the signed ID token against the provider's keys and reads the claims.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model

from apps.accounts.models import SsoIdentity
from apps.agencies.models import Membership
from apps.compliance.services import SESSION_KEY
from tests.factories import UserFactory

SUBJECTS = "/data/subjects/"


def declare_purpose(client) -> None:
    session = client.session
    session[SESSION_KEY] = {"code": "risk_analysis", "text": ""}
    session.save()


def test_the_login_page_offers_single_sign_on_only_when_configured(client, settings, db):
    assert "Sign in with" not in client.get("/login/").content.decode()
    assert client.get("/accounts/sso/start/").status_code == 404
    settings.RATC_OIDC_ENABLED = True
    settings.RATC_OIDC_PROVIDER_NAME = "Government Login"
    page = client.get("/login/?next=/targets/").content.decode()
    assert 'href="/accounts/sso/start/?next=/targets/"' in page and "Sign in with Government Login" in page
    assert 'id="id_password"' in page  # the local password sign-in stays


def test_a_new_person_gets_the_role_of_their_group_and_the_providers_mfa_counts(
    client, sso, sso_sign_in, world, required
):
    response = sso_sign_in("ana.sso", next_url=SUBJECTS)
    assert response.status_code == 302 and response["Location"] == SUBJECTS
    user = get_user_model().objects.get(username="ana.sso")
    assert not user.has_usable_password()
    assert user.email == "ana.sso@idp.test"
    identity = SsoIdentity.objects.get(user=user)
    assert identity.issuer == sso.issuer
    assert identity.groups == ["ratc-analysts"]
    assert (user.membership.agency.code, user.membership.role) == ("CUS", "analyst")
    # The provider said "mfa": the session is verified, personal data opens without a local code.
    declare_purpose(client)
    assert client.get(SUBJECTS).status_code == 200


def test_ports_come_from_the_role_profile(client, sso_sign_in, world):
    sso_sign_in("olly.sso")
    membership = Membership.objects.get(user__username="olly.sso")
    assert membership.role == "frontline" and membership.port_codes == ["GBFXT"]


def test_without_the_providers_mfa_a_local_code_is_still_asked(client, sso_sign_in, world, required):
    response = sso_sign_in("pat.sso", next_url=SUBJECTS)
    assert response["Location"] == SUBJECTS
    declare_purpose(client)
    refused = client.get(SUBJECTS)
    assert refused.status_code == 302 and refused["Location"].startswith("/accounts/second-factor/enrol/")


def test_groups_that_map_to_no_role_give_no_membership_and_say_so(client, sso_sign_in, world, settings):
    assert sso_sign_in("ana.sso").status_code == 302
    assert Membership.objects.filter(user__username="ana.sso").exists()
    client.post("/logout/")
    # The provider's group is no longer mapped (e.g. the person left the unit): the role goes.
    settings.RATC_OIDC_GROUP_ROLES = {"someone-else": {"agency": "CUS", "role": "analyst", "ports": []}}
    response = sso_sign_in("ana.sso")
    assert response.status_code == 302 and response["Location"] == "/accounts/sso/refused/"
    page = client.get(response["Location"])
    assert page.status_code == 403
    assert "none of your groups (ratc-analysts) gives a role on this floor" in page.content.decode()
    assert not Membership.objects.filter(user__username="ana.sso").exists()
    assert "_auth_user_id" not in client.session


def test_a_local_account_of_the_same_name_is_not_taken_over(client, sso_sign_in, world):
    local = UserFactory(username="ana.sso")
    response = sso_sign_in("ana.sso")
    assert response["Location"] == "/accounts/sso/refused/"
    assert "already exists here and is not linked" in client.get(response["Location"]).content.decode()
    assert not SsoIdentity.objects.filter(user=local).exists()
    assert "_auth_user_id" not in client.session

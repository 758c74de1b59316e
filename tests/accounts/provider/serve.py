"""Migrate, seed and serve the test provider: ``python -m tests.accounts.provider.serve PORT REDIRECT_URI``.

Seeds the people the product's tests sign in as (``PEOPLE``) and one confidential client, the product,
whose id and secret are ``CLIENT_ID``/``CLIENT_SECRET``; then serves HTTP on 127.0.0.1:PORT until killed.
"""

import os
import sys

CLIENT_ID = "ratc-ops-test"
CLIENT_SECRET = "ratc-ops-test-secret-0f3b9c"
PASSWORD = "provider-pass-2026"
#: username -> the provider groups (the product maps some of them to role profiles).
PEOPLE = {
    "ana.sso": ["ratc-analysts", "mfa-enrolled"],
    "pat.sso": ["ratc-analysts"],
    "olly.sso": ["ratc-officers-felixstowe", "mfa-enrolled"],
    "canteen.sso": ["canteen-staff", "mfa-enrolled"],
}


def main() -> None:
    port, redirect_uri = sys.argv[1], sys.argv[2]
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.accounts.provider.settings"
    import django

    django.setup()
    from django.contrib.auth.models import Group, User
    from django.core.management import call_command
    from oauth2_provider.models import Application

    call_command("migrate", verbosity=0)
    for username, groups in PEOPLE.items():
        user = User.objects.create_user(
            username, f"{username}@idp.test", PASSWORD, first_name=username.title()
        )
        user.groups.set(Group.objects.get_or_create(name=g)[0] for g in groups)
    Application.objects.create(
        name="RATC Ops",
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=redirect_uri,
        algorithm=Application.RS256_ALGORITHM,
        skip_authorization=True,
    )
    call_command("runserver", f"127.0.0.1:{port}", use_reloader=False, verbosity=0)


if __name__ == "__main__":
    main()

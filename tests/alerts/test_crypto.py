"""A partner's credential (what the product sends to the partner's server) is encrypted at rest, never
shown back in the admin, re-keyable, and existing clear values were encrypted by the migration."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from apps.alerts import client
from apps.alerts.crypto import SecretUnreadable, open_secret, rotate, seal_secret
from apps.alerts.models import Partner

CLEAR = "medallion-password-Tr0ub4dor"


def _stored(partner: Partner) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret_encrypted FROM alerts_partner WHERE id = %s", [partner.pk])
        return cursor.fetchone()[0]


def test_the_credential_is_stored_encrypted_and_read_back_for_the_partner_only(site, settings):
    site.partner.secret = CLEAR
    site.partner.save()
    stored = _stored(site.partner)
    assert CLEAR not in stored and stored.startswith("gAAAA")  # a Fernet token
    assert Partner.objects.get(pk=site.partner.pk).secret == CLEAR
    assert CLEAR not in str(Partner.objects.filter(pk=site.partner.pk).values().get())
    # A dedicated key set later: what was stored under the default key still opens, and rotates.
    settings.RATC_ALERTS_SECRET_KEY = "a-dedicated-key-of-at-least-thirty-two-characters"
    assert Partner.objects.get(pk=site.partner.pk).secret == CLEAR
    assert rotate() == 1
    settings.SECRET_KEY = "another-secret-key-0123456789-0123456789-0123456789"
    assert Partner.objects.get(pk=site.partner.pk).secret == CLEAR  # under the dedicated key now
    settings.RATC_ALERTS_SECRET_KEY = ""
    with pytest.raises(SecretUnreadable):  # both keys lost: refused, never garbage sent
        open_secret(_stored(site.partner))


def test_an_unreadable_credential_is_a_failed_exchange_not_a_crash(site, settings):
    Partner.objects.filter(pk=site.partner.pk).update(
        taxii_api_root="http://127.0.0.1:9/taxii/", taxii_collection="x", secret_encrypted="gAAAAAbroken"
    )
    assert client.poll(Partner.objects.get(pk=site.partner.pk)) is None
    partner = Partner.objects.get(pk=site.partner.pk)
    assert partner.status == "failing" and "enter the credential again" in partner.last_error


def test_the_admin_never_shows_the_credential_and_keeps_it_when_left_empty(site, admin_client):
    site.partner.secret = CLEAR
    site.partner.save()
    url = f"/admin/alerts/partner/{site.partner.pk}/change/"
    page = admin_client.get(url).content.decode()
    assert CLEAR not in page and _stored(site.partner) not in page and "stored (encrypted)" in page
    form = {"name": site.partner.name, "agency": site.foreign.pk, "owner_agency": site.customs.pk,
            "account": site.account.pk, "taxii_api_root": "https://partner.example/taxii2/api/",
            "taxii_collection": "c1", "auth": "basic", "username": "ratc", "active": "on", "new_secret": ""}  # fmt: skip
    assert admin_client.post(url, form).status_code == 302
    assert Partner.objects.get(pk=site.partner.pk).secret == CLEAR  # left empty: kept
    assert admin_client.post(url, {**form, "new_secret": "a-new-one"}).status_code == 302
    assert Partner.objects.get(pk=site.partner.pk).secret == "a-new-one"
    assert "a-new-one" not in admin_client.get(url).content.decode()


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="migrates inside the test's transaction, which SQLite's schema editor refuses; CI runs it on PostgreSQL",
)
def test_the_migration_encrypts_existing_clear_credentials_and_reverses(site):
    site.partner.secret = CLEAR
    site.partner.save()
    with connection.cursor() as cursor:  # the rows above must not hold deferred checks across ALTER TABLE
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    executor = MigrationExecutor(connection)
    executor.migrate([("alerts", "0001_initial")])
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM alerts_partner WHERE id = %s", [site.partner.pk])
        assert cursor.fetchone()[0] == CLEAR  # back to the clear column
        cursor.execute(
            "UPDATE alerts_partner SET secret = %s WHERE id = %s", ["pre-existing", site.partner.pk]
        )
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes("alerts"))
    stored = _stored(site.partner)
    assert "pre-existing" not in stored and open_secret(stored) == "pre-existing"
    assert seal_secret("") == "" and open_secret("") == ""

"""Partners' credentials encrypted at rest: existing clear values are encrypted, then the clear column goes."""

from django.db import migrations, models


def encrypt(apps, schema_editor):
    from apps.alerts.crypto import seal_secret

    Partner = apps.get_model("alerts", "Partner")
    for pk, clear in Partner.objects.exclude(secret="").values_list("pk", "secret"):
        Partner.objects.filter(pk=pk).update(secret_encrypted=seal_secret(clear))


def decrypt(apps, schema_editor):
    from apps.alerts.crypto import open_secret

    Partner = apps.get_model("alerts", "Partner")
    for pk, stored in Partner.objects.exclude(secret_encrypted="").values_list("pk", "secret_encrypted"):
        Partner.objects.filter(pk=pk).update(secret=open_secret(stored))


class Migration(migrations.Migration):
    dependencies = [("alerts", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="partner",
            name="secret_encrypted",
            field=models.TextField(
                blank=True, editable=False, help_text="Password or token at the partner, encrypted (Fernet)."
            ),
        ),
        migrations.RunPython(encrypt, decrypt),
        migrations.RemoveField(model_name="partner", name="secret"),
    ]

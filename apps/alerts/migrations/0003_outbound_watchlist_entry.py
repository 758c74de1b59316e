"""A watchlist entry may be sent to a partner as an intelligence item (a lookout)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("alerts", "0002_partner_secret_encrypted"),
        ("watchlists", "0004_alter_watchlistentry_identifiers_and_more"),
    ]

    operations = [
        migrations.AddField(
            model_name="outboundobject",
            name="watchlist_entry",
            field=models.ForeignKey(
                blank=True,
                help_text="The watchlist entry sent as an intelligence item (a lookout), if that is what was sent.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="watchlists.watchlistentry",
            ),
        ),
        migrations.AlterField(
            model_name="outboundobject",
            name="kind",
            field=models.CharField(
                choices=[("alert", "Alert"), ("lookout", "Lookout (watchlist entry)"), ("sighting", "Sighting")],
                max_length=10,
            ),
        ),
    ]

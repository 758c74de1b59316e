"""A covering partial index for the queue page: open targets of a port, ranked by urgency."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("targeting", "0002_chained_transitions"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="target",
            index=models.Index(
                condition=models.Q(
                    ("state__in", ["approved", "awaiting_approval", "in_review", "nominated", "on_hold"])
                ),
                fields=["port", "priority", "arrival_at"],
                include=("owner_agency", "risk_area", "state", "operation", "id"),
                name="target_open_queue",
            ),
        ),
    ]

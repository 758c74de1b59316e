"""Transitions become hash-chained: existing rows are linked in order, then the fields are required."""

import hashlib
import json

from django.core.serializers.json import DjangoJSONEncoder
from django.db import migrations, models

GENESIS = "0" * 64
CHAINED = ("target", "actor", "actor_agency", "from_state", "to_state", "version", "reason", "at")


def link_existing(apps, schema_editor):
    Transition = apps.get_model("targeting", "Transition")
    ChainHead = apps.get_model("compliance", "ChainHead")
    previous, seq = GENESIS, 0
    for row in Transition.objects.order_by("at", "id").iterator():
        seq += 1
        values = {}
        for name in CHAINED:
            value = getattr(row, f"{name}_id" if name in {"target", "actor", "actor_agency"} else name)
            values[name] = value.isoformat() if hasattr(value, "isoformat") else value
        payload = json.dumps(values, sort_keys=True, cls=DjangoJSONEncoder, separators=(",", ":"))
        digest = hashlib.sha256(f"{seq}|{previous}|{payload}".encode()).hexdigest()
        Transition.objects.filter(pk=row.pk).update(seq=seq, prev_hash=previous, hash=digest)
        previous = digest
    if seq:
        ChainHead.objects.update_or_create(chain="targeting.transition", defaults={"seq": seq, "hash": previous})


class Migration(migrations.Migration):
    dependencies = [
        ("targeting", "0001_initial"),
        ("compliance", "0001_initial"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="transition", options={"ordering": ["at", "id"], "verbose_name": "target transition"}
        ),
        migrations.AddField("transition", "seq", models.BigIntegerField(editable=False, null=True)),
        migrations.AddField("transition", "prev_hash", models.CharField(editable=False, max_length=64, default="")),
        migrations.AddField("transition", "hash", models.CharField(editable=False, max_length=64, default="")),
        migrations.RunPython(link_existing, migrations.RunPython.noop),
        migrations.AlterField("transition", "seq", models.BigIntegerField(editable=False, unique=True)),
        migrations.AlterField("transition", "prev_hash", models.CharField(editable=False, max_length=64)),
        migrations.AlterField("transition", "hash", models.CharField(editable=False, max_length=64)),
    ]

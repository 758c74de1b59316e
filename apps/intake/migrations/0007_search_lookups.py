"""The header search's indexed look-ups (``apps.intake.search``).

- Container numbers become keyed hashes in ``SubjectKey`` (intake writes them from now on:
  ``normalise.container_keys``); the consignments already stored get theirs here.
- On PostgreSQL, a partial index on ``upper(title)`` with ``text_pattern_ops`` for travellers, traders
  and conveyances: a name typed is a title prefix (``title__istartswith``), which this index answers as
  a range whatever the database's collation. SQLite (the laptop) has no operator classes and small
  tables; it is left without. Not declared in ``Subject.Meta``, since Django cannot declare an operator
  class portably; ``migrate`` is where it lives.
"""

from django.db import migrations

TITLE_INDEX = "subject_title_prefix"
BATCH = 5000


def add_title_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {TITLE_INDEX} ON intake_subject (UPPER(title::text) text_pattern_ops) "
        "WHERE kind IN ('traveller', 'trader', 'conveyance')"
    )


def drop_title_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {TITLE_INDEX}")


def _container_numbers(details):
    groups = [details.get("containers") or []]
    groups += [item.get("containers") or [] for item in details.get("goods") or [] if isinstance(item, dict)]
    return [c.get("number", "") for group in groups for c in group if isinstance(c, dict)]


def add_container_keys(apps, schema_editor):
    from apps.intake.normalise import fold, key_hash

    Subject = apps.get_model("intake", "Subject")
    SubjectKey = apps.get_model("intake", "SubjectKey")
    rows = Subject.objects.filter(kind="consignment").values_list("pk", "details").iterator(chunk_size=2000)
    batch = []
    for pk, details in rows:
        numbers = {fold(n).replace(" ", "") for n in _container_numbers(details or {}) if n}
        batch += [SubjectKey(subject_id=pk, key=key_hash("container", n)) for n in numbers if n]
        if len(batch) >= BATCH:
            SubjectKey.objects.bulk_create(batch, ignore_conflicts=True)
            batch = []
    SubjectKey.objects.bulk_create(batch, ignore_conflicts=True)


def drop_container_keys(apps, schema_editor):
    apps.get_model("intake", "SubjectKey").objects.filter(key__startswith="container:").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("intake", "0006_subject_key_indexes"),
    ]

    operations = [
        migrations.RunPython(add_container_keys, drop_container_keys, elidable=True),
        migrations.RunPython(add_title_index, drop_title_index),
    ]

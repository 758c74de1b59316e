"""No planner statistics on a subject's two JSON documents (``facts``, ``details``), PostgreSQL only.

ANALYZE samples 30,000 rows of a table and, for each column, sorts and compares the sample's values to
build its most common values and histogram. For ``facts`` and ``details`` that is a comparison of whole
JSON documents (a kilobyte and more each), and it was three fifths of the time of every ANALYZE of
``intake_subject`` (760 against 280 ms on 50,000 travellers), which a bulk intake runs each time the
table doubles and autovacuum each time it grows by a tenth. Nothing reads those statistics: the product
filters on keys inside the documents (``facts -> 'importer_id'``, ``facts ->> 'document_number'``),
expressions the column's statistics do not describe (the ``subject_importer`` index keeps its own).
"""

from django.db import migrations

DOCUMENTS = ("facts", "details")


def no_statistics(apps, schema_editor):
    _set_target(schema_editor, 0)


def default_statistics(apps, schema_editor):
    _set_target(schema_editor, -1)


def _set_target(schema_editor, target: int) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    columns = ", ".join(f"ALTER COLUMN {name} SET STATISTICS {target}" for name in DOCUMENTS)
    schema_editor.execute(f"ALTER TABLE intake_subject {columns}")


class Migration(migrations.Migration):
    dependencies = [("intake", "0010_subject_keys_unchecked")]

    operations = [migrations.RunPython(no_statistics, default_statistics)]

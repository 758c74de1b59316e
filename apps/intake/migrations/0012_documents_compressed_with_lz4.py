"""A subject's two JSON documents (``facts``, ``details``) compressed with lz4, PostgreSQL only.

A row longer than about 2 kB is compressed as it is written, and an API or PNR traveller's documents
usually make it so: the shared PNR messages' travellers carry 2.8 kB of them on average (297 of 297
over the limit). PostgreSQL's default method, pglz, was a fifth of the time of a COPY of those
documents: 30,000 travellers' took 1.56-1.69 s with pglz and 1.21-1.53 s with lz4, at the same size on
disk within 2 % (``docs/performance.md``, thirteenth pass). Only values written from now on use it: a
setting of the columns, no rewrite of the table. Left as it is where the server has no lz4 (built
without it, or before PostgreSQL 14).
"""

from django.db import migrations

DOCUMENTS = ("facts", "details")


def lz4(apps, schema_editor):
    if _has_lz4(schema_editor.connection):
        _set(schema_editor, "lz4")


def server_default(apps, schema_editor):
    if _has_lz4(schema_editor.connection):
        _set(schema_editor, "default")


def _has_lz4(connection) -> bool:
    if connection.vendor != "postgresql" or connection.pg_version < 140000:
        return False
    with connection.cursor() as cursor:
        # The methods this server was built with are the values its default setting accepts.
        cursor.execute(
            "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'"
        )
        row = cursor.fetchone()
    return bool(row and row[0])


def _set(schema_editor, method: str) -> None:
    columns = ", ".join(f"ALTER COLUMN {name} SET COMPRESSION {method}" for name in DOCUMENTS)
    schema_editor.execute(f"ALTER TABLE intake_subject {columns}")


class Migration(migrations.Migration):
    dependencies = [("intake", "0011_no_statistics_on_documents")]

    operations = [migrations.RunPython(lz4, server_default)]

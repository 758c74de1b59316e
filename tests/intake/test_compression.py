"""A subject's documents are compressed with lz4 on a PostgreSQL server that has it (migration
``intake 0012``): the shared PNR travellers' rows are over the 2 kB at which PostgreSQL compresses, and
lz4 takes a fifth less of the server's time than its default for them. The values read back the same."""

from __future__ import annotations

import pytest
from django.db import connection

from apps.intake import services
from apps.intake.models import SourceKind, Subject
from tests.factories import DataSourceFactory


def _server_has_lz4() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'"
        )
        return bool(cursor.fetchone()[0])


@pytest.mark.django_db(transaction=True)
def test_the_shared_pnr_travellers_documents_are_stored_compressed_with_lz4(world, settings, shared_data):
    if connection.vendor != "postgresql" or not _server_has_lz4():
        pytest.skip("needs PostgreSQL built with lz4: set DATABASE_URL")
    settings.INTAKE_PARSE_PROCESS = False
    folder = shared_data / "passenger-messages" / "pnrgov"
    payloads = [(p.name, p.read_bytes()) for p in sorted(folder.iterdir())]
    source = DataSourceFactory(owner_agency=world.customs, kind=SourceKind.PNR, name="PNR")
    services.run_intake(
        services.start_run(actor=None, source=source, files=[n for n, _ in payloads]), payloads
    )

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_column_compression(facts), pg_column_compression(details) FROM intake_subject "
            "WHERE source_id = %s AND kind = 'traveller'",
            [source.pk],
        )
        methods = [method for row in cursor.fetchall() for method in row if method is not None]
    assert len(methods) > 20  # most PNR travellers' rows are over the limit: something was compressed
    assert set(methods) == {"lz4"}
    # Read back as written (the JSON is the same whatever compressed it).
    traveller = Subject.objects.filter(source=source, kind="traveller").exclude(details={}).first()
    assert traveller is not None and traveller.facts["full_name"] and traveller.details["surname"]

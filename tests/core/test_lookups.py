"""``field__any``: the same rows as ``field__in``, sent as one array on PostgreSQL."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.intake.models import Message
from tests.factories import DataSourceFactory


def test_any_finds_what_in_finds_and_sends_one_parameter(world):
    source = DataSourceFactory(owner_agency=world.customs)
    for key in ("A-1", "B-2", "C'3"):  # a quote, which a hand-built array literal would get wrong
        Message.objects.create(source=source, message_key=key, business_key=key, format="x")
    asked = ["A-1", "C'3", "missing", "A-1"]

    with CaptureQueriesContext(connection) as queries:
        found = sorted(
            Message.objects.filter(source=source, message_key__any=asked).values_list(
                "message_key", flat=True
            )
        )

    assert found == sorted(
        Message.objects.filter(source=source, message_key__in=asked).values_list("message_key", flat=True)
    )
    assert found == ["A-1", "C'3"]
    assert Message.objects.filter(message_key__any=[]).count() == 0
    assert Message.objects.filter(source_id__any={source.pk, -1}).count() == 3  # a foreign key, by its key
    if connection.vendor == "postgresql":
        assert "= ANY(" in queries[0]["sql"] and " IN (" not in queries[0]["sql"]

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


def test_any_of_strings_that_an_array_literal_must_quote(world):
    """Strings go as one array literal on PostgreSQL: every character that means something in one
    (quotes, backslashes, commas, braces, spaces, the word NULL, an empty string) is found as itself."""
    source = DataSourceFactory(owner_agency=world.customs)
    awkward = ['a"b', "back\\slash", 'both\\"', "com,ma", "{brace}", " spaced ", "NULL", "", "é-ü", 'x","y']
    for key in awkward:
        Message.objects.create(source=source, message_key=key, business_key=key or "-", format="x")
    Message.objects.create(source=source, message_key="other", business_key="other", format="x")
    for asked in (awkward, awkward[:1], ["plain", "NULL"], [*awkward, "missing"]):
        found = sorted(
            Message.objects.filter(source=source, message_key__any=asked).values_list(
                "message_key", flat=True
            )
        )
        assert found == sorted(k for k in set(asked) if k in awkward)
    # Longer than the column: no match, never cut down to one.
    assert not Message.objects.filter(source=source, message_key__any=["a" * 500]).exists()

"""Bulk inserts keep every value exactly, whatever the database's bulk path (COPY text on PostgreSQL)."""

import json
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from uuid import UUID

import pytest
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.utils import timezone

from apps.intake.bulk import Encoded, bulk_insert_rows, json_copy_text, json_text
from apps.intake.models import Subject
from tests.factories import DataSourceFactory


def test_awkward_values_survive_the_bulk_path(world):
    source = DataSourceFactory(owner_agency=world.customs)
    awkward = 'tab\there, new\nline, back\\slash, quote " and \\N'
    facts = {"goods_description": awkward, "hs_codes": ["0901", "0803"], "paid_cash": True, "value": None}
    now = timezone.now()
    [pk] = bulk_insert_rows(
        Subject,
        [{"kind": "consignment", "source_id": source.pk, "owner_agency_id": world.customs.pk, "external_id": "x",
          "title": awkward, "facts": facts, "details": {}, "received_at": now, "arrival_at": None}],
    )  # fmt: skip
    stored = Subject.objects.get(pk=pk)
    assert stored.title == awkward
    assert stored.facts == facts
    assert stored.received_at == now and stored.arrival_at is None and stored.version == 1


def test_json_encoded_beforehand_is_stored_as_its_value(world):
    """A JSON column's COPY text made elsewhere (the parsing process) is written as it is on PostgreSQL,
    and the value itself is stored elsewhere: either way the row holds the value."""
    source = DataSourceFactory(owner_agency=world.customs)
    awkward = 'tab\there, new\nline, back\\slash, quote " and \\N, é'
    facts = {"goods_description": awkward, "hs_codes": ["0901"], "paid_cash": True, "value": None}
    details = {"lines": [{"text": awkward}]}
    [pk] = bulk_insert_rows(
        Subject,
        [{"kind": "consignment", "source_id": source.pk, "owner_agency_id": world.customs.pk, "external_id": "x",
          "title": "t", "facts": Encoded(facts, json_copy_text(facts)),
          "details": Encoded(details, json_copy_text(details)), "received_at": timezone.now()}],
    )  # fmt: skip
    stored = Subject.objects.get(pk=pk)
    assert stored.facts == facts and stored.details == details


def test_json_goes_in_with_its_keys_in_the_order_jsonb_keeps_them(world):
    """Each object's keys are written in jsonb's own order (shorter first, then by their bytes, at every
    depth), which spares the server its sort; PostgreSQL gives a stored document back in that order. The
    value is the same, and keys that are not text are written as they come."""
    record = {
        "surname": "Ødegård", "id": 7, "é": 1, "ab": 2, "aa": None, "zz": {"long key": 1, "b": [1, {"yy": 2, "x": 3}]},
        "documents": [{"number": "P1", "doc_type": "P"}], "e": [],
    }  # fmt: skip
    text = json_copy_text(record).replace("\\\\", "\\")  # COPY text doubles JSON's backslashes
    assert json.loads(text) == record
    assert list(json.loads(text)) == ["e", "aa", "ab", "id", "zz", "é", "surname", "documents"]
    assert list(json.loads(text)["zz"]) == ["b", "long key"]
    assert json.loads(json_copy_text({2: "a", 1: "b"})) == {"2": "a", "1": "b"}
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT %s::jsonb::text", [json.dumps(record)])
            (stored,) = cursor.fetchone()
        pairs = {"object_pairs_hook": list}  # every object as its (key, value) pairs, in their order
        assert json.loads(stored, **pairs) == json.loads(text, **pairs)


def test_a_records_details_come_out_in_jsonbs_order_and_are_written_without_a_copy():
    """``jsonable`` gives a record's fields (at every depth) in jsonb's order, leaving out the empty
    ones and writing dates as ISO text; the writer then finds them in order and writes them as they are.
    A value kept only as its COPY text reads back as the same value."""
    from apps.intake.bulk import jsonb_key, jsonb_ordered, plain_value
    from apps.intake.normalise.drafts import jsonable
    from apps.intake.records.passenger import Bags, TravelDocument, Traveller

    traveller = Traveller(
        surname="Ødegård", given_names="Åse", date_of_birth=date(1980, 2, 29), nationality="NOR",
        documents=[TravelDocument(doc_type="P", number="N123", expiry=date(2030, 1, 1))],
        phones=["+4712345678"], bags=Bags(count=2, weight=30.5, tags=["A1", "A2"]),
    )  # fmt: skip
    details = jsonable(traveller)
    assert details == {
        "role": "passenger", "bags": {"count": 2, "tags": ["A1", "A2"], "weight": 30.5},
        "phones": ["+4712345678"], "surname": "Ødegård",
        "documents": [{"expiry": "2030-01-01", "number": "N123", "doc_type": "P"}],
        "given_names": "Åse", "nationality": "NOR", "date_of_birth": "1980-02-29",
    }  # fmt: skip
    for value in (details, details["bags"], details["documents"][0]):
        assert list(value) == sorted(value, key=jsonb_key)
    assert jsonb_ordered(details) is details  # in order at every depth: nothing copied
    shuffled = {"surname": "A", "id": 1, "documents": [{"number": "1", "doc_type": "P"}]}
    assert list(jsonb_ordered(shuffled)) == ["id", "surname", "documents"]
    assert list(jsonb_ordered(shuffled)["documents"][0]) == ["number", "doc_type"]
    for value in (details, {"quote": 'a "b" \\ c'}, None, []):
        assert plain_value(Encoded(None, json_copy_text(value))) == value


def test_json_is_written_as_djangos_encoder_writes_it_and_refused_where_it_refuses():
    """The bulk path's fast encoder gives the same JSON as Django's for every value Django's can write
    (dates and times to the millisecond, decimals, identifiers, integers past 64 bits, keys that are not
    text, any script), and refuses what Django's refuses."""
    from dataclasses import dataclass

    value = {
        "day": date(2026, 12, 5), "at": datetime(2026, 12, 5, 9, 30, 1, 123456, tzinfo=UTC), "time": time(7, 5),
        "amount": Decimal("1250.10"), "ref": UUID(int=42), "stay": timedelta(days=2, hours=3), 2: "two",
        "name": "Ødegård 王 \t\"quoted\" \\ \u2028", "big": 2**70, "list": [1.5, None, True, {"x": []}],
    }  # fmt: skip
    within_64_bits = {k: v for k, v in value.items() if k != "big"}
    for written in (value, within_64_bits):
        assert json.loads(json_text(written)) == json.loads(json.dumps(written, cls=DjangoJSONEncoder))
    assert '"at":"2026-12-05T09:30:01.123Z"' in json_text(within_64_bits)

    @dataclass
    class Unwritable:
        n: int

    for refused in (Unwritable(1), {1, 2}, object()):
        with pytest.raises(TypeError):
            json.dumps({"x": refused}, cls=DjangoJSONEncoder)
        with pytest.raises(TypeError):
            json_text({"x": refused})

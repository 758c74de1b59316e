"""Fixtures for data quality: API and PNR sources of customs, and travellers written as intake stores them."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest
from django.utils import timezone

from apps.intake.models import DataSource, IntakeRun, Message, SourceKind, Subject
from apps.quality import measure
from tests.factories import DataSourceFactory

_ids = itertools.count(1)

#: Every field the API feed must give (``apps.quality.feeds.FEEDS["api"]``), filled.
FULL_API = {
    "surname": "DOE",
    "given_names": "JANE",
    "date_of_birth": "1980-01-02",
    "sex": "F",
    "nationality": "NL",
    "document_type": "P",
    "document_number": "X123",
    "document_country": "NL",
    "document_expiry": "2030-01-01",
    "origin_airport": "AMS",
    "destination_airport": "LHR",
    "message_type": "paxlst",
}


@pytest.fixture
def api_source(world) -> DataSource:
    return DataSourceFactory(owner_agency=world.customs, kind=SourceKind.API, name="Airline API")


def message(source: DataSource, run=None, file_name: str = "") -> Message:
    n = next(_ids)
    return Message.objects.create(
        source=source,
        run=run,
        format="paxlst",
        message_key=f"m{n}",
        business_key=f"b{n}",
        file_name=file_name,
    )


def traveller(
    source: DataSource,
    msg: Message,
    *,
    carrier: str,
    flight: str,
    departure: dt.datetime,
    received: dt.datetime,
    drop: tuple[str, ...] = (),
    **extra: Any,
) -> Subject:
    """A traveller of ``carrier``'s flight as intake stores it, without the facts named in ``drop``."""
    facts = {
        **FULL_API,
        "carrier": carrier,
        "flight_number": flight,
        "departure_at": departure.isoformat(),
        **extra,
    }
    for name in drop:
        facts.pop(name)
    n = next(_ids)
    return Subject.objects.create(
        kind="traveller",
        source=source,
        owner_agency_id=source.owner_agency_id,
        message=msg,
        external_id=f"api:{flight}:{n}",
        title=f"Traveller {n}",
        facts=facts,
        arrival_at=departure + dt.timedelta(hours=2),
        received_at=received,
    )


H = dt.timedelta(hours=1)


@pytest.fixture
def small_set(world, api_source):
    """Carrier AB: 4 travellers — last week 1 without nationality and sex; this week 3 complete, one of
    them received 5 h after its flight left. Carrier CD: 2 travellers in one message, both without a
    document number, on time; their file had 1 parse problem. And one file rejected whole (1 problem)."""
    now = timezone.now()
    run = IntakeRun.objects.create(
        source=api_source,
        files=["cd.edi", "broken.edi"],
        problems=[
            {"file": "cd.edi", "where": "segment 12", "reason": "bad date"},
            {"file": "broken.edi", "where": "file", "reason": "not a PAXLST message"},
        ],
    )
    ab = message(api_source)
    traveller(api_source, ab, carrier="AB", flight="AB1", departure=now - 7 * 24 * H + 5 * H,
              received=now - 7 * 24 * H, drop=("nationality", "sex"))  # fmt: skip
    traveller(
        api_source,
        ab,
        carrier="AB",
        flight="AB2",
        departure=now + 5 * H,
        received=now - dt.timedelta(seconds=5),
    )
    traveller(
        api_source,
        ab,
        carrier="AB",
        flight="AB2",
        departure=now + 5 * H,
        received=now - dt.timedelta(seconds=5),
    )
    traveller(
        api_source,
        ab,
        carrier="AB",
        flight="AB3",
        departure=now - 5 * H,
        received=now - dt.timedelta(seconds=5),
    )
    cd = message(api_source, run=run, file_name="cd.edi")
    for _ in range(2):
        traveller(api_source, cd, carrier="CD", flight="CD9", departure=now + 30 * H,
                  received=now - dt.timedelta(seconds=5), drop=("document_number",))  # fmt: skip
    measure.refresh()
    return api_source

"""Watchlists as data: uniqueness per list, visibility following the list, handling and expiry."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, transaction

from apps.watchlists.models import ImportRun, Watchlist, WatchlistEntry
from apps.watchlists.services import share_watchlist
from tests.watchlists.helpers import make_entry, make_list, make_run


def test_external_id_is_unique_per_list_only(world):
    a, b = make_list(world.customs), make_list(world.customs)
    make_entry(a, "Ivan Petrov", id="X-1")
    make_entry(b, "Ivan Petrov", id="X-1")  # the same id in another list is another entry
    with pytest.raises(IntegrityError), transaction.atomic():
        WatchlistEntry.objects.create(watchlist=a, external_id="X-1", name="Someone else")


def test_lists_entries_and_runs_are_visible_to_the_owner_and_grantees_only(
    world, customs_analyst, police_liaison, outsider, customs_list
):
    run = make_run(customs_list)
    for user, sees in ((customs_analyst, True), (police_liaison, False), (outsider, False)):
        assert Watchlist.objects.visible_to(user).filter(pk=customs_list.pk).exists() is sees
        assert WatchlistEntry.objects.visible_to(user).filter(watchlist=customs_list).count() == (
            3 if sees else 0
        )
        assert ImportRun.objects.visible_to(user).filter(pk=run.pk).exists() is sees
    share_watchlist(actor=None, watchlist=customs_list, agency=world.police)
    assert WatchlistEntry.objects.visible_to(police_liaison).filter(watchlist=customs_list).count() == 3
    assert not WatchlistEntry.objects.visible_to(outsider).exists()


def test_handling_falls_back_to_the_list_default_and_expiry_ends_screening(customs_list):
    entry = customs_list.entries.get(external_id="C-2")
    assert entry.handling == "examine" and entry.get_handling_display().startswith("Examine")
    entry.handling_code = "hold"
    assert entry.handling == "hold"
    today = dt.date(2025, 6, 1)
    assert entry.is_live(today)
    entry.expires_on = today
    assert not entry.is_live(today) and entry.is_live(today - dt.timedelta(days=1))
    entry.expires_on, entry.active = None, False
    assert not entry.is_live(today)


def test_entries_keep_structured_facts(customs_list):
    entry = customs_list.entries.get(external_id="C-1")
    assert entry.aliases[1] == {"name": "Boris", "quality": "weak", "alias_type": "aka"}
    assert entry.dates_of_birth == [
        {"year": 1967, "month": 1, "day": 13, "year_to": None, "approximate": False}
    ]
    assert entry.documents[0]["number"] == "21N0588029" and entry.nationalities == ["RU"]
    assert customs_list.entries.get(external_id="C-3").identifiers == {"imo": ["9123453"]}
    assert len(entry.fingerprint) == 40

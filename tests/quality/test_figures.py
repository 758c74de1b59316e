"""The carriers page's figures, checked by hand on a small set of travellers."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from apps.quality import measure


def _row(html: str, carrier: str) -> str:
    match = re.search(rf'<tr data-carrier="{re.escape(carrier)}".*?</tr>', html, re.S)
    assert match, f"no row for {carrier}"
    return match.group(0)


def test_the_figures_are_those_counted_by_hand(small_set, customs_analyst):
    rows = {f.carrier: f for f in measure.ranking(customs_analyst)}
    ab, cd, unnamed = rows["AB"], rows["CD"], rows[""]
    assert (ab.records, ab.complete, ab.completeness) == (4, 3, 75.0)
    assert (ab.timed, ab.late, ab.on_time, ab.average_late_hours) == (4, 1, 75.0, 5.0)
    assert ab.missing_fields == [("sex", "Sex", 1), ("nationality", "Nationality", 1)]  # in the law's order
    assert ab.error_rate == 0.0 and ab.score == pytest.approx(83.3)
    # Week by week: last week 0 % complete, this week 100 %: better.
    assert [w.completeness for w in ab.weeks if w.records] == [0.0, 100.0]
    assert ab.trend == "better"
    assert (cd.records, cd.completeness, cd.on_time, cd.messages, cd.problems, cd.error_rate) == (
        2,
        0.0,
        100.0,
        1,
        1,
        100.0,
    )
    assert cd.missing_fields == [("document_number", "Travel document number", 2)]
    assert (unnamed.records, unnamed.rejected, unnamed.rejection_rate, unnamed.score) == (0, 1, 100.0, 0.0)
    # Worst first.
    assert [f.carrier for f in measure.ranking(customs_analyst)] == ["", "CD", "AB"]


def test_the_page_shows_the_same_figures_worst_first(small_set, customs_analyst, client):
    client.force_login(customs_analyst)
    html = client.get(reverse("quality:carriers")).content.decode()
    assert html.index('data-carrier="-"') < html.index('data-carrier="CD"') < html.index('data-carrier="AB"')
    ab = _row(html, "AB")
    assert ab.count("75.0&nbsp;%") == 2  # complete, and on time
    assert "1 late by 5\xa0hours on average" in ab and ">better<" in ab and "<strong>83</strong>" in ab
    cd = _row(html, "CD")
    assert ">0.0&nbsp;%" in cd and cd.count("100.0&nbsp;%") == 2  # on time, and the error rate
    page = client.get(reverse("quality:carrier", args=[small_set.pk, "CD"])).content.decode()
    assert "Travel document number" in page and "CD9" in page


def test_the_ranking_comes_a_page_at_a_time_and_counts_on(small_set, customs_analyst, client, monkeypatch):
    """Hundreds of declarants make one feed: the ranking is paged, and the second page's ranks go on
    from the first's."""
    monkeypatch.setattr("apps.quality.views.RANKING_PAGE", 2)
    client.force_login(customs_analyst)
    first = client.get(reverse("quality:carriers")).content.decode()
    assert 'data-carrier="CD"' in first and 'data-carrier="AB"' not in first
    assert "Page 1 of 2 · 3 carriers and feeds" in first and "?feed=&page=2" in first
    second = client.get(reverse("quality:carriers"), {"page": 2}).content.decode()
    row = _row(second, "AB")
    assert '<td class="dq-rank">3</td>' in row and 'data-carrier="CD"' not in second


def test_a_partner_sees_a_feed_only_once_it_is_shared(small_set, police_liaison, world, client):
    from apps.agencies.roles import Role
    from apps.intake.services import share_source
    from tests.factories import member

    assert measure.ranking(police_liaison) == []
    client.force_login(police_liaison)
    assert client.get(reverse("quality:carrier", args=[small_set.pk, "AB"])).status_code == 404
    share_source(
        actor=member("adm", world.customs, Role.ADMINISTRATOR), source=small_set, agency=world.police
    )
    assert {f.carrier for f in measure.ranking(police_liaison)} == {"", "AB", "CD"}
    page = client.get(reverse("quality:carrier", args=[small_set.pk, "AB"]))
    assert page.status_code == 200
    assert b"Ask the carrier" not in page.content  # only the owner agency writes to its carriers


def test_recomputing_is_for_those_who_act_on_quality(small_set, customs_analyst, customs_supervisor, client):
    from apps.quality.models import CarrierWeek

    CarrierWeek.objects.all().delete()
    client.force_login(customs_analyst)
    assert client.post(reverse("quality:recompute")).status_code == 403
    client.force_login(customs_supervisor)
    assert client.post(reverse("quality:recompute")).status_code == 302
    assert {f.carrier for f in measure.ranking(customs_supervisor)} == {"", "AB", "CD"}

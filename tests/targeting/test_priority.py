"""One priority: the number entered at nomination is the number every screen, export and API shows.

A target whose conveyance arrives within the hour used to show its priority raised by the clock (75 →
100) on the board, the queue and its page, and the priority as set in the Targets list. Now every
surface shows ``Target.display_priority``; nearness of arrival shows as the SLA flag and only orders
queues.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.targeting.models import Target
from tests.targeting.factories import SubjectFactory

pytestmark = [pytest.mark.django_db]


def _row_of(html: str, target: Target) -> str:
    """The table row (or board card) of ``target`` in a page."""
    start = html.index(f'data-target="{target.pk}"')
    end = min(i for i in (html.find("</tr>", start), html.find("</article>", start)) if i != -1)
    return html[start:end]


def _priorities_in(fragment: str) -> set[str]:
    """Every number drawn as a priority badge in ``fragment`` (list/queue rows, board cards)."""
    return set(re.findall(r'class="(?:tg|lv)-prio"[^>]*>(\d+)<', fragment))


@pytest.fixture
def arriving_soon(client_for, customs_analyst, world):
    """A target nominated on the page with priority 75, its vessel arriving in 30 minutes."""
    subject = SubjectFactory(
        source__owner_agency=world.customs,
        port=world.port_a,
        arrival_at=timezone.now() + timedelta(minutes=30),
    )
    response = client_for(customs_analyst).post(
        reverse("targeting:nominate", args=[subject.pk]),
        {"risk_area": "narcotics", "priority": "75", "reason": "Reefer from Guayaquil, new consignee."},
    )
    assert response.status_code == 302
    return Target.objects.get(subject=subject)


def test_the_entered_75_is_75_on_every_screen(client_for, customs_analyst, arriving_soon):
    target = arriving_soon
    assert target.priority == 75 and target.urgency_now() == 100  # the clock would have made it 100
    client = client_for(customs_analyst)

    listed = client.get(reverse("targeting:list")).content.decode()
    queued = client.get(reverse("targeting:queue") + "?port=GBFXT").content.decode()
    overview = client.get(reverse("targeting:queues")).content.decode()  # "breaching" rows
    card = client.get(reverse("live:floor") + "?section=all", HTTP_HX_REQUEST="true").content.decode()
    for page in (listed, queued, overview, card):
        assert _priorities_in(_row_of(page, target)) == {"75"}

    detail = client.get(reverse("targeting:detail", args=[target.pk])).content.decode()
    big = re.search(r'class="tg-prio-big"[^>]*><span>(\d+)</span><small>priority</small>', detail)
    assert big is not None and big.group(1) == "75"
    # Nearness of arrival shows as the SLA flag beside the number, not inside it.
    assert "tg-sla-breached" in _row_of(card, target) and "tg-sla-breached" in _row_of(listed, target)

    api = client.get(f"/api/v1/targets/{target.pk}/").json()
    assert api["priority"] == 75
    listed_api = client.get("/api/v1/targets/").json()["results"]
    assert [row["priority"] for row in listed_api if row["id"] == target.pk] == [75]

    exported = b"".join(client.get(reverse("targeting:export")).streaming_content).decode()
    rows = {row["reference"]: row for row in csv.DictReader(io.StringIO(exported))}
    assert rows[target.reference]["priority"] == "75"


def test_queues_still_put_the_target_arriving_soon_first(
    client_for, customs_analyst, arriving_soon, make_target
):
    # Priority 90 but arriving in three days: ranked below the 75 arriving in half an hour, and both
    # show the priority they were given.
    later = make_target(priority=90, arrival_at=timezone.now() + timedelta(days=3))
    page = client_for(customs_analyst).get(reverse("targeting:queue") + "?port=GBFXT").content.decode()
    assert page.index(arriving_soon.reference) < page.index(later.reference)
    assert _priorities_in(_row_of(page, later)) == {"90"}
    assert _priorities_in(_row_of(page, arriving_soon)) == {"75"}


def test_an_engine_priority_is_the_same_everywhere_too(client_for, customs_analyst, make_target):
    # 63 from the engine's score, due within four hours: the list, the board and the API agree on 63.
    target = make_target(priority=63, by_engine=True, arrival_at=timezone.now() + timedelta(hours=3))
    client = client_for(customs_analyst)
    listed = client.get(reverse("targeting:list")).content.decode()
    card = client.get(reverse("live:floor") + "?section=all", HTTP_HX_REQUEST="true").content.decode()
    assert _priorities_in(_row_of(listed, target)) == _priorities_in(_row_of(card, target)) == {"63"}
    assert client.get(f"/api/v1/targets/{target.pk}/").json()["priority"] == target.display_priority == 63

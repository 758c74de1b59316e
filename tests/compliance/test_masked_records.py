"""A depersonalised traveller is shown and linked masked, and cannot be found by what was masked."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from apps.compliance.services import decide_unmask, request_unmask
from apps.intake.models import Subject
from tests.compliance import personal_world
from tests.compliance.personal_world import BOOKING, DOCUMENT, SURNAME, found_sentinels

NOW = timezone.datetime(2026, 2, 2, 10, 0, tzinfo=timezone.get_current_timezone())
LATER = NOW + timedelta(days=190)  # past the traveller's six months, not his companion's


@pytest.fixture
def seeded(world):
    with time_machine.travel(NOW, tick=False):
        seeded = personal_world.build(world, received_at=timezone.now())
    Subject.objects.filter(pk=seeded.companion.pk).update(received_at=NOW + timedelta(days=100))
    return seeded


def test_a_linked_masked_traveller_reads_masked_on_the_other_page(seeded, client_for, customs_analyst):
    with time_machine.travel(LATER, tick=False):
        page = client_for(customs_analyst).get(reverse("intake:subject", args=[seeded.companion.pk]))
    body = page.content.decode()
    assert page.status_code == 200 and "PLAIN" in body  # the companion himself is not masked
    assert not found_sentinels(body)
    assert "Traveller (depersonalised) on SQ322" in body


@pytest.mark.parametrize("query", [SURNAME, SURNAME.title(), DOCUMENT, BOOKING])
def test_search_does_not_find_a_masked_traveller_by_what_was_masked(
    seeded, client_for, customs_analyst, query
):
    link = reverse("intake:subject", args=[seeded.traveller.pk])
    with time_machine.travel(NOW + timedelta(days=10), tick=False):  # before: found
        assert (
            link
            in client_for(customs_analyst).get(reverse("intake:subjects"), {"q": SURNAME}).content.decode()
        )
    with time_machine.travel(LATER, tick=False):
        client = client_for(customs_analyst)
        page = client.get(reverse("intake:subjects"), {"q": query}).content.decode()
        api = client.get(reverse("subject-list"), {"q": query}).json()
    assert link not in page and not found_sentinels(page.replace(f'value="{query}"', ""))
    assert seeded.traveller.pk not in [row["id"] for row in api["results"]]


def test_an_approved_unmasking_finds_him_again(
    world, seeded, client_for, customs_analyst, customs_supervisor
):
    with time_machine.travel(LATER, tick=False):
        ask = request_unmask(
            actor=customs_analyst, subject=seeded.traveller, reason="Seizure 2026/77 follow-up"
        )
        decide_unmask(actor=customs_supervisor, unmask=ask, approve=True, reason="confirmed")
        page = client_for(customs_analyst).get(reverse("intake:subjects"), {"q": SURNAME}).content.decode()
    assert reverse("intake:subject", args=[seeded.traveller.pk]) in page


def test_the_assessment_of_a_masked_traveller_is_masked(seeded, client_for, customs_analyst):
    with time_machine.travel(LATER, tick=False):
        client = client_for(customs_analyst)
        page = client.get(reverse("risk:assessment", args=[seeded.assessment.pk])).content.decode()
        api = client.get(reverse("risk-assessment-detail", args=[seeded.assessment.pk])).content.decode()
    assert "Watchlist match" in page
    assert not found_sentinels(page) and not found_sentinels(api)

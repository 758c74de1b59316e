"""A result is recorded once: a second one is refused with a clear message, the same one (same key) is the
same result, and once recorded the tablet offers no second recording and lists what was sent."""

from __future__ import annotations

import uuid

import pytest
from django.urls import reverse

from apps.agencies.roles import Role
from apps.frontline.models import ExaminationResult
from tests.factories import member

pytestmark = pytest.mark.django_db

JSON = {"accept": "application/json"}


def _form(key=None, **extra):
    data = {
        "action": "record",
        "idempotency_key": str(key or uuid.uuid4()),
        "method": "physical",
        "outcome": "seizure",
        "goods-0-kind": "cocaine",
        "goods-0-quantity": "1234.5",
        "goods-0-unit": "kg",
        "goods-0-value": "1234.5",
    }
    data.update(extra)
    return data


@pytest.fixture
def colleague(world):
    """A second officer at the same port, with a tablet of his own."""
    return member("olive", world.customs, Role.FRONTLINE, ports=[world.port_a])


def test_a_colleagues_second_result_is_refused_naming_who_recorded_first(
    client_for, port_officer, colleague, instruction
):
    url = reverse("frontline:instruction", args=[instruction.pk])
    assert client_for(port_officer).post(url, _form(), headers=JSON).status_code == 201
    client = client_for(colleague)
    # Even a form he got wrong is answered with what matters: there is a result already.
    second = client.post(url, _form(**{"goods-0-quantity": ""}), headers=JSON)
    assert second.status_code == 409
    message = second.json()["errors"]["outcome"]
    assert message.startswith("A result was already recorded by Test Oscar at ")
    assert message.endswith("a supervisor can correct it.")
    assert ExaminationResult.objects.count() == 1


def test_the_same_key_sent_again_is_the_same_result_not_a_conflict(client_for, port_officer, instruction):
    client = client_for(port_officer)
    url = reverse("frontline:instruction", args=[instruction.pk])
    key = uuid.uuid4()
    first = client.post(url, _form(key), headers=JSON)
    # The outbox replays after a lost answer; the values may have been read back differently.
    again = client.post(url, _form(key, notes="replayed"), headers=JSON)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["result"] == first.json()["result"]
    assert again.json()["message"] == "This result was already recorded."
    assert ExaminationResult.objects.get().notes == ""


def test_once_recorded_the_page_offers_no_second_recording(client_for, port_officer, instruction):
    client = client_for(port_officer)
    url = reverse("frontline:instruction", args=[instruction.pk])
    assert 'data-testid="record"' in client.get(url).content.decode()
    client.post(url, _form())
    page = client.get(url).content.decode()
    assert 'data-testid="result"' in page and "1,234.5" in page
    assert 'data-testid="record"' not in page and 'data-testid="start"' not in page
    assert 'data-outbox-form="record"' not in page


def test_the_list_part_shows_what_was_sent_and_is_never_kept(
    client_for, port_officer, instruction, make_instruction
):
    waiting = make_instruction(arrival_in_hours=5)
    client = client_for(port_officer)
    client.post(reverse("frontline:instruction", args=[instruction.pk]), _form())
    part = client.get(reverse("frontline:home") + "?shift=all&part=list")
    body = part.content.decode()
    assert part.status_code == 200 and part["Cache-Control"] == "no-store"
    assert "<html" not in body and 'data-fl-list data-open="1"' in body
    # The worked instruction left the open list and is listed as recorded, with its outcome.
    open_part, recent = body.split("Recorded in the last 24 hours")
    assert f'data-instruction="{waiting.pk}"' in open_part
    assert f'data-instruction="{instruction.pk}"' not in open_part
    assert instruction.target.reference in recent and "Seizure" in recent

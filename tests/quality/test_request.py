"""A request for the missing data: rendered, sent through Django's mail backend, kept as sent."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from apps.agencies.roles import Role
from apps.intake.services import share_source
from apps.quality import measure, services
from apps.quality.models import CarrierContact, DataRequest
from tests.factories import member
from tests.quality.conftest import message, traveller


@pytest.fixture
def incomplete_carrier(world, api_source):
    now = timezone.now()
    msg = message(api_source)
    for drop in (("nationality",), ("nationality", "document_expiry"), ()):
        traveller(api_source, msg, carrier="XY", flight="XY801", departure=now + dt.timedelta(hours=3),
                  received=now - dt.timedelta(seconds=5), drop=drop)  # fmt: skip
    measure.refresh()
    return api_source


def test_the_request_lists_what_is_missing_and_by_when(
    incomplete_carrier, customs_supervisor, client, django_capture_on_commit_callbacks
):
    client.force_login(customs_supervisor)
    due = timezone.localdate() + dt.timedelta(days=3)
    url = reverse("quality:request", args=[incomplete_carrier.pk, "XY"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url,
            {"contact_name": "XY Airways", "contact_email": "api-data@xy.example", "due_by": due.isoformat()},
        )
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == ["api-data@xy.example"]
    assert due.strftime("%-d %B %Y") in sent.subject
    assert "Dear XY Airways" in sent.body
    assert "Nationality (Airline API (PAXLST)): 2 records" in sent.body
    assert "Document expiry date (Airline API (PAXLST)): 1 record" in sent.body
    assert "XY801" in sent.body and "Nationality (2)" in sent.body
    assert "JANE" not in sent.body and "X123" not in sent.body  # no traveller's data goes to the carrier
    stored = DataRequest.objects.get()
    assert (stored.sent_to, stored.due_by, stored.body) == ("api-data@xy.example", due, sent.body)
    assert CarrierContact.objects.get(carrier="XY").email == "api-data@xy.example"
    # The carrier page now offers the stored contact and lists the request.
    page = client.get(reverse("quality:carrier", args=[incomplete_carrier.pk, "XY"])).content.decode()
    assert 'value="api-data@xy.example"' in page and "Requests sent" in page


def test_a_due_date_in_the_past_is_refused_and_nothing_is_sent(
    incomplete_carrier, customs_supervisor, client
):
    client.force_login(customs_supervisor)
    response = client.post(
        reverse("quality:request", args=[incomplete_carrier.pk, "XY"]),
        {"contact_name": "XY", "contact_email": "a@xy.example", "due_by": timezone.localdate().isoformat()},
    )
    assert response.status_code == 400
    assert b"must be after today" in response.content
    assert not mail.outbox and not DataRequest.objects.exists()


def test_only_the_owner_agency_writes_to_the_carrier(incomplete_carrier, world, customs_analyst):
    share_source(
        actor=member("adm", world.customs, Role.ADMINISTRATOR), source=incomplete_carrier, agency=world.police
    )
    partner = member("pete", world.police, Role.SUPERVISOR)
    due = timezone.localdate() + dt.timedelta(days=2)
    for actor in (partner, customs_analyst):
        with pytest.raises(PermissionDenied):
            services.send_data_request(
                actor=actor, source=incomplete_carrier, carrier="XY", contact_name="XY",
                contact_email="a@xy.example", due_by=due,
            )  # fmt: skip
    assert not mail.outbox

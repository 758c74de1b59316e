"""Oversight API: auditors read the access log as the page shows it; unmasking is asked and decided with the
page's rules (a second, authorising person, once, within the agency)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from apps.agencies.roles import Role
from apps.compliance.models import UnmaskRequest
from apps.intake.models import Subject
from tests.factories import DataSourceFactory, member

pytestmark = pytest.mark.django_db
PURPOSE = {"HTTP_X_ACCESS_PURPOSE": "risk_analysis"}


def api_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def items(response) -> list[dict]:
    """A list answer's items, paginated or not."""
    data = response.json()
    return data["results"] if isinstance(data, dict) else data


@pytest.fixture
def auditor(world):
    return member("audrey", world.customs, Role.AUDITOR)


def traveller(agency, *, days_ago: int = 0, surname: str = "SMITH") -> Subject:
    source = DataSourceFactory(owner_agency=agency, kind="pnr", depersonalise_after_days=182)
    return Subject.objects.create(
        kind="traveller", source=source, owner_agency=agency, external_id=f"pnr:Q:{surname}",
        title=f"{surname}, Jane on BA117", received_at=timezone.now() - timedelta(days=days_ago),
        facts={"surname": surname, "given_names": "JANE", "flight_number": "BA117"},
    )  # fmt: skip


# --------------------------------------------------------------------------- the access log


def test_an_auditor_reads_the_access_log_as_the_page_shows_it(world, auditor, customs_analyst, client_for):
    seen = traveller(world.customs)
    other = traveller(world.customs, surname="JONES")
    for subject in (seen, other):
        assert (
            api_for(customs_analyst).get(reverse("subject-detail", args=[subject.pk]), **PURPOSE).status_code
            == 200
        )

    response = api_for(auditor).get(reverse("accesslog-list"))
    assert response.status_code == 200
    entries = items(response)
    assert {(e["user"], e["agency"], e["action"], e["object_id"]) for e in entries} == {
        ("alice", "CUS", "view", str(seen.pk)),
        ("alice", "CUS", "view", str(other.pk)),
    }
    assert all(e["purpose"] == "risk_analysis" and e["data_owner_agency"] == "CUS" for e in entries)
    assert "SMITH" not in response.content.decode()  # what was read, never the data

    # The page's filters, with the page's answer.
    narrowed = items(api_for(auditor).get(reverse("accesslog-list"), {"object": seen.pk, "user": "ali"}))
    assert [e["object_id"] for e in narrowed] == [str(seen.pk)]
    page = client_for(auditor).get(reverse("compliance:log"), {"object": seen.pk, "user": "ali"})
    assert [e.pk for e in page.context["page"]] == [e["id"] for e in narrowed]
    assert items(api_for(auditor).get(reverse("accesslog-list"), {"action": "export"})) == []


def test_a_non_auditor_gets_403_and_another_agencys_auditor_sees_none_of_it(
    world, auditor, customs_analyst, customs_supervisor
):
    subject = traveller(world.customs)
    api_for(customs_analyst).get(reverse("subject-detail", args=[subject.pk]), **PURPOSE)
    assert api_for(customs_analyst).get(reverse("accesslog-list")).status_code == 403
    assert api_for(customs_supervisor).get(reverse("accesslog-list")).status_code == 403
    police_auditor = member("pia", world.police, Role.AUDITOR)
    response = api_for(police_auditor).get(reverse("accesslog-list"))
    assert response.status_code == 200 and items(response) == []
    assert len(items(api_for(auditor).get(reverse("accesslog-list")))) == 1


# --------------------------------------------------------------------------- unmasking


def test_unmasking_is_asked_then_approved_by_a_second_person(world, customs_analyst, auditor, outsider):
    subject = traveller(world.customs, days_ago=200)
    detail = reverse("subject-detail", args=[subject.pk])
    analyst = api_for(customs_analyst)
    assert "SMITH" not in analyst.get(detail, **PURPOSE).content.decode()  # depersonalised

    short = analyst.post(
        reverse("unmaskrequest-list"), {"subject": subject.pk, "reason": "need"}, format="json"
    )
    assert short.status_code == 400 and "reason" in short.content.decode()
    hidden = traveller(world.bio, surname="HIDDEN")
    unseen = analyst.post(
        reverse("unmaskrequest-list"),
        {"subject": hidden.pk, "reason": "Linked to seizure 2026/118 at Felixstowe"},
        format="json",
    )
    assert unseen.status_code == 400 and "subject" in unseen.content.decode()
    asked = analyst.post(
        reverse("unmaskrequest-list"),
        {"subject": subject.pk, "reason": "Linked to seizure 2026/118 at Felixstowe"},
        format="json",
    )
    assert asked.status_code == 201
    assert asked.json()["status"] == "pending" and asked.json()["requested_by"] == "alice"
    pk = asked.json()["id"]

    # Who may list and decide: as on the page.
    assert analyst.get(reverse("unmaskrequest-list")).status_code == 403
    assert [
        r["id"] for r in items(api_for(auditor).get(reverse("unmaskrequest-list"), {"status": "pending"}))
    ] == [pk]
    assert analyst.post(reverse("unmaskrequest-approve", args=[pk]), {}, format="json").status_code == 403
    assert (
        api_for(outsider).post(reverse("unmaskrequest-approve", args=[pk]), {}, format="json").status_code
        == 404
    )
    assert UnmaskRequest.objects.get(pk=pk).status == "pending"

    approved = api_for(auditor).post(
        reverse("unmaskrequest-approve", args=[pk]), {"reason": "Seizure confirmed"}, format="json"
    )
    assert approved.status_code == 200
    body = approved.json()
    assert body["status"] == "approved" and body["decided_by"] == "audrey" and body["expires_at"]
    assert "SMITH" in analyst.get(detail, **PURPOSE).content.decode()  # seen again, for a while
    again = api_for(auditor).post(reverse("unmaskrequest-refuse", args=[pk]), {}, format="json")
    assert again.status_code == 409
    assert UnmaskRequest.objects.get(pk=pk).status == "approved"


def test_nobody_decides_their_own_request_and_a_refusal_unmasks_nothing(
    world, customs_supervisor, auditor, customs_analyst
):
    subject = traveller(world.customs, days_ago=200)
    supervisor = api_for(customs_supervisor)  # may both ask and approve
    asked = supervisor.post(
        reverse("unmaskrequest-list"),
        {"subject": subject.pk, "reason": "The traveller is named in a police alert"},
        format="json",
    )
    assert asked.status_code == 201
    pk = asked.json()["id"]
    own = supervisor.post(reverse("unmaskrequest-approve", args=[pk]), {}, format="json")
    assert own.status_code == 403
    assert api_for(auditor).post(reverse("unmaskrequest-list"), {"subject": subject.pk, "reason": "x" * 20},
                                 format="json").status_code == 403  # an auditor decides, never asks  # fmt: skip
    refused = api_for(auditor).post(
        reverse("unmaskrequest-refuse", args=[pk]), {"reason": "No case reference"}, format="json"
    )
    assert refused.status_code == 200 and refused.json()["status"] == "rejected"
    assert refused.json()["expires_at"] is None
    detail = api_for(customs_supervisor).get(reverse("subject-detail", args=[subject.pk]), **PURPOSE)
    assert "SMITH" not in detail.content.decode()

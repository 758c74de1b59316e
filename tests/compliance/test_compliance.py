"""The law, enforced: purpose before access, a hash-chained log, masking, break-glass and retention."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from apps.agencies.roles import Role
from apps.compliance.models import AccessLogEntry, UnmaskRequest
from apps.compliance.services import apply_retention, decide_unmask, request_unmask, set_purpose
from apps.compliance.verification import verify_chain
from apps.intake.models import Outcome, Subject, SubjectKey
from tests.factories import DataSourceFactory, member

NOW = timezone.datetime(2026, 6, 1, 12, 0, tzinfo=timezone.get_current_timezone())


@pytest.fixture
def pnr_source(world):
    return DataSourceFactory(
        owner_agency=world.customs,
        kind="pnr",
        name="PNR",
        depersonalise_after_days=182,
        retention_days=5 * 365,
    )


def make_traveller(source, received_at, surname="SMITH"):
    subject = Subject.objects.create(
        kind="traveller", source=source, owner_agency=source.owner_agency, external_id=f"pnr:X:{surname}",
        title=f"{surname}, John on BA117", received_at=received_at,
        facts={"surname": surname, "given_names": "JOHN", "date_of_birth": "1980-01-02", "document_number": "X123",
               "flight_number": "BA117", "age": 46},
    )  # fmt: skip
    SubjectKey.objects.create(subject=subject, key="doc:abc")
    return subject


def declare(client, purpose="risk_analysis", text=""):
    return client.post(reverse("compliance:purpose"), {"purpose": purpose, "text": text, "next": "/"})


def test_personal_data_page_asks_for_a_purpose_first(client_for, customs_analyst, pnr_source):
    subject = make_traveller(pnr_source, timezone.now())
    client = client_for(customs_analyst, purpose=None)
    url = reverse("intake:subject", args=[subject.pk])
    response = client.get(url)
    assert response.status_code == 302 and response.url.startswith(reverse("compliance:purpose"))
    assert AccessLogEntry.objects.count() == 0
    declare(client)
    page = client.get(url).content.decode()
    assert "SMITH" in page
    [entry] = AccessLogEntry.objects.all()
    assert (entry.user, entry.action, entry.purpose, entry.object_id) == (
        customs_analyst,
        "view",
        "risk_analysis",
        str(subject.pk),
    )


def test_investigation_purpose_needs_a_case_reference(client_for, customs_analyst):
    client = client_for(customs_analyst)
    page = declare(client, "investigation").content.decode()
    assert "case reference" in page
    assert declare(client, "investigation", "2026/4411").status_code == 302


def test_api_refuses_personal_data_without_purpose_header(client_for, customs_analyst, pnr_source):
    subject = make_traveller(pnr_source, timezone.now())
    client = client_for(customs_analyst, purpose=None)
    url = reverse("subject-detail", args=[subject.pk])
    refused = client.get(url)
    assert refused.status_code == 403 and "X-Access-Purpose" in refused.json()["detail"]
    allowed = client.get(url, HTTP_X_ACCESS_PURPOSE="risk_analysis")
    assert allowed.status_code == 200 and allowed.json()["facts"]["surname"] == "SMITH"
    assert AccessLogEntry.objects.filter(object_id=str(subject.pk)).count() == 1


def test_masking_at_the_boundary_on_page_and_api(client_for, customs_analyst, pnr_source):
    with time_machine.travel(NOW, tick=False):
        subject = make_traveller(pnr_source, timezone.now())
    page_url, api_url = (
        reverse("intake:subject", args=[subject.pk]),
        reverse("subject-detail", args=[subject.pk]),
    )
    with time_machine.travel(NOW + timedelta(days=181, hours=23), tick=False):
        client = client_for(customs_analyst)  # sessions last a shift: sign in on the day
        declare(client)
        assert "SMITH" in client.get(page_url).content.decode()
        assert (
            client.get(api_url, HTTP_X_ACCESS_PURPOSE="risk_analysis").json()["facts"]["surname"] == "SMITH"
        )
    with time_machine.travel(NOW + timedelta(days=182, minutes=1), tick=False):
        client = client_for(customs_analyst)
        declare(client)
        page = client.get(page_url).content.decode()
        assert "SMITH" not in page and "X123" not in page and "1980-01-02" not in page
        assert "Depersonalised record" in page and "BA117" in page
        data = client.get(api_url, HTTP_X_ACCESS_PURPOSE="risk_analysis").json()
        assert "SMITH" not in str(data) and data["facts"]["age"] == "40s"
        listing = client.get(reverse("intake:subjects")).content.decode()
        assert "SMITH" not in listing


def test_unmasking_needs_a_second_approver_and_expires(
    world, client_for, customs_analyst, customs_supervisor, pnr_source
):
    with time_machine.travel(NOW, tick=False):
        subject = make_traveller(pnr_source, timezone.now())
    with time_machine.travel(NOW + timedelta(days=200), tick=False):
        ask = request_unmask(
            actor=customs_analyst, subject=subject, reason="Linked to seizure 2026/118 at Felixstowe"
        )
        with pytest.raises(PermissionDenied):
            decide_unmask(actor=customs_analyst, unmask=ask, approve=True)
        other_analyst = member("ann", world.customs, Role.ANALYST)
        with pytest.raises(PermissionDenied):
            decide_unmask(actor=other_analyst, unmask=ask, approve=True)
        decide_unmask(actor=customs_supervisor, unmask=ask, approve=True, reason="seizure confirmed")
        client = client_for(customs_analyst)
        declare(client)
        assert "SMITH" in client.get(reverse("intake:subject", args=[subject.pk])).content.decode()
    with time_machine.travel(NOW + timedelta(days=201, minutes=1), tick=False):
        client = client_for(customs_analyst)
        declare(client)
        assert "SMITH" not in client.get(reverse("intake:subject", args=[subject.pk])).content.decode()
    assert UnmaskRequest.objects.get().decided_by == customs_supervisor


def test_retention_deletes_for_good_and_keeps_outcome_statistics(pnr_source):
    with time_machine.travel(NOW, tick=False):
        old = make_traveller(pnr_source, timezone.now(), "OLD")
        Outcome.objects.create(subject=old, origin="examination", finding=True, recorded_at=timezone.now())
    with time_machine.travel(NOW + timedelta(days=365 * 4), tick=False):
        recent = make_traveller(pnr_source, timezone.now(), "RECENT")
    with time_machine.travel(NOW + timedelta(days=5 * 365 + 1), tick=False):
        run = apply_retention()
    assert not Subject.objects.filter(pk=old.pk).exists()
    assert Subject.objects.filter(pk=recent.pk).exists()
    assert run.deleted == 1 and run.outcomes_kept == 1
    assert run.masked == 2  # the recent one is past its six months too
    kept = Outcome.objects.get()
    assert kept.subject is None and kept.finding is True
    assert not SubjectKey.objects.filter(subject_id=old.pk).exists()


def test_the_chain_check_finds_a_tampered_entry(rf, customs_analyst, pnr_source):
    from django.contrib.sessions.backends.db import SessionStore

    from apps.compliance.services import record_access

    request = rf.get("/")
    request.user, request.session = customs_analyst, SessionStore()
    set_purpose(request, "audit")
    for n in range(5):
        record_access(request=request, action="view", object_type="subject", object_id=n, summary=f"view {n}")
    assert verify_chain(AccessLogEntry).ok
    out = io.StringIO()
    call_command("verify_chain", stdout=out)
    assert "5 rows, chain intact" in out.getvalue()
    with connection.cursor() as cursor:  # tamper underneath the application, as an intruder would
        cursor.execute("UPDATE compliance_accesslogentry SET summary = 'nothing to see' WHERE seq = 3")
    report = verify_chain(AccessLogEntry)
    assert not report.ok and report.first_broken_seq == 3
    err = io.StringIO()
    with pytest.raises(CommandError):
        # A row before the last checkpoint: the incremental default does not read it again, --full does.
        call_command("verify_chain", "--full", stdout=io.StringIO(), stderr=err)
    assert "BROKEN at row #3" in err.getvalue()


def test_log_entries_cannot_be_changed_or_deleted_through_the_application(rf, customs_analyst):
    from django.contrib.sessions.backends.db import SessionStore

    from apps.compliance.services import record_access

    request = rf.get("/")
    request.user, request.session = customs_analyst, SessionStore()
    set_purpose(request, "audit")
    entry = record_access(request=request, action="view", object_type="subject", object_id=1, summary="x")
    entry.summary = "changed"
    with pytest.raises(PermissionDenied):
        entry.save()
    with pytest.raises(PermissionDenied):
        entry.delete()


def test_access_log_page_is_for_auditors_of_the_agency(world, client_for, customs_analyst):
    auditor = member("audrey", world.customs, Role.AUDITOR)
    assert client_for(customs_analyst).get(reverse("compliance:log")).status_code == 403
    assert client_for(auditor).get(reverse("compliance:log")).status_code == 200
    assert client_for(auditor).get(reverse("compliance:oversight")).status_code == 200


def test_workflow_transitions_are_chained_and_a_tampered_one_is_found(
    world, customs_analyst, customs_supervisor
):
    from apps.targeting import services as targeting
    from apps.targeting.models import Transition
    from tests.targeting.factories import SubjectFactory

    subject = SubjectFactory(source=DataSourceFactory(owner_agency=world.customs))
    target = targeting.nominate_target(
        actor=customs_analyst,
        subject=subject,
        risk_area="narcotics",
        reasons=[{"kind": "person", "text": "courier profile"}],
        reason="by hand",
    )
    target = targeting.start_review(actor=customs_analyst, target=target)
    assert verify_chain(Transition).ok and Transition.objects.count() == 2
    with connection.cursor() as cursor:
        cursor.execute("UPDATE targeting_transition SET reason = 'nothing happened' WHERE seq = 1")
    report = verify_chain(Transition)
    assert not report.ok and report.first_broken_seq == 1


def test_no_examination_instruction_without_a_persons_decision(world, customs_supervisor):
    """Human review: an engine nomination says so, and cannot be dispatched before a person approved it."""
    from apps.targeting import services as targeting
    from apps.targeting.models import TargetState
    from tests.targeting.factories import SubjectFactory

    subject = SubjectFactory(source=DataSourceFactory(owner_agency=world.customs), port=world.port_a)
    target = targeting.nominate_target(
        actor=None, subject=subject, risk_area="narcotics", by_engine=True,
        reasons=[{"kind": "rule", "text": "courier profile", "ref": "rule:1@v1"}],
    )  # fmt: skip
    assert target.by_engine and target.state == TargetState.NOMINATED
    assert target.transitions.get().actor is None  # recorded as the engine's, not a person's
    with pytest.raises(PermissionDenied):
        targeting.dispatch_target(actor=customs_supervisor, target=target, method="physical", instruction="x")
    target.refresh_from_db()
    assert target.state == TargetState.NOMINATED
    assert not target.instructions.exists()


def test_target_page_and_api_mask_a_depersonalised_traveller(world, client_for, customs_analyst, pnr_source):
    from tests.targeting.factories import TargetFactory

    with time_machine.travel(NOW, tick=False):
        subject = make_traveller(pnr_source, timezone.now())
        target = TargetFactory(subject=subject, owner_agency=world.customs)
    page, api = reverse("targeting:detail", args=[target.pk]), reverse("target-detail", args=[target.pk])
    with time_machine.travel(NOW + timedelta(days=10), tick=False):
        client = client_for(customs_analyst)
        declare(client)
        assert "SMITH" in client.get(page).content.decode()
    with time_machine.travel(NOW + timedelta(days=183), tick=False):
        client = client_for(customs_analyst)
        declare(client)
        assert "SMITH" not in client.get(page).content.decode()
        assert "SMITH" not in client.get(api, HTTP_X_ACCESS_PURPOSE="risk_analysis").content.decode()


def test_oversight_page_counts_nothing_of_another_agencys_data(world, client_for, pnr_source):
    with time_machine.travel(NOW, tick=False):
        make_traveller(pnr_source, timezone.now(), "GONE")
    with time_machine.travel(NOW + timedelta(days=5 * 365 + 1), tick=False):
        run = apply_retention()
    assert run.deleted == 1
    own = client_for(member("aud1", world.customs, Role.AUDITOR)).get(reverse("compliance:oversight"))
    assert '<td class="num">1</td>' in own.content.decode()
    other = client_for(member("aud2", world.bio, Role.AUDITOR)).get(reverse("compliance:oversight"))
    page = other.content.decode()
    assert '<td class="num">1</td>' not in page and "Intact" in page

"""The data owner's view: its data protection officer sees every agency's reads of its sources' data."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone
from guardian.shortcuts import assign_perm

from apps.agencies.roles import Role
from apps.compliance.models import AccessLogEntry
from apps.compliance.services import personal_data_gate
from apps.intake.models import Subject
from tests.factories import DataSourceFactory, member


@pytest.fixture
def shared_traveller(world):
    """A traveller from a customs-owned source that customs shares with the police."""
    source = DataSourceFactory(owner_agency=world.customs, kind="pnr", name="PNR (customs)")
    assign_perm("intake.view_datasource", world.police.group, source)
    return Subject.objects.create(
        kind="traveller", source=source, owner_agency=world.customs, external_id="pnr:ZZ1:DOE",
        title="DOE, Jane on BA117", received_at=timezone.now(),
        facts={"surname": "DOE", "given_names": "JANE", "date_of_birth": "1979-03-04"},
    )  # fmt: skip


@pytest.fixture
def auditors(world):
    return {
        "CUS": member("dpo.cus", world.customs, Role.AUDITOR),
        "POL": member("dpo.pol", world.police, Role.AUDITOR),
        "BIO": member("dpo.bio", world.bio, Role.AUDITOR),
    }


def test_a_partners_read_names_the_data_owner(client_for, police_liaison, shared_traveller, world):
    page = client_for(police_liaison).get(reverse("intake:subject", args=[shared_traveller.pk]))
    assert page.status_code == 200 and "DOE" in page.content.decode()
    [entry] = AccessLogEntry.objects.all()
    assert (entry.agency, entry.data_owner_agency) == (world.police, world.customs)


def test_the_data_owners_auditor_sees_partners_reads_of_its_data(
    client_for, police_liaison, shared_traveller, auditors
):
    client_for(police_liaison).get(reverse("intake:subject", args=[shared_traveller.pk]))
    [entry] = AccessLogEntry.objects.all()
    visible = {
        code: AccessLogEntry.objects.visible_to(user).filter(pk=entry.pk).exists()
        for code, user in auditors.items()
    }
    assert visible == {"CUS": True, "POL": True, "BIO": False}

    for code, user in auditors.items():
        page = client_for(user).get(reverse("compliance:log")).content.decode()
        assert ("paula" in page) is (code != "BIO"), code
    partners = client_for(auditors["CUS"]).get(reverse("compliance:log"), {"scope": "partners"})
    assert "paula" in partners.content.decode()
    ours = client_for(auditors["CUS"]).get(reverse("compliance:log"), {"scope": "ours"})
    assert "paula" not in ours.content.decode()


def test_the_personal_data_gate_names_the_data_owner(rf, police_liaison, shared_traveller, world, auditors):
    request = rf.get("/targets/1/")
    request.user = police_liaison
    request.session = {"ratc_purpose": {"code": "risk_analysis", "text": ""}}
    assert personal_data_gate(request, shared_traveller, surface="target T-1") is None
    [entry] = AccessLogEntry.objects.all()
    assert entry.data_owner_agency == world.customs
    assert AccessLogEntry.objects.visible_to(auditors["CUS"]).filter(pk=entry.pk).exists()
    assert not AccessLogEntry.objects.visible_to(auditors["BIO"]).filter(pk=entry.pk).exists()

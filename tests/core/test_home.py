"""Home pages per role: the counts and lists each role acts on, only ever of what the viewer may see,
each linking to the list of exactly what it counted."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.agencies.roles import Role
from apps.compliance.models import UnmaskRequest
from apps.targeting.models import DispatchProposal, Instruction, TargetShare, TargetState, Transition
from tests.factories import DataSourceFactory, member
from tests.targeting.factories import SubjectFactory, TargetFactory

S = TargetState


def _count(page: str, key: str) -> int:
    found = re.search(rf'data-testid="count-{key}"[^>]*>(\d+)<', page)
    assert found, f"no count for {key}"
    return int(found.group(1))


def _home(client) -> str:
    response = client.get(reverse("home"))
    assert response.status_code == 200
    return response.content.decode()


def _listed(client, work: str) -> str:
    response = client.get(reverse("targeting:list"), {"work": work})
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def make(world):
    """``make(agency, **fields)``: a target of that agency (its own subject and source)."""

    def target(agency, **fields):
        source = DataSourceFactory(owner_agency=agency)
        subject = SubjectFactory(source=source, port=fields.pop("port", world.port_a))
        return TargetFactory(subject=subject, owner_agency=agency, **fields)

    return target


def test_analyst_sees_his_claims_his_nominations_and_their_results(
    world, make, client_for, customs_analyst, customs_supervisor
):
    claimed = make(
        world.customs, state=S.IN_REVIEW, claimed_by=customs_analyst, nominated_by=customs_supervisor
    )
    make(world.customs, state=S.IN_REVIEW, claimed_by=customs_supervisor)  # a colleague's claim
    draft = make(world.customs, state=S.NOMINATED, nominated_by=customs_analyst)
    result = make(world.customs, state=S.RESULT_RECORDED, nominated_by=customs_analyst)
    make(world.customs, state=S.RESULT_RECORDED, nominated_by=customs_supervisor)
    make(world.customs, state=S.CLOSED, nominated_by=customs_analyst)  # closed: no longer new
    client = client_for(customs_analyst)
    page = _home(client)
    assert _count(page, "claimed") == 1 and claimed.reference in page
    assert _count(page, "drafts") == 1 and draft.reference in page
    assert _count(page, "results") == 1 and result.reference in page
    assert 'data-testid="panel-hits"' in page
    assert f"{reverse('targeting:list')}?work=claimed" in page
    # The list the count links to shows what was counted.
    listed = _listed(client, "results")
    assert result.reference in listed and draft.reference not in listed


def test_supervisor_sees_what_awaits_his_approval_but_not_what_he_proposed(
    world, make, client_for, customs_analyst, customs_supervisor
):
    now = timezone.now()
    theirs = make(world.customs, state=S.AWAITING_APPROVAL, nominated_by=customs_analyst)
    nominated_by_him = make(world.customs, state=S.AWAITING_APPROVAL, nominated_by=customs_supervisor)
    submitted_by_him = make(world.customs, state=S.AWAITING_APPROVAL, nominated_by=customs_analyst)
    Transition.objects.create(target=submitted_by_him, actor=customs_supervisor, from_state=S.IN_REVIEW,
                              to_state=S.AWAITING_APPROVAL, version=2, reason="")  # fmt: skip
    breaching = make(world.customs, state=S.NOMINATED, arrival_at=now + timedelta(minutes=30))
    held = make(world.customs, state=S.ON_HOLD, resume_state=S.APPROVED)
    DispatchProposal.objects.create(port=world.port_a, shift="early", agency=world.customs,
                                    created_by=customs_supervisor, capacity={"physical": 2})  # fmt: skip
    client = client_for(customs_supervisor)
    page = _home(client)
    assert _count(page, "approve") == 1 and theirs.reference in page
    assert nominated_by_him.reference not in page.split('data-testid="panel-breaching"')[0]
    # Four eyes on the list the count links to, too.
    listed = _listed(client, "approve")
    assert theirs.reference in listed
    assert nominated_by_him.reference not in listed and submitted_by_him.reference not in listed
    assert _count(page, "breaching") == 1 and breaching.reference in page
    assert _count(page, "held") == 1 and held.reference in page
    assert _count(page, "proposals") == 1 and "Felixstowe" in page
    assert f"{reverse('targeting:dispatch')}?port={world.port_a.locode}&amp;shift=early" in page


def test_another_agencys_work_is_not_counted(world, make, client_for, customs_supervisor, customs_analyst):
    now = timezone.now()
    bio_boss = member("bea", world.bio, Role.SUPERVISOR)
    theirs = [
        make(world.bio, state=state, nominated_by=bio_boss) for state in (S.AWAITING_APPROVAL, S.APPROVED)
    ]
    theirs.append(make(world.bio, state=S.ON_HOLD, resume_state=S.APPROVED))
    theirs.append(make(world.bio, state=S.NOMINATED, arrival_at=now + timedelta(minutes=10)))
    DispatchProposal.objects.create(port=world.port_a, shift="early", agency=world.bio, created_by=bio_boss)
    page = _home(client_for(customs_supervisor))
    for key in ("approve", "breaching", "held", "proposals", "dispatch"):
        assert _count(page, key) == 0, key
    # And a list reached by the link shows none of it either.
    client = client_for(customs_supervisor)
    for key in ("approve", "breaching", "held", "dispatch"):
        listed = _listed(client, key)
        assert not [t.reference for t in theirs if t.reference in listed], key


def test_frontline_officer_sees_his_open_instructions_for_his_port(world, make, client_for, port_officer,
                                                                   customs_supervisor):  # fmt: skip
    here = make(world.customs, state=S.DISPATCHED, port=world.port_a)
    elsewhere = make(world.customs, state=S.DISPATCHED, port=world.port_b)
    done = make(world.customs, state=S.RESULT_RECORDED, port=world.port_a)
    for target in (here, elsewhere, done):
        Instruction.objects.create(target=target, port=target.port, method="physical", shift="",
                                   instruction="Check the pallets", dispatched_by=customs_supervisor)  # fmt: skip
    page = _home(client_for(port_officer))
    assert _count(page, "instructions") == 1
    assert here.reference in page and elsewhere.reference not in page and done.reference not in page
    assert "Felixstowe" in page and reverse("frontline:home") in page


def test_auditor_sees_pending_unmasking_and_the_integrity_of_the_records(world, client_for, customs_analyst):
    auditor = member("audrey", world.customs, Role.AUDITOR)
    ours = SubjectFactory(source=DataSourceFactory(owner_agency=world.customs), kind="traveller")
    theirs = SubjectFactory(source=DataSourceFactory(owner_agency=world.bio), kind="traveller")
    UnmaskRequest.objects.create(
        subject=ours, agency=world.customs, requested_by=customs_analyst, reason="r" * 20
    )
    bio_analyst = member("bert", world.bio, Role.ANALYST)
    UnmaskRequest.objects.create(subject=theirs, agency=world.bio, requested_by=bio_analyst, reason="r" * 20)
    page = _home(client_for(auditor))
    assert _count(page, "unmask") == 1
    assert "Asked by" in page and reverse("compliance:unmask") in page
    assert 'data-testid="panel-integrity"' in page and "Every record is intact." in page


def test_liaison_sees_the_targets_shared_with_his_agency(world, make, client_for, police_liaison):
    shared = make(world.customs, state=S.APPROVED)
    TargetShare.objects.create(target=shared, agency=world.police)
    not_shared = make(world.customs, state=S.APPROVED)
    elsewhere = make(world.bio, state=S.APPROVED)
    TargetShare.objects.create(target=elsewhere, agency=world.customs)  # shared, but not with the police
    client = client_for(police_liaison)
    page = _home(client)
    assert _count(page, "shared") == 1 and shared.reference in page
    assert not_shared.reference not in page and elsewhere.reference not in page
    listed = _listed(client, "shared")
    assert shared.reference in listed and not_shared.reference not in listed


def test_home_names_nobody(world, make, client_for, customs_analyst):
    """The home page is not behind the purpose gate: it shows targets by reference, never a name."""
    traveller = SubjectFactory(source=DataSourceFactory(owner_agency=world.customs), kind="traveller",
                               title="QUOXBERRY, Zephyrine on SQ322")  # fmt: skip
    TargetFactory(subject=traveller, state=S.IN_REVIEW, claimed_by=customs_analyst)
    page = _home(client_for(customs_analyst, purpose=None))
    assert _count(page, "claimed") == 1 and "QUOXBERRY" not in page.upper()

"""One open target per subject, risk area and agency: decided by ``nominate`` and refused by the database
too, whatever writes the row; other agencies, ended targets and the port's held targets aside."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from apps.targeting import services
from apps.targeting.models import RiskArea, Target, TargetState
from tests.targeting.factories import SubjectFactory, TargetFactory

S = TargetState


@pytest.fixture
def subject(world):
    return SubjectFactory(source__owner_agency=world.customs, port=world.port_a)


def second_open_target(subject, agency, **kwargs) -> Target:
    return Target.objects.create(subject=subject, owner_agency=agency, risk_area=RiskArea.NARCOTICS, **kwargs)


def test_the_database_refuses_a_second_open_target_of_one_agency(world, subject):
    services.nominate(
        actor=None, by_engine=True, subject=subject, risk_area=RiskArea.NARCOTICS, reasons=["R-1"]
    )
    for state in (S.NOMINATED, S.IN_REVIEW, S.APPROVED, S.ON_HOLD):
        with pytest.raises(IntegrityError), transaction.atomic():
            second_open_target(subject, world.customs, state=state, resume_state=S.APPROVED)


def test_other_agencies_areas_and_ended_targets_do_not_count(world, subject):
    TargetFactory(subject=subject, state=S.NOMINATED)
    second_open_target(subject, world.police)  # another agency works its own
    TargetFactory(subject=subject, state=S.NOMINATED, risk_area=RiskArea.REVENUE)
    for ended in (S.WITHDRAWN, S.REJECTED, S.CLOSED, S.MISSED, S.DISPATCHED):
        second_open_target(subject, world.customs, state=ended)
    assert Target.objects.filter(subject=subject).count() == 8


def test_a_dispatched_target_can_be_held_beside_a_newer_nomination(world, subject):
    """A dispatched target put on hold is the port's (its hold says "do not examine"); the hold must not
    clash with a nomination of the same subject made after its dispatch."""
    dispatched = TargetFactory(subject=subject, state=S.DISPATCHED)
    TargetFactory(subject=subject, state=S.NOMINATED)
    Target.objects.filter(pk=dispatched.pk).update(state=S.ON_HOLD, resume_state=S.DISPATCHED)
    assert Target.objects.filter(subject=subject, state__in=[S.ON_HOLD, S.NOMINATED]).count() == 2


def test_a_port_team_cannot_open_a_second_target_its_agency_already_works(world, subject, port_analyst):
    """The centre's nomination is not the port team's to see (centralised model: it sees targets once
    they are executed at its port); it is told its agency works it, and nothing of the target."""
    centre = TargetFactory(subject=subject, state=S.NOMINATED)
    assert not Target.objects.visible_to(port_analyst).filter(pk=centre.pk).exists()

    with pytest.raises(ValidationError) as refused:
        services.nominate(actor=port_analyst, subject=subject, risk_area=RiskArea.NARCOTICS, reasons=["mine"])

    assert refused.value.message_dict == {
        "risk_area": ["Your agency already has an open target on this subject in this risk area."]
    }
    assert Target.objects.filter(subject=subject).count() == 1

"""Handover fixtures: an incoming supervisor beside ``customs_supervisor`` (bob, outgoing), and a small
floor of customs targets: one per section of the summary."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from django.utils import timezone

from apps.agencies.roles import Role
from apps.targeting.models import HandlingCode, Hold, TargetShare, TargetState
from tests.factories import member
from tests.targeting.factories import SubjectFactory, TargetFactory


@pytest.fixture
def incoming_supervisor(world):
    return member("carol", world.customs, Role.SUPERVISOR)


def target(world, state=TargetState.NOMINATED, port=None, arrival_in=dt.timedelta(days=3), **kwargs):
    subject = SubjectFactory(source__owner_agency=world.customs, port=port or world.port_a)
    return TargetFactory(subject=subject, state=state, arrival_at=timezone.now() + arrival_in, **kwargs)


@pytest.fixture
def floor(world, customs_analyst, police_liaison):
    """At Felixstowe: a breaching nomination, a claimed one in review, a target held by the police (a
    partner request), a share awaiting consent; at Heathrow: an approved target. And a closed one."""
    breaching = target(world, arrival_in=dt.timedelta(minutes=30))
    claimed = target(world, TargetState.IN_REVIEW, claimed_by=customs_analyst, claimed_at=timezone.now())
    held = target(world, TargetState.ON_HOLD, resume_state=TargetState.APPROVED)
    TargetShare.objects.create(target=held, agency=world.police, code=HandlingCode.SEE)
    Hold.objects.create(
        target=held, agency=world.police, placed_by=police_liaison, reason="controlled delivery"
    )
    consent = target(world, TargetState.APPROVED)
    TargetShare.objects.create(target=consent, agency=world.police, code=HandlingCode.CONSENT)
    approved_lhr = target(world, TargetState.APPROVED, port=world.port_b)
    target(world, TargetState.CLOSED)
    return SimpleNamespace(
        breaching=breaching, claimed=claimed, held=held, consent=consent, approved_lhr=approved_lhr
    )

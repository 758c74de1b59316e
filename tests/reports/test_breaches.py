"""Queue breaches in the reports follow the service levels the queue shows (issue 23, item 4).

An air-passenger security nomination has 20 minutes; a sea container in the same area has 12 hours. Both
arrive in ten hours, so the old "undecided two hours before arrival" rule would count neither yet.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.reports import direct
from apps.reports import measures as m
from apps.reports.models import TargetStat
from apps.reports.slicing import Slice
from apps.reports.stats import refresh_target_stats
from apps.targeting.models import Target
from tests.targeting.factories import SubjectFactory, TargetFactory

pytestmark = pytest.mark.django_db


def _nominated(world, port, minutes_ago: int) -> Target:
    now = timezone.now()
    subject = SubjectFactory(
        source__owner_agency=world.customs, port=port, arrival_at=now + timedelta(hours=10)
    )
    target = TargetFactory(subject=subject, risk_area="security", state="nominated")
    Target.objects.filter(pk=target.pk).update(created_at=now - timedelta(minutes=minutes_ago))
    target.refresh_from_db()
    return target


def test_a_target_past_its_service_level_is_a_breach_in_the_reports_as_on_the_queue(world, manager):
    air = _nominated(world, world.port_b, minutes_ago=25)  # Heathrow: security, 20 minutes
    sea = _nominated(world, world.port_a, minutes_ago=25)  # Felixstowe: security, 12 hours
    assert (air.sla_status(), sea.sla_status()) == ("breached", "ok")
    refresh_target_stats([air.pk, sea.pk])
    row = TargetStat.objects.get(target_id=air.pk)
    assert row.breached and row.decision_due == air.sla_deadline()
    today = Slice.last_days(1)
    assert m.queue_breaches(manager, today) == 1
    assert direct.queue_breaches(manager, today) == 1
    # Once the sea target's twelve hours have passed too, both count; not before.
    later = timezone.now() + timedelta(hours=12)
    assert direct.queue_breaches(manager, Slice.last_days(2, today=later.date()), now=later) == 2

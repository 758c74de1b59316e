"""Read-side helpers: the queue's two-step ranking and the per-page access answers."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from django.core.paginator import Paginator
from django.utils import timezone

from apps.agencies.operations import check
from apps.targeting.models import OPEN_STATES, Target
from apps.targeting.queries import TargetAccess, urgent_page
from apps.targeting.transitions import TABLE


@pytest.fixture
def queue(make_target):
    """23 open targets with priorities and arrivals spread so that urgency ties and caps at 100 occur."""
    rng = random.Random(5)
    now = timezone.now()
    for _ in range(23):
        make_target(
            state=rng.choice(sorted(OPEN_STATES)),
            priority=rng.choice([40, 60, 60, 75, 90, 100]),
            arrival_at=rng.choice([None, now + timedelta(minutes=rng.randint(-120, 3000))]),
        )
    make_target(state="closed", priority=100)  # not open: never in a queue
    return now


@pytest.mark.parametrize("number", [None, "1", "2", "3", "9", "0", "x", "-1"])
def test_urgent_page_matches_the_plain_paginator(queue, customs_analyst, number):
    base = Target.objects.visible_to(customs_analyst).filter(state__in=OPEN_STATES)
    plain = Paginator(base.with_urgency(queue).order_by("-urgency", "arrival_at", "id"), 10).get_page(number)
    page = urgent_page(base, number, now=queue, per_page=10)
    assert (page.number, page.paginator.count, page.paginator.num_pages) == (
        plain.number,
        plain.paginator.count,
        plain.paginator.num_pages,
    )
    assert [t.pk for t in page.object_list] == [t.pk for t in plain.object_list]
    assert [t.urgency for t in page.object_list] == [t.urgency for t in plain.object_list]


def test_urgent_page_of_an_empty_queue(customs_analyst):
    page = urgent_page(Target.objects.visible_to(customs_analyst), "1", now=timezone.now(), per_page=10)
    assert (page.paginator.count, list(page.object_list)) == (0, [])


def test_urgent_page_shows_only_the_viewers_targets(queue, police_liaison):
    page = urgent_page(Target.objects.visible_to(police_liaison), "1", now=queue, per_page=10)
    assert page.paginator.count == 0


def _by_check(user, target, operation):
    try:
        check(user, operation, target)
    except Exception:
        return False
    return True


@pytest.mark.parametrize("model", ["centralised", "decentralised", "hybrid"])
def test_target_access_answers_as_check_does(
    make_target, operating_model, customs_analyst, customs_supervisor, port_supervisor, police_liaison, model
):
    operating_model(model)
    operations = sorted({m.operation for m in TABLE if not m.system} | {"target.claim", "target.share"})
    seen = set()
    for state in ("nominated", "awaiting_approval", "approved"):
        for scope in ("national", "port"):
            target = make_target(state=state, scope=scope)
            for user in (customs_analyst, customs_supervisor, port_supervisor, police_liaison):
                access = TargetAccess(user, target)
                seen |= {access.may(op) for op in operations}
                assert {op: access.may(op) for op in operations} == {
                    op: _by_check(user, target, op) for op in operations
                }, (model, state, scope, user.username)
    assert seen == {True, False}  # the comparison covered both answers

"""Read-side helpers: the queue's two-step ranking and the per-page access answers."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from django.core.paginator import Paginator
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
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


def test_the_ranking_key_in_sql_is_the_one_a_loaded_target_computes(queue):
    """``Urgency`` (the SQL written once from ``URGENCY_STEPS``) agrees with ``Target.urgency_now``,
    the Python rule, for every target: no arrival, past, on each step's bound and beyond, capped at 100."""
    now = queue
    on_bound = Target.objects.order_by("pk")[0].pk
    Target.objects.filter(pk=on_bound).update(priority=40, arrival_at=now + timedelta(hours=4))
    ranked = {t.pk: t.urgency for t in Target.objects.with_urgency(now)}
    assert ranked == {t.pk: t.urgency_now(now) for t in Target.objects.all()}
    assert ranked[on_bound] == 65 and 100 in ranked.values()  # a bound ranks with its step; the cap


def test_a_queue_reads_its_rows_in_the_same_queries_however_many(
    client_for, customs_analyst, customs_supervisor, make_target
):
    """The queue loads only the columns its rows show (``ROW_FIELDS``): a row asks nothing more, whether
    free, claimed by the viewer or by someone else."""
    client = client_for(customs_analyst)

    def queue_page() -> tuple[str, int]:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("targeting:queue"), {"port": "GBFXT"})
        assert response.status_code == 200
        return response.content.decode(), len(queries.captured_queries)

    make_target(state="in_review", claimed_by=customs_analyst)
    queue_page()  # the first page of a process reads what every later one has cached
    _, few = queue_page()
    for claimant in (None, customs_supervisor, customs_analyst):
        make_target(state="in_review", claimed_by=claimant)
    page, many = queue_page()
    assert many == few
    assert page.count("data-target=") == 4 and "Felixstowe" in page
    assert (customs_supervisor.get_full_name() or customs_supervisor.username) in page


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

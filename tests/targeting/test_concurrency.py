"""Races against a real database: of two simultaneous claims exactly one wins (PostgreSQL only)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from apps.targeting import services
from apps.targeting.models import Target, TargetState
from tests.factories import member

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _needs_postgres():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: set DATABASE_URL")


def race(n: int, work) -> list:
    """Run ``work(i)`` in ``n`` threads released together; return what each returned or raised."""
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = work(i)
        except Exception as error:
            results[i] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_concurrent_claims_have_one_winner(world, make_target):
    analysts = [member(f"analyst{i}", world.customs, "analyst") for i in range(8)]
    target = make_target()
    for _ in range(5):
        Target.objects.filter(pk=target.pk).update(claimed_by=None)
        results = race(
            8, lambda i: services.claim_target(actor=analysts[i], target=Target.objects.get(pk=target.pk))
        )
        winners = [r for r in results if isinstance(r, Target)]
        assert len(winners) == 1, results
        assert all(isinstance(r, services.StaleChange) for r in results if not isinstance(r, Target))
        assert Target.objects.get(pk=target.pk).claimed_by == winners[0].claimed_by


def test_concurrent_decisions_have_one_winner(world, make_target):
    supervisors = [member(f"sup{i}", world.customs, "supervisor") for i in range(6)]
    target = make_target(state=TargetState.AWAITING_APPROVAL)

    def decide(i: int):
        fresh = Target.objects.get(pk=target.pk)
        if i % 2:
            return services.approve_target(actor=supervisors[i], target=fresh, expected_version=1)
        return services.reject_target(actor=supervisors[i], target=fresh, expected_version=1, reason="no")

    results = race(6, decide)
    assert sum(isinstance(r, Target) for r in results) == 1, results
    target.refresh_from_db()
    assert target.version == 2 and target.transitions.count() == 2

"""Deletion after retention removes every copy: no table keeps the traveller's name, document or booking.

The check is generic: every row of every model (``django.apps.apps.get_models()``) is read with
``values()`` and searched for the sentinels, so a new table that copies personal data fails it.
"""

from __future__ import annotations

from datetime import timedelta

import time_machine
from django.apps import apps
from django.utils import timezone

from apps.compliance.erasure import ERASED
from apps.compliance.services import apply_retention
from apps.intake.models import Message, Subject
from tests.compliance import personal_world
from tests.compliance.personal_world import found_sentinels

NOW = timezone.datetime(2026, 1, 5, 9, 0, tzinfo=timezone.get_current_timezone())


def rows_holding_sentinels() -> list[str]:
    found = []
    for model in apps.get_models():
        for row in model._default_manager.all().values():
            if hits := found_sentinels(" ".join(str(v) for v in row.values())):
                found.append(f"{model._meta.label} #{row.get('id', row.get('pk'))}: {hits}")
    return found


def test_nothing_of_the_traveller_survives_retention(world):
    with time_machine.travel(NOW, tick=False):
        seeded = personal_world.build(world, received_at=timezone.now())
    # The world holds him in many places before: the check can see them.
    before = rows_holding_sentinels()
    assert any(r.startswith("risk.Assessment") for r in before), before
    assert any(r.startswith("intake.Message") for r in before), before
    assert seeded.target.reasons and any(r["kind"] == "watchlist" for r in seeded.target.reasons)
    with time_machine.travel(NOW + timedelta(days=5 * 365 + 1), tick=False):
        run = apply_retention()
    assert run.deleted == 2
    assert rows_holding_sentinels() == []
    # The target's subject is kept (the workflow's record points at it), scrubbed.
    kept = Subject.objects.get(pk=seeded.traveller.pk)
    assert kept.facts == {} and kept.message_id is None
    assert not Message.objects.exists()
    seeded.target.refresh_from_db()
    assert [r["text"] for r in seeded.target.reasons if r["kind"] == "watchlist"] == [ERASED]
    seeded.assessment.refresh_from_db()
    assert seeded.assessment.explanation["erased"] is True
    assert seeded.assessment.score > 0  # the statistics stay


def test_retention_keeps_what_is_not_yet_due(world):
    with time_machine.travel(NOW, tick=False):
        seeded = personal_world.build(world, received_at=timezone.now())
    with time_machine.travel(NOW + timedelta(days=4 * 365), tick=False):
        apply_retention()
    assert Message.objects.filter(pk=seeded.message.pk).exists()
    seeded.assessment.refresh_from_db()
    assert "erased" not in seeded.assessment.explanation

"""Fixtures for the risk engine: a risk manager, subjects with facts, and rules written through services."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest

from apps.agencies.roles import Role
from apps.intake.models import DataSource, SourceKind, Subject
from apps.risk import services
from apps.risk.models import Rule
from tests.factories import DataSourceFactory, member

_ids = itertools.count(1)
ARRIVAL = dt.datetime(2025, 3, 10, 8, 30, tzinfo=dt.UTC)


@pytest.fixture
def outsider_risk_manager(world):
    return member("bruno", world.bio, Role.RISK_MANAGER)


@pytest.fixture
def customs_source(world) -> DataSource:
    return DataSourceFactory(owner_agency=world.customs, kind=SourceKind.DECLARATION, name="CUS declarations")


def make_subject(
    source: DataSource,
    facts: dict[str, Any],
    *,
    kind: str = "consignment",
    port=None,
    arrival_at: dt.datetime | None = ARRIVAL,
    received_at: dt.datetime | None = None,
) -> Subject:
    n = next(_ids)
    return Subject.objects.create(
        kind=kind,
        source=source,
        owner_agency_id=source.owner_agency_id,
        external_id=f"EXT-{n}",
        title=f"Subject {n}",
        port=port,
        arrival_at=arrival_at,
        received_at=received_at or (arrival_at or ARRIVAL) - dt.timedelta(days=2),
        facts=facts,
    )


@pytest.fixture
def subject_maker(customs_source, world):
    def make(facts: dict[str, Any], **kwargs: Any) -> Subject:
        kwargs.setdefault("port", world.port_a)
        return make_subject(customs_source, facts, **kwargs)

    return make


def write_rule(
    actor, text: str, *, state: str = "draft", name: str = "Coffee from CO", **kwargs: Any
) -> Rule:
    """A rule written through the services, moved to ``state`` (draft, shadow or active)."""
    kwargs.setdefault("subject_kind", "consignment")
    kwargs.setdefault("risk_area", "narcotics")
    kwargs.setdefault("weight", 70)
    kwargs.setdefault("rationale", "Seizures of cocaine in coffee shipments, 2024.")
    rule = services.create_rule(actor=actor, name=name, text=text, **kwargs)
    if state in {"shadow", "active"}:
        services.publish_rule_to_shadow(actor=actor, rule=rule)
    if state == "active":
        services.activate_rule(actor=actor, rule=rule)
    return rule


@pytest.fixture
def rule_writer(risk_manager):
    def make(text: str, **kwargs: Any) -> Rule:
        return write_rule(risk_manager, text, **kwargs)

    return make

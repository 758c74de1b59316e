"""Targeting fixtures: a supervisor at a port (for the decentralised model) and a target maker."""

from __future__ import annotations

import pytest

from apps.agencies.models import CentreConfiguration, OperatingModel
from apps.agencies.roles import Role
from tests.factories import member
from tests.targeting.factories import SubjectFactory, TargetFactory


@pytest.fixture
def port_supervisor(world):
    """A customs supervisor at Felixstowe (port_a): the port's own team."""
    return member("petra", world.customs, Role.SUPERVISOR, ports=[world.port_a])


@pytest.fixture
def port_analyst(world):
    return member("pete", world.customs, Role.ANALYST, ports=[world.port_a])


@pytest.fixture
def police_analyst(world):
    return member("pam", world.police, Role.ANALYST)


@pytest.fixture
def operating_model(db):
    """``operating_model("hybrid")`` switches the centre's configuration, as the admin would."""

    def switch(model: str) -> CentreConfiguration:
        config = CentreConfiguration.current()
        config.operating_model = OperatingModel(model)
        config.save()
        return config

    return switch


@pytest.fixture
def make_target(world):
    """A customs target at port_a in the given state."""

    def make(state="nominated", **kwargs):
        subject = kwargs.pop("subject", None) or SubjectFactory(
            source__owner_agency=world.customs, port=kwargs.pop("port", world.port_a)
        )
        return TargetFactory(subject=subject, state=state, **kwargs)

    return make

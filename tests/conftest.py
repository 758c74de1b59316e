"""Shared fixtures: a small world with named people per agency, as every capability's tests need.

- ``customs_analyst`` and ``customs_supervisor``: the national centre (agency CUS).
- ``police_liaison``: a partner agency's liaison officer (agency POL); sees only what is shared.
- ``port_officer``: a customs frontline officer at ``port_a``.
- ``outsider``: an analyst of another agency (BIO) with nothing shared; must see nothing of CUS's.
- ``customs_admin``, ``risk_manager`` and ``manager``: the centre's administrator, risk manager (rules,
  models, watchlists) and manager (reports).
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.db.backends.signals import connection_created

from apps.agencies.models import AgencyKind, TransportMode
from apps.agencies.roles import Role
from ratc_ops.celery import app as celery_app
from tests.factories import AgencyFactory, PortFactory, member

pytest_plugins = ["tests.browser_support"]


def _test_database_skips_fsync(sender, connection, **kwargs):
    """The SQLite test database is a file (``ratc_ops.settings``: its writers wait for each other, as the
    embedded mode's do); nothing in it needs to survive a power cut, so it is not synced to the disk,
    which would make it slower than the in-memory database it replaced."""
    test_name = connection.settings_dict.get("TEST", {}).get("NAME")
    if connection.vendor == "sqlite" and connection.settings_dict["NAME"] == test_name:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA synchronous=OFF")


connection_created.connect(_test_database_skips_fsync)


@pytest.fixture(autouse=True, scope="session")
def _celery_inline():
    """Tests run Celery tasks inline, whatever the broker, so each test sees its task's effect."""
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """Hashing a password properly takes a deliberate half second; tests create many people."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _chain_anchors(settings, tmp_path):
    """The chains' anchors outlive a test database: each test anchors in a folder of its own."""
    settings.RATC_CHAIN_ANCHOR_DIR = str(tmp_path / "anchors")


@pytest.fixture(autouse=True)
def _seal_in_the_committing_thread_before_a_flush(request, settings):
    """A transactional or browser test ends by TRUNCATE-ing every table. A background sealer still
    linking a chain holds a row lock that TRUNCATE waits on while TRUNCATE holds locks the sealer needs:
    PostgreSQL broke that deadlock once in CI by failing the flush. These tests seal in the thread that
    commits, so no thread of ours is left working when the database is emptied. Transactional by the
    ``django_db(transaction=True)`` mark counts too: the sealer waits ``RATC_CHAIN_SEAL_DELAY_MS`` before
    its round, so a test that ends within that pause empties the database under it."""
    marker = request.node.get_closest_marker("django_db")
    marked = marker is not None and bool(
        marker.kwargs.get("transaction", marker.args[0] if marker.args else False)
    )
    if (
        marked
        or "browser" in request.keywords
        or {"transactional_db", "live_server"} & set(request.fixturenames)
    ):
        settings.RATC_CHAIN_SEAL_IN_BACKGROUND = False


@pytest.fixture(scope="session")
def shared_data() -> Path:
    path = Path(settings.SHARED_DATA_DIR)
    if not path.is_dir():
        pytest.fail(f"The shared test data is missing: expected {path} (set RATC_SHARED_DATA to its folder)")
    return path


@pytest.fixture
def world(db):
    customs = AgencyFactory(code="CUS", name="Customs Administration", kind=AgencyKind.CUSTOMS)
    police = AgencyFactory(code="POL", name="National Police", kind=AgencyKind.POLICE)
    bio = AgencyFactory(code="BIO", name="Biosecurity Authority", kind=AgencyKind.BIOSECURITY)
    port_a = PortFactory(locode="GBFXT", name="Felixstowe", mode=TransportMode.SEA)
    port_b = PortFactory(locode="GBLHR", name="Heathrow", mode=TransportMode.AIR, iata_code="LHR")
    return SimpleNamespace(customs=customs, police=police, bio=bio, port_a=port_a, port_b=port_b)


@pytest.fixture
def customs_analyst(world):
    return member("alice", world.customs, Role.ANALYST)


@pytest.fixture
def customs_supervisor(world):
    return member("bob", world.customs, Role.SUPERVISOR)


@pytest.fixture
def police_liaison(world):
    return member("paula", world.police, Role.LIAISON)


@pytest.fixture
def port_officer(world):
    return member("oscar", world.customs, Role.FRONTLINE, ports=[world.port_a])


@pytest.fixture
def outsider(world):
    return member("charlie", world.bio, Role.ANALYST)


@pytest.fixture
def customs_admin(world):
    return member("ada", world.customs, Role.ADMINISTRATOR)


@pytest.fixture
def risk_manager(world):
    return member("rita", world.customs, Role.RISK_MANAGER)


@pytest.fixture
def manager(world):
    return member("maria", world.customs, Role.MANAGER)


@pytest.fixture
def client_for(client):
    """``client_for(user)``: the test client signed in as ``user``, with a purpose of access declared
    for the session (as a person does once per session); ``purpose=None`` leaves it undeclared."""
    from apps.compliance.services import SESSION_KEY

    def sign_in(user, purpose: str | None = "risk_analysis"):
        client.force_login(user)
        if purpose:
            session = client.session
            session[SESSION_KEY] = {"code": purpose, "text": ""}
            session.save()
        return client

    return sign_in


@pytest.fixture
async def worker_connections_closed():
    """For tests that run the ASGI application or its consumers: their database work runs on asgiref's
    worker threads, whose connections would outlive the test and keep the test database from being
    dropped at the end of the run. Closed after the test."""
    yield
    from channels.db import database_sync_to_async
    from django.db import connections

    await database_sync_to_async(connections.close_all)()

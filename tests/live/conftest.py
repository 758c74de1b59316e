"""Live fixtures: signed-in sockets through the real ASGI stack (session cookie + Origin check).

Tests run against whichever channel layer the settings choose: in-memory by default, Redis when
``REDIS_URL`` is set. Tests marked ``redis`` need Redis and are skipped without it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from importlib import import_module
from typing import Any

import pytest
from channels.layers import channel_layers
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

from apps.live import watch
from apps.targeting.models import JointOperation
from tests.targeting.factories import SubjectFactory, TargetFactory

ORIGIN = b"http://127.0.0.1"
#: Generous: the machine is shared and busy. Nothing asserts on time.
WAIT = 10.0


def pytest_collection_modifyitems(config, items):
    if os.environ.get("REDIS_URL"):
        return
    skip = pytest.mark.skip(reason="needs Redis (set REDIS_URL)")
    for item in items:
        if "redis" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _fresh_live_state(settings):
    """Each test: fast password hashing, a fresh channel layer object, no shared check results."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    channel_layers.backends.clear()
    watch.clear_shared_checks()
    yield
    channel_layers.backends.clear()
    watch.clear_shared_checks()


@pytest.fixture
def quick_watchdog(monkeypatch):
    """Re-check sessions and sequences every 0.2 s instead of every 2 s."""
    monkeypatch.setattr(watch, "RECHECK_SECONDS", 0.2)


def session_for(user: Any) -> str:
    """A real signed-in session for ``user`` (as the login view would store it); returns its key."""
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return store.session_key


class Socket:
    """A ``WebsocketCommunicator`` on the project's real ASGI application, with small helpers."""

    def __init__(self, path: str, session_key: str | None = None, origin: bytes | None = ORIGIN) -> None:
        from ratc_ops.asgi import application

        headers = [(b"host", b"127.0.0.1")]
        if origin is not None:
            headers.append((b"origin", origin))
        if session_key:
            headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={session_key}".encode()))
        self.comm = WebsocketCommunicator(application, path, headers=headers)
        self.connected = False
        self.close_code: int | None = None

    async def open(self) -> dict[str, Any] | None:
        """Connect; return the hello message, or None if the socket was refused or closed at once."""
        self.connected, code = await self.comm.connect(timeout=WAIT)
        if not self.connected:
            self.close_code = code
            return None
        return await self.receive()

    async def receive(self, timeout: float = WAIT) -> dict[str, Any] | None:
        """The next JSON message; None (and ``close_code`` set) when the server closed the socket."""
        output = await self.comm.receive_output(timeout)
        if output["type"] == "websocket.close":
            self.close_code = output.get("code")
            return None
        import json

        return json.loads(output["text"])

    async def nothing(self, timeout: float = 0.6) -> bool:
        return await self.comm.receive_nothing(timeout=timeout)

    async def wait_closed(self, timeout: float = WAIT) -> int | None:
        """Read until the server closes the socket; return the close code."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            message = await self.receive(timeout=max(0.1, deadline - loop.time()))
            if message is None:
                return self.close_code
        raise AssertionError("the socket was not closed")

    async def close(self) -> None:
        await self.comm.disconnect()


@pytest.fixture
async def sockets() -> AsyncIterator[Any]:
    """``await sockets(path, user)`` → an open ``Socket`` (hello read); all are closed afterwards."""
    opened: list[Socket] = []

    async def open_socket(
        path: str, user: Any = None, *, origin: bytes | None = ORIGIN, key: str | None = None
    ):
        from channels.db import database_sync_to_async

        if key is None and user is not None:
            key = await database_sync_to_async(session_for)(user)
        socket = Socket(path, key, origin)
        socket.hello = await socket.open()
        opened.append(socket)
        return socket

    yield open_socket
    for socket in opened:
        with contextlib.suppress(Exception):  # already closed by the server, or its task ended
            await socket.close()


@pytest.fixture
def customs_target(world):
    """A nominated customs target at port_a (Felixstowe), not shared with anyone."""

    def make(**kwargs: Any):
        subject = SubjectFactory(source__owner_agency=world.customs, port=kwargs.pop("port", world.port_a))
        return TargetFactory(subject=subject, **kwargs)

    return make


@pytest.fixture
def operation(world):
    from django.utils import timezone

    now = timezone.now()
    return JointOperation.objects.create(
        name="Atlantic Gate",
        owner_agency=world.customs,
        starts_at=now,
        ends_at=now + timezone.timedelta(days=3),
    )

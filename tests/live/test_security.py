"""Sockets follow the session: logout, an expired session or a disabled account close them in seconds."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from tests.factories import PASSWORD

pytestmark = [pytest.mark.django_db(transaction=True)]
db = database_sync_to_async


def signed_in_client(user) -> tuple[Client, str]:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client, client.cookies["sessionid"].value


async def test_logging_out_closes_that_sessions_sockets_and_no_other(sockets, customs_analyst):
    client, key = await db(signed_in_client)(customs_analyst)
    _, other_key = await db(signed_in_client)(customs_analyst)
    board = await sockets("/ws/boards/floor/", key=key)
    tablet = await sockets("/ws/notifications/", key=key)
    elsewhere = await sockets("/ws/boards/floor/", key=other_key)
    assert board.hello and tablet.hello and elsewhere.hello
    await db(client.post)("/logout/")
    assert await board.wait_closed(timeout=5) == 4401
    assert await tablet.wait_closed(timeout=5) == 4401
    assert await elsewhere.nothing(0.5)


async def test_an_expired_session_is_closed_by_the_periodic_check(sockets, customs_analyst, quick_watchdog):
    _, key = await db(signed_in_client)(customs_analyst)
    board = await sockets("/ws/boards/floor/", key=key)
    await db(Session.objects.filter(session_key=key).update)(expire_date=timezone.now())
    assert await board.wait_closed(timeout=5) == 4401


async def test_a_deleted_session_is_closed_even_without_the_logout_message(
    sockets, customs_analyst, quick_watchdog
):
    _, key = await db(signed_in_client)(customs_analyst)
    board = await sockets("/ws/boards/floor/", key=key)
    await db(Session.objects.filter(session_key=key).delete)()
    assert await board.wait_closed(timeout=5) == 4401


async def test_a_changed_password_closes_the_old_sessions_sockets(sockets, customs_analyst, quick_watchdog):
    _, key = await db(signed_in_client)(customs_analyst)
    board = await sockets("/ws/boards/floor/", key=key)

    def change() -> None:
        customs_analyst.set_password("another-password-456")
        customs_analyst.save()

    await db(change)()
    assert await board.wait_closed(timeout=5) == 4401


async def test_disabling_an_account_closes_all_its_sockets(sockets, customs_analyst):
    board = await sockets("/ws/boards/floor/", customs_analyst)
    tablet = await sockets("/ws/notifications/", customs_analyst)

    def disable() -> None:
        customs_analyst.is_active = False
        customs_analyst.save()

    await db(disable)()
    assert await board.wait_closed(timeout=5) == 4401
    assert await tablet.wait_closed(timeout=5) == 4401


async def test_a_session_for_another_user_id_does_not_open_a_socket(sockets, world):
    socket = await sockets("/ws/boards/floor/", None, key="not-a-session-key")
    assert socket.close_code == 4401


def test_the_session_check_remembers_a_session_but_not_past_a_change(customs_analyst):
    """The periodic check skips re-verifying a session whose stored data and password are unchanged,
    and still notices a new password, an expiry or a deletion at once."""
    from apps.live.watch import live_sessions
    from tests.live.conftest import session_for

    key = session_for(customs_analyst)
    pair = (key, customs_analyst.pk)
    assert live_sessions([pair]) == {pair}
    assert live_sessions([pair]) == {pair}  # remembered
    assert live_sessions([(key, customs_analyst.pk + 1000)]) == set()  # another user id: never
    customs_analyst.set_password("another-password-456")
    customs_analyst.save()
    assert live_sessions([pair]) == set()
    fresh = session_for(customs_analyst)
    assert live_sessions([(fresh, customs_analyst.pk)]) == {(fresh, customs_analyst.pk)}
    Session.objects.filter(session_key=fresh).update(expire_date=timezone.now())
    assert live_sessions([(fresh, customs_analyst.pk)]) == set()

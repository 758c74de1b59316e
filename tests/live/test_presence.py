"""Presence on a target: who may announce it, who is told, and what the fragment shows."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from django.urls import reverse

pytestmark = [pytest.mark.django_db(transaction=True)]
db = database_sync_to_async


async def test_opening_a_target_is_announced_to_the_board_as_its_id(
    sockets, customs_analyst, customs_supervisor, customs_target, client
):
    target = await db(customs_target)()
    board = await sockets("/ws/boards/floor/", customs_supervisor)
    page = await sockets(f"/ws/targets/{target.pk}/presence/", customs_analyst)
    assert page.hello == {"kind": "hello", "seq": 0, "stream": f"target-{target.pk}"}
    assert await board.receive() == {"kind": "presence.changed", "seq": 1, "target": target.pk}
    # The socket that joined hears its own announcement too (it re-fetches the fragment).
    assert await page.receive() == {"kind": "presence.changed", "seq": 1, "target": target.pk}

    def fragment() -> str:
        client.force_login(customs_supervisor)
        return client.get(reverse("live:presence", args=[target.pk]), HTTP_HX_REQUEST="true").content.decode()

    html = await db(fragment)()
    assert "Test Alice" in html and "CUS" in html
    await page.comm.send_json_to({"mode": "editing"})
    assert await board.receive() == {"kind": "presence.changed", "seq": 2, "target": target.pk}
    assert "working on it" in await db(fragment)()
    await page.comm.send_json_to({"ping": 1})
    assert await page.receive() == {"kind": "presence.changed", "seq": 2, "target": target.pk}
    assert await page.receive() == {"kind": "pong"}
    await page.close()
    assert await board.receive() == {"kind": "presence.changed", "seq": 3, "target": target.pk}
    assert "Nobody else" in await db(fragment)()


async def test_presence_on_an_unshared_target_is_refused_and_never_announced(
    sockets, police_liaison, customs_analyst, customs_target, world
):
    target = await db(customs_target)()
    police_board = await sockets("/ws/boards/floor/", police_liaison)
    refused = await sockets(f"/ws/targets/{target.pk}/presence/", police_liaison)
    assert refused.hello is None and refused.close_code == 4404
    await sockets(f"/ws/targets/{target.pk}/presence/", customs_analyst)
    assert await police_board.nothing(1.0)


async def test_a_target_that_stops_being_shared_closes_its_page_socket(
    sockets, police_liaison, customs_analyst, customs_target, world
):
    from apps.targeting import services
    from apps.targeting.models import TargetShare

    target = await db(customs_target)()
    await db(services.share_target)(actor=customs_analyst, target=target, agency=world.police)
    page = await sockets(f"/ws/targets/{target.pk}/presence/", police_liaison)
    assert (await page.receive())["kind"] == "presence.changed"
    await db(TargetShare.objects.filter(target=target).delete)()
    await db(services.claim_target)(actor=customs_analyst, target=target)  # any change to the target
    assert await page.receive() == {"kind": "target.removed", "seq": 2, "target": target.pk}
    assert await page.wait_closed() == 4404

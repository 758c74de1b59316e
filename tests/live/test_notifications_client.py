"""Personal notifications: who is told (socket ``ws/notifications/``) and what the list says (``/live/notifications/``).

Each change is made through the real services, after commit, and every recipient is checked twice: the
socket forwards an event only to those who may see its target now, and the list the browser then fetches
is drawn from what the person may see. Those who may not see it get neither.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from channels.db import database_sync_to_async
from django.test import Client
from django.utils import timezone

from apps.agencies.models import Membership
from apps.agencies.roles import Role
from apps.frontline import services as frontline
from apps.frontline.services import GoodsLine, ResultInput
from apps.live import notifications
from apps.targeting import services
from apps.targeting.models import TargetShare, TargetState
from tests.factories import member
from tests.live.test_consumers import inject

pytestmark = [pytest.mark.django_db(transaction=True)]
db = database_sync_to_async


def listed(user) -> str:
    """The list as the person's browser fetches it."""
    client = Client()
    client.force_login(user)
    response = client.get("/live/notifications/")
    assert response.status_code == 200
    return response.content.decode()


def _seizure() -> ResultInput:
    now = timezone.now()
    return ResultInput(
        idempotency_key=uuid.uuid4(),
        method="physical",
        outcome="seizure",
        started_at=now - timedelta(minutes=10),
        ended_at=now - timedelta(minutes=1),
        goods=[GoodsLine(kind="cocaine", quantity=Decimal("1234.5"), unit="kg")],
    )


@pytest.fixture
def heathrow_officer(world):
    return member("hana", world.customs, Role.FRONTLINE, ports=[world.port_b])


@pytest.fixture
def police_at_felixstowe(world):
    """A police liaison posted at Felixstowe: the right port, the wrong agency."""
    return member("pete", world.police, Role.LIAISON, ports=[world.port_a])


# ------------------------------------------------------------------------------------ instructions


async def test_an_instruction_for_port_a_reaches_port_a_officers_only(
    sockets, port_officer, heathrow_officer, police_at_felixstowe, customs_analyst, customs_supervisor,
    customs_target,
):  # fmt: skip
    target = await db(customs_target)(state=TargetState.APPROVED)
    felixstowe = await sockets("/ws/notifications/", port_officer)
    heathrow = await sockets("/ws/notifications/", heathrow_officer)
    police = await sockets("/ws/notifications/", police_at_felixstowe)
    analyst = await sockets("/ws/notifications/", customs_analyst)
    instruction = await db(services.dispatch_target)(
        actor=customs_supervisor, target=target, method="physical", instruction="Open the reefer"
    )
    assert await felixstowe.receive() == {
        "kind": "instruction.dispatched", "seq": 1, "target": target.pk, "instruction": instruction.pk
    }  # fmt: skip
    assert await heathrow.nothing(0.5)
    assert await police.nothing(0.3)  # on the port's group, but the target is not shared with the police
    assert await analyst.nothing(0.3)

    # The list each browser then fetches says the same.
    mine = await db(listed)(port_officer)
    assert f"New instruction {target.reference}" in mine
    assert f'href="/port/instructions/{instruction.pk}/"' in mine
    assert 'data-unread="1"' in mine
    assert "Open the reefer" not in mine  # what to look for is read on the instruction, not in a toast
    for other in (heathrow_officer, police_at_felixstowe, customs_analyst):
        assert target.reference not in await db(listed)(other)


async def test_an_officer_moved_to_another_port_is_no_longer_told_of_the_old_one(
    sockets, port_officer, customs_supervisor, customs_target, world
):
    target = await db(customs_target)(state=TargetState.APPROVED)
    tablet = await sockets("/ws/notifications/", port_officer)

    def move() -> None:
        Membership.objects.get(user=port_officer).ports.set([world.port_b])

    await db(move)()
    assert await tablet.receive() == {"kind": "resync", "seq": 1, "reason": "membership"}
    await db(services.dispatch_target)(
        actor=customs_supervisor, target=target, method="scan", instruction="Scan the trailer"
    )
    # Even a stray event on the old port's group is checked against what he may see now.
    await inject("port-GBFXT", target.pk, event="instruction.dispatched")
    got = []
    while not await tablet.nothing(1.0):
        got.append(await tablet.receive())
    # ``ports.set`` removes then adds: a second "membership" resync may follow; nothing else may.
    assert [m for m in got if m["kind"] != "resync"] == [], got
    assert target.reference not in await db(listed)(port_officer)


# ------------------------------------------------------------------------------------ mentions


async def test_a_mention_reaches_only_the_mentioned_person_who_may_see_the_target(
    sockets, customs_analyst, customs_supervisor, port_officer, police_liaison, outsider, customs_target
):
    target = await db(customs_target)(state=TargetState.NOMINATED)
    bob = await sockets("/ws/notifications/", customs_supervisor)
    oscar = await sockets("/ws/notifications/", port_officer)  # his agency, but not yet his target
    paula = await sockets("/ws/notifications/", police_liaison)  # not shared with the police
    alice = await sockets("/ws/notifications/", customs_analyst)
    await db(services.add_comment)(
        actor=customs_analyst,
        target=target,
        body="@bob please approve; @oscar @paula @charlie for information",
    )
    assert await bob.receive() == {"kind": "target.changed", "seq": 1, "target": target.pk}
    assert await oscar.nothing(0.5)
    assert await paula.nothing(0.3)
    assert await alice.nothing(0.3)  # the author is not told of her own words

    told = await db(listed)(customs_supervisor)
    assert "Test Alice mentioned you" in told and target.reference in told
    assert "please approve" not in told  # the comment is read on the target page
    for other in (port_officer, police_liaison, outsider, customs_analyst):
        assert "mentioned you" not in await db(listed)(other)


async def test_a_mention_stops_when_the_share_is_withdrawn(
    sockets, customs_analyst, police_liaison, customs_target, world
):
    target = await db(customs_target)(state=TargetState.NOMINATED)
    await db(services.share_target)(actor=customs_analyst, target=target, agency=world.police)
    paula = await sockets("/ws/notifications/", police_liaison)
    await db(services.add_comment)(
        actor=customs_analyst, target=target, body="@paula do you know this consignee?"
    )
    assert await paula.receive() == {"kind": "target.changed", "seq": 1, "target": target.pk}
    assert "mentioned you" in await db(listed)(police_liaison)

    await db(TargetShare.objects.filter(target=target, agency=world.police).delete)()
    await inject(f"user-{police_liaison.pk}", target.pk)  # a late or stray event about it
    assert await paula.nothing(1.0)
    assert "mentioned you" not in await db(listed)(police_liaison)


# ------------------------------------------------------------------------------------ corrections


async def test_a_corrected_result_reaches_the_analyst_and_the_supervisors_not_the_others(
    sockets, customs_analyst, customs_supervisor, port_officer, police_liaison, customs_target, world
):
    other_supervisor = await db(member)("sue", world.customs, Role.SUPERVISOR)
    target = await db(customs_target)(state=TargetState.APPROVED, nominated_by=customs_analyst)
    instruction = await db(services.dispatch_target)(
        actor=customs_supervisor, target=target, method="physical", instruction="Open it"
    )
    recorded = await db(frontline.record_examination)(
        actor=port_officer, instruction=instruction, data=_seizure()
    )
    analyst = await sockets("/ws/notifications/", customs_analyst)
    sue = await sockets("/ws/notifications/", other_supervisor)
    bob = await sockets("/ws/notifications/", customs_supervisor)
    police = await sockets("/ws/notifications/", police_liaison)

    await db(frontline.correct_examination)(
        actor=customs_supervisor,
        result=recorded.result,
        data=ResultInput(idempotency_key=uuid.uuid4(), method="physical", outcome="no_finding"),
        reason="The powder tested negative",
    )
    assert await analyst.receive() == {"kind": "examination.corrected", "seq": 1, "target": target.pk}
    assert await sue.receive() == {"kind": "examination.corrected", "seq": 1, "target": target.pk}
    assert await bob.nothing(0.5)  # he made the correction
    assert await police.nothing(0.3)

    told = await db(listed)(customs_analyst)
    assert f"Result corrected on {target.reference}" in told and "Test Bob corrected" in told
    assert "tested negative" not in told  # the reason is read with the result, on the target page
    assert "Result corrected" in await db(listed)(port_officer)  # his result was corrected
    assert "Result corrected" not in await db(listed)(police_liaison)


async def test_an_open_target_page_is_told_of_a_correction(
    sockets, customs_analyst, customs_supervisor, port_officer, customs_target
):
    target = await db(customs_target)(state=TargetState.APPROVED)
    instruction = await db(services.dispatch_target)(
        actor=customs_supervisor, target=target, method="physical", instruction="Open it"
    )
    recorded = await db(frontline.record_examination)(
        actor=port_officer, instruction=instruction, data=_seizure()
    )
    page = await sockets(f"/ws/targets/{target.pk}/presence/", customs_analyst)
    assert (await page.receive())["kind"] == "presence.changed"  # its own arrival on the page
    await db(frontline.correct_examination)(
        actor=customs_supervisor,
        result=recorded.result,
        data=ResultInput(idempotency_key=uuid.uuid4(), method="physical", outcome="irregularity"),
        reason="Quantity re-weighed",
    )
    message = await page.receive()
    assert message["kind"] == "target.changed" and message["target"] == target.pk


# ------------------------------------------------------------------------------------ the list itself


def test_the_unread_count_falls_to_zero_once_the_list_is_opened(client_for, port_officer, world):
    from apps.targeting.models import Instruction
    from tests.targeting.factories import SubjectFactory, TargetFactory

    target = TargetFactory(
        subject=SubjectFactory(source__owner_agency=world.customs, port=world.port_a),
        state=TargetState.DISPATCHED,
    )
    Instruction.objects.create(
        target=target,
        port=world.port_a,
        method="dog",
        instruction="Dog at the ramp",
        dispatched_by=port_officer,
    )
    client = client_for(port_officer)
    assert 'data-unread="1"' in client.get("/live/notifications/").content.decode()
    assert client.post("/live/notifications/seen/").status_code == 204
    page = client.get("/live/notifications/").content.decode()
    assert 'data-unread="0"' in page and target.reference in page
    assert [n.unread for n in notifications.feed(port_officer)] == [False]


def test_the_script_is_on_every_signed_in_page_and_the_list_needs_a_session(
    client_for, customs_analyst, client
):
    assert client.get("/live/notifications/").status_code == 302
    page = client_for(customs_analyst).get("/").content.decode()
    assert "js/notifications.js" in page and 'data-list="/live/notifications/"' in page

"""Board, presence and notification sockets: who may subscribe, and what each event may reveal."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer

from apps.agencies.models import Membership
from apps.core.events import current_sequences, next_sequence
from apps.targeting import services
from apps.targeting.models import TargetShare, TargetState
from tests.live.conftest import WAIT

pytestmark = [pytest.mark.django_db(transaction=True)]
db = database_sync_to_async


async def inject(group: str, target: int, *, seq: int | None = None, event: str = "target.changed") -> int:
    """Send an event to ``group`` as a (possibly wrong) publisher would; returns its sequence number."""
    if seq is None:
        seq = await db(next_sequence)(group)
    await get_channel_layer().group_send(
        group,
        {"type": "live.event", "event": event, "target": target, "state": "nominated", "version": 1,
         "group": group, "seq": seq},
    )  # fmt: skip
    return seq


# ------------------------------------------------------------------------------------ subscribing


async def test_a_member_subscribes_to_the_floor(sockets, customs_analyst):
    socket = await sockets("/ws/boards/floor/", customs_analyst)
    assert socket.hello == {"kind": "hello", "seq": 0, "stream": "floor"}


async def test_without_a_session_the_socket_is_closed_4401(sockets, world):
    socket = await sockets("/ws/boards/floor/", None)
    assert socket.hello is None and socket.close_code == 4401


async def test_a_foreign_origin_is_refused(sockets, customs_analyst):
    socket = await sockets("/ws/boards/floor/", customs_analyst, origin=b"https://evil.example")
    assert socket.connected is False and socket.hello is None
    missing = await sockets("/ws/boards/floor/", customs_analyst, origin=None)
    assert missing.connected is False


async def test_a_role_without_boards_is_refused(sockets, world):
    from apps.agencies.roles import Role
    from tests.factories import member

    auditor = await db(member)("audrey", world.customs, Role.AUDITOR)
    socket = await sockets("/ws/boards/floor/", auditor)
    assert socket.hello is None and socket.close_code == 4403


async def test_frontline_officers_only_get_their_own_ports(sockets, port_officer, world):
    own = await sockets("/ws/boards/port-GBFXT/", port_officer)
    assert own.hello["stream"] == "port-GBFXT"
    other = await sockets("/ws/boards/port-GBLHR/", port_officer)
    assert other.hello is None and other.close_code == 4403
    unknown = await sockets("/ws/boards/port-XXNOP/", port_officer)
    assert unknown.close_code == 4404


async def test_national_staff_open_any_port_board(sockets, customs_analyst, world):
    socket = await sockets("/ws/boards/port-GBLHR/", customs_analyst)
    assert socket.hello["stream"] == "port-GBLHR"


async def test_an_operation_board_is_not_found_for_an_agency_outside_it(
    sockets, customs_analyst, outsider, operation
):
    inside = await sockets(f"/ws/boards/operation-{operation.pk}/", customs_analyst)
    assert inside.hello["stream"] == f"operation-{operation.pk}"
    outside = await sockets(f"/ws/boards/operation-{operation.pk}/", outsider)
    assert outside.hello is None and outside.close_code == 4404
    missing = await sockets("/ws/boards/operation-999999/", customs_analyst)
    assert missing.close_code == 4404


# ------------------------------------------------------------------------------------ per event


async def test_an_approval_reaches_the_floor_as_ids_only(
    sockets, customs_analyst, customs_supervisor, customs_target
):
    target = await db(customs_target)(state=TargetState.AWAITING_APPROVAL)
    socket = await sockets("/ws/boards/floor/", customs_analyst)
    await db(services.approve_target)(actor=customs_supervisor, target=target, reason="Strong hit")
    message = await socket.receive()
    assert message == {"kind": "target.changed", "seq": 1, "target": target.pk}


async def test_a_police_liaison_never_receives_an_unshared_customs_target(
    sockets, police_liaison, customs_supervisor, customs_target, world
):
    target = await db(customs_target)(state=TargetState.AWAITING_APPROVAL)
    floor = await sockets("/ws/boards/floor/", police_liaison)
    port = await sockets("/ws/boards/port-GBFXT/", police_liaison)
    await db(services.approve_target)(actor=customs_supervisor, target=target, reason="Strong hit")
    # Even a publisher that wrongly sends the customs target to the police's own groups reveals nothing.
    await inject(f"agency-{world.police.pk}", target.pk)
    await inject("port-GBFXT", target.pk)
    assert await floor.nothing(1.0)
    assert await port.nothing(0.3)


async def test_shared_then_unshared_the_target_appears_then_is_removed(
    sockets, police_liaison, customs_analyst, customs_target, world
):
    target = await db(customs_target)(state=TargetState.NOMINATED)
    floor = await sockets("/ws/boards/floor/", police_liaison)
    await db(services.share_target)(actor=customs_analyst, target=target, agency=world.police)
    assert await floor.receive() == {"kind": "target.changed", "seq": 1, "target": target.pk}
    # Unsharing (as a service would: tell the groups that saw it before the change).
    await db(TargetShare.objects.filter(target=target, agency=world.police).delete)()
    await inject(f"agency-{world.police.pk}", target.pk)
    assert await floor.receive() == {"kind": "target.removed", "seq": 2, "target": target.pk}
    # From now on, nothing about it: not even a removal.
    await inject(f"agency-{world.police.pk}", target.pk)
    assert await floor.nothing(1.0)


async def test_sockets_of_one_class_share_one_check_and_classes_stay_apart(
    sockets, customs_analyst, police_liaison, customs_target, world, monkeypatch
):
    """Three customs floors in one process ask the database once for an event; the police floor asks
    for itself, gets "no" for an unshared customs target, and is told nothing."""
    from apps.agencies.roles import Role
    from apps.live import consumers
    from tests.factories import member

    asked: list[tuple] = []
    real_check = consumers.BoardConsumer.check_event

    async def counting_check(self, message):
        if message.get("target") == target.pk:  # Redis is shared: count only this test's events
            asked.append(self.visibility)
        return await real_check(self, message)

    monkeypatch.setattr(consumers.BoardConsumer, "check_event", counting_check)
    target = await db(customs_target)(state=TargetState.AWAITING_APPROVAL)
    carol = await db(member)("carol", world.customs, Role.ANALYST)
    floors = [await sockets("/ws/boards/floor/", user) for user in (customs_analyst, customs_analyst, carol)]
    police = await sockets("/ws/boards/floor/", police_liaison)
    await inject(f"agency-{world.customs.pk}", target.pk)
    for floor in floors:
        assert await floor.receive() == {"kind": "target.changed", "seq": 1, "target": target.pk}
    await inject(f"agency-{world.police.pk}", target.pk)  # a wrong publisher, as above
    assert await police.nothing(0.6)
    assert len(asked) == 2 and len(set(asked)) == 2


async def test_a_frontline_officer_sees_only_work_dispatched_to_his_port(
    sockets, port_officer, customs_target, world
):
    nominated = await db(customs_target)(state=TargetState.NOMINATED)
    dispatched = await db(customs_target)(state=TargetState.DISPATCHED)
    board = await sockets("/ws/boards/port-GBFXT/", port_officer)
    await inject("port-GBFXT", nominated.pk)
    await inject("port-GBFXT", dispatched.pk)
    assert await board.receive() == {"kind": "target.changed", "seq": 1, "target": dispatched.pk}
    assert await board.nothing(0.6)


async def test_a_queue_board_forwards_only_its_risk_area(sockets, customs_analyst, customs_target, world):
    narcotics = await db(customs_target)(risk_area="narcotics")
    revenue = await db(customs_target)(risk_area="revenue")
    queue = await sockets("/ws/boards/queue/?risk_area=revenue&port=GBFXT", customs_analyst)
    await inject(f"agency-{world.customs.pk}", narcotics.pk)
    await inject(f"agency-{world.customs.pk}", revenue.pk)
    assert await queue.receive() == {"kind": "target.changed", "seq": 1, "target": revenue.pk}
    assert await queue.nothing(0.5)


async def test_an_operation_board_forwards_only_the_operations_targets(
    sockets, customs_analyst, customs_target, operation, world
):
    inside = await db(customs_target)(operation=operation)
    outside = await db(customs_target)()
    board = await sockets(f"/ws/boards/operation-{operation.pk}/", customs_analyst)
    await inject(f"agency-{world.customs.pk}", outside.pk)
    await inject(f"agency-{world.customs.pk}", inside.pk)
    assert await board.receive() == {"kind": "target.changed", "seq": 1, "target": inside.pk}


async def test_a_new_instruction_reaches_the_officers_tablet_at_once(
    sockets, port_officer, customs_supervisor, customs_target, world
):
    from apps.agencies.roles import Role
    from tests.factories import member

    elsewhere = await db(member)("olga", world.customs, Role.FRONTLINE, ports=[world.port_b])
    target = await db(customs_target)(state=TargetState.APPROVED)
    tablet = await sockets("/ws/notifications/", port_officer)
    other = await sockets("/ws/notifications/", elsewhere)
    instruction = await db(services.dispatch_target)(
        actor=customs_supervisor, target=target, method="physical", instruction="Open the container"
    )
    message = await tablet.receive()
    assert message == {
        "kind": "instruction.dispatched",
        "seq": 1,
        "target": target.pk,
        "instruction": instruction.pk,
    }
    assert await tablet.nothing(0.3)  # the port's target.changed is for boards, not the tablet banner
    assert await other.nothing(0.3)


# ------------------------------------------------------------------------------------ sequence numbers


async def test_a_gap_in_a_groups_sequence_makes_the_board_resync(
    sockets, customs_analyst, customs_target, world
):
    target = await db(customs_target)()
    board = await sockets("/ws/boards/floor/", customs_analyst)
    group = f"agency-{world.customs.pk}"
    start = (await db(current_sequences)([group]))[group]
    await inject(group, target.pk, seq=start + 1)
    assert (await board.receive())["seq"] == 1
    await inject(group, target.pk, seq=start + 3)  # start + 2 was lost on the way
    assert await board.receive() == {"kind": "resync", "seq": 2, "reason": "gap"}


async def test_a_lost_message_is_noticed_by_the_watchdog(
    sockets, customs_analyst, world, quick_watchdog, monkeypatch
):
    from apps.live.consumers import sequences as consumers

    monkeypatch.setattr(consumers, "LOST_AFTER_SECONDS", 0.3)
    board = await sockets("/ws/boards/floor/", customs_analyst)
    await db(next_sequence)(f"agency-{world.customs.pk}")  # numbered, never delivered
    message = await board.receive(timeout=WAIT)
    assert message == {"kind": "resync", "seq": 1, "reason": "lost"}


async def test_a_counter_reset_after_a_redis_restart_makes_the_board_resync(
    sockets, customs_analyst, world, quick_watchdog
):
    from django.core.cache import cache

    group = f"agency-{world.customs.pk}"
    for _ in range(3):
        await db(next_sequence)(group)
    board = await sockets("/ws/boards/floor/", customs_analyst)
    await db(cache.delete)(f"live:seq:{group}")
    assert await board.receive() == {"kind": "resync", "seq": 1, "reason": "reset"}


# ------------------------------------------------------------------------------------ membership changes


async def test_moving_an_officer_to_another_port_closes_his_old_port_board(sockets, port_officer, world):
    board = await sockets("/ws/boards/port-GBFXT/", port_officer)

    def move() -> None:
        Membership.objects.get(user=port_officer).ports.set([world.port_b])

    await db(move)()
    assert await board.wait_closed() == 4403


async def test_a_membership_change_resyncs_the_floor(sockets, customs_analyst):
    board = await sockets("/ws/boards/floor/", customs_analyst)

    def retitle() -> None:
        membership = Membership.objects.get(user=customs_analyst)
        membership.title = "Senior analyst"
        membership.save()

    await db(retitle)()
    assert await board.receive() == {"kind": "resync", "seq": 1, "reason": "membership"}


async def test_a_liaison_moved_to_another_agency_stops_receiving_its_old_agencys_work(
    sockets, police_liaison, customs_analyst, customs_target, world
):
    target = await db(customs_target)()
    await db(services.share_target)(actor=customs_analyst, target=target, agency=world.police)
    board = await sockets("/ws/boards/floor/", police_liaison)

    def move() -> None:
        membership = Membership.objects.get(user=police_liaison)
        membership.agency = world.bio
        membership.save()

    await db(move)()
    # The resync redraws the board from scratch (without the target); no event about it follows.
    assert await board.receive() == {"kind": "resync", "seq": 1, "reason": "membership"}
    await inject(f"agency-{world.police.pk}", target.pk)
    await inject(f"agency-{world.bio.pk}", target.pk)
    assert await board.nothing(1.0)


# ------------------------------------------------------------------------------------ redis


@pytest.mark.redis
async def test_through_redis_two_layers_share_groups_and_sequences(
    sockets, customs_analyst, customs_supervisor, customs_target
):
    """With the Redis layer, a change published by one process reaches a socket held by another."""
    from channels.layers import channel_layers

    target = await db(customs_target)(state=TargetState.AWAITING_APPROVAL)
    board = await sockets("/ws/boards/floor/", customs_analyst)
    channel_layers.backends.clear()  # the publisher gets its own layer object, like another process
    await db(services.approve_target)(actor=customs_supervisor, target=target, reason="ok")
    assert await board.receive() == {"kind": "target.changed", "seq": 1, "target": target.pk}


@pytest.mark.redis
def test_the_layers_read_timeout_outlasts_its_blocking_pop():
    """channels_redis waits up to ``brpop_timeout`` (5 s) in BZPOPMIN; redis-py 8 gives up reading after
    5 s by default. Equal timeouts race, and a lost race killed whichever socket was reading. No read
    timeout (``None``) waits for the server, which answers within ``brpop_timeout``."""
    from channels_redis.core import RedisChannelLayer

    layer = get_channel_layer()
    pool = layer.create_pool(0)
    redis_default = 5
    read_timeout = pool.connection_kwargs.get("socket_timeout", redis_default)
    assert read_timeout is None or read_timeout > RedisChannelLayer.brpop_timeout

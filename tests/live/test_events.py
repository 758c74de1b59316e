"""Every event type's schema: what services put on the layer, and what a browser is sent.

Layer messages (``publish_on_commit``) carry ``type``, ``event``, ``group``, ``seq`` and the event's ids;
browser messages carry only ``kind``, ``seq`` and ids. Each event type the services publish is checked
on both sides here; the consumers' tests check the same shapes in their flows.
"""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.db import transaction

from apps.core.events import EVENT_TYPES, EVENTS, publish_many_on_commit, publish_on_commit
from apps.targeting import services
from apps.targeting.models import TargetState
from tests.live.conftest import WAIT

pytestmark = [pytest.mark.django_db(transaction=True)]
db = database_sync_to_async

BROWSER_SCHEMAS: dict[str, set[str]] = {
    "hello": {"kind", "seq", "stream"},
    "target.created": {"kind", "seq", "target"},
    "target.changed": {"kind", "seq", "target"},
    "target.removed": {"kind", "seq", "target"},
    "presence.changed": {"kind", "seq", "target"},
    "instruction.dispatched": {"kind", "seq", "target", "instruction"},
    "examination.corrected": {"kind", "seq", "target"},
    "rule.changed": {"kind", "seq", "rule"},
    "resync": {"kind", "seq", "reason"},
}


class Tap:
    """A raw channel added to groups, to read exactly what publishers put on the layer."""

    def __init__(self) -> None:
        self.layer = get_channel_layer()

    async def join(self, *groups: str) -> None:
        self.channel = await self.layer.new_channel()
        for group in groups:
            await self.layer.group_add(group, self.channel)

    async def next(self) -> dict:
        import asyncio

        return await asyncio.wait_for(self.layer.receive(self.channel), WAIT)


def check_layer_message(message: dict, group: str) -> None:
    assert message["type"] == "live.event"
    assert message["group"] == group
    assert isinstance(message["seq"], int) and message["seq"] >= 1
    keys = set(message) - {"type", "event", "group", "seq"}
    assert keys == EVENT_TYPES[message["event"]], message
    assert all(isinstance(message[k], int) for k in keys - {"state"})
    assert message.get("state", "nominated") in TargetState.values


async def test_target_created_on_the_layer_and_in_the_browser(sockets, customs_analyst, world):
    from tests.targeting.factories import SubjectFactory

    subject = await db(SubjectFactory)(source__owner_agency=world.customs, port=world.port_a)
    tap = Tap()
    await tap.join(f"agency-{world.customs.pk}")
    board = await sockets("/ws/boards/floor/", customs_analyst)
    target = await db(services.nominate_target)(
        actor=customs_analyst, subject=subject, risk_area="narcotics", reasons=["Route"]
    )
    check_layer_message(await tap.next(), f"agency-{world.customs.pk}")
    message = await board.receive()
    assert set(message) == BROWSER_SCHEMAS["target.created"]
    assert message == {"kind": "target.created", "seq": 1, "target": target.pk}


async def test_target_changed_on_the_layer(customs_supervisor, customs_target, world):
    target = await db(customs_target)(state=TargetState.AWAITING_APPROVAL)
    tap = Tap()
    await tap.join(f"agency-{world.customs.pk}", f"port-{world.port_a.locode}", f"target-{target.pk}")
    await db(services.approve_target)(actor=customs_supervisor, target=target, reason="ok")
    groups = set()
    for _ in range(3):
        message = await tap.next()
        assert message["event"] == "target.changed" and message["target"] == target.pk
        check_layer_message(message, message["group"])
        groups.add(message["group"])
    assert groups == {f"agency-{world.customs.pk}", f"port-{world.port_a.locode}", f"target-{target.pk}"}


async def test_instruction_dispatched_on_the_layer(customs_supervisor, customs_target, world):
    target = await db(customs_target)(state=TargetState.APPROVED)
    tap = Tap()
    await tap.join(f"port-{world.port_a.locode}")
    instruction = await db(services.dispatch_target)(
        actor=customs_supervisor, target=target, method="dog", instruction="Dog check"
    )
    events = {}
    for _ in range(2):
        message = await tap.next()
        check_layer_message(message, f"port-{world.port_a.locode}")
        events[message["event"]] = message
    assert events["instruction.dispatched"]["instruction"] == instruction.pk


async def test_presence_changed_on_the_layer(sockets, customs_analyst, customs_target, world):
    target = await db(customs_target)()
    tap = Tap()
    await tap.join(f"agency-{world.customs.pk}")
    await sockets(f"/ws/targets/{target.pk}/presence/", customs_analyst)
    message = await tap.next()
    check_layer_message(message, f"agency-{world.customs.pk}")
    assert message["event"] == "presence.changed" and message["target"] == target.pk


async def test_sequence_numbers_rise_by_one_per_group_and_follow_commits(world):
    tap = Tap()
    await tap.join("port-TEST1")

    def publish_twice_and_roll_one_back() -> None:
        publish_on_commit("port-TEST1", "target.changed", target=1, state="nominated", version=1)
        try:
            with transaction.atomic():
                publish_on_commit("port-TEST1", "target.changed", target=2, state="nominated", version=1)
                raise RuntimeError("rolled back")
        except RuntimeError:
            pass
        publish_on_commit("port-TEST1", "target.changed", target=3, state="nominated", version=1)

    await db(publish_twice_and_roll_one_back)()
    first, second = await tap.next(), await tap.next()
    assert (first["target"], second["target"]) == (1, 3)  # the rolled-back change sent nothing
    assert second["seq"] == first["seq"] + 1


async def test_one_event_to_many_groups_is_numbered_per_group_and_follows_commits(world):
    """``publish_many_on_commit`` (a move's audience in one callback): the same messages and numbers as
    one ``publish_on_commit`` per group, and nothing of a rolled-back savepoint."""
    port, agency = Tap(), Tap()
    await port.join("port-TEST2")
    await agency.join("agency-TEST2")

    def publish() -> None:
        publish_on_commit("port-TEST2", "target.changed", target=1, state="nominated", version=1)
        try:
            with transaction.atomic():
                publish_many_on_commit(
                    ["port-TEST2", "agency-TEST2"], "target.changed", target=2, state="nominated", version=1
                )
                raise RuntimeError("rolled back")
        except RuntimeError:
            pass
        publish_many_on_commit(
            ["port-TEST2", "agency-TEST2"], "target.changed", target=3, state="approved", version=2
        )

    await db(publish)()
    first, second = await port.next(), await port.next()
    assert (first["target"], second["target"]) == (1, 3)  # the rolled-back change sent nothing
    assert second["seq"] == first["seq"] + 1
    check_layer_message(second, "port-TEST2")
    told = await agency.next()
    check_layer_message(told, "agency-TEST2")
    assert (told["target"], told["state"], told["version"]) == (3, "approved", 2)


def test_every_browser_kind_has_a_schema_here():
    """New kinds must be added to BROWSER_SCHEMAS (and the consumer docstring) with a test."""
    from apps.live import consumers

    for kind in BROWSER_SCHEMAS:
        assert kind.split(".")[0] in consumers.__doc__
    # Every kind the registry has a socket tell a browser (tests/live/test_registry.py sends each one).
    assert {kind for spec in EVENTS.values() for kind in spec.sockets.values()} <= set(BROWSER_SCHEMAS)

"""The event registry (``apps.core.events.EVENTS``): every registered type reaches a connected socket.

For each event type and each consumer the registry says forwards it, a socket of that consumer is opened
by someone who may see the event's object, the event is published with exactly its registered payload,
and the browser must be told the registered kind. A type added to the registry without a consumer that
forwards it, or a consumer this file cannot open, fails here; a type published without being registered
raises (``UnknownEvent``) in tests and under DEBUG.
"""

from __future__ import annotations

import logging
import uuid
from types import SimpleNamespace
from typing import Any

import pytest
from channels.db import database_sync_to_async

from apps.agencies.roles import Role
from apps.core.events import (
    BOARD,
    EVENTS,
    NOTIFICATIONS,
    PRESENCE,
    RULES,
    UnknownEvent,
    group_name,
    publish_on_commit,
    send_now,
)
from apps.targeting.models import Instruction, TargetState
from tests.factories import member
from tests.live.test_events import BROWSER_SCHEMAS

pytestmark = [pytest.mark.django_db(transaction=True)]
db = database_sync_to_async

PAIRS = [(event, socket) for event, spec in EVENTS.items() for socket in spec.sockets]


def _world_for_events(world, customs_analyst, customs_supervisor, port_officer, customs_target):
    """A dispatched customs target at GBFXT with its instruction, and a rule of the customs agency."""
    from tests.risk.conftest import write_rule

    target = customs_target(state=TargetState.DISPATCHED, port=world.port_a)
    instruction = Instruction.objects.create(
        target=target,
        port=world.port_a,
        method="dog",
        instruction="Dog check",
        dispatched_by=customs_supervisor,
    )
    risk_manager = member("rita", world.customs, Role.RISK_MANAGER)
    rule = write_rule(risk_manager, 'hs_code prefix "0901"')
    return SimpleNamespace(
        target=target,
        instruction=instruction,
        rule=rule,
        analyst=customs_analyst,
        officer=port_officer,
        risk_manager=risk_manager,
    )


async def _open(socket: str, event: str, sockets: Any, w: SimpleNamespace) -> tuple[Any, str]:
    """Open ``socket``'s consumer as someone who may see the event's object; return it and a group it hears."""
    port = group_name("port", "GBFXT")
    if socket == BOARD:
        return await sockets("/ws/boards/port-GBFXT/", w.officer), port
    if socket == PRESENCE:
        page = await sockets(f"/ws/targets/{w.target.pk}/presence/", w.analyst)
        assert (await page.receive())["kind"] == "presence.changed"  # its own arrival on the page
        return page, group_name("target", w.target.pk)
    if socket == NOTIFICATIONS:
        if event == "instruction.dispatched":
            return await sockets("/ws/notifications/", w.officer), port
        return await sockets("/ws/notifications/", w.analyst), group_name("user", w.analyst.pk)
    if socket == RULES:
        return await sockets("/ws/rules/", w.risk_manager), group_name("agency", w.rule.owner_agency_id)
    raise AssertionError(f"no way to open the {socket!r} socket here: add one for the registry's new socket")


def _payload(event: str, w: SimpleNamespace) -> dict[str, Any]:
    """Exactly the registered keys, with ids the receiver may see."""
    by_rule = event.startswith("rule.")
    values = {
        "target": w.target.pk,
        "instruction": w.instruction.pk,
        "result": 1,
        "rule": w.rule.pk,
        "state": w.rule.state if by_rule else w.target.state,
        "version": w.target.version,
    }
    return {key: values[key] for key in EVENTS[event].payload}


def test_every_registered_type_is_forwarded_by_some_socket_as_a_known_kind():
    for event, spec in EVENTS.items():
        assert spec.sockets, f"{event} is registered but no socket forwards it"
        assert spec.page and spec.sent_to, event
        for kind in spec.sockets.values():
            assert kind in BROWSER_SCHEMAS, f"{event} is told as {kind!r}, which has no browser schema"


@pytest.mark.parametrize(("event", "socket"), PAIRS, ids=[f"{e}->{s}" for e, s in PAIRS])
async def test_a_published_event_reaches_a_connected_socket(
    event, socket, sockets, world, customs_analyst, customs_supervisor, port_officer, customs_target
):
    w = await db(_world_for_events)(world, customs_analyst, customs_supervisor, port_officer, customs_target)
    opened, group = await _open(socket, event, sockets, w)
    payload = _payload(event, w)
    await db(publish_on_commit)(group, event, **payload)
    message = await opened.receive()
    kind = EVENTS[event].sockets[socket]
    assert message is not None and message["kind"] == kind, message
    assert set(message) == BROWSER_SCHEMAS[kind], message
    for key in set(message) - {"kind", "seq"}:
        assert message[key] == payload[key], message


async def test_the_rules_socket_needs_a_role_that_reads_rules_and_checks_each_rule(
    sockets, world, port_officer, customs_analyst, outsider
):
    from tests.risk.conftest import write_rule

    refused = await sockets("/ws/rules/", port_officer)
    assert refused.hello is None and refused.close_code == 4403
    foreign = await db(write_rule)(
        await db(member)("bruno", world.bio, Role.RISK_MANAGER), 'hs_code prefix "0901"'
    )
    rules = await sockets("/ws/rules/", customs_analyst)
    assert rules.hello == {"kind": "hello", "seq": 0, "stream": "rules"}
    # A wrong publisher sends another agency's rule to the customs group: not visible, not told.
    await db(publish_on_commit)(
        group_name("agency", world.customs.pk), "rule.changed", rule=foreign.pk, state=foreign.state
    )
    # Target events on the same group are not for the rules page.
    await db(publish_on_commit)(
        group_name("agency", world.customs.pk), "target.changed", target=1, state="nominated", version=1
    )
    assert await rules.nothing(0.6)


async def test_a_rule_written_through_the_services_reaches_the_rules_page(sockets, world, customs_analyst):
    from tests.risk.conftest import write_rule

    rita = await db(member)("rita", world.customs, Role.RISK_MANAGER)
    rules = await sockets("/ws/rules/", customs_analyst)
    rule = await db(write_rule)(rita, 'hs_code prefix "0901"')
    assert await rules.receive() == {"kind": "rule.changed", "seq": 1, "rule": rule.pk}


async def test_a_corrected_result_redraws_the_boards(
    sockets, world, customs_analyst, customs_supervisor, port_officer, customs_target
):
    """A correction moves no state but may change the findings: boards are told ``target.changed``."""
    from apps.frontline import services as frontline
    from apps.frontline.services import ResultInput
    from apps.targeting import services

    target = await db(customs_target)(state=TargetState.APPROVED)
    instruction = await db(services.dispatch_target)(
        actor=customs_supervisor, target=target, method="physical", instruction="Open it"
    )
    recorded = await db(frontline.record_examination)(
        actor=port_officer,
        instruction=instruction,
        data=ResultInput(idempotency_key=uuid.uuid4(), method="physical", outcome="no_finding"),
    )
    floor = await sockets("/ws/boards/floor/", customs_analyst)
    port = await sockets("/ws/boards/port-GBFXT/", port_officer)
    await db(frontline.correct_examination)(
        actor=customs_supervisor,
        result=recorded.result,
        data=ResultInput(idempotency_key=uuid.uuid4(), method="physical", outcome="irregularity"),
        reason="Paperwork found wrong after all",
    )
    for board in (floor, port):
        assert await board.receive() == {"kind": "target.changed", "seq": 1, "target": target.pk}


async def test_presence_reaches_the_port_board_of_the_targets_port(
    sockets, customs_analyst, port_officer, customs_target
):
    """Presence is told to the target's whole audience, its port included: the port board shows it too."""
    target = await db(customs_target)(state=TargetState.DISPATCHED)
    board = await sockets("/ws/boards/port-GBFXT/", port_officer)
    await sockets(f"/ws/targets/{target.pk}/presence/", customs_analyst)
    assert await board.receive() == {"kind": "presence.changed", "seq": 1, "target": target.pk}


def test_an_unregistered_type_or_payload_raises_in_tests():
    with pytest.raises(UnknownEvent, match="not registered"):
        publish_on_commit("agency-1", "target.exploded", target=1)
    with pytest.raises(UnknownEvent, match="registered"):
        publish_on_commit("agency-1", "target.changed", target=1, state="nominated")  # no version
    with pytest.raises(UnknownEvent):
        send_now("agency-1", "rule.deleted", rule=1)


def test_outside_debug_and_tests_an_unregistered_type_is_logged_and_sent(settings, caplog):
    settings.LIVE_STRICT_EVENTS = False
    with caplog.at_level(logging.ERROR, logger="apps.core.events"):
        publish_on_commit("agency-1", "target.exploded", target=1)
    assert "target.exploded" in caplog.text and "not registered" in caplog.text

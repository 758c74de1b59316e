"""The security crawl's sockets: every person subscribes to every board and target stream it may not see
(refused), and changes made through the targeting services reach no one with a withheld string or the id
of a target the receiver may not see.

The world is the crawl's (``seed.build_world``), built in a committed database so that events, sent
after commit, are delivered.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.layers import channel_layers

from apps.agencies.operations import membership_of
from apps.live import watch
from apps.targeting.models import JointOperation, Target
from tests.live.conftest import Socket, session_for
from tests.security.seed import MISSING_ID, SENTINELS, World, build_world

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("worker_connections_closed")]
db = database_sync_to_async


@pytest.fixture
def live_world(settings, tmp_path) -> World:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = str(tmp_path)
    channel_layers.backends.clear()
    watch.clear_shared_checks()
    yield build_world()
    channel_layers.backends.clear()
    watch.clear_shared_checks()


def _refusals(world: World) -> list[tuple[str, str]]:
    """``(username, socket path)`` for every stream each person may not open, computed from scoping."""
    out: list[tuple[str, str]] = []
    targets = list(Target.objects.values_list("pk", flat=True))
    operations = list(JointOperation.objects.values_list("pk", flat=True))
    for username, user in world.users.items():
        membership = membership_of(user)
        own_ports = set(membership.ports.values_list("locode", flat=True))
        if own_ports:  # a role narrowed to its ports: every other port's board is refused
            out += [
                (username, f"/ws/boards/port-{locode}/") for locode in world.ports if locode not in own_ports
            ]
        seen_ops = set(JointOperation.objects.visible_to(user).values_list("pk", flat=True))
        out += [(username, f"/ws/boards/operation-{pk}/") for pk in operations if pk not in seen_ops]
        out.append((username, f"/ws/boards/operation-{MISSING_ID}/"))
        seen = set(Target.objects.visible_to(user).values_list("pk", flat=True))
        out += [(username, f"/ws/targets/{pk}/presence/") for pk in targets if pk not in seen]
        out.append((username, f"/ws/targets/{MISSING_ID}/presence/"))
    return out


async def _open(path: str, key: str) -> Socket:
    socket = Socket(path, key)
    socket.hello = await socket.open()
    return socket


async def test_every_stream_a_person_may_not_see_is_refused(live_world):
    refusals = await db(_refusals)(live_world)
    keys = {u: await db(session_for)(user) for u, user in live_world.users.items()}
    opened: list[str] = []
    for username, path in refusals:
        socket = await _open(path, keys[username])
        if socket.hello is not None:
            opened.append(f"{username} opened {path}: {socket.hello}")
        with contextlib.suppress(BaseException):  # already closed by the server
            await socket.close()
    assert not opened, "\n".join(opened)


def _streams(world: World) -> dict[str, list[str]]:
    """What each person may open: the floor, his ports' boards, operations and every visible target."""
    out: dict[str, list[str]] = {}
    for username, user in world.users.items():
        membership = membership_of(user)
        own = list(membership.ports.values_list("locode", flat=True)) or list(world.ports)
        paths = ["/ws/boards/floor/", "/ws/notifications/", *[f"/ws/boards/port-{p}/" for p in own]]
        paths += [
            f"/ws/boards/operation-{pk}/"
            for pk in JointOperation.objects.visible_to(user).values_list("pk", flat=True)
        ]
        paths += [
            f"/ws/targets/{pk}/presence/"
            for pk in Target.objects.visible_to(user).values_list("pk", flat=True)
        ]
        out[username] = paths
    return out


def _changes(world: World) -> None:
    """Changes through the targeting services, each carrying withheld strings in its reason or body."""
    from apps.targeting import services

    u, t = world.users, world.targets
    services.add_comment(actor=u["analyst"], target=t["t1"], body="SNTL-CUSPRIVNOTE-2b4 live", private=True)
    services.add_comment(
        actor=u["analyst"], target=t["t4"], body="SNTLNAMEKOVAC SNTLDOC7741 live", private=True
    )
    services.release_hold(
        actor=u["police.liaison"], hold=world.objects["pol_hold"], reason="SNTL-POLHOLD-4d6 done"
    )
    services.reject_target(actor=u["supervisor"], target=Target.objects.get(pk=t["t1"].pk),
                           reason="SNTL-REJECTREASON-1b1 live")  # fmt: skip
    services.withdraw_target(actor=u["analyst"], target=Target.objects.get(pk=t["t4"].pk),
                             reason="SNTL-WITHDRAWREASON-1b2 SNTLNAMEKOVAC")  # fmt: skip
    services.place_hold(actor=u["police.liaison"], target=Target.objects.get(pk=t["t3"].pk),
                        reason="SNTL-POLHOLD-4d6 again, SNTL-OPNAME-5e7")  # fmt: skip


def _visible_targets(world: World) -> dict[str, set[int]]:
    return {
        u: set(Target.objects.visible_to(user).values_list("pk", flat=True))
        for u, user in world.users.items()
    }


async def test_changes_deliver_nothing_withheld(live_world):
    streams = await db(_streams)(live_world)
    before = await db(_visible_targets)(live_world)
    keys = {u: await db(session_for)(user) for u, user in live_world.users.items()}
    sockets: list[tuple[str, str, Socket]] = []
    for username, paths in streams.items():
        for path in paths:
            socket = await _open(path, keys[username])
            if socket.hello is not None:
                sockets.append((username, path, socket))
    await db(_changes)(live_world)
    after = await db(_visible_targets)(live_world)
    problems: list[str] = []
    received = 0
    await asyncio.sleep(2.0)  # events go out after commit, through the hub: let them all arrive
    for username, path, socket in sockets:
        while True:
            try:
                output = await socket.comm.receive_output(0.05)
            except TimeoutError:
                break
            if output["type"] != "websocket.send":
                break
            received += 1
            text = output.get("text") or ""
            leaked = [s for s, readers in SENTINELS.items() if username not in readers and s in text]
            if leaked:
                problems.append(f"{path} sent {username} {', '.join(leaked)}: {text[:200]}")
            payload: Any = json.loads(text)
            target = payload.get("target") if isinstance(payload, dict) else None
            if isinstance(target, int) and target not in before[username] | after[username]:
                problems.append(
                    f"{path} told {username} of target {target}, which he may not see: {text[:200]}"
                )
    for _, _, socket in sockets:
        with contextlib.suppress(BaseException):  # already closed by the server
            await socket.close()
    assert received, "no event reached anyone: the test proves nothing"
    assert not problems, "\n".join(problems)

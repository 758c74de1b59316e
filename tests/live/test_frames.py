"""Numbered messages written straight to the socket (``apps.live.frames``): the frames are RFC 6455's, they
never overtake bytes still queued for the socket, and each screen still gets only what it may see."""

from __future__ import annotations

import asyncio
import functools
import json
import socket
from typing import Any

import pytest
from channels.db import database_sync_to_async

from apps.live import frames
from apps.targeting import services
from apps.targeting.models import TargetShare, TargetState
from tests.live.conftest import WAIT

db = database_sync_to_async


def parse(frame: bytes) -> tuple[int, str]:
    """(first byte, text) of one unmasked server frame."""
    assert not frame[1] & 0x80, "a server's frames are never masked"
    size, offset = frame[1] & 0x7F, 2
    if size == 126:
        size, offset = int.from_bytes(frame[2:4], "big"), 4
    elif size == 127:
        size, offset = int.from_bytes(frame[2:10], "big"), 10
    assert len(frame) == offset + size
    return frame[0], frame[offset:].decode()


@pytest.mark.parametrize("size", [0, 125, 126, 65535, 65536])
def test_a_text_frame_is_final_unmasked_and_carries_its_length(size):
    text = "é" * (size // 2) + "x" * (size % 2)  # multi-byte characters: the length counts bytes
    first, carried = parse(frames.text_frame(text))
    assert first == 0x81 and carried == text


class FakeTransport:
    """The parts of Twisted's TCP connection the writer reads, over a real socket pair."""

    TLS = False

    def __init__(self, sock: socket.socket) -> None:
        self.socket = sock
        self.connected, self.disconnecting, self._writeDisconnected = 1, 0, False
        self.dataBuffer, self.offset, self._tempDataLen = b"", 0, 0
        self.queued: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.queued.append(data)
        self._tempDataLen += len(data)


class FakeProtocol:
    STATE_OPEN, STATE_CLOSING, SEND_STATE_GROUND = 3, 4, 0

    def __init__(self, transport: FakeTransport) -> None:
        self.transport, self.state, self.send_state, self.send_queue = transport, 3, 0, []


@pytest.fixture
def pair():
    server, client = socket.socketpair()
    server.setblocking(False)
    client.settimeout(2)
    yield FakeProtocol(FakeTransport(server)), client
    server.close()
    client.close()


def test_an_open_idle_socket_gets_the_frame_at_once(pair):
    protocol, client = pair
    assert frames.DirectWriter(protocol).write('{"kind": "target.changed", "seq": 1}')
    assert parse(client.recv(100)) == (0x81, '{"kind": "target.changed", "seq": 1}')
    assert protocol.transport.queued == []


def test_a_frame_waits_behind_bytes_still_queued_for_the_socket(pair):
    protocol, client = pair
    protocol.transport.write(b"earlier")
    assert frames.DirectWriter(protocol).write("later")
    assert protocol.transport.queued == [b"earlier", frames.text_frame("later")]
    client.settimeout(0.1)
    with pytest.raises(TimeoutError):
        client.recv(100)  # nothing overtook the queued bytes


def test_a_socket_not_open_is_left_to_the_ordinary_path(pair):
    protocol, _client = pair
    protocol.state = protocol.STATE_CLOSING
    assert not frames.DirectWriter(protocol).write("x")
    protocol.state = protocol.STATE_OPEN
    protocol.transport.disconnecting = 1
    assert not frames.DirectWriter(protocol).write("x")


def test_a_renamed_twisted_attribute_turns_the_writer_off_not_the_board(pair):
    """An upgrade of Twisted or Autobahn that renames what the writer reads must not stop the boards."""
    protocol, _client = pair
    del protocol.transport._tempDataLen
    writer = frames.DirectWriter(protocol)
    assert not writer.write("x")  # the consumer sends it through Channels instead
    protocol.transport._tempDataLen = 0
    assert not writer.write("y")  # and keeps doing so for this socket


def test_only_daphnes_own_send_gets_a_writer():
    async def send(message: dict[str, Any]) -> None: ...

    assert frames.direct_writer(send) is None
    assert frames.direct_writer(functools.partial(print, object())) is None


class RecordingWriter:
    """Stands for a Daphne socket's writer: keeps what the consumer wrote straight to it."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []

    def write(self, text: str) -> bool:
        self.messages.append(json.loads(text))
        return True

    async def next(self) -> dict[str, Any]:
        deadline = asyncio.get_running_loop().time() + WAIT
        while not self.messages:
            assert asyncio.get_running_loop().time() < deadline, "no frame arrived"
            await asyncio.sleep(0.02)
        return self.messages.pop(0)


@pytest.mark.django_db(transaction=True)
async def test_two_scopes_on_one_board_in_one_process_get_different_frames(
    sockets, customs_analyst, police_liaison, customs_target, world, monkeypatch
):
    """The customs floor and the police floor share one process (one hub): when the target stops being
    shared, customs is told it changed and police that it is gone, then police is told nothing more,
    all through the direct writer."""
    from tests.live.test_consumers import inject

    writers: list[RecordingWriter] = []

    def recording(send: Any) -> RecordingWriter:
        writers.append(RecordingWriter())
        return writers[-1]

    monkeypatch.setattr(frames, "direct_writer", recording)
    target = await db(customs_target)(state=TargetState.NOMINATED)
    await db(services.share_target)(actor=customs_analyst, target=target, agency=world.police)
    customs = await sockets("/ws/boards/floor/", customs_analyst)
    police = await sockets("/ws/boards/floor/", police_liaison)
    assert customs.hello["kind"] == police.hello["kind"] == "hello"
    customs_frames, police_frames = writers
    for agency in (world.customs, world.police):
        await inject(f"agency-{agency.pk}", target.pk)
    assert await customs_frames.next() == {"kind": "target.changed", "target": target.pk, "seq": 1}
    assert await police_frames.next() == {"kind": "target.changed", "target": target.pk, "seq": 1}
    await db(TargetShare.objects.filter(target=target, agency=world.police).delete)()
    for agency in (world.customs, world.police):
        await inject(f"agency-{agency.pk}", target.pk)
    assert await customs_frames.next() == {"kind": "target.changed", "target": target.pk, "seq": 2}
    assert await police_frames.next() == {"kind": "target.removed", "target": target.pk, "seq": 2}
    await inject(f"agency-{world.police.pk}", target.pk)
    await inject(f"agency-{world.customs.pk}", target.pk)
    assert await customs_frames.next() == {"kind": "target.changed", "target": target.pk, "seq": 3}
    assert police_frames.messages == []
    assert await customs.nothing(0.3) and await police.nothing(0.3)  # nothing went the ordinary way

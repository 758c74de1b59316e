"""Numbered messages written straight to a Daphne websocket: one ``send`` system call per screen.

The hub hands one event to every socket of its process in a loop. Through the ordinary path each of
those writes goes Channels → the session middleware → Daphne → Autobahn (which formats a debug log
line, colours included, for every frame even with debug logging off) → Twisted, which buffers the bytes,
registers the socket with the event loop (``epoll_ctl``), waits for the next loop turn to ``send`` them,
and unregisters it (``epoll_ctl`` again). Measured at 2,000 screens on two processes (bench.boards),
that path was most of a process's CPU per event, and the last screen of a process is told only once
every write before it has run.

``DirectWriter`` builds the server's text frame (RFC 6455: unmasked, never fragmented; Daphne does not
negotiate compression) and sends it on the socket at once when nothing else is waiting to go out on it;
otherwise (Twisted still holds bytes for that socket) it queues the frame behind them through Twisted,
so frames never overtake one another. Anything it does not recognise (another server, TLS terminated
in Daphne, a socket not open or closing, the test communicator) gets no writer, or a ``False`` from
``write``, and the consumer sends through Channels as before. Only the write path changes: which
sockets are told what is decided before, by the hub and the consumer (``check_event``/``apply_event``).

``DirectFrames`` (the outermost websocket middleware, ``ratc_ops/asgi.py``) finds the writer once per
connection, from the ``send`` Daphne gives the application, and leaves it in the scope.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

log = logging.getLogger(__name__)

#: The scope key under which ``DirectFrames`` leaves a connection's ``DirectWriter``.
SCOPE_KEY = "ratc.direct_writer"


def text_frame(text: str) -> bytes:
    """One final, unmasked text frame carrying ``text`` (a server's frame, RFC 6455 §5.2)."""
    payload = text.encode()
    size = len(payload)
    if size < 126:
        head = bytes((0x81, size))
    elif size < 65536:
        head = bytes((0x81, 126)) + size.to_bytes(2, "big")
    else:
        head = bytes((0x81, 127)) + size.to_bytes(8, "big")
    return head + payload


class DirectWriter:
    """Writes text frames to one Daphne (Autobahn on Twisted TCP) websocket connection."""

    def __init__(self, protocol: Any) -> None:
        self.protocol: Any = protocol

    def write(self, text: str) -> bool:
        """Send ``text`` as one frame; ``False`` when the ordinary path must send it (or drop it).

        The checks read Autobahn's and Twisted's own attributes (pinned in the lock). Should an upgrade
        rename one, the writer turns itself off and the socket carries on through Channels.
        """
        if self.protocol is None:
            return False
        try:
            return self._write(text)
        except AttributeError:
            log.warning("direct websocket writer off: Autobahn or Twisted changed", exc_info=True)
            self.protocol = None
            return False

    def _write(self, text: str) -> bool:
        protocol = self.protocol
        if protocol.state != protocol.STATE_OPEN or protocol.send_state != protocol.SEND_STATE_GROUND:
            return False  # not open yet, closing, or in the middle of another message
        if protocol.send_queue:
            return False  # Autobahn holds frames of its own for later: let it keep the order
        transport = protocol.transport
        if (
            transport is None
            or not transport.connected
            or transport.disconnecting
            or transport._writeDisconnected
            or transport.TLS
        ):
            return False
        frame = text_frame(text)
        if transport._tempDataLen or len(transport.dataBuffer) > transport.offset:
            transport.write(frame)  # bytes still waiting for this socket: the frame goes after them
            return True
        try:
            sent = transport.socket.send(frame)
        except BlockingIOError:
            sent = 0
        except OSError:
            return False  # the peer is gone: the ordinary path finds out and drops the frame
        if sent < len(frame):
            transport.write(frame[sent:])  # the kernel's buffer is full: Twisted sends the rest in order
        return True


def direct_writer(send: Any) -> DirectWriter | None:
    """A ``DirectWriter`` for the connection behind Daphne's ``send``; ``None`` for anything else."""
    protocol = send.args[0] if isinstance(send, functools.partial) and send.args else None
    if protocol is None:
        return None
    try:
        from autobahn.websocket.protocol import WebSocketProtocol
        from twisted.internet.tcp import Connection
    except ImportError:  # pragma: no cover (Daphne brings both)
        return None
    if not isinstance(protocol, WebSocketProtocol):
        return None
    transport = getattr(protocol, "transport", None)
    if not isinstance(transport, Connection) or transport.TLS:
        return None
    if getattr(protocol, "_perMessageCompress", None) is not None:
        return None  # a compressed connection needs Autobahn's encoder
    return DirectWriter(protocol)


class DirectFrames:
    """ASGI middleware for websockets: leave the connection's ``DirectWriter`` (or ``None``) in the scope."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        try:
            writer = direct_writer(send)
        except Exception:  # never refuse a socket over an optimisation
            log.warning("no direct websocket writer", exc_info=True)
            writer = None
        return await self.inner({**scope, SCOPE_KEY: writer}, receive, send)

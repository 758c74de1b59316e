"""Daphne that stops gently: ``python -m apps.core.serve`` takes Daphne's own options.

Plain Daphne stops at SIGTERM at once, cancelling every request in hand (a tablet's posted result gets
no answer). Here SIGTERM (or SIGINT) starts a drain instead:

1. ``/readyz`` answers 503 (``"serving": false``) so the load balancer sends new requests elsewhere; for
   ``RATC_DRAIN_NOTICE_SECONDS`` (default 5: a health-check interval or two) requests are still served;
2. the listening socket is closed, and the requests in hand may finish, up to ``RATC_DRAIN_SECONDS``
   (default 20) in all;
3. live sockets are closed with code 1012 ("service restart"): boards and tablets reconnect through the
   load balancer to another process and resync; then the process exits (the in-process scheduler of the
   embedded mode stops between jobs, ``apps.core.periodic``).

A second SIGTERM or SIGINT stops at once. A supervisor's stop timeout should exceed the sum of the two
(systemd ``TimeoutStopSec=30``).
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import time
from typing import Any

from daphne.cli import CommandLineInterface
from daphne.http_protocol import WebRequest
from daphne.server import Server
from daphne.ws_protocol import WebSocketProtocol
from twisted.internet import reactor

log = logging.getLogger("apps.core.serve")

# _ZOPE_NOTE: Twisted's reactor interfaces are zope ones (methods declared without self); without the
# mypy-zope plugin mypy reads each argument of ``reactor.callLater`` one place off, hence the ignores.

#: Close code for "service restart": the client should reconnect (RFC 6455, IANA registry).
SERVICE_RESTART = 1012


def _seconds(name: str, default: float) -> float:
    raw = os.environ.get(name, "")
    try:
        value = float(raw) if raw.strip() else default
    except ValueError:
        raise SystemExit(f"{name} must be a number of seconds, not {raw!r}") from None
    if value < 0:
        raise SystemExit(f"{name} must not be negative")
    return value


class DrainingServer(Server):
    """Daphne's server with a drain on SIGTERM instead of an immediate stop."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.ports: list[Any] = []
        self.draining_since: float | None = None
        self.notice = _seconds("RATC_DRAIN_NOTICE_SECONDS", 5.0)
        self.limit = _seconds("RATC_DRAIN_SECONDS", 20.0)

    def run(self) -> None:
        # Our handlers instead of Twisted's (which stop the reactor, cancelling what is in hand).
        self.signal_handlers = False
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        super().run()

    def listen_success(self, port: Any) -> None:
        super().listen_success(port)
        self.ports.append(port)

    def _on_signal(self, signum: int, frame: Any) -> None:
        reactor.callFromThread(self.drain)

    def in_hand(self) -> int:
        """HTTP requests whose application has not finished."""
        return sum(
            1
            for protocol, details in list(self.connections.items())
            if isinstance(protocol, WebRequest)
            and details.get("application_instance") is not None
            and not details["application_instance"].done()
        )

    def drain(self) -> None:
        if self.draining_since is not None:
            log.warning("Second stop signal: stopping now")
            self.stop()
            return
        from apps.core import periodic
        from apps.core.health import DRAINING

        DRAINING.set()
        periodic.request_stop()  # the embedded mode's scheduler begins no further job
        self.draining_since = time.monotonic()
        log.info("Draining: not ready; closing the listener in %.0f s, stopping within %.0f s",
                 self.notice, self.limit)  # fmt: skip
        reactor.callLater(self.notice, self._close_listener)  # type: ignore[arg-type]  # see _ZOPE_NOTE

    def _close_listener(self) -> None:
        for port in self.ports:
            port.stopListening()
        self._wait_for_requests()

    def _wait_for_requests(self) -> None:
        waited = time.monotonic() - (self.draining_since or 0.0)
        busy = self.in_hand()
        if busy and waited < self.limit:
            reactor.callLater(0.1, self._wait_for_requests)  # type: ignore[arg-type]  # see _ZOPE_NOTE
            return
        if busy:
            log.warning("Drain limit reached with %d request(s) in hand", busy)
        sockets = [p for p in list(self.connections) if isinstance(p, WebSocketProtocol)]
        for protocol in sockets:
            protocol.serverClose(code=SERVICE_RESTART)
        log.info("Drained after %.1f s; %d live socket(s) told to reconnect", waited, len(sockets))
        # Let the close frames leave.
        reactor.callLater(0.5 if sockets else 0, self._finish, waited)  # type: ignore[arg-type]  # see _ZOPE_NOTE

    def _finish(self, waited: float) -> None:
        from apps.core import periodic

        periodic.stop_in_server(timeout=max(self.limit - waited, 1.0))  # the periodic job in hand, if any
        self.stop()


class DrainingCommandLine(CommandLineInterface):
    server_class = DrainingServer


def main(argv: list[str] | None = None) -> None:
    DrainingCommandLine().run(sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    main()

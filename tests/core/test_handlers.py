"""The ASGI application's HTTP handler (``apps.core.handlers``): a request's middleware and view run in
one hand-over from Daphne's event loop to the request's thread, and the answer is Django's as before."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import SyncToAsync
from asgiref.testing import ApplicationCommunicator

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("worker_connections_closed")]


async def serve(path: str, headers: list[tuple[bytes, bytes]] | None = None) -> tuple[int, dict, bytes]:
    from ratc_ops.asgi import application

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
        "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
        "headers": [(b"host", b"localhost"), *(headers or [])], "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 80),
    }  # fmt: skip
    communicator = ApplicationCommunicator(application, scope)
    await communicator.send_input({"type": "http.request", "body": b"", "more_body": False})
    start = await communicator.receive_output(timeout=10)
    body = b""
    while True:
        message = await communicator.receive_output(timeout=10)
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    await communicator.wait(timeout=10)
    return start["status"], {k.lower(): v for k, v in start["headers"]}, body


@pytest.fixture
def handovers(monkeypatch) -> list[Any]:
    """Every hand-over of sync code from the event loop to a thread, by the function handed over."""
    calls: list[Any] = []
    original = SyncToAsync.__call__

    async def counting(self, *args, **kwargs):
        calls.append(self.func)
        return await original(self, *args, **kwargs)

    monkeypatch.setattr(SyncToAsync, "__call__", counting)
    return calls


async def test_a_page_is_answered_through_the_whole_stack(handovers):
    status, headers, body = await serve("/login/")
    assert status == 200
    assert b"<form" in body
    # The middleware ran: security headers and the request id are on the answer.
    assert headers[b"x-frame-options"] == b"DENY"
    assert b"x-request-id" in headers


async def test_middleware_and_view_run_in_one_hand_over(handovers):
    """Django's own ASGI handler runs the chain in async mode: each ``MiddlewareMixin`` hook, each
    ``process_view`` and the view are handed to the thread one by one (a dozen and more per request).
    Here: the request-started signal's receivers, the chain with its view, and closing the answer."""
    status, _, _ = await serve("/login/")
    assert status == 200
    assert len(handovers) <= 3, [getattr(f, "__qualname__", f) for f in handovers]


async def test_an_unknown_path_gets_the_products_404(handovers):
    status, _, body = await serve("/no-such-page/")
    assert status == 404
    assert b"Page not found" in body or b"not found" in body.lower()

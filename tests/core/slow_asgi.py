"""The product's ASGI application with one slow page in front, for the drain test: ``/slow`` answers after
``?seconds=`` have passed, as a long request in hand would; everything else is the product."""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qs

from ratc_ops.asgi import application as product


async def application(scope, receive, send):
    if scope["type"] == "http" and scope["path"] == "/slow":
        seconds = float(parse_qs(scope["query_string"].decode()).get("seconds", ["1"])[0])
        await asyncio.sleep(seconds)
        await send(
            {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]}
        )
        await send({"type": "http.response.body", "body": b"done"})
        return
    await product(scope, receive, send)

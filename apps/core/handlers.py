"""The HTTP half of the ASGI application: Django's ASGI handler, with the request run in one thread.

Django's ``ASGIHandler`` builds its middleware chain in async mode. Our views are synchronous (they
read the database), and so is most middleware: in async mode every ``MiddlewareMixin`` hook, every
``process_view`` and the view itself are each handed from the event loop to the request's thread and
back, and a sync-only middleware between async-capable ones adds two more hand-overs. Measured served
(``docs/performance.md``, seventh pass) that is a good part of what a request costs Daphne beyond
what the same request costs in process. Here the chain is built in sync mode, as under WSGI, and run
with one hand-over per request: the thread-sensitive executor Django's handler sets up per request, so
the view, the middleware and the ORM share one thread and its database connection, as before.

Everything else stays Django's: reading the body on the loop, the request signals, sending the
response on the loop (streaming included), the disconnect listener, closing the response.
"""

from __future__ import annotations

from typing import Any

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIHandler
from django.core.handlers.base import BaseHandler
from django.http import HttpRequest, HttpResponseBase


class OneHopASGIHandler(ASGIHandler):
    """``ASGIHandler`` whose middleware chain and view run synchronously, in one hand-over per request."""

    def __init__(self) -> None:
        # ASGIHandler.__init__ would build the chain in async mode; build it as the WSGI handler does.
        BaseHandler.__init__(self)
        self.load_middleware(is_async=False)

    async def get_response_async(self, request: HttpRequest) -> HttpResponseBase:
        response: Any = await sync_to_async(self.get_response, thread_sensitive=True)(request)
        return response


def get_asgi_application() -> OneHopASGIHandler:
    """Django's ``get_asgi_application`` with this handler: set Django up, then build the handler."""
    import django

    django.setup(set_prefix=False)
    return OneHopASGIHandler()

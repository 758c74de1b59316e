"""What an operator reads when something goes wrong: one request id through logs, responses and tasks.

Every request gets an id: the load balancer's ``X-Request-ID`` when it sends a sane one (so its access
log and ours join), else a new one. It is answered in the ``X-Request-ID`` header, written on every log
line made while the request runs (``RequestIdFilter``), and carried into the Celery tasks the request
queues (a message header), so an intake that fails in a worker on another host is found from the upload
that started it. ``LOG_FORMAT=json`` (the production default) writes one JSON object a line for a log
shipper; the embedded mode keeps plain lines for a person at a console.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponse

HEADER = "X-Request-ID"
#: What we accept from outside: short, and nothing a log line or a header could be broken with.
_SANE = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")

request_id: ContextVar[str] = ContextVar("request_id", default="-")


def new_id() -> str:
    return uuid.uuid4().hex


def incoming_id(value: str | None) -> str:
    """The caller's id when it is sane, else a new one."""
    return value if value and _SANE.match(value) else new_id()


class RequestIdMiddleware:
    """First in the chain, so that every later middleware's log lines carry the id."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable):
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest):
        if iscoroutinefunction(self):
            return self._acall(request)
        rid = incoming_id(request.headers.get(HEADER))
        token = request_id.set(rid)
        request.request_id = rid  # type: ignore[attr-defined]  # our attribute on Django's request
        try:
            response = self.get_response(request)
        finally:
            request_id.reset(token)
        response[HEADER] = rid
        return response

    async def _acall(self, request: HttpRequest) -> HttpResponse:
        rid = incoming_id(request.headers.get(HEADER))
        token = request_id.set(rid)
        request.request_id = rid  # type: ignore[attr-defined]  # our attribute on Django's request
        try:
            response = await self.get_response(request)
        finally:
            request_id.reset(token)
        response[HEADER] = rid
        return response


class RequestIdFilter(logging.Filter):
    """Puts ``request_id`` on every record (``-`` outside a request or task)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


def connect_celery(app) -> None:
    """Carry the id from the request that queues a task into the task's log lines."""
    from celery.signals import before_task_publish, task_postrun, task_prerun

    @before_task_publish.connect(weak=False)
    def _stamp(headers=None, **_):
        if headers is not None and request_id.get() != "-":
            headers.setdefault("ratc_request_id", request_id.get())

    @task_prerun.connect(weak=False)
    def _enter(task=None, **_):
        if task is None:
            return
        # Celery puts a message's own headers on the request, or under ``headers`` (by protocol version).
        value = getattr(task.request, "ratc_request_id", None) or (
            getattr(task.request, "headers", None) or {}
        ).get("ratc_request_id")
        task.request._ratc_token = request_id.set(incoming_id(value) if value else request_id.get())

    @task_postrun.connect(weak=False)
    def _leave(task=None, **_):
        token = getattr(task.request, "_ratc_token", None) if task is not None else None
        if token is not None:
            request_id.reset(token)

"""While the database or Redis is out of reach (a restart, a failover), answer 503 with ``Retry-After``.

A tablet, a board or a port system that gets 503 retries later, as it should; a 500 says "a bug" and
sends people to the logs. Two places can meet the outage: loading the signed-in user (the first
middleware that reads ``request.user`` would otherwise turn it into our 500 page) and the view itself
(``process_exception``). Redis (the cache behind throttling, the channel layer) counts too: a view
that meets it restarting is as briefly unable to answer. The page says nothing beyond "try again shortly".
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from apps.core.errors import is_api
from apps.core.problems import problem_response

#: Seconds a client should wait before trying again: about what a database restart takes.
RETRY_AFTER_SECONDS = 5
UNREACHABLE = (OperationalError, InterfaceError, RedisConnectionError, RedisTimeoutError)
DETAIL = "The service is briefly unavailable. Try again in a few seconds."

log = logging.getLogger("apps.core.unavailable")


def unavailable(request: HttpRequest, error: Exception) -> HttpResponse:
    """503 with Retry-After: a problem detail under /api/, a short plain page elsewhere."""
    log.warning("database or Redis unavailable for %s: %s", request.path, type(error).__name__)
    if is_api(request):
        response: HttpResponse = problem_response(request, 503, DETAIL, code="service_unavailable")
    else:
        # No template: the base layout's context reads the database, which is what is missing.
        response = HttpResponse(
            f"<!doctype html><title>Unavailable</title><p>{DETAIL}</p>",
            status=503,
            content_type="text/html; charset=utf-8",
        )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


class DatabaseUnavailableMiddleware:
    """After ``AuthenticationMiddleware``: loads the user itself, so that an outage there is answered 503."""

    sync_capable = True
    async_capable = False

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        try:
            # The lazy user reads the session and the user's row: here, not in a later middleware
            # whose exception Django would already have turned into a 500.
            if user is not None:
                user.is_authenticated  # noqa: B018 (evaluated for its database reads)
        except UNREACHABLE as error:
            return unavailable(request, error)
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, UNREACHABLE):
            return unavailable(request, exception)
        return None

"""Sign-in throttling with django-axes: the client address it counts, and the page a locked desk sees.

Failures are counted per (account, client address) pair (``AXES_LOCKOUT_PARAMETERS`` in settings):
a guesser cannot hammer one account, and six wrong passwords for a name that does not exist lock out
that name at that address only — not every officer behind the same load balancer or NAT.
"""

from __future__ import annotations

import ipaddress
from datetime import timedelta

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

__all__ = ["AxesBackend", "client_address", "lockout_message", "lockout_response", "username_key"]


def client_address(request: HttpRequest) -> str:
    """The address of the client, as the outermost proxy we trust saw it.

    With ``RATC_TRUSTED_PROXIES = 0`` (no proxy) X-Forwarded-For is ignored: anybody can write it.
    With N trusted proxies each appends the address it received from, so the client is the Nth entry
    from the right; entries left of it were written by the client and are never used.
    """
    remote = request.META.get("REMOTE_ADDR", "") or ""
    hops = settings.RATC_TRUSTED_PROXIES
    if not hops:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    if len(forwarded) < hops:
        # The request did not pass through every proxy we were told about: trust only the socket.
        return remote
    candidate = forwarded[-hops]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote


def username_key(request: HttpRequest, credentials: dict | None) -> str | None:
    """Count "Alice", "alice " and "alice" as one account, as an attacker would try them."""
    field = str(settings.AXES_USERNAME_FORM_FIELD)
    username = (credentials or {}).get(field)
    if username is None and request is not None:
        username = getattr(request, "data", request.POST).get(field)
    return username.strip().lower() if isinstance(username, str) else None


def _period(delta: timedelta) -> str:
    minutes = max(1, round(delta.total_seconds() / 60))
    if minutes % 60 == 0:
        hours = minutes // 60
        return f"{hours} hour{'s' if hours != 1 else ''}"
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def lockout_message() -> str:
    """The message a locked desk reads, naming the real cool-off period from settings."""
    return (
        "Too many failed sign-ins for this account from this address. "
        f"Try again in {_period(settings.AXES_COOLOFF_TIME)}."
    )


def lockout_response(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    """Axes' lockout answer: our own page, 429, for the sign-in page and the admin's alike.

    (Axes calls this with ``(request, original_response, credentials)`` or, from its async path,
    ``(request, credentials)``; neither is needed here.)
    """
    return render(
        request,
        "registration/locked.html",
        {"locked": lockout_message()},
        status=settings.AXES_HTTP_RESPONSE_CODE,
    )


class AxesBackend(AxesStandaloneBackend):
    """Axes' gate (first in ``AUTHENTICATION_BACKENDS``), except that a call without a request passes.

    It only refuses locked-out attempts; ``ModelBackend`` after it checks the password and permissions.

    Every sign-in over HTTP (our page, the admin, DRF) passes the request; only code running on the
    server itself (the test client's ``login()``, management commands) does not, and axes would raise.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)

"""A password alone does not open the floor to roles that see personal data.

After a password sign-in (or an SSO sign-in whose provider asserted no MFA) the session of such a role
is sent to verify a code, or to enrol an authenticator if it has none, before any page answers. The API
is left to the personal-data gate (a session there gets a 403 problem; tokens are not sessions).
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.functional import LazyObject
from django.utils.http import urlencode

from apps.accounts.second_factor import has_authenticator, requires_second_factor, session_verified
from apps.core.unavailable import UNREACHABLE, unavailable

#: Paths an unverified session may still reach: signing in and out, this step itself, static files.
OPEN_PREFIXES = ("/accounts/", "/login/", "/logout/", "/static/", "/healthz", "/api/")


class SecondFactorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            settings.RATC_REQUIRE_SECOND_FACTOR
            and not request.path.startswith(OPEN_PREFIXES)
            and request.user.is_authenticated
            and not session_verified(request.user)
            and requires_second_factor(request.user)
        ):
            return self._send_to_verify(request)
        return self.get_response(request)

    @staticmethod
    def _send_to_verify(request: HttpRequest) -> HttpResponse:
        step = "accounts:verify" if has_authenticator(request.user) else "accounts:enrol"
        url = f"{reverse(step)}?{urlencode({'next': request.get_full_path()})}"
        if request.headers.get("HX-Request") == "true":
            response = HttpResponse("Verify your second factor first.", status=403)
            response["HX-Redirect"] = url
            return response
        return redirect(url)


class UserInHandMiddleware:
    """After django-otp's: ``request.user`` becomes the user itself instead of two lazy stand-ins.

    The authentication middleware's stand-in is read on every request already (the outage check,
    ``apps.core.unavailable``), and django-otp wraps it in a second one. Every attribute read through the
    two runs both proxies' Python ``__getattribute__`` and ``__getattr__``, and the scoping and permission
    checks read the user hundreds of times a page (``membership_of``, ``can``): about 0.7-1.1 ms of CPU
    of a target or queue page here (docs/performance.md, fourteenth pass). django-otp's own reading (the
    verified device, from the session) happens here rather than at the first attribute a view reads; a
    database out of reach there is answered 503, as the outage check answers it.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        try:
            while isinstance(user, LazyObject):
                user.is_authenticated  # noqa: B018 (sets the stand-in up: its ``_wrapped`` is then the user)
                user = user._wrapped
        except UNREACHABLE as error:
            return unavailable(request, error)
        if user is not None:
            request.user = user
        return self.get_response(request)

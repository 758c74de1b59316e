"""The second factor: who needs one, enrolment of a TOTP authenticator, recovery codes, verification.

A session is *verified* when django-otp has bound a confirmed device to it (``request.user.is_verified()``,
``OTPMiddleware``): a TOTP or recovery code typed after the password, or the identity provider's own
MFA (``ProviderMfaDevice``). With ``RATC_REQUIRE_SECOND_FACTOR`` on, an unverified session sees no
personal data (``apps.compliance.gate``) and, for the roles below, nothing at all until it verifies
(``apps.accounts.middleware``).
"""

from __future__ import annotations

import io
import logging
import secrets
from typing import Any

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.html import escape
from django.utils.http import urlencode
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.agencies.operations import OPERATIONS, membership_of
from apps.agencies.roles import Role

__all__ = [
    "RECOVERY_CODE_COUNT",
    "SECOND_FACTOR_ROLES",
    "confirm_totp",
    "has_authenticator",
    "new_recovery_codes",
    "pending_totp",
    "qr_svg",
    "refuse_unverified_session",
    "requires_second_factor",
    "session_lacks_second_factor",
    "verify_code",
]

log = logging.getLogger("apps.accounts")

#: The operations whose answers carry a person's data (travellers, their targets, hits, examinations).
PERSONAL_OPERATIONS = ("subject.view", "target.view", "watchlist.view", "exam.view", "audit.view")
#: Roles that hold any of them. A system account signs in with an API token, never a session.
SECOND_FACTOR_ROLES = frozenset(
    role for op in PERSONAL_OPERATIONS for role in OPERATIONS[op] if role != Role.SYSTEM
)
RECOVERY_CODE_COUNT = 10
TOTP_DEVICE_NAME = "Authenticator app"
RECOVERY_DEVICE_NAME = "Recovery codes"


def session_verified(user: Any) -> bool:
    """Whether this session has confirmed a device: ``is_verified``, which django-otp's middleware adds
    to the request's user (the user model itself does not declare it)."""
    return bool(user.is_verified())


def requires_second_factor(user: Any) -> bool:
    """Whether this person must pass a second factor before working (their role sees personal data)."""
    if not settings.RATC_REQUIRE_SECOND_FACTOR or not getattr(user, "is_authenticated", False):
        return False
    membership = membership_of(user)
    return membership is not None and membership.role in SECOND_FACTOR_ROLES


def session_lacks_second_factor(request: HttpRequest) -> bool:
    """A signed-in session (not an API token) that the requirement applies to and that is unverified.

    Used by the personal-data gate: whatever the role, personal data needs a verified session.
    """
    if not settings.RATC_REQUIRE_SECOND_FACTOR:
        return False
    if request.META.get("HTTP_AUTHORIZATION"):
        return False  # an API token: DRF authenticates it first, inside the view, and refuses a bad one
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return False
    is_verified = getattr(user, "is_verified", None)
    return not (is_verified is not None and is_verified())


def refuse_unverified_session(request: HttpRequest, is_api: bool) -> HttpResponse | None:
    """The personal-data gate's answer to an unverified session, or None to let the request on.

    Pages go to verify (or enrol) and come back; htmx fragments get a 403 with ``HX-Redirect``; the API
    a 403 problem.
    """
    if not session_lacks_second_factor(request):
        return None
    if is_api:
        from apps.core.problems import problem_response

        return problem_response(
            request,
            403,
            "This answer holds personal data: verify your second factor in the browser first, or use an "
            "API token.",
            title="Second factor required",
        )
    step = reverse("accounts:verify" if has_authenticator(request.user) else "accounts:enrol")
    url = f"{step}?{urlencode({'next': request.get_full_path()})}"
    if request.headers.get("HX-Request") == "true":
        response = HttpResponse(
            f'<div class="alert" role="alert">This holds personal data: <a href="{escape(url)}">verify '
            "your second factor</a> first.</div>",
            status=403,
        )
        response["HX-Redirect"] = url
        return response
    return redirect(url)


def has_authenticator(user: Any) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def pending_totp(user: Any) -> TOTPDevice:
    """The unconfirmed authenticator being enrolled (made on the first visit, the same on reloads)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    return device or TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=False)


def qr_svg(device: TOTPDevice) -> str:
    """The ``otpauth://`` URI as an inline SVG QR code, drawn here: the secret never leaves the server."""
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buffer = io.BytesIO()
    image.save(buffer)
    svg = buffer.getvalue().decode()
    return svg[svg.index("<svg") :]  # inline in the page: no XML declaration


def confirm_totp(request: HttpRequest, device: TOTPDevice, code: str) -> list[str] | None:
    """Confirm a new authenticator with its first code; the session is then verified.

    Returns the new recovery codes (shown once), or None when the code is wrong. An earlier
    authenticator of the same person is replaced: one phone per person keeps recovery simple.
    """
    if not device.verify_token(code.strip()):
        return None
    with transaction.atomic():
        TOTPDevice.objects.filter(user=device.user).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = new_recovery_codes(device.user)
    otp_login(request, device)
    log.info("second factor enrolled: user %s", device.user.pk)
    return codes


def new_recovery_codes(user: Any) -> list[str]:
    """Ten single-use codes for a lost phone; earlier ones stop working."""
    tokens = [secrets.token_hex(4) for _ in range(RECOVERY_CODE_COUNT)]
    with transaction.atomic():
        device, _ = StaticDevice.objects.get_or_create(
            user=user, name=RECOVERY_DEVICE_NAME, defaults={"confirmed": True}
        )
        device.token_set.all().delete()
        StaticToken.objects.bulk_create(StaticToken(device=device, token=token) for token in tokens)
    return [f"{token[:4]}-{token[4:]}" for token in tokens]  # shown with a dash, typed with or without


def verify_code(request: HttpRequest, code: str) -> str | None:
    """Check a TOTP or recovery code of the signed-in person; on success bind the device to the session.

    Returns "totp" or "recovery" (a used recovery code is gone), or None. Each device throttles wrong
    codes itself (django-otp: the wait doubles after each failure).
    """
    code = code.strip().replace(" ", "").replace("-", "").lower()
    user = request.user
    # Six digits are an authenticator's code, eight characters a recovery code: a code is tried only
    # where it could fit, so a typo does not also slow down the other device's throttle.
    devices: Any = TOTPDevice if len(code) == 6 else StaticDevice if len(code) == 8 else None
    candidates = list(devices.objects.filter(user=user, confirmed=True)) if devices else []
    for device in candidates:
        if device.verify_is_allowed()[0] and device.verify_token(code):
            otp_login(request, device)
            kind = "recovery" if isinstance(device, StaticDevice) else "totp"
            log.info("second factor verified (%s): user %s", kind, user.pk)
            return kind
    log.warning("second factor refused: user %s", user.pk)
    return None

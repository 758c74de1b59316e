"""Pages of the second factor and of a refused single sign-on. The logic is in ``second_factor``."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.http import require_http_methods
from django_otp.plugins.otp_static.models import StaticToken

from apps.accounts import second_factor
from apps.accounts.forms import CodeForm
from apps.accounts.oidc import REFUSAL_SESSION_KEY
from apps.core.requests import AuthedRequest


def _next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        return target
    return settings.LOGIN_REDIRECT_URL


@login_required
@require_http_methods(["GET", "POST"])
def enrol(request: AuthedRequest) -> HttpResponse:
    """Scan a QR code into an authenticator app, confirm with its first code, receive recovery codes."""
    if second_factor.has_authenticator(request.user) and not second_factor.session_verified(request.user):
        # Replacing a phone needs the old factor (or a recovery code) first, so that a stolen
        # password alone can never enrol the thief's phone.
        return redirect(_url("accounts:verify", request.get_full_path()))
    device = second_factor.pending_totp(request.user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        codes = second_factor.confirm_totp(request, device, form.cleaned_data["code"])
        if codes is not None:
            return render(request, "accounts/recovery_codes.html", {"codes": codes, "next": _next(request)})
        form.add_error("code", "That code did not match. Check the phone's clock and try the next code.")
    return render(
        request,
        "accounts/enrol.html",
        {
            "form": form,
            "qr_svg": second_factor.qr_svg(device),
            "secret": _grouped(device.bin_key),
            "next": _next(request),
            "replacing": second_factor.has_authenticator(request.user),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def verify(request: AuthedRequest) -> HttpResponse:
    """The step after the password: a code from the authenticator app or a recovery code."""
    if not second_factor.has_authenticator(request.user):
        return redirect(_url("accounts:enrol", _next(request)))
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        kind = second_factor.verify_code(request, form.cleaned_data["code"])
        if kind is not None:
            return redirect(_next(request))
        form.add_error("code", "That code was not accepted. Wait a moment before the next try.")
    return render(request, "accounts/verify.html", {"form": form, "next": _next(request)})


@login_required
@require_http_methods(["GET", "POST"])
def recovery_codes(request: AuthedRequest) -> HttpResponse:
    """How many recovery codes are left; new ones (the old stop working) for a verified session."""
    if not second_factor.session_verified(request.user):
        return redirect(_url("accounts:verify", request.get_full_path()))
    if request.method == "POST":
        codes = second_factor.new_recovery_codes(request.user)
        return render(request, "accounts/recovery_codes.html", {"codes": codes, "next": _next(request)})
    left = StaticToken.objects.filter(device__user=request.user).count()
    return render(request, "accounts/recovery_status.html", {"left": left})


def sso_refused(request: HttpRequest) -> HttpResponse:
    """Where a single sign-on that gave no place on the floor lands, with the reason."""
    reason = request.session.pop(REFUSAL_SESSION_KEY, "") or (
        "The identity provider did not sign you in. Try again, or sign in with your username and password."
    )
    return render(request, "accounts/sso_refused.html", {"reason": reason}, status=403)


def _url(name: str, next_url: str) -> str:
    return f"{reverse(name)}?{urlencode({'next': next_url})}"


def _grouped(key: bytes) -> str:
    """The secret in base32, in groups of four, for typing into an app that cannot scan."""
    from base64 import b32encode

    text = b32encode(key).decode()
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))

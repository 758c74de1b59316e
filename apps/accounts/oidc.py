"""Single sign-on with OpenID Connect (mozilla-django-oidc), roles from the provider's groups.

The provider says who the person is (``iss`` + ``sub``), which groups they belong to (the claim named by
``RATC_OIDC_GROUPS_CLAIM``) and how they signed in (``amr``/``acr``). ``RATC_OIDC_GROUP_ROLES`` maps a
group to a *role profile* — agency, role, ports — and the person's membership follows it at every
sign-in: a group removed at the provider removes the role here at the next sign-in. Someone whose
groups map to no profile keeps no membership and is told so, without being signed in.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import SuspiciousOperation
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django_otp import login as otp_login
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from apps.accounts.models import ProviderMfaDevice, SsoIdentity
from apps.agencies.models import Agency, Membership, Port

__all__ = ["REFUSAL_SESSION_KEY", "SsoBackend", "SsoCallbackView", "SsoStartView", "profile_for"]

log = logging.getLogger("apps.accounts")

#: Why the last single sign-on was refused, for the page the person lands on.
REFUSAL_SESSION_KEY = "accounts_sso_refusal"


class SsoRefused(Exception):
    """The provider vouched for the person, but this installation cannot give them a place."""


def profile_for(groups: list[str]) -> tuple[str, dict[str, Any]] | None:
    """The first configured group (in the mapping's order) the person belongs to, and its profile."""
    for group, profile in settings.RATC_OIDC_GROUP_ROLES.items():
        if group in groups:
            return group, profile
    return None


def mfa_asserted(payload: dict[str, Any]) -> bool:
    """Whether the ID token says the person passed a second factor at the provider."""
    amr = payload.get("amr") or []
    if isinstance(amr, str):
        amr = [amr]
    return bool(set(amr) & set(settings.RATC_OIDC_MFA_AMR)) or (
        bool(payload.get("acr")) and payload.get("acr") in settings.RATC_OIDC_MFA_ACR
    )


def _groups(claims: dict[str, Any]) -> list[str]:
    value = claims.get(settings.RATC_OIDC_GROUPS_CLAIM) or []
    return [value] if isinstance(value, str) else [str(g) for g in value]


class SsoBackend(OIDCAuthenticationBackend):
    """Finds or makes the local user of an ``(iss, sub)`` and sets their membership from the claims."""

    def authenticate(self, request: HttpRequest | None, **kwargs: Any) -> Any:
        # Only the SSO callback passes a nonce; a password sign-in never reaches the provider.
        if not settings.RATC_OIDC_ENABLED or "nonce" not in kwargs:
            return None
        try:
            return super().authenticate(request, **kwargs)
        except SsoRefused as refusal:
            log.warning("single sign-on refused: %s", refusal)
            if request is not None:
                request.session[REFUSAL_SESSION_KEY] = str(refusal)
            return None

    def verify_token(self, token: str, **kwargs: Any) -> dict[str, Any]:
        payload = super().verify_token(token, **kwargs)  # signature (JWKS), expiry, nonce
        audience = payload.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if settings.RATC_OIDC_CLIENT_ID not in audiences:
            raise SuspiciousOperation("ID token is for another client")
        if settings.RATC_OIDC_ISSUER and payload.get("iss") != settings.RATC_OIDC_ISSUER:
            raise SuspiciousOperation("ID token from an unexpected issuer")
        self._id_token_claims = payload
        return payload

    def verify_claims(self, claims: dict[str, Any]) -> bool:
        return bool(claims.get("sub")) and claims.get("sub") == self._id_token_claims.get("sub")

    def filter_users_by_claims(self, claims: dict[str, Any]) -> Any:
        return get_user_model().objects.filter(
            sso_identity__issuer=self._id_token_claims.get("iss", ""), sso_identity__subject=claims["sub"]
        )

    def create_user(self, claims: dict[str, Any]) -> Any:
        username = (claims.get("preferred_username") or claims.get("email") or "").strip()
        if not username:
            raise SsoRefused("The identity provider gave no username (preferred_username or email).")
        User = get_user_model()
        if User.objects.filter(username__iexact=username).exists():
            # A local account of that name is not someone's SSO account until an administrator links it.
            raise SsoRefused(
                f"An account named {username!r} already exists here and is not linked to your single "
                "sign-on; ask your administrator to link it."
            )
        with transaction.atomic():
            user = User(username=username)
            user.set_unusable_password()  # signs in only through the provider
            user.save()
            SsoIdentity.objects.create(
                user=user, issuer=self._id_token_claims.get("iss", ""), subject=claims["sub"]
            )
        return self.update_user(user, claims)

    def update_user(self, user: Any, claims: dict[str, Any]) -> Any:
        groups = _groups(claims)
        with transaction.atomic():
            user.email = claims.get("email", user.email) or ""
            user.first_name = (claims.get("given_name") or user.first_name or "")[:150]
            user.last_name = (claims.get("family_name") or user.last_name or "")[:150]
            user.save(update_fields=["email", "first_name", "last_name"])
            SsoIdentity.objects.filter(user=user).update(groups=groups, last_sign_in=timezone.now())
            matched = profile_for(groups)
            if matched is None:
                Membership.objects.filter(user=user).delete()  # the provider no longer vouches for a role
            else:
                _apply_profile(user, *matched)
        if matched is None:
            raise SsoRefused(
                f"You are signed in at the identity provider as {user.username}, but none of your "
                f"groups ({', '.join(groups) or 'none'}) gives a role on this floor. Ask your "
                "administrator to add you to a group that does."
            )
        user.ratc_sso_mfa = mfa_asserted(self._id_token_claims)
        return user


def _apply_profile(user: Any, group: str, profile: dict[str, Any]) -> None:
    agency = Agency.objects.filter(code=profile["agency"]).first()
    if agency is None:
        raise SsoRefused(f"Group {group!r} names agency {profile['agency']!r}, which does not exist here.")
    locodes = list(profile.get("ports") or [])
    ports = list(Port.objects.filter(locode__in=locodes))
    if len(ports) != len(set(locodes)):
        missing = sorted(set(locodes) - {p.locode for p in ports})
        raise SsoRefused(f"Group {group!r} names ports that do not exist here: {', '.join(missing)}.")
    membership, _ = Membership.objects.update_or_create(
        user=user, defaults={"agency": agency, "role": profile["role"]}
    )
    membership.ports.set(ports)
    log.info(
        "single sign-on: %s is %s of %s through group %r", user.username, profile["role"], agency.code, group
    )


class SsoStartView(OIDCAuthenticationRequestView):
    """``/accounts/sso/start/``: off (404) unless single sign-on is configured."""

    def get(self, request: HttpRequest) -> HttpResponse:
        if not settings.RATC_OIDC_ENABLED:
            raise Http404("single sign-on is not configured")
        return super().get(request)


class SsoCallbackView(OIDCAuthenticationCallbackView):
    """The provider's redirect back: signs in, and counts the provider's MFA as the second factor."""

    def get(self, request: HttpRequest) -> HttpResponse:
        if not settings.RATC_OIDC_ENABLED:
            raise Http404("single sign-on is not configured")
        request.session.pop(REFUSAL_SESSION_KEY, None)
        return super().get(request)

    @property
    def failure_url(self) -> str:
        return reverse("accounts:sso-refused")

    def login_success(self) -> HttpResponse:
        response = super().login_success()
        if getattr(self.user, "ratc_sso_mfa", False):
            device, _ = ProviderMfaDevice.objects.get_or_create(
                user=self.user, defaults={"name": "Identity provider MFA", "confirmed": True}
            )
            otp_login(self.request, device)
        return response

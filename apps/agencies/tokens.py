"""API tokens: issued with a secret shown once, stored as a SHA-256, expiring, revocable, each use logged.

A token is ``ratc_`` followed by 43 characters of ``secrets.token_urlsafe(32)`` (256 bits): a secret that
high in entropy needs no slow hash, so a single indexed look-up by its SHA-256 authenticates a request.
Nothing is cached: every request reads the token's row, so a revoked or expired token is refused on the
next request. Live sockets authenticate by session only (``ratc_ops/asgi.py``), never by token.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from apps.agencies.models import ApiToken
from apps.agencies.roles import Role

logger = logging.getLogger("ratc.api.tokens")

PREFIX = "ratc_"
#: A token's life when none is asked for, and the longest allowed: rotation is the rule, not the exception.
DEFAULT_LIFETIME = timedelta(days=90)
MAX_LIFETIME = timedelta(days=366)
#: How long the old token of a rotation keeps working, so that the new one can be deployed first.
DEFAULT_OVERLAP = timedelta(hours=24)


class TokenRefused(Exception):
    """The presented token does not authenticate (unknown, revoked, expired, or its account inactive)."""


@dataclass(frozen=True)
class Issued:
    """A new token and its secret: the only moment the secret exists outside the caller's system."""

    token: ApiToken
    secret: str


def digest_of(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_secret() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def validate_new(user: Any, name: str, expires_at: datetime) -> None:
    """Raise ``ValidationError`` unless a token named ``name`` may be made for ``user`` to expire then."""
    membership = getattr(user, "membership", None) if user is not None else None
    if membership is None or membership.role != Role.SYSTEM:
        raise ValidationError({"user": "API tokens are for system accounts; people sign in."})
    if not name:
        raise ValidationError({"name": "Name the token (what it is for), so that it can be told apart."})
    now = timezone.now()
    if expires_at <= now or expires_at > now + MAX_LIFETIME:
        raise ValidationError(
            {"expires_at": f"A token expires in the future, at most {MAX_LIFETIME.days} days on."}
        )
    if ApiToken.objects.filter(user=user, name=name).exists():
        raise ValidationError({"name": f"{user} already has a token named {name!r}."})


def issue(
    *,
    user: Any,
    name: str,
    lifetime: timedelta | None = None,
    expires_at: datetime | None = None,
    created_by: Any = None,
    secret: str | None = None,
) -> Issued:
    """Make a token for ``user``'s system account; the secret is returned once and never stored.

    ``secret``: for the demo's documented token only; everything else gets a fresh random one.
    """
    name = (name or "").strip()
    expires_at = expires_at or timezone.now() + (lifetime or DEFAULT_LIFETIME)
    validate_new(user, name, expires_at)
    secret = secret or new_secret()
    token = ApiToken.objects.create(
        user=user,
        name=name,
        prefix=secret[: len(PREFIX) + 4],
        digest=digest_of(secret),
        created_by=created_by,
        expires_at=expires_at,
    )
    logger.info("api token issued: %s (%s…) for %s", name, token.prefix, user)
    return Issued(token=token, secret=secret)


def revoke(token: ApiToken, *, by: Any = None) -> ApiToken:
    """Revoke at once: the next request with the token is refused."""
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.revoked_by = by
        token.save(update_fields=["revoked_at", "revoked_by"])
        logger.info("api token revoked: %s (%s…) of %s", token.name, token.prefix, token.user)
    return token


def rotate(token: ApiToken, *, name: str, overlap: timedelta = DEFAULT_OVERLAP, by: Any = None) -> Issued:
    """A new token for the same account; the old one keeps working for ``overlap`` (or less), then expires."""
    with transaction.atomic():
        issued = issue(user=token.user, name=name, created_by=by)
        end = timezone.now() + overlap
        if token.revoked_at is None and token.expires_at > end:
            token.expires_at = end
            token.save(update_fields=["expires_at"])
    return issued


def authenticate(secret: str, *, ip: str | None = None, method: str = "", path: str = "") -> ApiToken:
    """The usable token for ``secret``, its use recorded; ``TokenRefused`` otherwise.

    The use is written with one ``UPDATE`` (time, address, count) and one log line, so that an operator
    sees which system called, when and from where, without a table that grows with every request.
    """
    if not secret.startswith(PREFIX) and len(secret) != 40:  # 40 hex: a token carried over from DRF
        raise TokenRefused("Invalid token.")
    now = timezone.now()
    token = ApiToken.objects.select_related("user").filter(digest=digest_of(secret)).first()
    if token is None:
        raise TokenRefused("Invalid token.")
    if token.revoked_at is not None:
        logger.warning("api token refused (revoked): %s (%s…) %s %s", token.name, token.prefix, method, path)
        raise TokenRefused("This token was revoked.")
    if token.expires_at <= now:
        logger.warning("api token refused (expired): %s (%s…) %s %s", token.name, token.prefix, method, path)
        raise TokenRefused("This token has expired.")
    if not token.user.is_active:
        raise TokenRefused("This token's account is inactive.")
    ApiToken.objects.filter(pk=token.pk).update(
        last_used_at=now, last_used_ip=ip, use_count=F("use_count") + 1
    )
    token.last_used_at, token.last_used_ip = now, ip
    logger.info(
        "api token used: %s (%s…) of %s from %s: %s %s",
        token.name,
        token.prefix,
        token.user,
        ip,
        method,
        path,
    )
    return token

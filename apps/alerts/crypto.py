"""Partner credentials encrypted at rest (``Partner.secret``): Fernet (AES-128-CBC with HMAC-SHA256).

The product must send the partner's password or token in clear to the partner's server, so the credential
cannot be hashed like our own API tokens; it is encrypted instead, so that a database dump, a backup or a
replica does not hand an attacker the keys to partner administrations' servers.

The key comes from ``RATC_ALERTS_SECRET_KEY`` (read from the environment in settings); without it, from a
key derived from ``SECRET_KEY``. Decryption also tries the ``SECRET_KEY``-derived key, so that setting
``RATC_ALERTS_SECRET_KEY`` later does not lose the secrets stored before (re-save each partner, or run
``manage.py shell -c "from apps.alerts.crypto import rotate; rotate()"``, to re-encrypt under the new key).
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

__all__ = ["SecretUnreadable", "open_secret", "rotate", "seal_secret"]

#: Separates this key from every other use of SECRET_KEY (sessions, signing, the chains' HMAC).
_PURPOSE = b"ratc-ops/alerts/partner-secret/v1"


class SecretUnreadable(ValueError):
    """The stored credential does not decrypt with the configured keys (the key changed or was lost)."""


def _derived(material: str) -> bytes:
    digest = hashlib.sha256(_PURPOSE + b"\x00" + material.encode()).digest()
    return base64.urlsafe_b64encode(digest)


def _fernet() -> MultiFernet:
    configured = getattr(settings, "RATC_ALERTS_SECRET_KEY", "") or ""
    keys = []
    if configured:
        try:
            # A Fernet key as generated (Fernet.generate_key()); any other text is derived into one.
            keys.append(Fernet(configured.encode()))
        except (ValueError, TypeError):
            if len(configured) < 32:
                raise ImproperlyConfigured(
                    "RATC_ALERTS_SECRET_KEY is too short: use a Fernet key or at least 32 random characters"
                ) from None
            keys.append(Fernet(_derived(configured)))
    keys.append(Fernet(_derived(settings.SECRET_KEY)))
    return MultiFernet(keys)


def seal_secret(clear: str) -> str:
    """The credential as stored: empty stays empty (a partner we only receive from has none)."""
    if not clear:
        return ""
    return _fernet().encrypt(clear.encode()).decode()


def open_secret(stored: str) -> str:
    """The credential in clear, for the request to the partner's server only."""
    if not stored:
        return ""
    try:
        return _fernet().decrypt(stored.encode()).decode()
    except InvalidToken:
        raise SecretUnreadable(
            "The partner's credential does not decrypt with this installation's keys: "
            "RATC_ALERTS_SECRET_KEY or DJANGO_SECRET_KEY changed; enter the credential again."
        ) from None


def rotate() -> int:
    """Re-encrypt every stored credential under the current first key; how many were rewritten."""
    from apps.alerts.models import Partner

    fernet, count = _fernet(), 0
    for pk, stored in Partner.objects.exclude(secret_encrypted="").values_list("pk", "secret_encrypted"):
        Partner.objects.filter(pk=pk).update(secret_encrypted=fernet.rotate(stored.encode()).decode())
        count += 1
    return count

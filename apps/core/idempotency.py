"""``Idempotency-Key`` on every API POST: a retry with the same key gets the first answer, not a second run.

The first request claims the key by inserting its row (status null: in flight) in its own transaction,
before the view runs; the unique (user, key) index makes two concurrent claims one winner. The view's
answer is stored on the row; a later request with the same key and the same body is answered from it
(``Idempotent-Replayed: true``). The same key with another body or route is refused (422); a duplicate
while the first still runs is refused (409), so that the client retries later rather than twice at once.
An error answer (4xx, 5xx) releases the key: nothing was done, so the retry must run.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework import exceptions, status

__all__ = [
    "HEADER",
    "REPLAYED_HEADER",
    "Claim",
    "KeyInFlight",
    "KeyReused",
    "claim",
    "finish",
    "purge_expired",
    "request_hash",
]

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255


class KeyReused(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "This Idempotency-Key was sent before with a different request; use a new key."
    default_code = "idempotency_key_reused"


class KeyInFlight(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "A request with this Idempotency-Key is still being processed; retry in a moment."
    default_code = "idempotency_key_in_flight"


#: A claim still without an answer after this long belongs to a request that died: a retry may take it.
#: Longer than any request may run (the proxies' and Daphne's timeouts are well under it).
IN_FLIGHT_LIMIT = timedelta(minutes=10)


def _lifetime() -> timedelta:
    return timedelta(hours=getattr(settings, "IDEMPOTENCY_KEY_HOURS", 24))


def _digest_file(upload: Any) -> str:
    sha = hashlib.sha256()
    for chunk in upload.chunks():
        sha.update(chunk)
    upload.seek(0)
    return sha.hexdigest()


def request_hash(request: Any) -> str:
    """SHA-256 of the parsed body (JSON by value, sorted; form fields and each file's content).

    Parsed rather than raw so that a multipart upload is not read into memory twice and key order or
    whitespace in JSON does not make the same request look different.
    """
    data = request.data
    if hasattr(data, "lists"):  # a QueryDict: form fields and files
        canonical: Any = sorted((key, [str(v) for v in values]) for key, values in data.lists())
        files = sorted(
            (name, [_digest_file(f) for f in request.FILES.getlist(name)]) for name in request.FILES
        )
        canonical = {"fields": canonical, "files": files}
    else:
        canonical = data
    text = json.dumps(canonical, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class Claim:
    """The outcome of :func:`claim`: ``replay`` holds the stored answer, else ``row`` is ours to finish."""

    row: Any = None
    replay: Any = None


def claim(*, user: Any, key: str, method: str, path: str, body_hash: str) -> Claim:
    """Claim ``key`` for this request, or return the stored answer, or raise ``KeyReused``/``KeyInFlight``."""
    from apps.core.models import IdempotencyKey

    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise exceptions.ValidationError(
            {HEADER: [f"An Idempotency-Key is 1 to {MAX_KEY_LENGTH} printable characters (a UUID, say)."]}
        )
    now = timezone.now()
    # The caller's own expired keys go now (the hourly purge does everyone's; the embedded mode has no beat).
    IdempotencyKey.objects.filter(user=user, expires_at__lte=now).delete()
    for _attempt in range(2):
        try:
            with transaction.atomic():
                row = IdempotencyKey.objects.create(
                    user=user, key=key, method=method, path=path, request_hash=body_hash,
                    created_at=now, expires_at=now + _lifetime(),
                )  # fmt: skip
            return Claim(row=row)
        except IntegrityError:
            existing = IdempotencyKey.objects.filter(user=user, key=key).first()
            if existing is None:
                continue  # released (a 5xx) or purged in between: claim it afresh
            if existing.expires_at <= now:
                IdempotencyKey.objects.filter(pk=existing.pk, expires_at__lte=now).delete()
                continue
            if existing.status is None and existing.created_at <= now - IN_FLIGHT_LIMIT:
                # The request that claimed it died (a worker killed, a crash): nothing of it was
                # committed, the services working in one transaction, so the retry takes the key.
                IdempotencyKey.objects.filter(pk=existing.pk, status__isnull=True).delete()
                continue
            if (existing.method, existing.path, existing.request_hash) != (method, path, body_hash):
                raise KeyReused() from None
            if existing.status is None:
                raise KeyInFlight() from None
            return Claim(replay=existing)
    raise KeyInFlight()


def finish(row: Any, *, status_code: int, content_type: str, body: bytes) -> None:
    """Store a success on the claimed row. An error releases the key: the services change nothing when
    they refuse (their work is one transaction), so the corrected or later retry must run."""
    from apps.core.models import IdempotencyKey

    if status_code >= 400:
        IdempotencyKey.objects.filter(pk=row.pk).delete()
        return
    IdempotencyKey.objects.filter(pk=row.pk).update(
        status=status_code, content_type=content_type, response_body=body
    )


def purge_expired(now: Any = None) -> int:
    """Delete the keys past their time (their stored answers with them); returns how many."""
    from apps.core.models import IdempotencyKey

    deleted, _ = IdempotencyKey.objects.filter(expires_at__lte=now or timezone.now()).delete()
    return deleted

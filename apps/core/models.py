"""The API's stored answers to POSTs sent with an ``Idempotency-Key`` (``apps.core.idempotency``)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class IdempotencyKey(models.Model):
    """One POST made with an ``Idempotency-Key``, and the answer it got, so that a retry gets the same.

    A key belongs to the account that sent it (a system account's tokens share its keys: a rotation in
    the middle of a retry must not run the request twice). ``status`` is null while the first request
    runs: a duplicate arriving then is refused (409) rather than run beside it. The row expires after
    ``IDEMPOTENCY_KEY_HOURS``; the stored answer may hold personal data, so expired rows are deleted
    (:func:`apps.core.idempotency.purge_expired`), not kept.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=2000)
    request_hash = models.CharField(max_length=64, help_text="SHA-256 of the request's parsed body.")
    status = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Null while in flight.")
    content_type = models.CharField(max_length=100, blank=True)
    response_body = models.BinaryField(blank=True, default=b"")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_unique_per_user")
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.path} [{self.key}]"

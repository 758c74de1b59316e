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


class StoredFile(models.Model):
    """A file kept in the database by :class:`apps.core.storage.DatabaseStorage` (the "uploads" storage
    of a deployment): every web and worker host reads what any of them wrote, with nothing but the
    database they already share. The content is in :class:`StoredChunk` rows, read one at a time."""

    name = models.CharField(max_length=500, unique=True)
    size = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.name


class StoredChunk(models.Model):
    """One piece of a :class:`StoredFile`, so that neither writing nor reading holds a whole upload."""

    file = models.ForeignKey(StoredFile, on_delete=models.CASCADE, related_name="chunks")
    index = models.PositiveIntegerField()
    data = models.BinaryField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["file", "index"], name="stored_chunk_once")]

    def __str__(self) -> str:
        return f"{self.file_id}#{self.index}"

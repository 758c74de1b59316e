"""Hash-chained, append-only records: each row carries the hash of the one before it.

Changing or deleting a stored row breaks the chain at that row, and ``verify_chain`` names the first
broken link. Rows are appended under a lock on the chain's head row, so concurrent writers (several
Daphne and Celery processes) still produce one unbroken sequence.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction

GENESIS = "0" * 64


class ChainHead(models.Model):
    """The last sequence number and hash of each chain; locked while a row is appended."""

    chain = models.CharField(max_length=50, unique=True)
    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64, default=GENESIS)

    def __str__(self) -> str:
        return f"{self.chain} #{self.seq}"


class HashChained(models.Model):
    """Base for append-only records. Subclasses list the fields that the hash covers in ``CHAINED``."""

    CHAINED: tuple[str, ...] = ()

    seq = models.BigIntegerField(unique=True, editable=False)
    prev_hash = models.CharField(max_length=64, editable=False)
    hash = models.CharField(max_length=64, editable=False)

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise PermissionDenied(f"{type(self).__name__} records are append-only.")
        if self.seq is None:  # a plain create(): take the next link of the chain
            _link(self)
            return
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise PermissionDenied(f"{type(self).__name__} records are append-only.")

    def payload(self) -> str:
        values = {
            name: _plain(getattr(self, f"{name}_id" if _is_fk(self, name) else name)) for name in self.CHAINED
        }
        return json.dumps(values, sort_keys=True, cls=DjangoJSONEncoder, separators=(",", ":"))

    def compute_hash(self) -> str:
        return hashlib.sha256(f"{self.seq}|{self.prev_hash}|{self.payload()}".encode()).hexdigest()


def _is_fk(obj: models.Model, name: str) -> bool:
    return isinstance(obj._meta.get_field(name), models.ForeignKey)


def _plain(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def append(model: type[HashChained], **fields: Any) -> HashChained:
    """Append one row to ``model``'s chain: next sequence number, previous hash, own hash."""
    row = model(**fields)
    _link(row)
    return row


def _link(row: HashChained) -> None:
    """Give ``row`` the next sequence number and the chain's last hash, then store it, under a lock on
    the chain's head so that concurrent writers (several processes) never fork the chain."""
    model = type(row)
    chain = model._meta.label_lower
    with transaction.atomic():
        ChainHead.objects.get_or_create(chain=chain)
        head = ChainHead.objects.select_for_update().get(chain=chain)
        row.seq, row.prev_hash = head.seq + 1, head.hash
        row.hash = row.compute_hash()
        models.Model.save(row)
        ChainHead.objects.filter(pk=head.pk).update(seq=row.seq, hash=row.hash)


@dataclass
class ChainReport:
    rows: int
    ok: bool
    first_broken_seq: int | None = None
    reason: str = ""


def verify_chain(model: type[HashChained], *, batch: int = 5000) -> ChainReport:
    """Recompute every hash in order; report the first row whose hash or link does not hold."""
    previous_hash = GENESIS
    expected_seq = 1
    count = 0
    for row in _ordered(model, batch):
        count += 1
        if row.seq != expected_seq:
            return ChainReport(
                count, False, expected_seq, f"row #{expected_seq} is missing (next is #{row.seq})"
            )
        if row.prev_hash != previous_hash:
            return ChainReport(count, False, row.seq, f"row #{row.seq} does not link to the row before it")
        if row.compute_hash() != row.hash:
            return ChainReport(count, False, row.seq, f"row #{row.seq} was changed after it was written")
        previous_hash = row.hash
        expected_seq += 1
    head = ChainHead.objects.filter(chain=model._meta.label_lower).first()
    if head is not None and head.seq != count:
        return ChainReport(
            count, False, count + 1, f"rows after #{count} were removed (head says #{head.seq})"
        )
    return ChainReport(count, True)


def _ordered(model: type[HashChained], batch: int) -> Iterator[HashChained]:
    last = 0
    while True:
        rows = list(model.objects.filter(seq__gt=last).order_by("seq")[:batch])
        if not rows:
            return
        yield from rows
        last = rows[-1].seq

"""Keyed, append-only records: each row carries its own HMAC, and a chain of HMACs links them in order.

What it holds against. A person who can write the database (not the key, kept outside it; see
``apps.compliance.anchors``) can change, add, delete or reorder rows and rewrite ``ChainHead``. Every
such change is found by :func:`verify_chain`: a changed or forged row fails its HMAC, a removed row
leaves a hole in ``seq``, rows removed at the end with the head stepped back fall short of the latest
anchor in the anchor file, and a chain recomputed from a changed row cannot be, without the key.

How a row is written (never waiting for another writer). ``append(Model, **fields)`` or a plain
``Model.objects.create()`` inserts the row with ``seq`` empty; its primary key comes from the table's
sequence (autoincrement), which no transaction holds. In the same transaction the row gets
``mac = HMAC(key, id | key id | fields)``, so it is tamper-evident from its commit on. Nothing else is
read or locked: two writers never wait on each other, and a batch that appends ten thousand rows in
one transaction holds nothing that another writer needs.

How rows join the chain (the seal). :func:`seal` takes the chain's ``ChainHead`` row with ``SELECT ...
FOR UPDATE SKIP LOCKED`` (a second sealer does not wait, it leaves the work to the first), reads the
committed rows that have no ``seq`` in primary-key order, and gives each the next ``seq``, the previous
link and ``hash = HMAC(key, seq | prev_hash | id | mac)``, in its own short transaction, a few thousand
rows at a time. It runs after the commit of every transaction that appended (once per transaction, not
once per row; on PostgreSQL on a sealer thread of the process, so the request does not wait for it, on
SQLite inline), every minute from Celery beat, and before every verification (which waits for a running
seal instead of skipping it). A seal only ever sees committed rows (it reads them; it never reserves
numbers), so a transaction that rolls back leaves no trace in the chain: its primary key is simply
never seen, and ``seq`` has no gaps to explain (nothing waits for a grace period).
On PostgreSQL a row with a lower primary key may commit after one with a higher key; it is then sealed
later with a higher ``seq``: the chain records the order in which rows were sealed, and each row's
``at`` says when it happened. On SQLite writers are serialised by the database itself
(``transaction_mode = IMMEDIATE``) and the same code holds.

The window that remains: a row deleted after its commit and before the seal that follows (normally
``RATC_CHAIN_SEAL_DELAY_MS`` and a few milliseconds on PostgreSQL, milliseconds on SQLite; at most a beat
interval if every seal failed) leaves no trace. Every other deletion does.
Rows appended after the last anchor can be removed with the head stepped back until the next anchor
(at most ``RATC_CHAIN_ANCHOR_SECONDS`` while rows are written, a minute with beat). Anchors outlive the
database: a database made afresh under the same name needs its old anchor files moved aside, or it
is reported as rows removed (which, for the chain, it is).

Anchors and verification. The seal writes the head to the anchor file at most every
``RATC_CHAIN_ANCHOR_SECONDS``; the beat task does too. :func:`verify_chain` checks the rows against the
furthest anchor, and when it finds the chain intact it appends a ``checkpoint`` anchor. An incremental
verification (``full=False``: the oversight page, ``manage.py verify_chain``) re-checks the checkpoint's
row against the anchor and reads only the rows after it, so its cost does not grow with the log. A full
verification (``full=True``, ``manage.py verify_chain --full``, nightly from beat) reads every row.
Verification is :mod:`apps.compliance.verification`; this module writes and seals.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from datetime import timedelta
from functools import partial
from typing import Any, TypeVar

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DatabaseError, connections, models, router, transaction
from django.utils import timezone

from apps.compliance import anchors

log = logging.getLogger(__name__)

GENESIS = "0" * 64
#: Rows linked per seal transaction, so that a seal after a large batch stays a few short transactions.
SEAL_BATCH = 5000


class ChainHead(models.Model):
    """Per chain: the last sealed ``seq`` and link, when it was last anchored and last verified.

    Written only by the seal (under its row lock) and by verification; never by the writers of rows.
    """

    chain = models.CharField(max_length=50, unique=True)
    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64, default=GENESIS)
    anchored_seq = models.BigIntegerField(default=0)
    anchored_at = models.DateTimeField(null=True, blank=True)
    verified_seq = models.BigIntegerField(default=0)
    verified_at = models.DateTimeField(null=True, blank=True)
    full_verified_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.chain} #{self.seq}"


class HashChained(models.Model):
    """Base for append-only records. Subclasses list the fields that the HMAC covers in ``CHAINED``."""

    CHAINED: tuple[str, ...] = ()

    # Position in the chain, given by the seal; empty between the row's commit and its seal.
    seq = models.BigIntegerField(unique=True, null=True, editable=False)
    prev_hash = models.CharField(max_length=64, editable=False, blank=True, default="", db_default="")
    hash = models.CharField(max_length=64, editable=False, blank=True, default="", db_default="")
    mac = models.CharField(max_length=64, editable=False, blank=True, default="", db_default="")
    key_id = models.CharField(max_length=20, editable=False, blank=True, default="", db_default="")

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise PermissionDenied(f"{type(self).__name__} records are append-only.")
        if self.seq is None:  # a plain create(): a new row, keyed now, sealed after the commit
            _insert(self)
            return
        super().save(*args, **kwargs)  # a loader that sets seq itself (benchmarks)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise PermissionDenied(f"{type(self).__name__} records are append-only.")

    def payload(self) -> str:
        return payload_of(self, self.CHAINED)

    def compute_mac(self, key: bytes) -> str:
        return anchors.mac(key, f"{self.pk}|{self.key_id}|{self.payload()}")

    def compute_hash(self, key: bytes | None = None) -> str:
        """The chain link: this row's place (``seq``, the link before it) bound to its own HMAC."""
        if key is None:
            key = _key_for(self.key_id)
        return anchors.mac(key, f"{self.seq}|{self.prev_hash}|{self.pk}|{self.mac}")


def payload_of(row: models.Model, chained: tuple[str, ...]) -> str:
    """The canonical text of a row's chained fields (also used by the migrations that re-key rows)."""
    values = {name: _plain(getattr(row, f"{name}_id" if _is_fk(row, name) else name)) for name in chained}
    return json.dumps(values, sort_keys=True, cls=DjangoJSONEncoder, separators=(",", ":"))


def _is_fk(obj: models.Model, name: str) -> bool:
    return isinstance(obj._meta.get_field(name), models.ForeignKey)


def _plain(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def _key_for(key_id: str) -> bytes:
    keys = anchors.chain_keys()
    return keys.get(key_id) or anchors.current_key()[1]


# --- writing -----------------------------------------------------------------------------------------


#: A concrete chained log (``AccessLogEntry``, ``AuditEvent`` ...): ``append`` returns the row it was given.
Chained = TypeVar("Chained", bound="HashChained")


def append(model: type[Chained], *, sequence_key: int | None = None, **fields: Any) -> Chained:
    """Append one row to ``model``'s log: inserted and keyed now, linked into the chain after the commit.
    ``sequence_key``: its key, when a statement of the caller took it (``keyed_by_sequence``)."""
    row = model(**fields)
    if sequence_key is not None:
        keyed_by_sequence(row, sequence_key)
    row.save()
    return row


def next_key_sql(model: type[HashChained]) -> str | None:
    """SQL that takes the next key of ``model``'s table from its sequence, for a statement the caller
    makes anyway (``keyed_by_sequence``); None where keys exist only once inserted (SQLite)."""
    if connections[router.db_for_write(model)].vendor != "postgresql":
        return None
    meta = model._meta
    return f"nextval(pg_get_serial_sequence('{meta.db_table}', '{meta.pk.column}'))"


def keyed_by_sequence(row: Chained, key: int) -> Chained:
    """``row`` with the key a statement of the caller took from its table's sequence (``next_key_sql``):
    it is written keyed in one INSERT, without a ``nextval`` of its own."""
    row.pk = key
    row._ratc_key_from_sequence = True  # type: ignore[attr-defined]  # ours: read by _insert
    return row


def _insert(row: HashChained) -> None:
    model = type(row)
    row.key_id, key = anchors.current_key()
    # The HMAC covers the primary key (a copied row does not verify). On PostgreSQL the key is taken
    # from the table's sequence first (here, or by the caller's own statement: ``keyed_by_sequence``),
    # so the row is written keyed in one INSERT (no transaction of its own, no UPDATE); a failed INSERT
    # leaves a gap in the keys, as a rolled-back one always did.
    connection = connections[router.db_for_write(model)]
    sequenced = getattr(row, "_ratc_key_from_sequence", False)
    if connection.vendor == "postgresql" and (row.pk is None or sequenced):
        meta = model._meta
        if not sequenced:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, %s))", [meta.db_table, meta.pk.column]
                )
                row.pk = cursor.fetchone()[0]
        row.mac = row.compute_mac(key)
        models.Model.save(row, force_insert=True)
    else:
        # Elsewhere (SQLite) the key exists once inserted: one more UPDATE of our own, uncommitted
        # row, which nobody else can be waiting for.
        with transaction.atomic(using=connection.alias, savepoint=False):
            models.Model.save(row)
            row.mac = row.compute_mac(key)
            model._base_manager.filter(pk=row.pk).update(mac=row.mac, key_id=row.key_id)
    _seal_after_commit(model, row.pk)


_sealed = threading.local()


def _seal_after_commit(model: type[HashChained], pk: int) -> None:
    """After the commit, seal once: the first callback of a transaction seals all of its rows, the
    others see that this thread's last seal already covered them (a row inserted after a seal has a
    higher key than any row that seal could see) and return without a query. On PostgreSQL the seal
    runs on the process's sealer thread, so that the request does not wait for it either."""
    label = model._meta.label_lower

    def after_commit() -> None:
        done: dict[str, int] = _sealed.__dict__.setdefault("through", {})
        if done.get(label, 0) >= pk:
            return
        done[label] = pk
        if settings.RATC_CHAIN_SEAL_IN_BACKGROUND:
            _sealer.request(model)  # it seals after this commit, so this row is in what it sees
            return
        try:
            sealed_through = seal(model)
        except DatabaseError:  # the row is committed and keyed; the next seal links it
            log.exception("Sealing %s failed; the next seal will link its rows", label)
            return
        # ``None``: another process is sealing. It may have read before our commit; the next seal
        # (anyone's commit, beat, a verification) links what it left.
        done[label] = max(pk, sealed_through or 0)

    transaction.on_commit(after_commit)


class _BackgroundSealer:
    """One thread per process that seals the chains asked for since its last round (many commits, one
    seal), with a database connection of its own that it gives back after each round. It ends after a
    quiet half minute and is started again by the next request.

    A round starts ``RATC_CHAIN_SEAL_DELAY_MS`` after the first commit that asked for it, so that the
    commits of that moment share it: a round is seven statements and a connection taken from the pool
    whether it links one row or a thousand, and without the pause a process serving a steady stream of
    requests sealed after nearly every one of them (a sixth of a target page's server CPU, a fifth of a
    move's: two chains). Verification and beat seal on their own and do not wait for it."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._pending: dict[str, type[HashChained]] = {}
        self._thread: threading.Thread | None = None

    def request(self, model: type[HashChained]) -> None:
        with self._cond:
            self._pending[model._meta.label_lower] = model
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="chain-sealer", daemon=True)
                self._thread.start()
            self._cond.notify()

    def _run(self) -> None:
        from django.db import connection

        while True:
            with self._cond:
                while not self._pending:
                    if not self._cond.wait(timeout=30):
                        self._thread = None
                        return
            if delay := settings.RATC_CHAIN_SEAL_DELAY_MS / 1000:
                time.sleep(delay)  # outside the lock: the commits of the pause add to this round
            with self._cond:
                models_ = list(self._pending.values())
                self._pending.clear()
            try:
                for model in models_:
                    seal(model, wait=True)
            except Exception:  # a failed round is retried by the next commit, beat or a verification
                log.exception("Background seal failed")
            finally:
                connection.close()


_sealer = _BackgroundSealer()


def _head(label: str) -> ChainHead:
    head = ChainHead.objects.filter(chain=label).first()
    if head is None:
        head = ChainHead.objects.get_or_create(chain=label)[0]
    return head


def seal(model: type[HashChained], *, wait: bool = False) -> int | None:
    """Link the committed, unsealed rows of ``model`` into its chain, in primary-key order.

    Returns the highest primary key sealed (0 when there was nothing), or None when another seal
    holds the chain's head (unless ``wait``: then it waits for that short seal to end). Writes a ``head`` anchor when the last one is older than
    ``RATC_CHAIN_ANCHOR_SECONDS``.
    """
    label = model._meta.label_lower
    _head(label)
    highest = 0
    while True:
        with transaction.atomic():
            head = ChainHead.objects.select_for_update(skip_locked=not wait).filter(chain=label).first()
            if head is None:
                return None
            rows = list(
                model._base_manager.filter(seq__isnull=True)
                .order_by("pk")
                .only("pk", "mac", "key_id")[:SEAL_BATCH]
            )
            for row in rows:
                row.seq, row.prev_hash = head.seq + 1, head.hash
                row.hash = row.compute_hash()
                head.seq, head.hash = row.seq, row.hash
            if rows:
                model._base_manager.bulk_update(rows, ["seq", "prev_hash", "hash"], batch_size=1000)
                highest = rows[-1].pk
            now = timezone.now()
            due = head.anchored_at is None or now - head.anchored_at >= timedelta(
                seconds=settings.RATC_CHAIN_ANCHOR_SECONDS
            )
            anchor = due and head.seq != head.anchored_seq
            if anchor:
                head.anchored_seq, head.anchored_at = head.seq, now
            if rows or anchor:
                head.save(update_fields=["seq", "hash", "anchored_seq", "anchored_at"])
            if anchor:  # only what is committed is anchored
                seq, link = head.seq, head.hash
                transaction.on_commit(partial(anchors.write_anchor, label, "head", seq, link))
        if len(rows) < SEAL_BATCH:
            return highest


def anchor_now(model: type[HashChained]) -> int:
    """Seal, then anchor the head whatever the interval (Celery beat). Returns the anchored seq."""
    seal(model, wait=True)
    head = _head(model._meta.label_lower)
    anchors.write_anchor(head.chain, "head", head.seq, head.hash)
    ChainHead.objects.filter(pk=head.pk, anchored_seq__lte=head.seq).update(
        anchored_seq=head.seq, anchored_at=timezone.now()
    )
    return head.seq


def rekey_for_migration(
    model: type[Any], chained: tuple[str, ...], head_model: type[Any], label: str
) -> None:
    """Data migration: re-key the rows of a historical ``model`` (plain SHA-256 before) in their old
    order, linked as the seal would have linked them. The old chain is taken as it stands: run
    ``manage.py verify_chain`` before upgrading. (Historical models, built from a migration's state,
    have no static type: ``type[Any]``.)"""
    manager = model._base_manager
    order = list(manager.order_by("seq", "pk").values_list("pk", flat=True))
    if not order:
        return
    key_id, key = anchors.current_key()
    manager.update(seq=None)  # renumbered below; cleared first so that no two rows meet on a number
    seq, previous = 0, GENESIS
    for first in range(0, len(order), 2000):
        chunk = order[first : first + 2000]
        rows = manager.in_bulk(chunk)
        for pk in chunk:
            row, seq = rows[pk], seq + 1
            row.key_id = key_id
            row.mac = anchors.mac(key, f"{row.pk}|{key_id}|{payload_of(row, chained)}")
            row.seq, row.prev_hash = seq, previous
            row.hash = previous = anchors.mac(key, f"{seq}|{previous}|{row.pk}|{row.mac}")
        manager.bulk_update(rows.values(), ["seq", "prev_hash", "hash", "mac", "key_id"], batch_size=500)
    head_model.objects.update_or_create(chain=label, defaults={"seq": seq, "hash": previous})


__all__ = [
    "GENESIS",
    "ChainHead",
    "HashChained",
    "anchor_now",
    "append",
    "payload_of",
    "seal",
]

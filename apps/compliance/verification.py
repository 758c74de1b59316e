"""Verifying a keyed chain (:mod:`apps.compliance.chain`): every row's HMAC and link, no hole in ``seq``,
the head, and the anchors outside the database; an incremental verification starts from the latest
checkpoint."""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from django.db import DatabaseError, models
from django.utils import timezone

from apps.compliance import anchors
from apps.compliance.chain import GENESIS, ChainHead, HashChained, _head, seal


@dataclass
class ChainReport:
    rows: int
    ok: bool
    first_broken_seq: int | None = None
    reason: str = ""
    checked: int = 0  # rows read and recomputed by this verification
    full: bool = True
    anchored_seq: int | None = None
    anchored_at: datetime | None = None


def verify_chain(model: type[HashChained], *, full: bool = True, batch: int = 5000) -> ChainReport:
    """Seal, then check ``model``'s chain: every row's HMAC and link, no hole in ``seq``, the head, and
    the anchors outside the database. ``full=False`` starts from the latest checkpoint."""
    label = model._meta.label_lower
    report = ChainReport(0, True, full=full)
    try:
        seal(model, wait=True)
    except DatabaseError as error:  # e.g. a head stepped back makes the next seq collide
        report.ok, report.reason = False, f"the chain cannot be sealed: {error}"
        return report
    marks = anchors.latest_anchors(label)
    if marks.furthest is not None:
        report.anchored_seq, report.anchored_at = marks.furthest.seq, marks.furthest.at
    # The head is read before the rows: a seal that commits meanwhile only adds rows after it.
    head = _head(label)
    walked = _Walk(model, keys=anchors.chain_keys(), report=report)
    broken = walked.run(marks, head, full=full, batch=batch)
    if broken is None and marks.forged:
        broken = None, f"{marks.forged} line(s) of the anchor file do not verify"
    if broken is not None:
        report.ok, (report.first_broken_seq, report.reason) = False, broken
        return report
    checkpoint = marks.checkpoint
    if report.rows and (checkpoint is None or report.rows > checkpoint.seq):
        anchors.write_anchor(label, "checkpoint", report.rows, walked.last_hash)
    now = timezone.now()
    ChainHead.objects.filter(pk=head.pk).update(
        verified_seq=report.rows, verified_at=now, **({"full_verified_at": now} if full else {})
    )
    return report


class _Walk:
    """One verification's walk over the rows; ``run`` answers the first broken seq and why, or None."""

    def __init__(self, model: type[HashChained], *, keys: dict[str, bytes], report: ChainReport) -> None:
        self.model, self.keys, self.report = model, keys, report
        self.last_hash = GENESIS

    def run(
        self, marks: anchors.Anchors, head: ChainHead, *, full: bool, batch: int
    ) -> tuple[int | None, str] | None:
        model, keys = self.model, self.keys
        stated = [m for m in (marks.head, marks.checkpoint) if m is not None and m.seq]
        previous, last = GENESIS, 0
        checkpoint = marks.checkpoint
        if not full and checkpoint is not None and checkpoint.seq:
            row = model._base_manager.filter(seq=checkpoint.seq).first()
            if row is None:
                return _missing(model, checkpoint)
            broken = _check_row(row, row.prev_hash, keys) or _against(row, checkpoint)
            if broken:
                return row.seq, broken
            previous, last = row.hash, checkpoint.seq  # the row found at the checkpoint's seq
        start = last  # rows up to here were verified before, and are not read again
        due = {m.seq: m for m in stated if m.seq > start}
        for row in _ordered(model, start, batch):
            self.report.checked += 1
            if row.seq != last + 1:
                return last + 1, f"row #{last + 1} is missing (next is #{row.seq})"
            broken = _check_row(row, previous, keys)
            if broken:
                return row.seq, broken
            mark = due.pop(row.seq, None)
            if mark is not None and (broken := _against(row, mark)):
                return row.seq, broken
            if row.seq == head.seq and not hmac.compare_digest(row.hash, head.hash):
                return row.seq, f"row #{row.seq} is not the chain's head"
            previous, last = row.hash, row.seq
        self.report.rows, self.last_hash = last, previous
        if due:
            mark = max(due.values(), key=lambda m: m.seq)
            return last + 1, (
                f"rows after #{last} were removed: the {_what(mark)} of {mark.at:%Y-%m-%d %H:%M:%S} "
                f"outside the database says the chain reached #{mark.seq}"
            )
        if head.seq > last:
            return last + 1, f"rows after #{last} were removed (the chain's head says #{head.seq})"
        if head.seq < start:
            return (
                head.seq + 1,
                f"the chain's head (#{head.seq}) was stepped back behind its checkpoint (#{start})",
            )
        if head.seq == start and head.seq and not hmac.compare_digest(previous, head.hash):
            return head.seq, f"row #{head.seq} is not the chain's head"
        for mark in (m for m in stated if m.seq < start):  # an anchor older than the checkpoint
            row = model._base_manager.filter(seq=mark.seq).first()
            broken = f"row #{mark.seq} is missing" if row is None else _against(row, mark)
            if broken:
                return mark.seq, broken
        for row in model._base_manager.filter(seq__isnull=True).order_by("pk"):  # committed since the seal
            if not _mac_holds(row, keys):
                return None, f"a row not yet sealed (id {row.pk}) was changed or forged"
        return None


def _check_row(row: HashChained, previous: str, keys: dict[str, bytes]) -> str:
    if row.prev_hash != previous:
        return f"row #{row.seq} does not link to the row before it"
    if not _mac_holds(row, keys):
        return f"row #{row.seq} was changed after it was written"
    key = keys.get(row.key_id)
    if key is None or not hmac.compare_digest(row.compute_hash(key), row.hash):
        return f"row #{row.seq}'s place in the chain was rewritten"
    return ""


def _mac_holds(row: HashChained, keys: dict[str, bytes]) -> bool:
    key = keys.get(row.key_id)
    return key is not None and hmac.compare_digest(row.compute_mac(key), row.mac)


def _against(row: HashChained, mark: anchors.Anchor) -> str:
    if hmac.compare_digest(row.hash, mark.hash):
        return ""
    return (
        f"row #{row.seq} differs from its {_what(mark)} of {mark.at:%Y-%m-%d %H:%M:%S} outside the "
        "database: the chain was rewritten"
    )


def _what(mark: anchors.Anchor) -> str:
    return "checkpoint" if mark.kind == "checkpoint" else "anchor"


def _missing(model: type[HashChained], mark: anchors.Anchor) -> tuple[int, str]:
    last = model._base_manager.aggregate(last=models.Max("seq"))["last"] or 0
    if last < mark.seq:
        return last + 1, (
            f"rows after #{last} were removed: the {mark.kind} of {mark.at:%Y-%m-%d %H:%M:%S} outside "
            f"the database says the chain reached #{mark.seq}"
        )
    return mark.seq, f"row #{mark.seq} is missing"


def _ordered(model: type[HashChained], after: int, batch: int) -> Iterator[HashChained]:
    last = after
    while True:
        rows = list(model._base_manager.filter(seq__gt=last).order_by("seq")[:batch])
        if not rows:
            return
        yield from rows
        last = cast(int, rows[-1].seq)  # a row found by its seq has one


__all__ = ["ChainReport", "verify_chain"]

"""Entity resolution in the product: each stored batch linked against everything stored, and the
analysts' confirm and split.

Intake queues each stored batch in its transaction (``on_batch_stored``: a ``LinkBacklog`` row) and a
worker links the backlog after the commit, batch after batch in the order they were stored
(``link_backlog``; inline in the embedded mode). ``link_subjects(subject_ids)`` links one batch as things
stood when it was stored. It is incremental: the batch's blocking keys (keyed hashes, ``BlockKey``) and its records'
prepared linking fields (``LinkRecord``) are stored, the records of earlier batches sharing a key are
found by indexed lookups and read as prepared then (never prepared again), and only those are scored
with the batch (``apps.entities.resolution``). Decisions are read first: a pair an analyst split is never linked
again, a pair an analyst confirmed is linked whatever the score, both by the records' business
identities, so they hold for the next version of a record after a re-import.

Links land in two tables: ``EntityLink`` (score, weight, reasons, status) and the ``SubjectLink``
(``same_person`` / ``same_trader``) that the subject page and the network follow.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.fields.json import KT

from apps.agencies.operations import check, membership_of
from apps.core.locks import session_lock
from apps.entities import resolution
from apps.entities.models import BlockKey, EntityLink, LinkBacklog, LinkDecision, LinkRecord
from apps.intake.bulk import bulk_insert_rows, copy_text, keep_statistics_current
from apps.intake.models import Subject, SubjectLink
from apps.intake.normalise import key_hash

__all__ = ["LinkCounts", "decide_link", "link_backlog", "link_subjects", "record_fields"]

#: Subject kind → the resolution engine's kind and the SubjectLink kind its links get.
KINDS = {
    "traveller": ("person", SubjectLink.Kind.SAME_PERSON),
    "trader": ("trader", SubjectLink.Kind.SAME_TRADER),
}
#: Records of earlier batches read for one batch at most (a guard, far above any real block's reach).
MAX_CANDIDATES = 200_000


@dataclass
class LinkCounts:
    candidates: int = 0
    links: int = 0
    confirmed: int = 0
    split_kept_apart: int = 0


def record_fields(subject: Any, facts: dict[str, Any] | None = None, details: dict[str, Any] | None = None):
    """The fields the engine links a record on, from a subject's facts (and details, for an address)."""
    facts = facts if facts is not None else subject.facts or {}
    details = details if details is not None else subject.details or {}
    kind = subject if isinstance(subject, str) else subject.kind
    if kind == "traveller":
        flight = str(facts.get("flight_number") or "")
        day = str(facts.get("departure_at") or "")[:10]
        return {
            "surname": facts.get("surname") or "",
            "given": facts.get("given_names") or "",
            "dob": str(facts.get("date_of_birth") or "")[:10],
            "doc": facts.get("document_number") or "",
            "nationality": facts.get("nationality") or "",
            "trip": f"{flight}|{day}" if flight and day else "",
        }
    address = facts.get("trader_address") or facts.get("address") or details.get("address") or ""
    if not address and details.get("addresses"):
        first = details["addresses"][0] or {}
        address = " ".join(str(first.get(k) or "") for k in ("street", "postcode", "city"))
    # A waybill names a trader without an id by its name: an operator id has digits.
    tid = str(facts.get("trader_id") or "")
    tid = tid if any(c.isdigit() for c in tid) else ""
    return {
        "tid": tid,
        "name": facts.get("trader_name") or "",
        "address": address if isinstance(address, str) else "",
        "country": facts.get("trader_country") or "",
    }


def _frame(rows: list[tuple[Any, ...]], subject_kind: str) -> pd.DataFrame:
    fields = resolution.PERSON_FIELDS if subject_kind == "traveller" else resolution.TRADER_FIELDS
    records = [record_fields(subject_kind, facts, details) for _, _, facts, details, *_ in rows]
    # Object columns built straight from lists: ``from_records`` made each an Arrow string array first,
    # which the engine turns back into Python strings.
    columns = {"rid": pd.Series([r[0] for r in rows], dtype="int64")}
    columns |= {name: pd.Series([r[name] for r in records], dtype=object) for name in fields}
    return pd.DataFrame(columns)


#: The facts a stored traveller is linked on (``record_fields``), read one by one from its JSON in the
#: database: reading every candidate's whole facts and details, to use seven strings, was most of the
#: time of linking a batch of travellers.
TRAVELLER_FACTS = (
    "surname",
    "given_names",
    "date_of_birth",
    "document_number",
    "nationality",
    "flight_number",
    "departure_at",
)


def _stored(holders: list[int], subject_kind: str, upto: int | None) -> list[tuple[Any, ...]]:
    """The live stored records of ``subject_kind`` among ``holders``, as (pk, kind, facts, details)."""
    live = _live(Subject.objects.filter(pk__any=holders, kind=subject_kind), upto).order_by()
    if subject_kind != "traveller":  # a trader's address may be in its details: read both (few traders)
        return list(live.values_list("pk", "kind", "facts", "details"))
    values = live.values_list("pk", *(KT(f"facts__{name}") for name in TRAVELLER_FACTS))
    return [(pk, subject_kind, dict(zip(TRAVELLER_FACTS, facts, strict=True)), {}) for pk, *facts in values]


def _hashed(keys: pd.DataFrame) -> pd.DataFrame:
    """The engine's keys as stored: keyed hashes (the plain key holds a name and a birth date)."""
    unique = keys["key"].unique()
    hashed = dict(zip(unique, (key_hash("blk", k) for k in unique), strict=True))
    return pd.DataFrame({"key": keys["key"].map(hashed), "rid": keys["rid"]})


#: What the linker reads of a subject of the batch: (pk, kind, facts, details, source id, external id).
BatchRecord = tuple[int, str, dict[str, Any], dict[str, Any], int, str]


def _live(subjects: QuerySet[Subject], upto: int | None) -> QuerySet[Subject]:
    """``subjects`` but those superseded: by now, or, with ``upto``, by a version stored up to that id.

    A batch is linked after its commit, when later batches may have superseded some of its records or
    of the records it is linked against; each is linked as it stood when the batch was stored. One
    source's batches are stored one at a time (``store_messages``' source lock) and draw their ids in
    that order, so a record was superseded by then if and only if a newer version of it has an id up to
    the batch's last.
    """
    if upto is None:
        return subjects.exclude(status=Subject.Status.SUPERSEDED)
    newer = Subject.objects.filter(
        source_id=OuterRef("source_id"),
        external_id=OuterRef("external_id"),
        version__gt=OuterRef("version"),
        pk__lte=upto,
    )
    return subjects.exclude(Q(status=Subject.Status.SUPERSEDED) & Exists(newer))


def link_subjects(
    subject_ids: list[int], *, records: list[BatchRecord] | None = None, upto: int | None = None
) -> LinkCounts:
    """Link a stored batch (travellers and traders among ``subject_ids``) against everything stored.

    ``records`` are the batch's subjects that are not superseded, as written, when the caller has them
    (saving a query and the JSON of every subject of the batch); without them they are read. ``upto``
    (the batch's last id, for a batch queued by intake) links the batch as things stood when it was
    stored: what was superseded then, and only that, is left out (``_live``).
    """
    counts = LinkCounts()
    if not subject_ids:
        return counts
    if records is None:
        columns = ("pk", "kind", "facts", "details", "source_id", "external_id")
        batch = list(
            _live(Subject.objects.filter(pk__any=subject_ids, kind__in=list(KINDS)), upto)
            .order_by()
            .values_list(*columns)
        )
    else:
        batch = [r for r in records if r[1] in KINDS]
    for subject_kind, (engine_kind, link_kind) in KINDS.items():
        rows = [r for r in batch if r[1] == subject_kind]
        if rows:
            _link_kind(rows, subject_kind, engine_kind, link_kind, counts, upto)
    return counts


Pair = tuple[int, int]


def _link_kind(
    rows: list[BatchRecord],
    subject_kind: str,
    engine_kind: str,
    link_kind: str,
    counts: LinkCounts,
    upto: int | None,
) -> None:
    """Block, score and store the links of one kind's new records, among themselves and with stored ones."""
    # The planner must know how large the key table has grown: with statistics from when it was
    # small (never analysed, autovacuum off or behind) it read the whole table for every batch, a
    # cost that grew with everything stored. Changes of earlier, committed batches are counted.
    keep_statistics_current(BlockKey, LinkRecord)
    new = _frame(rows, subject_kind)
    prepared = resolution.prepare(new, engine_kind)
    keys = _hashed(resolution.block_keys(prepared, engine_kind))
    new_ids = set(new["rid"].tolist())
    # Read before the batch's own keys are written: the lookup then returns only stored holders.
    stored_keys, stored = _stored_candidates(keys, new_ids, subject_kind, engine_kind, counts, upto)
    # Built from the columns' lists (Python ints and strings): ``itertuples`` made a named tuple and a
    # numpy integer per key, seven keys a traveller.
    bulk_insert_rows(
        BlockKey,
        [
            {"subject_id": r, "key": k}
            for k, r in zip(keys["key"].tolist(), keys["rid"].tolist(), strict=True)
        ],
    )
    _store_prepared(prepared, fresh=True)
    pairs = resolution.candidate_pairs(keys, stored_keys if stored is not None else None)
    every = prepared if stored is None else pd.concat([stored, prepared])
    links = resolution.score(every, pairs, engine_kind)
    found = _linked(links)
    confirmed, split = _decisions(new_ids, subject_kind, {r[0]: (r[4], r[5]) for r in rows}, upto)
    for pair in split:
        if found.pop(pair, None) is not None:
            counts.split_kept_apart += 1
    reasons = dict(links.reasons)
    for pair in confirmed:
        found[pair] = (1.0, float(found.get(pair, (0, 0))[1]))
        reasons[pair] = [*reasons.get(pair, []), "confirmed by an analyst"]
    counts.links += len(found)
    counts.confirmed += len(confirmed)
    if found:
        _store_links(found, confirmed, reasons, link_kind)


def _stored_candidates(
    keys: pd.DataFrame,
    new_ids: set[int],
    subject_kind: str,
    engine_kind: str,
    counts: LinkCounts,
    upto: int | None,
) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """The live stored records sharing a usable blocking key with the batch: their keys and prepared
    columns (read from ``LinkRecord``, prepared once when each was stored)."""
    batch_keys = keys["key"].unique().tolist()
    # Three index lookups, none joined: the stored holders of the batch's keys (its own are not written
    # yet, but a re-linked record may hold keys already: left out here), which of them are live records
    # of this kind, and their prepared fields. Joining the key table to the subjects made the planner
    # hash whole tables for what is a few thousand rows.
    holders_of = (
        BlockKey.objects.filter(key__any=batch_keys)
        .order_by()
        .values_list("key", "subject_id")[:MAX_CANDIDATES]
    )
    with _index_only():
        held = [(key, pk) for key, pk in holders_of if pk not in new_ids]
    if not held:
        return None, None
    live = set(
        _live(Subject.objects.filter(pk__any=list({pk for _, pk in held}), kind=subject_kind), upto)
        .order_by()
        .values_list("pk", flat=True)
    )
    stored_keys = pd.DataFrame([(k, pk) for k, pk in held if pk in live], columns=["key", "rid"])
    # A key that MAX_BLOCK live stored records hold already blocks nothing (``candidate_pairs`` drops it
    # once the batch's own holders are added): its holders are not read at all.
    sizes = stored_keys["key"].map(stored_keys["key"].value_counts())
    stored_keys = stored_keys[sizes < resolution.MAX_BLOCK]
    if not len(stored_keys):
        return None, None
    holders = sorted(set(stored_keys["rid"].tolist()))
    counts.candidates += len(holders)
    columns = _prepared_columns(engine_kind)
    packed = list(LinkRecord.objects.filter(subject_id__any=holders).values_list("subject_id", "fields"))
    frames = []
    if packed:
        split = [fields.split(LinkRecord.SEPARATOR) for _, fields in packed]
        index = pd.Index([pk for pk, _ in packed], dtype="int64", name="rid")
        frames.append(
            pd.DataFrame(
                {
                    c: pd.Series([f[i] for f in split], dtype=object, index=index)
                    for i, c in enumerate(columns)
                },
                index=index,
            )
        )
    missing = sorted(set(holders) - {pk for pk, _ in packed})
    if missing:
        # Stored before link records were kept: prepared from their facts this once, and kept.
        others = _stored(missing, subject_kind, upto)
        if others:
            late = resolution.prepare(_frame(others, subject_kind), engine_kind)
            _store_prepared(late, fresh=False)
            frames.append(late)
    if not frames:
        return None, None
    stored = pd.concat(frames) if len(frames) > 1 else frames[0]
    # Only keys of records actually prepared: the scorer looks each pair's records up by id.
    return stored_keys[stored_keys["rid"].isin(stored.index)], stored


@contextlib.contextmanager
def _index_only() -> Iterator[None]:
    """The block (one query) planned without sequential scans, on PostgreSQL; as before after it.

    A batch looks up a few thousand keys, most held by one or two records. The planner costs each of
    the thousands of index probes high and read the whole key table instead (a quarter of a second at
    a hundred thousand travellers, growing with every one stored) where the index gives the few
    thousand rows in a fixed few tens of milliseconds. Set for the transaction (``set_config``'s
    ``is_local``) and put back at once, so no other query of the batch is planned differently.
    """
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('enable_seqscan')")
        (before,) = cursor.fetchone()
        cursor.execute("SELECT set_config('enable_seqscan', 'off', true)")
        try:
            yield
        finally:
            cursor.execute("SELECT set_config('enable_seqscan', %s, true)", [before])


def _prepared_columns(engine_kind: str) -> list[str]:
    """The columns ``resolution.prepare`` makes for a kind, in its order (that of ``LinkRecord.fields``)."""
    empty = pd.DataFrame({"rid": pd.Series([], dtype="int64")})
    return list(resolution.prepare(empty, engine_kind).columns)


def _packed(prepared: pd.DataFrame) -> list[tuple[int, str]]:
    """Each prepared record as (subject id, its columns joined by ``LinkRecord.SEPARATOR``)."""
    sep = LinkRecord.SEPARATOR
    columns = [[v.replace(sep, " ") for v in prepared[c].tolist()] for c in prepared.columns]
    return list(zip(prepared.index.tolist(), map(sep.join, zip(*columns, strict=True)), strict=True))


def _store_prepared(prepared: pd.DataFrame, *, fresh: bool) -> None:
    """Keep the prepared columns of records: with one COPY for a batch's new records (``fresh``: no row
    can exist for them yet), else skipping records another batch has kept meanwhile."""
    rows = _packed(prepared)
    if not rows:
        return
    if fresh and connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            statement = "COPY entities_linkrecord (subject_id, fields) FROM STDIN"
            with cursor.cursor.copy(statement) as copy:
                copy.write("".join(f"{pk}\t{copy_text(fields)}\n" for pk, fields in rows))
        return
    LinkRecord.objects.bulk_create(
        [LinkRecord(subject_id=pk, fields=fields) for pk, fields in rows], ignore_conflicts=True
    )


def _linked(links: resolution.Links) -> dict[Pair, tuple[float, float]]:
    """The linked pairs with their score and weight."""
    # The links only, picked by the array's mask: a batch scores hundreds of thousands of pairs and
    # keeps a few thousand, which a loop over every pair spent most of its time skipping.
    hit = np.flatnonzero(links.linked)
    return {
        (a, b): (s, w)
        for a, b, s, w in zip(
            links.a[hit].tolist(),
            links.b[hit].tolist(),
            np.asarray(links.score, dtype=float)[hit].tolist(),
            np.asarray(links.weight, dtype=float)[hit].tolist(),
            strict=True,
        )
    }


def _store_links(
    found: dict[Pair, tuple[float, float]],
    confirmed: set[Pair],
    reasons: dict[Pair, list[str]],
    link_kind: str,
) -> None:
    """Insert the entity links not stored yet, and the subject links for pairs not linked either way."""
    existing = set(
        EntityLink.objects.filter(
            from_subject_id__any=[a for a, _ in found], to_subject_id__any=[b for _, b in found]
        ).values_list("from_subject_id", "to_subject_id")
    )
    fresh = [(pair, value) for pair, value in found.items() if pair not in existing]
    bulk_insert_rows(
        EntityLink,
        [
            {
                "from_subject_id": a,
                "to_subject_id": b,
                "kind": link_kind,
                "score": round(score, 4),
                "weight": round(weight, 2),
                "reasons": reasons.get((a, b), []),
                "status": EntityLink.Status.CONFIRMED if (a, b) in confirmed else EntityLink.Status.FOUND,
            }
            for (a, b), (score, weight) in fresh
        ],
    )
    # Intake's exact-key links (same document, same name and birth date) run from the new record to the
    # older one; a pair linked either way already is not linked twice.
    ids = {x for pair, _ in fresh for x in pair}
    known = {
        (min(f, t), max(f, t))
        for f, t in SubjectLink.objects.filter(
            from_subject_id__any=ids, to_subject_id__any=ids, kind=link_kind
        ).values_list("from_subject_id", "to_subject_id")
    }
    bulk_insert_rows(
        SubjectLink,
        [
            {
                "from_subject_id": a,
                "to_subject_id": b,
                "kind": link_kind,
                "reason": f"{score:.0%}: " + "; ".join(reasons.get((a, b), []))[:190],
            }
            for (a, b), (score, _) in fresh
            if (a, b) not in known
        ],
    )


def _decisions(
    new_ids: set[int], subject_kind: str, identities: dict[int, tuple[int, str]], upto: int | None
) -> tuple[set[tuple[int, int]], set[tuple[int, int]]]:
    """Pairs (a < b) of the batch with a stored record, or within it, that analysts confirmed or split.

    Decisions name business identities (``identities``: each new record's source and external id); each
    is mapped to the current record of each identity.
    """
    if not identities:
        return set(), set()
    ext_ids = {ext for _, ext in identities.values()}
    decisions = list(
        LinkDecision.objects.filter(a_external_id__any=ext_ids).values_list(
            "a_source_id", "a_external_id", "b_source_id", "b_external_id", "decision"
        )
    ) + list(
        LinkDecision.objects.filter(b_external_id__any=ext_ids).values_list(
            "a_source_id", "a_external_id", "b_source_id", "b_external_id", "decision"
        )
    )
    if not decisions:
        return set(), set()
    wanted = {(s, e) for a_s, a_e, b_s, b_e, _ in decisions for s, e in ((a_s, a_e), (b_s, b_e))}
    current: dict[tuple[int, str], int] = {}
    for pk, source, ext in (
        _live(Subject.objects.filter(external_id__any={e for _, e in wanted}, kind=subject_kind), upto)
        .order_by()
        .values_list("pk", "source_id", "external_id")
    ):
        if (source, ext) in wanted:
            current[(source, ext)] = pk
    confirmed: set[tuple[int, int]] = set()
    split: set[tuple[int, int]] = set()
    for a_s, a_e, b_s, b_e, decision in decisions:
        a, b = current.get((a_s, a_e)), current.get((b_s, b_e))
        if a is None or b is None or a == b or not ({a, b} & new_ids):
            continue
        pair = (min(a, b), max(a, b))
        (confirmed if decision == LinkDecision.Decision.CONFIRM else split).add(pair)
    return confirmed - split, split


def decide_link(*, actor: User, link: EntityLink, decision: str, reason: str) -> LinkDecision:
    """Confirm or split a link found by the linker; the decision holds on every later import.

    The actor must see both records (else 404, as for any object outside his scope) and his agency must
    own one of them: a partner who only has a grant to read a source does not decide who is who in it.
    """
    check(actor, "entity.decide")
    if not EntityLink.objects.visible_to(actor).filter(pk=link.pk).exists():
        from django.http import Http404

        raise Http404("Not found.")
    if decision not in LinkDecision.Decision.values:
        raise ValueError(f"unknown decision {decision!r}")
    if not reason.strip():
        raise ValueError("Say why: a decision without a reason cannot be reviewed.")
    membership = membership_of(actor)
    a, b = link.from_subject, link.to_subject
    if membership.agency_id not in {a.owner_agency_id, b.owner_agency_id}:
        raise PermissionDenied("Only an agency that owns one of the two records may decide on their link.")
    (first, second) = sorted([a, b], key=lambda s: (s.source_id, s.external_id))
    with transaction.atomic():
        row, _ = LinkDecision.objects.update_or_create(
            a_source_id=first.source_id,
            a_external_id=first.external_id,
            b_source_id=second.source_id,
            b_external_id=second.external_id,
            defaults={
                "kind": link.kind,
                "decision": decision,
                "reason": reason.strip(),
                "decided_by": actor,
                "agency_id": membership.agency_id,
            },
        )
        if decision == LinkDecision.Decision.SPLIT:
            either_way = Q(from_subject_id=a.pk, to_subject_id=b.pk) | Q(
                from_subject_id=b.pk, to_subject_id=a.pk
            )
            SubjectLink.objects.filter(either_way, kind=link.kind).delete()
            EntityLink.objects.filter(pk=link.pk).delete()
        else:
            EntityLink.objects.filter(pk=link.pk).update(status=EntityLink.Status.CONFIRMED)
    return row


def on_batch_stored(
    sender: object, subject_ids: list[int], live: list[tuple[int, str]] | None = None, **kwargs: object
) -> None:
    """Intake stored a batch (``apps.intake.events.batch_stored``, inside its transaction): queue its
    linking, in the same transaction, and ask a worker to link after the commit.

    Linking was two fifths of a bulk intake's database time and three fifths of its own; done after
    the commit, the intake ends when its records are stored. ``live`` names the batch's subjects that
    are not superseded within it, ``(id, kind)``: the ids of the kinds linked are queued (the linker
    reads them back, as ``link_subjects`` does for any ids), or all ``subject_ids`` when intake does not
    say.
    """
    ids = [pk for pk, kind in live if kind in KINDS] if live is not None else list(subject_ids)
    if not ids:
        return
    # The batch's last id: what was superseded when it was stored (``_live``).
    LinkBacklog.objects.create(subject_ids=ids, upto=max(subject_ids))
    from apps.entities.tasks import link_backlog_task

    transaction.on_commit(link_backlog_task.delay)


#: The key of the session lock that one worker at a time holds while it links the backlog.
BACKLOG_LOCK = (21_002, 0)


def link_backlog() -> int:
    """Link every queued batch, oldest first, each in its own transaction; returns the batches linked.

    One worker at a time (a session lock, which the server drops with a killed worker's connection):
    each batch must see every batch queued before it linked, and none after it, which is what linking
    inside intake's transaction gave. A worker that finds the lock held leaves the backlog to its
    holder, who looks again after letting go, so a batch queued meanwhile is not left waiting.
    """
    linked = 0
    while True:
        with session_lock(*BACKLOG_LOCK) as mine:
            if not mine:
                return linked
            while _link_oldest():
                linked += 1
        if not LinkBacklog.objects.exists():
            return linked


def _link_oldest() -> bool:
    """Link the oldest queued batch and drop it from the backlog, in one transaction; False if none."""
    with transaction.atomic():
        entry = LinkBacklog.objects.order_by("pk").first()
        if entry is None:
            return False
        link_subjects(entry.subject_ids, upto=entry.upto)
        LinkBacklog.objects.filter(pk=entry.pk).delete()
    return True

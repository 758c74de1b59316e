"""The steps of :func:`apps.intake.services.store_messages`, one function each.

``store_messages`` holds the transaction, the source lock and the order of the steps; each step here
reads or writes one thing (the messages, the subject versions, their keys, outcomes and links) and
says why it is done the way it is. Nothing here checks permissions or opens a transaction: these run
only inside ``store_messages``.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from typing import TYPE_CHECKING, Any

from apps.intake.bulk import Encoded, bulk_insert_rows, read_beside
from apps.intake.identity import link_batch
from apps.intake.models import (
    DataSource,
    IntakeRun,
    Message,
    Outcome,
    SourceKind,
    Subject,
    SubjectKey,
    SubjectLink,
)
from apps.intake.normalise import SubjectDraft, drafts_for, key_hash
from apps.intake.parsers.base import ParsedMessage

if TYPE_CHECKING:
    from apps.intake.services import PortIndex, StoreCounts

#: A parsed message, with the name of the file it came in.
Parsed = tuple[ParsedMessage, str]
#: A subject draft of a stored message: the draft, the message's id and the message's function.
PrimaryDraft = tuple[SubjectDraft, int, str]


def unstored_messages(
    source: DataSource, parsed: list[Parsed], run: IntakeRun | None, counts: StoreCounts
) -> list[Parsed]:
    """The messages of ``parsed`` not yet stored for ``source``, each once; counts the others.

    Exactly-once intake rests on this: a message key already stored is skipped, so a resent file or a
    retried batch stores nothing twice. A message stored by this very run (before a worker was killed
    or the database restarted) counts as the run's own message, not as a duplicate sent by anyone.
    Read under the source lock, so no other batch can store the same key between this read and the
    insert.
    """
    keys = [m.message_key for m, _ in parsed]
    stored_by = dict(
        Message.objects.filter(source=source, message_key__any=keys)
        .order_by()
        .values_list("message_key", "run_id")
    )
    seen = set(stored_by)
    fresh: list[Parsed] = []
    for message, file_name in parsed:
        if message.message_key in seen:
            if run is not None and stored_by.get(message.message_key) == run.pk:
                # Stored by this very run before it was interrupted (a worker killed, the
                # database restarted): the run's own message, not a duplicate sent by anyone.
                counts.messages += 1
            else:
                counts.duplicates += 1
            continue
        seen.add(message.message_key)
        fresh.append((message, file_name))
    return fresh


def insert_messages(source: DataSource, fresh: list[Parsed], run: IntakeRun | None, now) -> list[int]:
    """Insert one ``Message`` row per new message, in order; returns their ids in the same order.

    The message row is what makes a message "already stored" for the next batch, and what each
    subject version points back to (which file, which run, which function).
    """
    functions = frozenset(Message.Function.values)  # built anew on each access: once a batch, not a row
    return bulk_insert_rows(
        Message,
        [
            {
                "source_id": source.pk,
                "run_id": run.pk if run else None,
                "format": m.kind,
                "message_key": m.message_key[:200],
                "business_key": (m.version_key or m.message_key)[:200],
                "version_key": m.version_key[:100],
                "function": m.function if m.function in functions else Message.Function.ORIGINAL,
                "file_name": file_name[:300],
                "filtered_fields": m.filtered_fields,
                "received_at": now,
            }
            for m, file_name in fresh
        ],
    )


def primary_drafts(fresh: list[Parsed], message_ids: list[int]) -> list[PrimaryDraft]:
    """The subject drafts of the new messages, in message order, each with its message id and function.

    Normalising happens once per record: in the parsing process, beside the parse, when the run has one
    (``apps.intake.parallel``), else here; every later step works on drafts and never looks at a
    parser's records again.
    """
    primary: list[PrimaryDraft] = []
    for (parsed_message, _), message_id in zip(fresh, message_ids, strict=True):
        function = parsed_message.function
        drafts = parsed_message.drafts
        if drafts is None:  # parsed here, not in the parsing process: normalised now
            drafts = [draft for record in parsed_message.records for draft in drafts_for(record)]
        primary.extend((draft, message_id, function) for draft in drafts)
    return primary


def current_versions(source: DataSource, primary: list[PrimaryDraft]) -> dict[str, tuple[int, int]]:
    """The current version (id, version number) of each business object the drafts are new versions of.

    Looked up by external id; an amendment that names its original only by MRN is looked up by that
    key instead, and its draft takes the original's external id, so that it supersedes the original
    rather than starting a second object.
    """
    identities = {d.external_id for d, _, _ in primary}
    current: dict[str, tuple[int, int]] = {
        ext: (pk, version)
        for pk, ext, version in Subject.objects.filter(
            source=source, external_id__any=identities, status=Subject.Status.CURRENT
        )
        .order_by()  # the model's default ordering would sort every lookup for nothing
        .values_list("id", "external_id", "version")
    }
    # Amendments that name the original only by MRN.
    by_mrn = {
        key_hash("mrn", d.facts["mrn"]): d
        for d, _, _ in primary
        if d.facts.get("mrn") and d.external_id not in current
    }
    if by_mrn:
        for key, pk, ext, version in (
            SubjectKey.objects.filter(
                key__in=list(by_mrn), subject__source=source, subject__status=Subject.Status.CURRENT
            )
            .order_by()
            .values_list("key", "subject_id", "subject__external_id", "subject__version")
        ):
            by_mrn[key].external_id = ext
            current[ext] = (pk, version)
    return current


def reference_subjects(
    source: DataSource, primary: list[PrimaryDraft], *, in_outer_transaction: bool
) -> tuple[dict[str, SubjectDraft], Callable[[], dict[str, int]]]:
    """The traders and conveyances the drafts link to, one draft per identity, and the look-up (started
    here, answered by the callable) of the ids of those already stored.

    A reference subject is one per identity and reused when it exists: a trader named by a thousand
    declarations is one subject that all of them link to, not a thousand. Nothing the batch writes is
    read (its new references are inserted later): in a run the look-up goes to a connection of its own
    (``bulk.read_beside``), beside the look-up of current versions on the storing connection.
    """
    references: dict[str, SubjectDraft] = {}
    for draft, _, _ in primary:
        for other, _, _ in draft.links:
            if other.kind in {"trader", "conveyance"}:
                references.setdefault(other.external_id, other)
    if not references:
        return references, dict
    identities = list(references)

    def stored() -> dict[str, int]:
        return dict(
            # One array parameter (``__any``), not thousands of literals the driver quotes one by one.
            Subject.objects.filter(source=source, external_id__any=identities, status=Subject.Status.CURRENT)
            .order_by()
            .values_list("external_id", "id")
        )

    return references, read_beside(stored, in_outer_transaction=in_outer_transaction)


def subject_version_rows(
    source: DataSource,
    primary: list[PrimaryDraft],
    current: dict[str, tuple[int, int]],
    references: dict[str, SubjectDraft],
    existing_refs: dict[str, int],
    *,
    ports: PortIndex,
    now,
    counts: StoreCounts,
) -> tuple[list[dict[str, Any]], list[SubjectDraft], list[int]]:
    """The ``Subject`` rows to insert, their drafts (same order) and the stored versions they supersede.

    Rows come in the drafts' order, then the reference subjects not yet stored. Each draft is a new
    version of its business object: numbered after the stored current version (which it supersedes)
    or after an earlier version in this same batch (which is inserted already superseded), so that
    only one version of an object is ever current. A cancellation is stored as a cancelled version.
    """
    rows: list[dict[str, Any]] = []
    row_drafts: list[SubjectDraft] = []
    superseded_ids: list[int] = []
    pending: dict[str, int] = {}  # external id → index in rows of the newest version in this batch
    for draft, message_id, function in primary:
        status = Subject.Status.CANCELLED if function == "cancellation" else Subject.Status.CURRENT
        version = 1
        if draft.external_id in pending:  # a later version of the same object in this batch
            earlier = rows[pending[draft.external_id]]
            earlier["status"] = Subject.Status.SUPERSEDED
            version = earlier["version"] + 1
        elif draft.external_id in current:
            previous_id, previous_version = current[draft.external_id]
            superseded_ids.append(previous_id)
            version = previous_version + 1
        counts.superseded += version > 1
        counts.cancelled += status == Subject.Status.CANCELLED
        pending[draft.external_id] = len(rows)
        rows.append(subject_row(draft, source, message_id, ports, now, status=status, version=version))
        row_drafts.append(draft)
    for ext_id, draft in references.items():
        if ext_id not in existing_refs:
            rows.append(subject_row(draft, source, None, ports, now))
            row_drafts.append(draft)
    return rows, row_drafts, superseded_ids


def supersede(superseded_ids: list[int]) -> None:
    """Mark the stored versions the batch replaces as superseded (kept, for history).

    Done before the new versions are inserted: the partial unique constraint
    ``subject_one_current_version`` allows one current version per object, so the old one must stop
    being current first.
    """
    if superseded_ids:
        Subject.objects.filter(pk__any=superseded_ids).update(status=Subject.Status.SUPERSEDED)


def subject_pks(
    row_drafts: list[SubjectDraft],
    subject_ids: list[int],
    references: dict[str, SubjectDraft],
    existing_refs: dict[str, int],
) -> dict[int, int]:
    """The subject id of every draft (by ``id()`` of the draft): the rows just inserted and the
    reference subjects already stored, so that links can name either."""
    pk_of: dict[int, int] = {id(d): pk for d, pk in zip(row_drafts, subject_ids, strict=True)}
    for ext_id, pk in existing_refs.items():
        pk_of[id(references[ext_id])] = pk
    return pk_of


def key_rows(
    row_drafts: list[SubjectDraft], subject_ids: list[int]
) -> tuple[list[dict[str, Any]], dict[str, set[int]]]:
    """The ``SubjectKey`` rows of the new subjects, and the new travellers by their person keys.

    Keys are what exact matching, amendments by MRN and entity resolution look subjects up by; the
    person keys (document, name + date of birth) feed :func:`same_person_links`.
    """
    rows: list[dict[str, Any]] = []
    person_keys: dict[str, set[int]] = {}
    for draft, pk in zip(row_drafts, subject_ids, strict=True):
        keys = set(draft.keys)
        if draft.facts.get("mrn"):
            keys.add(key_hash("mrn", draft.facts["mrn"]))
        rows.extend({"subject_id": pk, "key": k} for k in keys)
        if draft.kind == "traveller":
            for k in keys:
                if k.startswith(PERSON_KEY_PREFIXES):
                    person_keys.setdefault(k, set()).add(pk)
    return rows, person_keys


def outcome_rows(primary: list[PrimaryDraft], pk_of: dict[int, int], now) -> list[dict[str, Any]]:
    """Imported outcomes: a record that carries its own history (``draft.label``: finding, severity)
    brings it in as an ``Outcome``, as a result recorded after an examination would be."""
    rows: list[dict[str, Any]] = []
    for draft, _, _ in primary:
        if draft.label is not None:
            finding, severity = draft.label
            rows.append(
                {
                    "subject_id": pk_of[id(draft)],
                    "origin": Outcome.Origin.IMPORTED,
                    "finding": finding,
                    "severity": severity,
                    "random_control": False,
                    "revenue_at_stake": None,
                    "recorded_at": draft.arrival_at or now,
                }
            )
    return rows


def link_rows(
    primary: list[PrimaryDraft], pk_of: dict[int, int], references: dict[str, SubjectDraft]
) -> list[dict[str, Any]]:
    """The links each draft names (parties, means of transport, flight...), once each.

    A link to a trader or conveyance goes to the one subject of that identity (``references``), new or
    stored; a link to nothing stored, to itself, or given twice is dropped.
    """
    rows: list[dict[str, Any]] = []
    for draft, _, _ in primary:
        pk = pk_of[id(draft)]
        pairs = set()
        for other, kind, reason in draft.links:
            target = pk_of.get(id(references.get(other.external_id, other)))
            if target is None or target == pk or (target, kind) in pairs:
                continue
            pairs.add((target, kind))
            rows.append(
                {"from_subject_id": pk, "to_subject_id": target, "kind": kind, "reason": reason[:200]}
            )
    return rows


def resolve_entities(rows: list[dict[str, Any]], subject_ids: list[int]) -> None:
    """Entity resolution: this batch's travellers and traders against everything stored (queued here,
    linked after the commit, when the linker reads the records back).

    Handed the ids and kinds of the rows just written; versions already superseded in the batch are
    left out.
    """
    link_batch(
        subject_ids,
        [
            (pk, row["kind"])
            for row, pk in zip(rows, subject_ids, strict=True)
            if row["status"] != Subject.Status.SUPERSEDED and row["kind"] in LINKED_KINDS
        ],
    )


def new_current_subjects(
    primary: list[PrimaryDraft], rows: list[dict[str, Any]], pk_of: dict[int, int], subject_ids: list[int]
) -> list[int]:
    """The batch's new current subjects, which the risk engine assesses and screens.

    The current versions of the drafts (not those superseded or cancelled in the batch), then the
    traders and conveyances first seen in this batch: subjects too, assessed like the records that
    named them (those already known were assessed when first stored).
    """
    ids = [pk_of[id(d)] for i, (d, _, _) in enumerate(primary) if rows[i]["status"] == Subject.Status.CURRENT]
    ids += subject_ids[len(primary) :]
    return ids


def subjects_to_assess(source: DataSource, primary: list[PrimaryDraft], new_current: list[int]) -> list[int]:
    """What to assess after commit: the new current subjects and, for a trader register, more.

    A register changes what its traders' declarations and manifests are, so those are assessed again.
    """
    ids = list(new_current)
    if source.kind == SourceKind.TRADER_REGISTER and primary:
        from apps.intake.register import affected_subjects

        ids += affected_subjects([d.facts["trader_id"] for d, _, _ in primary], exclude=set(ids))
    return ids


def subject_row(
    draft: SubjectDraft,
    source: DataSource,
    message_id: int | None,
    ports: PortIndex,
    now,
    *,
    status: str = Subject.Status.CURRENT,
    version: int = 1,
) -> dict[str, Any]:
    """The ``Subject`` row of one draft, as ``bulk_insert_rows`` takes it (a message's subject, or a
    reference subject with no message)."""
    port = ports.get(draft.port_code)
    facts: Any = draft.facts
    details: Any = draft.details
    if draft.copy_json is not None:  # encoded in the parsing process
        if not draft.whole:  # only the text crossed back: the value is read from it where one is needed
            facts = details = None
        facts, details = Encoded(facts, draft.copy_json[0]), Encoded(details, draft.copy_json[1])
    elif not draft.whole:
        raise ValueError(f"{draft.external_id}: its facts were changed after its JSON was left as text alone")
    return {
        "kind": draft.kind,
        "source_id": source.pk,
        "owner_agency_id": source.owner_agency_id,
        "message_id": message_id,
        "external_id": draft.external_id[:200],
        "version": version,
        "status": status,
        "title": draft.title[:300],
        "port_id": port.pk if port else None,
        "arrival_at": draft.arrival_at,
        "facts": facts,
        "details": details,
        "received_at": now,
        "masked_at": None,
    }


#: The keys that say two travellers are one person (same document; same name and date of birth).
PERSON_KEY_PREFIXES = ("doc:", "namedob:")
#: The kinds entity resolution links (``apps.entities.services.KINDS``): only their rows are handed over.
LINKED_KINDS = frozenset({"traveller", "trader"})


def earlier_same_person(
    primary: list[PrimaryDraft], *, in_outer_transaction: bool
) -> Callable[[], list[tuple[int, str]]]:
    """Start looking up the stored travellers who share a person key (document, name + date of birth)
    with the batch's travellers; the callable returned gives them as (subject id, key) pairs.

    Called before the batch writes anything, so it finds only earlier records, and it reads nothing the
    batch writes: in a run it goes to a connection of its own (``bulk.read_beside``) and the storing
    transaction goes on meanwhile. It took a fifth of a batch's time on the storing chain at a million
    travellers: 2,000 keys, each a few probes at random places of an index larger than memory. Versions
    the batch supersedes are still current to this read; :func:`same_person_links` leaves them out.
    """
    keys = sorted(
        {
            key
            for draft, _, _ in primary
            if draft.kind == "traveller"
            for key in draft.keys
            if key.startswith(PERSON_KEY_PREFIXES)
        }
    )
    if not keys:
        return list

    def lookup() -> list[tuple[int, str]]:
        return list(
            # One array parameter: 2,000 placeholders cost psycopg more to write out than the lookup.
            SubjectKey.objects.filter(key__any=keys, subject__kind="traveller")
            .exclude(subject__status=Subject.Status.SUPERSEDED)
            .order_by()
            .values_list("subject_id", "key")
        )

    return read_beside(lookup, in_outer_transaction=in_outer_transaction)


def same_person_links(
    person_keys: dict[str, set[int]],
    superseded: set[int],
    *,
    earlier: Iterable[tuple[int, str]] = (),
    superseded_earlier: Collection[int] = frozenset(),
) -> list[dict[str, Any]]:
    """Link each new traveller to earlier records of the same person (same document, or name + birth date).

    ``person_keys`` maps each person key of the batch's new travellers to those travellers;
    ``superseded`` holds the new ones inserted already superseded (an earlier version in the same
    batch), which nothing links to. ``earlier`` is what :func:`earlier_same_person` found stored before
    the batch, of which ``superseded_earlier`` (the versions this batch replaces) are left out. Looking
    up before the batch's own keys are stored keeps it to the earlier records: when it ran after, each
    of the batch's two thousand keys also found its own new row (402,941 rows brought back for 200,000
    travellers, against 2,941). The same person twice in one batch is paired here from ``person_keys``
    itself. The new subjects were created in this transaction, so no same-person link from them can
    exist yet.
    """
    links: dict[tuple[int, int], str] = {}
    for key, ids in person_keys.items():  # the same person twice in this batch: earlier id → later
        if len(ids) > 1:
            ordered = sorted(ids)
            for i, first in enumerate(ordered):
                for later in ordered[i + 1 :]:
                    if later not in superseded:
                        links.setdefault((first, later), _same_person_reason(key))
    for other_id, key in earlier:
        if other_id in superseded_earlier:
            continue
        for subject_id in person_keys.get(key, ()):
            links.setdefault((subject_id, other_id), _same_person_reason(key))
    return [
        {"from_subject_id": a, "to_subject_id": b, "kind": SubjectLink.Kind.SAME_PERSON, "reason": reason}
        for (a, b), reason in links.items()
    ]


def _same_person_reason(key: str) -> str:
    return "same travel document" if key.startswith("doc:") else "same name and date of birth"

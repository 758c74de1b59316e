"""Which records are one person: clusters by merge keys, resolved and split links."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.apps import apps
from django.db.models import Q

from apps.compliance.masking import masked_facts, masked_title, subject_is_masked
from apps.intake import events
from apps.intake.identity.shapes import MAX_FETCH, MAX_RECORDS, MAX_ROUNDS, MERGE_KEYS, MESSAGE_KINDS, Record
from apps.intake.models import Subject, SubjectKey, SubjectLink
from apps.intake.presentation import Provenance


def _merge_keys(subject: Subject, keys: list[str]) -> set[str]:
    prefixes = tuple(MERGE_KEYS.get(subject.kind, {}))
    return {k for k in keys if prefixes and k.startswith(prefixes)}


def _cluster(visible: Any, subject: Subject) -> tuple[list[Subject], dict[int, set[str]], bool]:
    """The records of the person: the opened one, its current version, and the visible, not superseded
    records of the same kind that share a merge key with them, round after round.

    Each round reads keys only of records already known to be visible, so a record the viewer may not
    see never leads to another one.
    """
    found: dict[int, Subject] = {subject.pk: subject}
    own = list(SubjectKey.objects.filter(subject_id=subject.pk).values_list("key", flat=True))
    keys_of: dict[int, set[str]] = {subject.pk: _merge_keys(subject, own)}
    if subject.status == Subject.Status.SUPERSEDED:
        current = visible.filter(
            source_id=subject.source_id, external_id=subject.external_id, status=Subject.Status.CURRENT
        ).first()
        if current is not None:
            found[current.pk] = current
            keys_of[current.pk] = _merge_keys(
                current, list(SubjectKey.objects.filter(subject_id=current.pk).values_list("key", flat=True))
            )
    if subject.kind not in MERGE_KEYS:
        return list(found.values()), keys_of, False
    known: set[str] = set().union(*keys_of.values())
    frontier = set(known)
    capped = False
    split = _split_from(subject)
    newest: list[int] = []
    for _ in range(MAX_ROUNDS):
        if (not frontier and not newest and len(found) > 1) or capped:
            break
        room = MAX_RECORDS - len(found)
        # The holders of the keys, scoped in the same query: the records the viewer may not see are never
        # even loaded. (Indexed: the keys' index, then the subjects' primary key.)
        # Sorted here, not in SQL: an ORDER BY with a LIMIT invites the planner to walk the whole
        # received-at index looking for a handful of rows.
        holders = SubjectKey.objects.filter(key__in=sorted(frontier)).values("subject_id")
        linked = _resolved(set(newest or found))
        fetched = (
            visible.filter(kind=subject.kind)
            .filter(Q(pk__in=holders) | Q(pk__in=linked))
            .exclude(status=Subject.Status.SUPERSEDED)
            .exclude(pk__in=list(found) + split)
            .order_by()[:MAX_FETCH]
        )
        new = sorted(fetched, key=lambda s: (s.received_at, s.pk), reverse=True)
        if len(new) > room:
            new, capped = new[:room], True
        if not new:
            break
        for record in new:
            found[record.pk] = record
            keys_of[record.pk] = set()
        for subject_id, key in SubjectKey.objects.filter(subject_id__in=[r.pk for r in new]).values_list(
            "subject_id", "key"
        ):
            keys_of[subject_id] |= _merge_keys(subject, [key])
        frontier = set().union(*(keys_of[r.pk] for r in new)) - known
        known |= frontier
        newest = [r.pk for r in new]
    return list(found.values()), keys_of, capped


def _resolved(ids: set[int]) -> Any:
    """Records the entity linker found (or an analyst confirmed) to be the same person or trader as one
    of ``ids``: fuzzy links, beyond the exact keys (``apps.entities``)."""
    same = [SubjectLink.Kind.SAME_PERSON, SubjectLink.Kind.SAME_TRADER]
    return (
        SubjectLink.objects.filter(kind__in=same, from_subject_id__in=ids)
        .values("to_subject_id")
        .union(SubjectLink.objects.filter(kind__in=same, to_subject_id__in=ids).values("from_subject_id"))
    )


def _split_from(subject: Subject) -> list[int]:
    """Records an analyst split from ``subject`` (by business identity, so that it holds across versions):
    never merged into its page, even when they share a key. The decisions live in the entities app,
    above this one: looked up by name, never imported."""
    try:
        decisions = apps.get_model("entities", "LinkDecision")
    except LookupError:
        return []
    rows = decisions.objects.filter(decision="split").filter(
        Q(a_source_id=subject.source_id, a_external_id=subject.external_id)
        | Q(b_source_id=subject.source_id, b_external_id=subject.external_id)
    )
    others = Q(pk__in=[])
    for a_source, a_ext, b_source, b_ext in rows.values_list(
        "a_source_id", "a_external_id", "b_source_id", "b_external_id"
    )[:MAX_FETCH]:
        mine = (a_source, a_ext) == (subject.source_id, subject.external_id)
        source, ext = (b_source, b_ext) if mine else (a_source, a_ext)
        others |= Q(source_id=source, external_id=ext)
    return list(Subject.objects.filter(others).values_list("pk", flat=True)[:MAX_FETCH])


def link_batch(subject_ids: list[int], live: list[tuple[int, str]] | None = None) -> None:
    """Have a batch just stored linked against everything stored (entity resolution, ``apps.entities``):
    called by intake's store path inside its transaction, with the ``(id, kind)`` of the batch's subjects
    that are not superseded within it (``live``). The entities app sits above intake: it listens
    (``EntitiesConfig.ready``) and queues the batch in this transaction, to be linked after the commit
    (reading the records back then); an installation without it has no listener."""
    events.batch_stored.send(sender=Subject, subject_ids=subject_ids, live=live)


def _records(
    viewer: Any, opened: Subject, found: list[Subject], keys_of: dict[int, set[str]]
) -> list[Record]:
    """The records as the viewer may see them, newest first and numbered, each saying why it is here."""
    reasons = MERGE_KEYS.get(opened.kind, {})
    opened_keys = keys_of.get(opened.pk, set())
    rows: list[Record] = []
    ordered = sorted(found, key=lambda s: (s.received_at, s.pk), reverse=True)
    for number, subject in enumerate(ordered, start=1):
        masked = subject.kind == "traveller" and subject_is_masked(viewer, subject)
        shared = keys_of.get(subject.pk, set())
        if subject.pk == opened.pk:
            reason = "the record you opened"
        elif subject.source_id == opened.source_id and subject.external_id == opened.external_id:
            reason = "the current version of the record you opened"
        else:
            direct = [
                why
                for prefix, why in reasons.items()
                if any(k.startswith(prefix) for k in shared & opened_keys)
            ]
            # Its keys that another record of the page holds too: a record reached only by a link the
            # entity linker made shares none.
            held = {k for k in shared if any(k in keys for pk, keys in keys_of.items() if pk != subject.pk)}
            through = [why for prefix, why in reasons.items() if any(k.startswith(prefix) for k in held)]
            if direct:
                reason = " and ".join(direct)
            elif through:
                reason = f"through another record ({' and '.join(through)})"
            else:  # no shared key: a link the entity linker found (alike name, birth date, flight...)
                reason = "linked as the same by entity resolution"
        provenance = Provenance(
            number=number,
            record_id=subject.pk,
            source=subject.source.name,
            message=_message_kind(subject),
            received_at=subject.received_at,
            sent_at=_sent_at(subject),
            masked=masked,
        )
        rows.append(
            Record(
                number=number,
                id=subject.pk,
                source_id=subject.source_id,
                owner_agency_id=subject.owner_agency_id,
                title=masked_title(subject) if masked else subject.title,
                facts=masked_facts(_said(subject)) if masked else _said(subject),
                provenance=provenance,
                masked=masked,
                status=subject.status,
                status_label=subject.get_status_display(),
                version=subject.version,
                port=subject.port.name if subject.port is not None else "",
                arrival_at=subject.arrival_at,
                reason=reason,
                opened=subject.pk == opened.pk,
            )
        )
    return rows


#: Counts an API list cannot give (it carries no booking, no contacts): its zero means "not known".
NOT_IN_API = frozenset({"co_traveller_count", "email_count", "phone_count"})


def _said(subject: Subject) -> dict[str, Any]:
    """The facts the record's message actually gave: a value intake derives from a field the message
    lacks (no payment form, so "paid cash: no"; an API list's contact counts) would be shown as that
    source's word, beside a PNR that knows better."""
    facts = dict(subject.facts or {})
    if subject.kind != "traveller":
        return facts
    if not facts.get("payment_form"):
        facts.pop("paid_cash", None)
    if facts.get("message_type") == "paxlst":
        for name in NOT_IN_API:
            if not facts.get(name):
                facts.pop(name, None)
    return facts


def _message_kind(subject: Subject) -> str:
    message = subject.message
    if message is None:
        # Traders and conveyances are reference records, made from the parties of the messages.
        return f"reference record from {subject.source.get_kind_display().lower()} data"
    kind = MESSAGE_KINDS.get(message.format, message.format)
    if message.function != message.Function.ORIGINAL:
        kind += f", {message.get_function_display().lower()}"
    return kind


def _sent_at(subject: Subject) -> datetime | date | None:
    """The time the message says it was made: a passenger message's preparation, a declaration's lodging."""
    details = subject.details or {}
    text = details.get("message_sent_at") or details.get("declared_at")
    if not isinstance(text, str):
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def _title(subject: Subject, records: list[Record]) -> str:
    """The person's name from the newest record that may be read; the kind alone when all are masked."""
    readable = [r for r in records if not r.masked]
    if subject.kind == "traveller":
        for record in readable:
            facts = record.facts
            if facts.get("surname"):
                name = f"{facts['surname'].upper()}, {str(facts.get('given_names') or '').title()}".strip(
                    ", "
                )
                return name + (f" ({facts['nationality']})" if facts.get("nationality") else "")
        return "Traveller (depersonalised)" if not readable else records[0].title
    if subject.kind == "trader":
        for record in readable:
            trader, ident = record.facts.get("trader_name"), record.facts.get("trader_id")
            if trader or ident:
                return f"{trader} ({ident})" if trader and ident else str(trader or ident)
    opened = next((r for r in records if r.opened), records[0])
    return opened.title

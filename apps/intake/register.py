"""The trader register joined to what traders lodge: AEO status and compliance history on each subject.

A register source (kind ``trader_register``) holds one current trader subject per operator,
``trader:<operator id>``, versioned like every other record. Declarations and manifests name their
traders by the same id, so the register is joined to them when they are assessed, not copied into them
at intake: a declaration stored before its importer was registered, or before a certificate was revoked,
is assessed on what the register says at assessment time, and a register change re-assesses the recent
declarations and manifests of the traders it touched (:func:`affected_subjects`).

Facts filled (names in ``apps.risk.fields``): on consignments, for their importer (the declared importer,
else a manifest's consignee) ``importer_in_register``, ``importer_aeo``, ``importer_aeo_type``,
``importer_previous_findings``, ``importer_penalties``, ``importer_revocations``; on traders (of any
source), ``aeo``, ``aeo_type``, ``aeo_status``, ``findings_count``, ``penalties_count``,
``revocations_count``, ``examinations_count``, ``registered_on``. ``aeo`` is true only for an active
certificate whose validity covers the subject's day (arrival, else receipt).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from django.db.models import Q
from django.utils import timezone

from apps.intake.models import DataSource, SourceKind, Subject, SubjectKey, SubjectLink
from apps.intake.normalise import key_hash

__all__ = ["REASSESS_DAYS", "affected_subjects", "fill_register_facts", "provider", "trader_key"]

#: A register change re-assesses the traders' consignments received within this many days, or not yet
#: arrived: older ones have been released long ago, and a target on them could not be examined.
REASSESS_DAYS = 30
_CHUNK = 5000


def trader_key(identifier: str) -> str:
    """The operator id as register and declarations compare it: no spaces, upper case."""
    return "".join(str(identifier or "").split()).upper()


def _register_sources() -> list[int]:
    return list(DataSource.objects.filter(kind=SourceKind.TRADER_REGISTER).values_list("pk", flat=True))


def _chunks(values: list[Any]) -> Iterable[list[Any]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


def affected_subjects(trader_ids: Iterable[str], *, exclude: set[int] | None = None) -> list[int]:
    """Current subjects whose assessment reads the register entries of ``trader_ids``: the traders of the
    same id in other sources, and the recent consignments that name them as a party.

    Found through indexed tables only (trader keys, then party links), never by reading facts.
    """
    keys = sorted({key_hash("trader", trader_key(t)) for t in trader_ids if t})
    if not keys:
        return []
    registers = _register_sources()
    traders: set[int] = set()
    for part in _chunks(keys):
        traders.update(
            SubjectKey.objects.filter(
                key__in=part, subject__kind="trader", subject__status=Subject.Status.CURRENT
            )
            .exclude(subject__source_id__in=registers)
            .order_by()
            .values_list("subject_id", flat=True)
        )
    now = timezone.now()
    recent = Q(from_subject__received_at__gte=now - timedelta(days=REASSESS_DAYS)) | Q(
        from_subject__arrival_at__gte=now
    )
    consignments: set[int] = set()
    for part in _chunks(sorted(traders)):
        consignments.update(
            SubjectLink.objects.filter(
                to_subject_id__in=part,
                kind=SubjectLink.Kind.PARTY,
                from_subject__kind="consignment",
                from_subject__status=Subject.Status.CURRENT,
            )
            .filter(recent)
            .order_by()
            .values_list("from_subject_id", flat=True)
        )
    return sorted((traders | consignments) - (exclude or set()))


def _importer_of(subject: Subject) -> str:
    """The trader a consignment's importer facts are about: the declared importer, else the consignee."""
    facts = subject.facts or {}
    if facts.get("importer_id"):
        return trader_key(facts["importer_id"])
    parties = (subject.details or {}).get("parties")
    for party in parties if isinstance(parties, list) else []:
        if (
            isinstance(party, dict)
            and party.get("role") in {"importer", "consignee"}
            and party.get("identifier")
        ):
            return trader_key(party["identifier"])
    return ""


def _day(subject: Subject) -> date:
    moment = subject.arrival_at or subject.received_at or timezone.now()
    return moment.date()


def _aeo_on(entry: dict[str, Any], day: date) -> bool:
    """An active certificate whose validity dates (ISO strings in the register facts) cover ``day``."""
    if entry.get("aeo_status") != "active":
        return False
    start, end = entry.get("aeo_valid_from"), entry.get("aeo_valid_to")
    iso = day.isoformat()
    return (not start or start <= iso) and (not end or iso <= end)


def _entries(ids: set[str]) -> dict[str, dict[str, Any]]:
    """Current register facts by operator id (several registers: the newest entry wins)."""
    registers = _register_sources()
    if not registers or not ids:
        return {}
    found: dict[str, dict[str, Any]] = {}
    for part in _chunks(sorted(f"trader:{i}" for i in ids)):
        rows = (
            Subject.objects.filter(
                source_id__in=registers, external_id__in=part, status=Subject.Status.CURRENT, kind="trader"
            )
            .order_by("received_at", "pk")
            .values_list("external_id", "facts")
        )
        for external_id, facts in rows:
            found[external_id.removeprefix("trader:")] = facts
    return found


def fill_register_facts(subjects: list[Subject]) -> None:
    """Add the register's facts to consignments and traders of the batch, in memory (nothing is saved):
    one query per 5,000 traders named."""
    wanted: dict[int, str] = {}
    for subject in subjects:
        if subject.kind == "consignment":
            ident = _importer_of(subject)
        elif subject.kind == "trader":
            ident = trader_key((subject.facts or {}).get("trader_id", ""))
        else:
            continue
        if ident:
            wanted[subject.pk] = ident
    if not wanted:
        return
    registers = _register_sources()
    if not registers:
        return  # no register: whether an importer is in one is unknown, not false
    entries = _entries(set(wanted.values()))
    for subject in subjects:
        wanted_ident = wanted.get(subject.pk)
        if not wanted_ident:
            continue
        entry = entries.get(wanted_ident)
        facts = dict(subject.facts or {})
        if subject.kind == "consignment":
            facts["importer_in_register"] = entry is not None
            if entry is not None:
                aeo = _aeo_on(entry, _day(subject))
                facts.update(
                    importer_aeo=aeo,
                    importer_aeo_type=entry.get("aeo_type", "") if aeo else "",
                    importer_previous_findings=entry.get("findings_count", 0),
                    importer_penalties=entry.get("penalties_count", 0),
                    importer_revocations=entry.get("revocations_count", 0),
                )
        elif entry is not None:
            aeo = _aeo_on(entry, _day(subject))
            facts.update(
                aeo=aeo,
                aeo_type=entry.get("aeo_type", ""),
                aeo_status=entry.get("aeo_status", ""),
                findings_count=entry.get("findings_count", 0),
                penalties_count=entry.get("penalties_count", 0),
                revocations_count=entry.get("revocations_count", 0),
                registered_on=entry.get("registered_on"),
            )
            if entry.get("examinations_count") is not None:
                facts["examinations_count"] = entry["examinations_count"]
            if not facts.get("trader_name"):
                facts["trader_name"] = entry.get("trader_name") or ""
        subject.facts = facts


def provider(subjects: list[Subject]) -> dict[int, list[Any]]:
    """Risk-engine provider (``apps.risk.providers``): joins the register before the rules run; it scores
    nothing itself."""
    fill_register_facts(subjects)
    return {}

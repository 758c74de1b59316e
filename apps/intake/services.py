"""Intake and data-source services. Every function checks the actor first and works in transactions.

Intake runs the same code for the command line, the upload page, the API and the simulator:
``ingest_paths`` / ``ingest_payload`` → parse (pure parsers) → normalise (``normalise.py``) → store in
bulk (``store_messages``), then ask the risk engine to assess what was stored, after commit.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import InterfaceError, OperationalError, connection, reset_queries, transaction
from django.utils import timezone
from guardian.shortcuts import assign_perm, remove_perm

from apps.agencies.models import Agency, Port
from apps.agencies.operations import check, membership_of
from apps.intake.bulk import bulk_insert_rows, keep_statistics_current
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
from apps.intake.parsers.base import ParsedMessage, ParseResult, Problem

log = logging.getLogger(__name__)

MAX_PROBLEMS_KEPT = 1000
FUNCTIONS = frozenset(Message.Function.values)
ASSESS_CHUNK = 5000

# Which kind of source each format feeds, to pick a default source.
FORMAT_SOURCE_KIND = {
    "paxlst": SourceKind.API,
    "pnrgov": SourceKind.PNR,
    "wco-dec": SourceKind.DECLARATION,
    "declarations-csv": SourceKind.DECLARATION,
    "json": SourceKind.DECLARATION,
    "xfwb": SourceKind.CARGO_MANIFEST,
    "xfzb": SourceKind.CARGO_MANIFEST,
    "traders-csv": SourceKind.TRADER_REGISTER,
    "traders-json": SourceKind.TRADER_REGISTER,
}
FORMATS = (
    "auto", "paxlst", "pnrgov", "wco-dec", "xfwb", "xfzb", "declarations-csv", "json", "traders-csv",
    "traders-json",
)  # fmt: skip
REGISTER_FORMATS = ("traders-csv", "traders-json")


# --- Sources ----------------------------------------------------------------------------------------


def share_source(*, actor: Any, source: DataSource, agency: Agency) -> None:
    """Let ``agency`` see ``source`` (its legal basis allows the disclosure). Only the owner may share."""
    check(actor, "source.share", source)
    with transaction.atomic():
        assign_perm("intake.view_datasource", agency.group, source)
        transaction.on_commit(_forget_reports)


def unshare_source(*, actor: Any, source: DataSource, agency: Agency) -> None:
    """Stop ``agency`` seeing ``source``; reports already counted for it are dropped after the commit."""
    check(actor, "source.share", source)
    with transaction.atomic():
        remove_perm("intake.view_datasource", agency.group, source)
        transaction.on_commit(_forget_reports)


def _forget_reports() -> None:
    """Cached reports are kept per agency for minutes: an agency that lost sight of a source must not
    go on counting its subjects there, nor miss a newly shared one."""
    from apps.reports.services import forget_reports

    forget_reports()


def shared_with(source: DataSource) -> list[Agency]:
    """Agencies (other than the owner) granted sight of the source."""
    group_ids = source.datasourcegroupobjectpermission_set.filter(
        permission__codename="view_datasource"
    ).values("group_id")
    return list(Agency.objects.filter(group_id__in=group_ids).order_by("name"))


def default_source_for(fmt: str) -> DataSource | None:
    kind = FORMAT_SOURCE_KIND.get(fmt)
    return DataSource.objects.filter(kind=kind).order_by("pk").first() if kind else None


# --- Parsing ----------------------------------------------------------------------------------------


def parse_payload(data: bytes, *, name: str, fmt: str = "auto") -> ParseResult:
    """Detect the format (unless given) and parse; an unknown format is one problem naming the file."""
    from apps.intake.parsers.detect import detect_format

    if fmt == "auto":
        fmt = detect_format(data, name) or ""
        if not fmt:
            return ParseResult(
                file=name,
                format="unknown",
                problems=[
                    Problem(
                        name,
                        "file",
                        "not a recognised format (PAXLST, PNRGOV, WCO DEC, Cargo-XML, CSV, JSON)",
                    )
                ],
            )
    if fmt == "paxlst":
        from apps.intake.parsers.paxlst import parse_paxlst as parse
    elif fmt == "pnrgov":
        from apps.intake.parsers.pnrgov import parse_pnrgov as parse
    elif fmt == "wco-dec":
        from apps.intake.parsers.wco_dec import parse_wco_dec as parse
    elif fmt in {"xfwb", "xfzb"}:
        from apps.intake.parsers.cargo_xml import parse_cargo_xml as parse
    elif fmt == "declarations-csv":
        from apps.intake.parsers.declarations_csv import parse_declarations_csv as parse
    elif fmt == "json":
        from apps.intake.parsers.json_intake import parse_json as parse
    elif fmt in REGISTER_FORMATS:
        from apps.intake.parsers.traders import parse_traders

        return parse_traders(data, file=name, fmt=fmt)
    else:
        return ParseResult(file=name, format=fmt, problems=[Problem(name, "file", f"unknown format {fmt!r}")])
    return parse(data, file=name)


# --- Storing ----------------------------------------------------------------------------------------


@dataclass
class StoreCounts:
    messages: int = 0
    duplicates: int = 0
    subjects: int = 0
    superseded: int = 0
    cancelled: int = 0
    links: int = 0
    outcomes: int = 0
    filtered_fields: int = 0
    # The batch's new current subjects (for the risk engine); never accumulated by ``add``, so that a
    # run's totals stay the same size however many records it stores.
    subject_ids: list[int] = field(default_factory=list)

    def add(self, other: StoreCounts) -> None:
        for name in (
            "messages",
            "duplicates",
            "subjects",
            "superseded",
            "cancelled",
            "links",
            "outcomes",
            "filtered_fields",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))


class PortIndex:
    """Resolves the location codes messages use (UN/LOCODE, IATA) to ports, once per run."""

    def __init__(self) -> None:
        self.by_code: dict[str, Port] = {}
        for port in Port.objects.all():
            self.by_code[port.locode.upper()] = port
            if port.iata_code:
                self.by_code[port.iata_code.upper()] = port

    def get(self, code: str) -> Port | None:
        return self.by_code.get((code or "").strip().upper())


def store_messages(
    *,
    source: DataSource,
    parsed: list[tuple[ParsedMessage, str]],
    run: IntakeRun | None = None,
    ports: PortIndex | None = None,
) -> StoreCounts:
    """Store parsed messages in one transaction; a message already stored (same key) is skipped.

    New versions of a business object supersede the current one (which stays, for history); a
    cancellation records a cancelled version. Reference subjects (traders, conveyances) are reused.
    Rows go in through ``bulk_insert_rows`` (COPY on PostgreSQL).
    """
    counts = StoreCounts()
    ports = ports or PortIndex()
    now = timezone.now()
    with transaction.atomic():
        _lock_source(source)
        keys = [m.message_key for m, _ in parsed]
        stored_by = dict(
            Message.objects.filter(source=source, message_key__in=keys)
            .order_by()
            .values_list("message_key", "run_id")
        )
        seen = set(stored_by)
        fresh: list[tuple[ParsedMessage, str]] = []
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
        if not fresh:
            return counts
        message_ids = bulk_insert_rows(
            Message,
            [
                {
                    "source_id": source.pk,
                    "run_id": run.pk if run else None,
                    "format": m.kind,
                    "message_key": m.message_key[:200],
                    "business_key": (m.version_key or m.message_key)[:200],
                    "version_key": m.version_key[:100],
                    "function": m.function
                    if m.function in Message.Function.values
                    else Message.Function.ORIGINAL,
                    "file_name": file_name[:300],
                    "filtered_fields": m.filtered_fields,
                    "received_at": now,
                }
                for m, file_name in fresh
            ],
        )
        counts.messages += len(message_ids)
        counts.filtered_fields = sum(m.filtered_fields for m, _ in fresh)

        primary: list[tuple[SubjectDraft, int, str]] = []
        for (parsed_message, _), message_id in zip(fresh, message_ids, strict=True):
            for record in parsed_message.records:
                for draft in drafts_for(record):
                    primary.append((draft, message_id, parsed_message.function))

        # Current versions of the same business objects, to supersede.
        identities = {d.external_id for d, _, _ in primary}
        current: dict[str, tuple[int, int]] = {
            ext: (pk, version)
            for pk, ext, version in Subject.objects.filter(
                source=source, external_id__in=identities, status=Subject.Status.CURRENT
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

        _count_previous_declarations(source, [d for d, _, _ in primary if d.kind == "consignment"])

        # Reference subjects (traders, conveyances): one per identity, reused when it exists.
        references: dict[str, SubjectDraft] = {}
        for draft, _, _ in primary:
            for other, _, _ in draft.links:
                if other.kind in {"trader", "conveyance"}:
                    references.setdefault(other.external_id, other)
        existing_refs = dict(
            Subject.objects.filter(
                source=source, external_id__in=list(references), status=Subject.Status.CURRENT
            )
            .order_by()
            .values_list("external_id", "id")
        )

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
            rows.append(_subject_row(draft, source, message_id, ports, now, status=status, version=version))
            row_drafts.append(draft)
        for ext_id, draft in references.items():
            if ext_id not in existing_refs:
                rows.append(_subject_row(draft, source, None, ports, now))
                row_drafts.append(draft)
        if superseded_ids:
            Subject.objects.filter(pk__in=superseded_ids).update(status=Subject.Status.SUPERSEDED)
        subject_ids = bulk_insert_rows(Subject, rows)
        counts.subjects = len(subject_ids)
        pk_of: dict[int, int] = {id(d): pk for d, pk in zip(row_drafts, subject_ids, strict=True)}
        for ext_id, pk in existing_refs.items():
            pk_of[id(references[ext_id])] = pk

        key_rows: list[dict[str, Any]] = []
        outcome_rows: list[dict[str, Any]] = []
        link_rows: list[dict[str, Any]] = []
        # New travellers by their person keys (document, name + date of birth), for same-person links.
        person_keys: dict[str, set[int]] = {}
        for draft, pk in zip(row_drafts, subject_ids, strict=True):
            keys = set(draft.keys)
            if draft.facts.get("mrn"):
                keys.add(key_hash("mrn", draft.facts["mrn"]))
            key_rows.extend({"subject_id": pk, "key": k} for k in keys)
            if draft.kind == "traveller":
                for k in keys:
                    if k.startswith(PERSON_KEY_PREFIXES):
                        person_keys.setdefault(k, set()).add(pk)
        for draft, _, _ in primary:
            pk = pk_of[id(draft)]
            if draft.label is not None:
                finding, severity = draft.label
                outcome_rows.append(
                    {
                        "subject_id": pk,
                        "origin": Outcome.Origin.IMPORTED,
                        "finding": finding,
                        "severity": severity,
                        "random_control": False,
                        "revenue_at_stake": None,
                        "recorded_at": draft.arrival_at or now,
                    }
                )
            pairs = set()
            for other, kind, reason in draft.links:
                target = pk_of.get(id(references.get(other.external_id, other)))
                if target is None or target == pk or (target, kind) in pairs:
                    continue
                pairs.add((target, kind))
                link_rows.append(
                    {"from_subject_id": pk, "to_subject_id": target, "kind": kind, "reason": reason[:200]}
                )
        bulk_insert_rows(SubjectKey, key_rows)
        bulk_insert_rows(Outcome, outcome_rows)
        counts.outcomes = len(outcome_rows)
        link_rows.extend(_same_person_links(person_keys))
        bulk_insert_rows(SubjectLink, link_rows)
        counts.links = len(link_rows)
        # Entity resolution: this batch against everything stored, from the rows just written rather
        # than read back (a query and the JSON of every traveller and trader of the batch, for nothing).
        link_batch(
            subject_ids,
            [
                (pk, row["kind"], row["facts"], row["details"], row["source_id"], row["external_id"])
                for row, pk in zip(rows, subject_ids, strict=True)
                if row["status"] != Subject.Status.SUPERSEDED and row["kind"] in LINKED_KINDS
            ],
        )
        counts.subject_ids = [
            pk_of[id(d)] for i, (d, _, _) in enumerate(primary) if rows[i]["status"] == Subject.Status.CURRENT
        ]
        # Traders and conveyances first seen in this batch are subjects too: assessed and screened
        # like the records that named them (those already known were assessed when first stored).
        counts.subject_ids += subject_ids[len(primary) :]
        ids = list(counts.subject_ids)
        if source.kind == SourceKind.TRADER_REGISTER and primary:
            from apps.intake.register import affected_subjects

            # The register changed what these traders' declarations and manifests are: assess them again.
            ids += affected_subjects([d.facts["trader_id"] for d, _, _ in primary], exclude=set(ids))
        transaction.on_commit(lambda: request_assessment(ids))
    keep_statistics_current(Subject, SubjectKey, SubjectLink, Message)
    return counts


#: The first key of the transaction lock ``store_messages`` takes on a source (the second is its id).
SOURCE_LOCK_SPACE = 21_000


def _lock_source(source: DataSource) -> None:
    """Let one batch at a time store into ``source``, until its transaction ends (PostgreSQL).

    Everything ``store_messages`` decides by reading first is per source: whether a message is already
    stored, which version is current, whether a trader or conveyance exists. Two workers storing into
    one source at once would both read "not there" and both insert (two current versions, two traders);
    with this lock the second reads after the first has committed. One lock a batch costs nothing
    measurable, where a lock per key would take thousands; parsing still runs in parallel. The partial
    unique constraint on current subjects is the database's own guarantee.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [SOURCE_LOCK_SPACE, source.pk])


def _count_previous_declarations(source: DataSource, drafts: list[SubjectDraft]) -> None:
    """Set ``importer_previous_declarations`` on new consignments: how many declarations of the same
    importer this source already holds (so that "first-time importer" rules can fire). One query a batch."""
    importers = {d.facts.get("importer_id") for d in drafts if d.facts.get("importer_id")}
    if not importers:
        return
    known: dict[str, int] = {}
    rows = (
        Subject.objects.filter(source=source, kind="consignment", facts__importer_id__in=list(importers))
        .exclude(status=Subject.Status.SUPERSEDED)
        .values_list("facts__importer_id", flat=True)
    )
    for importer in rows:
        known[importer] = known.get(importer, 0) + 1
    for draft in drafts:
        importer = draft.facts.get("importer_id")
        if importer:
            draft.facts["importer_previous_declarations"] = known.get(importer, 0)
            known[importer] = known.get(importer, 0) + 1


def _subject_row(
    draft: SubjectDraft,
    source: DataSource,
    message_id: int | None,
    ports: PortIndex,
    now,
    *,
    status: str = Subject.Status.CURRENT,
    version: int = 1,
) -> dict[str, Any]:
    port = ports.get(draft.port_code)
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
        "facts": draft.facts,
        "details": draft.details,
        "received_at": now,
        "masked_at": None,
    }


PERSON_KEY_PREFIXES = ("doc:", "namedob:")
#: The kinds entity resolution links (``apps.entities.services.KINDS``): only their rows are handed over.
LINKED_KINDS = frozenset({"traveller", "trader"})


def _same_person_links(person_keys: dict[str, set[int]]) -> list[dict[str, Any]]:
    """Link each new traveller to earlier records of the same person (same document, or name + birth date).

    ``person_keys`` maps each person key of the batch's new travellers (whose keys are already stored)
    to those travellers. One indexed lookup on the exact key values finds every traveller holding them,
    the new ones included, so that the same person twice in one batch is linked too; it stays a few
    index probes a key however large the tables grow. The new subjects were created in this
    transaction, so no same-person link from them can exist yet: there is nothing to check against.
    """
    if not person_keys:
        return []
    others = (
        SubjectKey.objects.filter(key__in=list(person_keys), subject__kind="traveller")
        .exclude(subject__status=Subject.Status.SUPERSEDED)
        .order_by()
        .values_list("subject_id", "key")
    )
    new_ids = set().union(*person_keys.values())
    links: dict[tuple[int, int], str] = {}
    for other_id, key in others:
        for subject_id in person_keys[key]:
            if other_id == subject_id:
                continue
            pair = (subject_id, other_id) if (other_id not in new_ids or subject_id < other_id) else None
            if pair and pair not in links:
                links[pair] = (
                    "same travel document" if key.startswith("doc:") else "same name and date of birth"
                )
    return [
        {"from_subject_id": a, "to_subject_id": b, "kind": SubjectLink.Kind.SAME_PERSON, "reason": reason}
        for (a, b), reason in links.items()
    ]


def request_assessment(subject_ids: list[int]) -> None:
    """Ask the risk engine to assess newly stored subjects (a Celery task; inline in the embedded mode)."""
    if not subject_ids:
        return
    try:
        from apps.risk.tasks import assess_subjects_task
    except ImportError:  # the risk engine is not installed in this deployment
        return
    for start in range(0, len(subject_ids), ASSESS_CHUNK):
        assess_subjects_task.delay(subject_ids[start : start + ASSESS_CHUNK])


# --- Runs -------------------------------------------------------------------------------------------


def iter_files(paths: Iterable[str | Path]) -> Iterator[Path]:
    """Files named, and the files inside folders named (recursively, in name order)."""
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.is_file())
        else:
            yield path


def start_run(*, actor: Any, source: DataSource, files: list[str], fmt: str = "auto") -> IntakeRun:
    """Record a queued intake run; people need ``intake.upload`` and must own the source."""
    if actor is not None:
        check(actor, "intake.upload", source)
        if source.owner_agency_id != membership_of(actor).agency_id:
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied("Only the owner agency may load data into this source.")
    return IntakeRun.objects.create(
        source=source, requested_by=actor, files=files, format=fmt, progress_total=len(files)
    )


Progress = Callable[[IntakeRun], None]
#: Errors that say the database cannot be reached rather than that the input is bad.
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)


def run_intake(
    run: IntakeRun,
    payloads: Iterable[tuple[str, bytes]],
    *,
    progress: Progress | None = None,
    batch_size: int = 2000,
    resume: bool = False,
) -> IntakeRun:
    """Parse and store each (name, bytes) payload into the run's source, updating the run as it goes.

    Each file is stored in batches of whole messages, each batch in its own transaction, so a file
    that is rejected half-way keeps nothing half-written and a crash loses at most the batch under way.
    With ``resume`` the run was interrupted after ``run.progress_done`` whole files, whose counts and
    problems it kept: the payloads are the files after those, and the totals go on from there.
    """
    run.status = IntakeRun.Status.RUNNING
    run.save(update_fields=["status"])
    # A register source reads register files whatever they look like: its CSV is no declaration.
    register = run.source.kind == SourceKind.TRADER_REGISTER and run.format == "auto"
    totals = StoreCounts()
    counts = {
        "files": 0,
        "rejected_files": 0,
        "messages": 0,
        "duplicates": 0,
        "subjects": 0,
        "superseded": 0,
        "cancelled": 0,
        "problems": 0,
        "filtered_fields": 0,
    }
    if resume:
        counts.update({k: v for k, v in (run.counts or {}).items() if k in counts})
        for name in ("messages", "duplicates", "subjects", "superseded", "cancelled", "filtered_fields"):
            setattr(totals, name, counts[name])
        counts["files"] = run.progress_done
    ports = PortIndex()
    problems: list[dict[str, str]] = list(run.problems) if resume else []
    try:
        for name, data in payloads:
            if register:
                from apps.intake.parsers.traders import parse_traders

                result = parse_traders(data, file=name)
            else:
                result = parse_payload(data, name=name, fmt=run.format)
            counts["files"] += 1
            if result.problems:
                counts["problems"] += len(result.problems)
                problems.extend(
                    {"file": p.file, "where": p.where, "reason": p.reason}
                    for p in result.problems[: MAX_PROBLEMS_KEPT - len(problems)]
                )
                if not result.messages:
                    counts["rejected_files"] += 1
            messages = [(m, name) for m in result.messages]
            for start in range(0, len(messages), batch_size):
                stored = store_messages(
                    source=run.source, parsed=messages[start : start + batch_size], run=run, ports=ports
                )
                totals.add(stored)
            run.progress_done = counts["files"]
            run.counts = counts | {
                k: getattr(totals, k)
                for k in ("messages", "duplicates", "subjects", "superseded", "cancelled", "filtered_fields")
            }
            run.problems = problems[:MAX_PROBLEMS_KEPT]
            IntakeRun.objects.filter(pk=run.pk).update(
                progress_done=run.progress_done, counts=run.counts, problems=run.problems
            )
            if progress:
                progress(run)
            if not connection.force_debug_cursor:
                # With DEBUG on, Django keeps the last 9,000 queries' SQL (each batch's IN lists run to
                # tens of kilobytes): a long run grew by ~100 MiB. A test capturing queries sets
                # force_debug_cursor, and its log is left alone.
                reset_queries()
    except DATABASE_UNAVAILABLE:
        # The database went away (a restart, a fail-over): the run is not at fault. It stays "running"
        # so that the task's retry runs it again from its first file, storing only what it had not.
        log.warning("intake run %s interrupted: database unavailable", run.pk)
        raise
    except Exception:
        log.exception("intake run %s failed", run.pk)
        IntakeRun.objects.filter(pk=run.pk).update(status=IntakeRun.Status.FAILED, finished_at=timezone.now())
        raise
    run.status = IntakeRun.Status.DONE_WITH_REJECTS if problems else IntakeRun.Status.DONE
    run.finished_at = timezone.now()
    run.save(update_fields=["status", "finished_at", "counts", "problems", "progress_done"])
    return run


def ingest_paths(
    *,
    actor: Any,
    source: DataSource | None,
    paths: Iterable[str | Path],
    fmt: str = "auto",
    progress: Progress | None = None,
) -> list[IntakeRun]:
    """Ingest files and folders (the ``ingest`` command): one run per data source.

    Without a named source each file goes to the default source of its format's kind (API messages to
    the API source, declarations to the declarations source); files whose format is not recognised
    form a run of their own in which each is rejected with the reason.
    """
    from apps.intake.parsers.detect import detect_format

    files = list(iter_files(paths))
    groups: dict[int | None, list[Path]] = {}
    targets: dict[int | None, DataSource | None] = {}
    for f in files:
        chosen = source
        if chosen is None:
            detected = fmt if fmt != "auto" else detect_format(f.read_bytes()[:65536], f.name)
            chosen = default_source_for(detected or "")
        key = chosen.pk if chosen else None
        groups.setdefault(key, []).append(f)
        targets[key] = chosen
    runs = []
    for key, group in groups.items():
        target = targets[key]
        if target is None:
            target = source or DataSource.objects.order_by("pk").first()
            if target is None:
                raise ValueError("no data source exists: create one first")
        # Files are named as in an upload, without their folder: run pages, problems and the messages'
        # provenance are read by people who have no business with the server's paths.
        run = start_run(actor=actor, source=target, files=[f.name for f in group], fmt=fmt)
        runs.append(run_intake(run, ((f.name, f.read_bytes()) for f in group), progress=progress))
    return runs


def submit_files(
    *, actor: Any, source: DataSource, files: list[tuple[str, Iterable[bytes]]], fmt: str = "auto"
) -> IntakeRun:
    """Queue an intake of uploaded files: keep them in the uploads storage (every host reads it) and
    run a Celery task after commit.

    The page and the API answer at once with the run, whose progress the page then polls.
    """
    from apps.intake.tasks import run_intake_task
    from apps.intake.uploads import spool

    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}")
    with transaction.atomic():
        run = start_run(actor=actor, source=source, files=[name for name, _ in files], fmt=fmt)
        paths = [spool(run.pk, name, chunks) for name, chunks in files]
        transaction.on_commit(lambda: run_intake_task.delay(run.pk, paths))
    return run


__all__ = [
    "FORMATS",
    "StoreCounts",
    "ingest_paths",
    "parse_payload",
    "run_intake",
    "share_source",
    "shared_with",
    "start_run",
    "store_messages",
    "submit_files",
    "unshare_source",
]

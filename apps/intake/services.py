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

from django.contrib.auth.models import User
from django.db import InterfaceError, OperationalError, connection, reset_queries, transaction
from django.db.models import Count
from django.utils import timezone
from guardian.shortcuts import assign_perm, remove_perm

from apps.agencies.models import Agency, Port
from apps.agencies.operations import check, membership_of
from apps.core.collector import collector_paused
from apps.intake import events, storing
from apps.intake.bulk import bulk_insert_rows, keep_statistics_current, reads_beside, statistics_kept_aside
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
from apps.intake.normalise import SubjectDraft
from apps.intake.parallel import parsed_files
from apps.intake.parsers.base import ParsedMessage, ParseResult
from apps.intake.parsers.payload import parse_payload

log = logging.getLogger(__name__)

MAX_PROBLEMS_KEPT = 1000
FUNCTIONS = frozenset(Message.Function.values)

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


# --- Sources ----------------------------------------------------------------------------------------


def share_source(*, actor: User, source: DataSource, agency: Agency) -> None:
    """Let ``agency`` see ``source`` (its legal basis allows the disclosure). Only the owner may share."""
    check(actor, "source.share", source)
    with transaction.atomic():
        assign_perm("intake.view_datasource", agency.group, source)
        transaction.on_commit(lambda: _sharing_changed(source))


def unshare_source(*, actor: User, source: DataSource, agency: Agency) -> None:
    """Stop ``agency`` seeing ``source``; reports already counted for it are dropped after the commit."""
    check(actor, "source.share", source)
    with transaction.atomic():
        remove_perm("intake.view_datasource", agency.group, source)
        transaction.on_commit(lambda: _sharing_changed(source))


def _sharing_changed(source: DataSource) -> None:
    """Cached reports are kept per agency for minutes: an agency that lost sight of a source must not
    go on counting its subjects there, nor miss a newly shared one (the reports listen, ``events``)."""
    events.sharing_changed.send(sender=DataSource, source_id=source.pk)


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
    then: Callable[[StoreCounts], None] | None = None,
) -> StoreCounts:
    """Store parsed messages in one transaction; a message already stored (same key) is skipped.

    New versions of a business object supersede the current one (which stays, for history); a
    cancellation records a cancelled version. Reference subjects (traders, conveyances) are reused.
    Rows go in through ``bulk_insert_rows`` (COPY on PostgreSQL). ``then`` is called with the batch's
    counts last in its transaction (a run saves its progress there: what it counts is what was stored).
    """
    in_outer_transaction = connection.in_atomic_block
    with collector_paused(), transaction.atomic():
        counts = _store_batch(source, parsed, run, ports or PortIndex(), in_outer_transaction)
        if then is not None:
            then(counts)
    keep_statistics_current(Subject, SubjectKey, SubjectLink, Message)
    return counts


def _store_batch(
    source: DataSource,
    parsed: list[tuple[ParsedMessage, str]],
    run: IntakeRun | None,
    ports: PortIndex,
    in_outer_transaction: bool,
) -> StoreCounts:
    """The body of ``store_messages``, in its transaction. Each step below is a function of its own
    (``storing``); this one is their order, which matters: what a step reads, an earlier one wrote."""
    counts = StoreCounts()
    now = timezone.now()
    _lock_source(source)
    fresh = storing.unstored_messages(source, parsed, run, counts)
    if not fresh:
        return counts
    message_ids = storing.insert_messages(source, fresh, run, now)
    counts.messages += len(message_ids)
    counts.filtered_fields = sum(m.filtered_fields for m, _ in fresh)
    primary = storing.primary_drafts(fresh, message_ids)
    # Two reads of what was stored before, beside this connection (in a run) while it reads the third.
    references, stored_references = storing.reference_subjects(
        source, primary, in_outer_transaction=in_outer_transaction
    )
    earlier = storing.earlier_same_person(primary, in_outer_transaction=in_outer_transaction)
    current = storing.current_versions(source, primary)
    _count_previous_declarations(source, [d for d, _, _ in primary if d.kind == "consignment"])
    existing_refs = stored_references()
    rows, row_drafts, superseded_ids = storing.subject_version_rows(
        source, primary, current, references, existing_refs, ports=ports, now=now, counts=counts
    )
    storing.supersede(superseded_ids)
    subject_ids = bulk_insert_rows(Subject, rows)
    counts.subjects = len(subject_ids)
    pk_of = storing.subject_pks(row_drafts, subject_ids, references, existing_refs)
    key_rows, person_keys = storing.key_rows(row_drafts, subject_ids)
    outcome_rows = storing.outcome_rows(primary, pk_of, now)
    link_rows = storing.link_rows(primary, pk_of, references)
    superseded = {
        pk for row, pk in zip(rows, subject_ids, strict=True) if row["status"] == Subject.Status.SUPERSEDED
    }
    link_rows.extend(
        storing.same_person_links(
            person_keys, superseded, earlier=earlier(), superseded_earlier=set(superseded_ids)
        )
    )
    bulk_insert_rows(SubjectKey, key_rows)
    bulk_insert_rows(Outcome, outcome_rows)
    counts.outcomes = len(outcome_rows)
    bulk_insert_rows(SubjectLink, link_rows)
    counts.links = len(link_rows)
    storing.resolve_entities(rows, subject_ids)
    counts.subject_ids = storing.new_current_subjects(primary, rows, pk_of, subject_ids)
    ids = storing.subjects_to_assess(source, primary, counts.subject_ids)
    transaction.on_commit(lambda: request_assessment(ids))
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
    # Counted by the database, one row per importer (on the ``subject_importer`` index), not one per
    # declaration brought back to be counted here.
    known: dict[str, int] = dict(
        Subject.objects.filter(source=source, kind="consignment", facts__importer_id__in=list(importers))
        .exclude(status=Subject.Status.SUPERSEDED)
        .order_by()
        .values("facts__importer_id")
        .annotate(n=Count("pk"))
        .values_list("facts__importer_id", "n")
    )
    for draft in drafts:
        importer = draft.facts.get("importer_id")
        if importer:
            draft.facts["importer_previous_declarations"] = known.get(importer, 0)
            draft.copy_json = None  # its facts changed: encoded again when stored
            known[importer] = known.get(importer, 0) + 1


def request_assessment(subject_ids: list[int]) -> None:
    """Ask the risk engine to assess newly stored subjects: announced after the commit, and the engine
    (when installed) queues them as Celery tasks (inline in the embedded mode)."""
    if not subject_ids:
        return
    events.subjects_stored.send(sender=Subject, subject_ids=subject_ids)


# --- Runs -------------------------------------------------------------------------------------------


def iter_files(paths: Iterable[str | Path]) -> Iterator[Path]:
    """Files named, and the files inside folders named (recursively, in name order)."""
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.is_file())
        else:
            yield path


def start_run(*, actor: User | None, source: DataSource, files: list[str], fmt: str = "auto") -> IntakeRun:
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
    counts = _starting_counts(run, totals, resume=resume)
    ports = PortIndex()
    problems: list[dict[str, str]] = list(run.problems) if resume else []
    try:
        # Parsed in file order; the next files in a process of their own while this one is stored; the
        # tables re-analysed as they grow, and each batch's look-ups of what was stored before it, on
        # connections of their own, beside the batch being stored.
        with statistics_kept_aside(), reads_beside():
            for name, result in parsed_files(payloads, fmt=run.format, register=register):
                _store_file(run, name, result, counts, totals, problems, ports, batch_size)
                if progress:
                    progress(run)
                if not connection.force_debug_cursor:
                    # With DEBUG on, Django keeps the last 9,000 queries' SQL (each batch's IN lists run
                    # to tens of kilobytes): a long run grew by ~100 MiB. A test capturing queries sets
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


#: The counts a run keeps that ``StoreCounts`` adds up as messages are stored.
_STORED_COUNTS = ("messages", "duplicates", "subjects", "superseded", "cancelled", "filtered_fields")


def _starting_counts(run: IntakeRun, totals: StoreCounts, *, resume: bool) -> dict[str, int]:
    """The run's counts at zero, or, when resuming, as the interrupted run left them (into ``totals`` too)."""
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
        for name in _STORED_COUNTS:
            setattr(totals, name, counts[name])
        counts["files"] = run.progress_done
    return counts


def _store_file(
    run: IntakeRun,
    name: str,
    result: ParseResult,
    counts: dict[str, int],
    totals: StoreCounts,
    problems: list[dict[str, str]],
    ports: PortIndex,
    batch_size: int,
) -> None:
    """Store one parsed file in batches, keep its problems, and save the run's progress after it."""
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

    def save_progress(stored: StoreCounts | None = None) -> None:
        if stored is not None:
            totals.add(stored)
        run.progress_done = counts["files"]
        run.counts = counts | {k: getattr(totals, k) for k in _STORED_COUNTS}
        run.problems = problems[:MAX_PROBLEMS_KEPT]
        IntakeRun.objects.filter(pk=run.pk).update(
            progress_done=run.progress_done, counts=run.counts, problems=run.problems
        )

    if not messages:
        save_progress()
    for start in range(0, len(messages), batch_size):
        last = start + batch_size >= len(messages)
        # The file's progress is saved in its last batch's transaction: a run interrupted at any point
        # has counted exactly the files it stored, and a file costs no commit of its own.
        store_messages(
            source=run.source,
            parsed=messages[start : start + batch_size],
            run=run,
            ports=ports,
            then=save_progress if last else totals.add,
        )


def ingest_paths(
    *,
    actor: User | None,
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
    *, actor: User, source: DataSource, files: list[tuple[str, Iterable[bytes]]], fmt: str = "auto"
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

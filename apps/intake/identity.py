"""One person, one page: every record of the same traveller (or trader) that the viewer may see, merged.

The same traveller reaches the centre as several records: an API list per flight, a PNR per booking, the
same again for the next journey. Intake gives each record keyed hashes of its identifiers
(``SubjectKey``: travel document, name + date of birth, trader identifier), which keep working after
masking. ``person_view(viewer, subject)`` gathers the records sharing such a key with the opened record,
and with each other a few rounds deep, and draws them as one person: each fact with the records it came
from, two different values of one fact both shown.

Scoping comes first, at every round: only records the viewer may see (``Subject.objects.visible_to``)
are ever read, and the next round starts from their keys alone. A record of a source the viewer's agency
may not see is therefore never merged, never counted and cannot bridge two records the viewer may see
(which would hint that it exists). A depersonalised record stays masked (``apps.compliance.masking``).

Every record URL of the person renders this same page, marking the record that was opened: a record's
URL stays a permalink (targets, hits, search results and the access log name records), while the
"canonical" record would differ per agency (one may see the API source, not the PNR) and change with
every new journey.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.apps import apps
from django.db.models import Q
from django.utils import timezone

from apps.agencies.operations import can
from apps.compliance.masking import masked_facts, masked_title, subject_is_masked
from apps.compliance.models import UnmaskRequest
from apps.intake import events
from apps.intake.models import Outcome, Subject, SubjectKey, SubjectLink
from apps.intake.presentation import GROUPS, Provenance, Section, merge_facts, readable_date

__all__ = ["Journey", "PersonView", "PersonWork", "Record", "link_batch", "log_merged_reads", "person_view"]

#: Which keys make two records of a kind "the same", and how the page says why.
MERGE_KEYS: dict[str, dict[str, str]] = {
    "traveller": {"doc:": "same travel document", "namedob:": "same name and date of birth"},
    "trader": {"trader:": "same trader identifier"},
}
#: Rounds of "records sharing a key with the records found so far" (A and B by document, B and C by name and
#: date of birth after a new passport), and at most this many records on one page.
MAX_ROUNDS = 3
MAX_RECORDS = 40
#: Records read in one round at most (a placeholder document number shared by thousands is no identity).
MAX_FETCH = 200

IDENTITY_GROUPS: dict[str, list[tuple[str, list[str]]]] = {
    "traveller": [
        ("Person", ["surname", "given_names", "date_of_birth", "sex", "nationality", "residence_country"]),
        ("Travel document", ["document_type", "document_number", "document_country", "document_expiry"]),
    ],
    "trader": [("Trader", ["trader_id", "trader_name", "trader_country"])],
}
JOURNEY_GROUPS: list[tuple[str, list[str]]] = [
    ("Journey", ["origin_airport", "destination_airport", "route_airports", "embarkation", "debarkation",
                 "departure_at", "seat", "travel_role", "age"]),
    ("Booking", ["booking_ref", "booking_date", "booking_to_departure_hours", "payment_form", "paid_cash",
                 "one_way", "bags_count", "bags_weight_kg", "frequent_flyer", "co_traveller_count"]),
]  # fmt: skip
#: Facts that repeat another (the full name, the carrier of the flight number) or name the format.
HIDDEN_FACTS = frozenset({"full_name", "carrier", "message_type", "flight_number", "hs6", "hs_chapter"})

MESSAGE_KINDS = {
    "paxlst": "API list (PAXLST)",
    "pnrgov": "PNR (PNRGOV)",
    "wco-dec": "declaration (WCO)",
    "declarations-csv": "declaration (CSV)",
    "json": "declaration (JSON)",
    "xfwb": "air waybill (XFWB)",
    "xfzb": "house waybill (XFZB)",
}


@dataclass
class Record:
    """One record of the person as this viewer may see it (masked when depersonalised)."""

    number: int
    id: int
    source_id: int
    owner_agency_id: int
    title: str
    facts: dict[str, Any]
    provenance: Provenance
    masked: bool
    status: str
    status_label: str
    version: int
    port: str
    arrival_at: datetime | None
    reason: str = ""
    opened: bool = False


@dataclass
class Journey:
    """The records of one flight (an API list and a PNR of the same trip), their facts merged."""

    heading: str
    departure: str  # ISO, for the order
    sources: list[Provenance]
    sections: list[Section]

    @property
    def departure_label(self) -> str:
        return readable_date(self.departure) if self.departure else ""


@dataclass
class PartyRow:
    """A declaration or manifest in which a trader of the page is a party."""

    id: int
    title: str
    role: str
    source: str
    received_at: datetime
    arrival_at: datetime | None
    finding: bool | None  # None: never examined


@dataclass
class LinkRow:
    kind: str
    reason: str
    id: int
    title: str
    copies: int = 1  # the same flight as a record of several sources is listed once


@dataclass
class PersonWork:
    """What the floor did with the person: targets and assessments the viewer may see, and whether he may
    nominate (and which record the nomination would be for)."""

    can_nominate: bool = False
    nominate: Record | None = None
    open_target: Any = None
    targets: list[tuple[Any, int]] = field(default_factory=list)  # (target, record number)
    assessments: list[tuple[Any, int, str]] = field(default_factory=list)  # (assessment, number, area)
    show_targets: bool = False
    show_assessments: bool = False


@dataclass
class PersonView:
    kind: str
    kind_label: str
    title: str
    opened: Record
    records: list[Record]
    identity: list[Section]
    journeys: list[Journey] = field(default_factory=list)
    other: list[Section] = field(default_factory=list)
    parties: list[PartyRow] = field(default_factory=list)
    party_count: int = 0
    links: list[LinkRow] = field(default_factory=list)
    outcomes: list[tuple[Outcome, int]] = field(default_factory=list)
    history: list[Subject] = field(default_factory=list)
    opened_sections: list[Section] = field(default_factory=list)  # an earlier version that was opened
    capped: bool = False
    pending_unmask: set[int] = field(default_factory=set)
    can_ask_unmask: bool = False
    work: PersonWork = field(default_factory=PersonWork)

    @property
    def merged(self) -> list[Record]:
        """The records whose facts make the page: every record but an earlier version that was opened."""
        return [r for r in self.records if not (r.opened and r.status == Subject.Status.SUPERSEDED)]

    @property
    def masked_records(self) -> list[Record]:
        return [r for r in self.records if r.masked]

    @property
    def source_count(self) -> int:
        return len({r.provenance.source for r in self.records})

    @property
    def differing(self) -> list[str]:
        """Labels of the identity facts on which the records disagree (said once at the top)."""
        return [fact.label for _, facts in self.identity for fact in facts if fact.differs]


def person_view(viewer: Any, subject: Subject) -> PersonView:
    """The page of the person (or trader) ``subject`` is a record of, as ``viewer`` may see it.

    ``subject`` must be one the viewer may see (the view's ``get_object_for``); everything else is read
    through ``visible_to`` here.
    """
    visible = Subject.objects.visible_to(viewer).select_related("source", "message", "port")
    found, keys_of, capped = _cluster(visible, subject)
    records = _records(viewer, subject, found, keys_of)
    opened = next(r for r in records if r.opened)
    view = PersonView(
        kind=subject.kind,
        kind_label=subject.get_kind_display(),
        title="",
        opened=opened,
        records=records,
        identity=[],
        capped=capped,
    )
    merged = view.merged or [opened]
    items = [(r.facts, r.provenance) for r in merged]
    view.title = _title(subject, merged)
    ids = [r.id for r in records]
    if subject.kind == "traveller":
        view.identity = merge_facts(items, IDENTITY_GROUPS["traveller"])
        view.journeys = _journeys(merged)
    else:
        groups = IDENTITY_GROUPS.get(subject.kind) or GROUPS.get(subject.kind, [])
        view.identity = merge_facts(items, groups, other="Other facts", leave_out=HIDDEN_FACTS)
    if subject.kind == "trader":
        view.parties, view.party_count = _parties(visible, ids)
    view.links = _links(viewer, visible, ids, trader=subject.kind == "trader")
    number_of = {r.id: r.number for r in records}
    view.outcomes = [
        (o, number_of[o.subject_id])
        for o in Outcome.objects.filter(subject_id__in=ids).order_by("-recorded_at")[:20]
    ]
    if opened.status == Subject.Status.SUPERSEDED:
        view.opened_sections = merge_facts(
            [(opened.facts, opened.provenance)],
            GROUPS.get(subject.kind, []),
            other="Other facts",
            leave_out=HIDDEN_FACTS - {"flight_number"},
        )
    view.history = list(
        visible.filter(source_id=subject.source_id, external_id=subject.external_id).order_by("-version")[:20]
    )
    masked_ids = [r.id for r in records if r.masked]
    view.can_ask_unmask = bool(masked_ids) and can(viewer, "unmask.request")
    if masked_ids:
        view.pending_unmask = set(
            UnmaskRequest.objects.filter(
                subject_id__in=masked_ids, requested_by=viewer, status=UnmaskRequest.Status.PENDING
            ).values_list("subject_id", flat=True)
        )
    view.work = _work(viewer, records)
    return view


def log_merged_reads(request: Any, view: PersonView) -> None:
    """One access-log entry for each record merged into the page besides the one opened.

    The personal-data gate logs the opened record (its id is in the URL); the others were read too, and
    their owners' data protection officers must find those reads (a partner's API record merged into a
    customs analyst's view of a PNR).
    """
    from apps.compliance.services import record_access

    surface = request.resolver_match.view_name if request.resolver_match else request.path
    for record in view.records:
        if record.opened:
            continue
        note = " (depersonalised)" if record.masked else ""
        record_access(
            request=request, action="view", object_type="subject", object_id=record.id,
            summary=f"{surface}: merged into the page of subject {view.opened.id}{note}",
            obj=record,  # read for its owner agency, as a subject is
        )  # fmt: skip


# --- Which records ---------------------------------------------------------------------------------


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


def link_batch(subject_ids: list[int], records: list[tuple[Any, ...]] | None = None) -> None:
    """Link a batch just stored against everything stored (entity resolution, ``apps.entities``): called
    by intake's store path inside its transaction, with the batch's ``records`` as it wrote them (see
    ``link_subjects``). The entities app sits above intake: it listens (``EntitiesConfig.ready``), in
    this transaction, and an installation without it has no listener."""
    events.batch_stored.send(sender=Subject, subject_ids=subject_ids, records=records)


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


# --- What the records say --------------------------------------------------------------------------


def _journeys(records: list[Record]) -> list[Journey]:
    """The traveller's trips, newest first: the records of one flight on one day merged as one trip."""
    trips: dict[tuple[str, str], list[Record]] = {}
    for record in records:
        flight = str(record.facts.get("flight_number") or "")
        day = str(record.facts.get("departure_at") or "")[:10]
        key = (flight, day) if flight else (f"record {record.number}", "")
        trips.setdefault(key, []).append(record)
    identity = {n for _, names in IDENTITY_GROUPS["traveller"] for n in names}
    journeys = []
    for (flight, day), members in trips.items():
        facts = members[0].facts
        route = " → ".join(p for p in (facts.get("origin_airport"), facts.get("destination_airport")) if p)
        when = next((str(m.facts["departure_at"]) for m in members if m.facts.get("departure_at")), day)
        heading = " · ".join(p for p in (flight, route) if p)
        journeys.append(
            Journey(
                heading=heading or "Journey not known",
                departure=when,
                sources=[m.provenance for m in members],
                sections=merge_facts(
                    [(m.facts, m.provenance) for m in members],
                    JOURNEY_GROUPS,
                    other="Other facts",
                    leave_out=HIDDEN_FACTS | identity,
                ),
            )
        )
    journeys.sort(key=lambda j: j.departure, reverse=True)
    return journeys


def _parties(visible: Any, trader_ids: list[int], limit: int = 50) -> tuple[list[PartyRow], int]:
    """The declarations and manifests the viewer may see in which the trader is a party, newest first,
    and how many there are (of those he may see: nothing else is counted)."""
    rows = visible.filter(
        links_out__kind=SubjectLink.Kind.PARTY, links_out__to_subject_id__in=trader_ids
    ).exclude(status=Subject.Status.SUPERSEDED)
    count = rows.values("pk").distinct().count()
    shown: dict[int, PartyRow] = {}
    # The link's reason is the trader's role in it (importer, declarant, consignee...). A declaration
    # naming the trader twice (two records of the trader in one source) is listed once.
    columns = ("pk", "title", "links_out__reason", "source__name", "received_at", "arrival_at")
    for pk, title, role, source, received_at, arrival_at in rows.order_by("-received_at", "-id").values_list(
        *columns
    )[: limit * 2]:
        if pk not in shown and len(shown) < limit:
            shown[pk] = PartyRow(pk, title, role, source, received_at, arrival_at, finding=None)
    for pk, finding in Outcome.objects.filter(subject_id__in=list(shown)).values_list(
        "subject_id", "finding"
    ):
        shown[pk].finding = bool(shown[pk].finding) or finding
    return list(shown.values()), count


def _links(viewer: Any, visible: Any, ids: list[int], *, trader: bool) -> list[LinkRow]:
    """Links of the records to subjects outside the person (the flight, co-travellers, a declaration's
    traders), to those the viewer may see, each once; a depersonalised traveller by its masked title."""
    same = {SubjectLink.Kind.SAME_PERSON, SubjectLink.Kind.SAME_TRADER}
    members = set(ids)
    pairs: dict[tuple[str, int], str] = {}
    outgoing = SubjectLink.objects.filter(from_subject_id__in=ids).exclude(kind__in=same)
    incoming = SubjectLink.objects.filter(to_subject_id__in=ids).exclude(kind__in=same)
    if trader:  # the declarations a trader is party to have their own list
        incoming = incoming.exclude(kind=SubjectLink.Kind.PARTY)
    for kind, reason, other_pk in [
        *outgoing.values_list("kind", "reason", "to_subject_id")[:200],
        *incoming.values_list("kind", "reason", "from_subject_id")[:200],
    ]:
        if other_pk not in members:
            pairs.setdefault((kind, other_pk), reason)
    labels = dict(SubjectLink.Kind.choices)
    others = {s.pk: s for s in visible.filter(pk__in=sorted({pk for _, pk in pairs}))}
    rows: dict[tuple[str, str], LinkRow] = {}
    for (kind, pk), reason in pairs.items():
        other = others.get(pk)
        if other is None:  # a subject the viewer may not see: not shown, not counted
            continue
        masked = other.kind == "traveller" and subject_is_masked(viewer, other)
        title = masked_title(other) if masked else other.title
        if (kind, title) in rows and other.kind == "conveyance":
            rows[(kind, title)].copies += 1
            continue
        rows.setdefault((kind, title), LinkRow(labels.get(kind, kind), reason, pk, title))
    return list(rows.values())


# --- What the floor did ----------------------------------------------------------------------------


def _work(viewer: Any, records: list[Record]) -> PersonWork:
    """Targets and assessments of the person's records that the viewer may see, and the nominate action.

    The targeting and risk apps sit above intake: their models are looked up by name, never imported.
    """
    work = PersonWork(show_targets=can(viewer, "target.view"), show_assessments=can(viewer, "rule.view"))
    work.can_nominate = can(viewer, "target.nominate")
    number_of = {r.id: r.number for r in records}
    ids = list(number_of)
    try:
        target_model = apps.get_model("targeting", "Target")
        assessment_model = apps.get_model("risk", "Assessment")
    except LookupError:  # an installation without the targeting workflow
        return work
    # Newest first, sorted here (see ``_cluster``): a person has a few targets and assessments.
    targets = sorted(
        target_model.objects.visible_to(viewer).filter(subject_id__in=ids).order_by()[:MAX_FETCH],
        key=lambda t: (t.created_at, t.pk),
        reverse=True,
    )
    if work.show_targets:
        work.open_target = next((t for t in targets if t.is_open), None)
        work.targets = [(t, number_of[t.subject_id]) for t in targets]
    if work.show_assessments:
        areas = dict(target_model._meta.get_field("risk_area").choices or ())
        assessments = sorted(
            assessment_model.objects.visible_to(viewer).filter(subject_id__in=ids).order_by()[:MAX_FETCH],
            key=lambda a: (a.created_at, a.pk),
            reverse=True,
        )
        work.assessments = [
            (a, number_of[a.subject_id], areas.get(a.risk_area, a.risk_area)) for a in assessments[:20]
        ]
    if work.can_nominate and work.open_target is None:
        work.nominate = _record_to_nominate(records)
    return work


def _record_to_nominate(records: list[Record]) -> Record | None:
    """A target is about an arrival: the current, readable record arriving last (the next journey)."""
    candidates = [r for r in records if r.status == Subject.Status.CURRENT and not r.masked]
    if not candidates:
        return None
    never = timezone.now().replace(year=1)
    return max(candidates, key=lambda r: (r.arrival_at or never, r.opened, r.provenance.received_at))

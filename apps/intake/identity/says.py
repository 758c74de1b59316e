"""What the records say: journeys, parties and links."""

from __future__ import annotations

from typing import Any

from apps.compliance.masking import masked_title, subject_is_masked
from apps.intake.identity.shapes import (
    HIDDEN_FACTS,
    IDENTITY_GROUPS,
    JOURNEY_GROUPS,
    Journey,
    LinkRow,
    PartyRow,
    Record,
)
from apps.intake.models import Outcome, Subject, SubjectLink
from apps.intake.presentation import merge_facts


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

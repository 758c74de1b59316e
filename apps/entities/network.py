"""The network around a subject: who shares a phone, an e-mail, an address, a payment card, a booking,
a container, a trader or a conveyance with it, one to three hops out.

Edges come from two places: the links intake and the linker wrote (``SubjectLink``: a booking's
co-travellers, a declaration's traders, the flight or vessel, the same person or trader) and shared
keys (``SubjectKey``: keyed hashes of phones, e-mails, cards, containers, addresses, operator ids), which
keep working after masking and never reveal the value they share.

Scoping comes first at every hop, as on the person page: only records the viewer may see
(``Subject.objects.visible_to``) become nodes, the next hop starts from them alone, and an edge is drawn
only between two nodes, so a record the viewer may not see neither appears nor bridges two that he may.
Each node goes through the masking function (``apps.compliance.masking``): a depersonalised traveller
is a masked title. Edges carry their kind, never the shared value.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Q
from django.urls import reverse

from apps.compliance.masking import masked_title, subject_is_masked
from apps.entities.models import EntityLink
from apps.intake.models import Subject, SubjectKey, SubjectLink

__all__ = ["EDGE_KINDS", "Graph", "network"]

#: The kinds of edge a viewer filters by, and how the page names them.
EDGE_KINDS: dict[str, str] = {
    "phone": "Same phone",
    "email": "Same e-mail",
    "address": "Same address",
    "card": "Same payment card",
    "booking": "Same booking",
    "container": "Same container",
    "trader": "Trader",
    "conveyance": "Conveyance",
    "identity": "Same person or trader",
}
LINK_EDGES: dict[str, str] = {
    SubjectLink.Kind.CO_TRAVELLER: "booking",
    SubjectLink.Kind.PARTY: "trader",
    SubjectLink.Kind.TRAVELS_ON: "conveyance",
    SubjectLink.Kind.CARRIED_BY: "conveyance",
    SubjectLink.Kind.SAME_PERSON: "identity",
    SubjectLink.Kind.SAME_TRADER: "identity",
}
KEY_EDGES = {
    "phone:": "phone",
    "email:": "email",
    "card:": "card",
    "address:": "address",
    "container:": "container",
    "trader:": "identity",
    "doc:": "identity",
}
MAX_HOPS = 3
MAX_NODES = 150
#: A key shared by more records than this is a hub (a carrier's call-centre phone, a forwarder's
#: address): it would draw hundreds of edges that say nothing about the people.
HUB_SIZE = 40


@dataclass
class Graph:
    root: int
    nodes: dict[int, dict[str, Any]] = field(default_factory=dict)
    edges: dict[tuple[int, int, str], dict[str, Any]] = field(default_factory=dict)
    capped: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "root": self.root,
            "capped": self.capped,
            "nodes": list(self.nodes.values()),
            "edges": list(self.edges.values()),
        }


def _in_period(since: datetime | None, until: datetime | None) -> Q:
    q = Q()
    if since:
        q &= Q(arrival_at__gte=since) | Q(arrival_at__isnull=True, received_at__gte=since)
    if until:
        q &= Q(arrival_at__lte=until) | Q(arrival_at__isnull=True, received_at__lte=until)
    return q


def network(
    viewer: Any,
    root: Subject,
    *,
    hops: int = 2,
    kinds: set[str] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Graph:
    """The subjects within ``hops`` of ``root`` that the viewer may see, and the edges between them."""
    hops = max(1, min(MAX_HOPS, hops))
    kinds = set(kinds or EDGE_KINDS) & set(EDGE_KINDS)
    visible = Subject.objects.visible_to(viewer).exclude(status=Subject.Status.SUPERSEDED)
    graph = Graph(root=root.pk)
    graph.nodes[root.pk] = _node(viewer, root, 0)
    link_kinds = [k for k, v in LINK_EDGES.items() if v in kinds]
    key_prefixes = tuple(p for p, v in KEY_EDGES.items() if v in kinds)
    frontier = {root.pk}
    pending: dict[tuple[int, int, str], None] = {}
    for hop in range(1, hops + 1):
        if not frontier:
            break
        candidates: set[int] = set()
        for a, b, kind in _linked(frontier, link_kinds) + _sharing(frontier, key_prefixes):
            pending[(min(a, b), max(a, b), kind)] = None
            candidates.add(b if a in frontier else a)
        fresh = candidates - set(graph.nodes)
        room = MAX_NODES - len(graph.nodes)
        found = list(
            visible.filter(pk__in=sorted(fresh)).filter(_in_period(since, until)).select_related("source")
            .order_by("-received_at", "-id")[: room + 1]
        )  # fmt: skip
        if len(found) > room:
            found, graph.capped = found[:room], True
        for subject in found:
            graph.nodes[subject.pk] = _node(viewer, subject, hop)
        frontier = {s.pk for s in found}
    scores = _identity_scores([(a, b) for a, b, k in pending if k == "identity"])
    for a, b, kind in pending:
        if a in graph.nodes and b in graph.nodes:  # both ends visible, or no edge at all
            edge = {
                "id": f"{a}-{b}-{kind}",
                "source": a,
                "target": b,
                "kind": kind,
                "label": EDGE_KINDS[kind],
            }
            if (a, b) in scores:
                link_id, score = scores[(a, b)]
                edge |= {"link": link_id, "score": round(score, 2)}
            graph.edges[(a, b, kind)] = edge
    return graph


def _node(viewer: Any, subject: Subject, hop: int) -> dict[str, Any]:
    masked = subject.kind == "traveller" and subject_is_masked(viewer, subject)
    return {
        "id": subject.pk,
        "label": masked_title(subject) if masked else subject.title,
        "kind": subject.kind,
        "hop": hop,
        "masked": masked,
        "source": subject.source.name,
        "url": reverse("intake:subject", args=[subject.pk]),
        "expand": reverse("entities:network_json", args=[subject.pk]),
    }


def _linked(frontier: set[int], link_kinds: Sequence[str]) -> list[tuple[int, int, str]]:
    if not link_kinds:
        return []
    rows = (
        SubjectLink.objects.filter(Q(from_subject_id__in=frontier) | Q(to_subject_id__in=frontier))
        .filter(kind__in=link_kinds)
        .order_by()
        .values_list("from_subject_id", "to_subject_id", "kind")[:5000]
    )
    return [(a, b, LINK_EDGES[kind]) for a, b, kind in rows]


def _sharing(frontier: set[int], prefixes: tuple[str, ...]) -> list[tuple[int, int, str]]:
    """Pairs of records holding the same key (of the wanted kinds), one end in the frontier."""
    if not prefixes:
        return []
    own = [
        (subject_id, key)
        for subject_id, key in SubjectKey.objects.filter(subject_id__in=frontier).values_list(
            "subject_id", "key"
        )
        if key.startswith(prefixes)
    ]
    if not own:
        return []
    holders: dict[str, list[int]] = {}
    for subject_id, key in (
        SubjectKey.objects.filter(key__in=sorted({k for _, k in own}))
        .order_by()
        .values_list("subject_id", "key")[:20000]
    ):
        holders.setdefault(key, []).append(subject_id)
    out: list[tuple[int, int, str]] = []
    for subject_id, key in own:
        others = holders.get(key, [])
        if len(others) > HUB_SIZE:
            continue
        kind = next(v for p, v in KEY_EDGES.items() if key.startswith(p))
        out.extend((subject_id, other, kind) for other in others if other != subject_id)
    return out


def _identity_scores(pairs: list[tuple[int, int]]) -> dict[tuple[int, int], tuple[int, float]]:
    """The linker's score of each same-person/trader edge, and its link (to confirm or split)."""
    if not pairs:
        return {}
    ids = {x for pair in pairs for x in pair}
    return {
        (min(a, b), max(a, b)): (pk, score)
        for pk, a, b, score in EntityLink.objects.filter(from_subject_id__in=ids, to_subject_id__in=ids)
        .order_by()
        .values_list("pk", "from_subject_id", "to_subject_id", "score")
    }

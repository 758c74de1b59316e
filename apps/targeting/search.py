"""What the header search finds among targets: by reference, or by what their subject was found by.

A target is found through ``Target.objects.visible_to(user)`` (another agency's target is never found,
and a port officer finds only what was sent to his port) and only through subjects the viewer may read
(``apps.intake.search.subject_matches``, which starts from ``Subject.objects.visible_to`` and leaves out
masked travellers from name and document matches): a partner who may see a target but not its subject
cannot confirm a name or a container by finding the target through it. Matches on a document need the
role that reads documents (``subject.view``): the tablet's briefing never shows one. What is shown of
each target comes from ``disclose``.
"""

from __future__ import annotations

import re
from typing import Any

from django.urls import reverse

from apps.agencies.operations import can
from apps.core.search import Found, Result, SearchKind, SearchQuery, register
from apps.intake.search import carried_subject_ids, subject_matches
from apps.targeting.disclosure import disclose
from apps.targeting.models import Target

_REFERENCE = re.compile(r"^T?0*(\d{1,9})$")
#: Subjects a match may bring targets from: a wider match (a common surname) is narrowed by typing more.
SUBJECTS_PER_MATCH = 200


def _reference(query: SearchQuery) -> int | None:
    found = _REFERENCE.match(query.compact)
    return int(found.group(1)) if found and int(found.group(1)) > 0 else None


def find_targets(user: Any, query: SearchQuery, limit: int) -> Found:
    visible = (
        Target.objects.visible_to(user).order_by().select_related("subject__source", "subject__port", "port")
    )
    found: dict[int, tuple[Target, str]] = {}
    more = False
    if (pk := _reference(query)) is not None:
        for target in visible.filter(pk=pk):
            found[target.pk] = (target, "reference")
    reads_documents = can(user, "subject.view")
    # Subject ids first (each match one indexed query), then the targets on all of them at once through
    # the target's subject index: a join of two large tables under a LIMIT is where a planner's guess
    # goes wrong.
    how_found: dict[int, str] = {}
    for match in subject_matches(user, query):
        if match.how == "document" and not reads_documents:
            continue
        subject_ids = list(match.queryset.values_list("pk", flat=True)[:SUBJECTS_PER_MATCH])
        for subject_id in subject_ids:
            how_found.setdefault(subject_id, match.how)
        if match.carries:  # a vessel or flight: the targets on what it carries, too
            for subject_id in carried_subject_ids(user, subject_ids, SUBJECTS_PER_MATCH):
                how_found.setdefault(subject_id, f"{match.how} of its conveyance")
    if how_found:
        rows = list(
            visible.filter(subject_id__in=list(how_found)).order_by("-created_at", "-pk")[: limit + 1]
        )
        more = len(rows) > limit
        for target in rows:
            found.setdefault(target.pk, (target, how_found[target.subject_id]))
    ordered = sorted(found.values(), key=lambda pair: (pair[0].created_at, pair[0].pk), reverse=True)
    more = more or len(ordered) > limit
    results = []
    for target, how in ordered[:limit]:
        seen = disclose(user, target)
        parts = [target.get_state_display(), seen.subject.title]
        if target.port is not None:  # no query when port_id is None
            parts.append(target.port.locode)
        results.append(
            Result(
                label=f"{target.reference} · {target.get_risk_area_display()}",
                url=reverse("targeting:detail", args=[target.pk]),
                detail=" · ".join(parts),
                badge=f"by {how}",
            )
        )
    return Found(results, more=more)


register(
    SearchKind("targets", "Targets", "target.view", find_targets, order=10,
               hint="a target reference (T-000123), or anything its subject is found by")
)  # fmt: skip

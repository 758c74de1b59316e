"""Who may be told that a subject or target was drawn for random control: one rule for the engine's
assessments and the floor's targets (``apps.targeting.disclosure`` asks it for targets, the assessment
pages and API here for assessments, the reports for their counts).

The draw measures the centre's selection. Whoever examines or acts on what was drawn (the officer at
the port, a partner agency it is shared with) must treat it as a risk target, or the measured rates say
how things chosen by chance are examined, not what they carry: so only the owner agency's own people on
the floor are told.
"""

from __future__ import annotations

from typing import Any

from apps.agencies.operations import membership_of
from apps.agencies.roles import PORT_BOUND_ROLES


def random_control_told_to(agency_id: int | None, owned: Any) -> bool:
    """Whether a viewer of ``agency_id`` (``None``: an officer who reads briefings only, or no agency)
    may be told whether ``owned`` (a target or a subject: anything with ``owner_agency_id``) was drawn
    for random control: only its owner agency's people."""
    return agency_id is not None and agency_id == owned.owner_agency_id


def random_control_agency(viewer: Any) -> int | None:
    """The agency whose draws ``viewer`` may be told of (for lists, boards and counts, which ask once
    for many rows), or ``None``: an officer at a port reads targets only as the tablet briefs them."""
    membership = membership_of(viewer)
    if membership is None or membership.role in PORT_BOUND_ROLES:
        return None
    return membership.agency_id


def told_of_assessment_draw(viewer: Any, assessment: Any) -> bool:
    """Whether ``viewer`` may be told that ``assessment`` drew its subject for random control (false
    when it did not: the answer is the same for every assessment he may not be told of)."""
    return bool(assessment.random_control) and random_control_told_to(
        random_control_agency(viewer), assessment.subject
    )

"""What of a target's subject a viewer may see: the one function pages, the API and exports call.

The rule today follows the source's legal basis in its simplest form: an agency that owns the subject's
data source, or was granted it, sees personal fields; any other agency that may see the target sees
only its non-personal fields (kind, port, arrival, risk area) and reasons with watchlist details
withheld. The compliance work extends ``may_see_personal`` (depersonalisation after a period, approved
unmasking) without touching the callers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from apps.agencies.operations import membership_of
from apps.compliance.masking import subject_is_masked
from apps.intake.models import DataSource

WITHHELD = "withheld"


@dataclass
class SubjectView:
    """The subject as this viewer may see it. ``masked`` says personal fields were withheld."""

    id: int
    kind: str
    kind_label: str
    masked: bool
    title: str
    external_id: str
    port: str
    arrival_at: Any
    facts: dict[str, Any] = field(default_factory=dict)


def may_see_personal(user: Any, subject: Any) -> bool:
    """Whether the viewer may see personal data of the subject: its agency may see the source (its legal
    basis), and the record is not depersonalised (or an approved unmasking covers this viewer)."""
    membership = membership_of(user)
    if membership is None:
        return False
    if subject_is_masked(user, subject):
        return False
    if subject.owner_agency_id == membership.agency_id:
        return True
    cache = getattr(user, "_ratc_sources", None)
    if cache is None:
        cache = set(DataSource.objects.visible_to(user).values_list("pk", flat=True))
        user._ratc_sources = cache
    return subject.source_id in cache


def subject_view(user: Any, subject: Any) -> SubjectView:
    """The subject summary for ``user``, personal fields withheld where the legal basis says so."""
    personal = may_see_personal(user, subject)
    return SubjectView(
        id=subject.pk,
        kind=subject.kind,
        kind_label=subject.get_kind_display(),
        masked=not personal,
        title=subject.title if personal else f"{subject.get_kind_display()} (personal details withheld)",
        external_id=subject.external_id if personal else WITHHELD,
        port=subject.port.locode if subject.port is not None else "",
        arrival_at=subject.arrival_at,
        facts=dict(subject.facts or {}) if personal else {},
    )


def reasons_view(user: Any, target: Any) -> list[dict[str, str]]:
    """The target's reasons for ``user``: the disclosure rule's answer (``apps.targeting.disclosure``)."""
    from apps.targeting.disclosure import disclose

    return disclose(user, target).reasons

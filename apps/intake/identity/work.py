"""What the floor did about the person: targets, results and the record to nominate."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.utils import timezone

from apps.agencies.operations import can
from apps.intake.identity.shapes import MAX_FETCH, PersonWork, Record
from apps.intake.models import Subject


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

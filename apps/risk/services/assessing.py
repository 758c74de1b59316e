"""Assessing subjects: ask every provider, score, choose a channel, record the assessment and its hits,
then nominate (``nominating``). The engine's own work: no person acts, intake calls it after commit."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.db import transaction

from apps.intake.models import Subject
from apps.risk.models import Assessment, Hit, RiskSettings
from apps.risk.providers import Component, load_providers
from apps.risk.scoring import RateTable, by_area, channel_for, combine, random_draw
from apps.risk.services.nominating import nominate_from
from apps.targeting.events import announce_target_changed
from apps.targeting.models import Target
from apps.watchlists.rulings import record_screening

logger = logging.getLogger(__name__)

FORMULA = "score = 100 * (1 - Π(1 - s/100)) over the counting components s (0-100 each)"


def _gather(subjects: list[Subject]) -> dict[int, list[Component]]:
    components: dict[int, list[Component]] = defaultdict(list)
    for path, provider in load_providers():
        for subject_id, found in (provider(subjects) or {}).items():
            components[subject_id].extend(found)
        logger.debug("risk provider %s done for %d subjects", path, len(subjects))
    return components


def _explain(
    subject: Subject, found: list[Component], settings: RiskSettings, rates: RateTable
) -> tuple[float, str, str, bool, dict[str, Any]]:
    counting = sorted((c for c in found if not c.shadow), key=lambda c: -c.score)
    shadow = sorted((c for c in found if c.shadow), key=lambda c: -c.score)
    score = combine(c.score for c in counting)
    areas = by_area(counting)
    area = max(areas, key=lambda a: areas[a]) if areas else ""
    channel = channel_for(score, counting, yellow=settings.yellow_threshold, red=settings.red_threshold)
    share = rates.share(subject.port_id, subject.kind)
    draw = random_draw(subject.pk, settings.random_salt)
    selected = draw < share
    if selected:
        channel = "red"
    explanation = {
        "formula": FORMULA,
        "score": score,
        "shadow_score": combine(c.score for c in counting + shadow),
        "components": [c.as_dict() for c in counting],
        "shadow": [c.as_dict() for c in shadow],
        "by_area": areas,
        "thresholds": {
            "yellow": settings.yellow_threshold,
            "red": settings.red_threshold,
            "nomination": settings.nomination_threshold,
        },
        "random_control": {"selected": selected, "draw": round(draw, 6), "share": share},
    }
    return score, channel, area, selected, explanation


#: Subjects assessed and nominated per transaction: a batch of ten thousand commits in short steps, so
#: that it never holds a nominated subject's row lock (or a long transaction) for minutes.
ASSESS_CHUNK = 500


def assess_subjects(subject_ids: Iterable[int]) -> list[Assessment]:
    """Assess current subjects: ask every provider, score, choose a channel, record, nominate.

    One ``Assessment`` per subject (a re-assessment adds a new one; history is kept), a ``Hit`` per rule
    version that fired (shadow ones flagged), and a target through ``apps.targeting.services.
    nominate_target`` when the score reaches the nomination threshold or the subject is drawn for
    random control. Shadow components never nominate. Large batches are assessed ``ASSESS_CHUNK``
    subjects per transaction: what a chunk committed stays if a later one fails.
    """
    ids = sorted({int(i) for i in subject_ids})
    assessments: list[Assessment] = []
    for start in range(0, len(ids), ASSESS_CHUNK):
        assessments += _assess_chunk(ids[start : start + ASSESS_CHUNK])
    return assessments


def _assess_chunk(ids: list[int]) -> list[Assessment]:
    """Assess one chunk in one transaction: score, record, then nominate (each nomination a savepoint)."""
    subjects = _current_subjects(ids)
    if not subjects:
        return []
    settings, rates = RiskSettings.current(), RateTable.load()
    assessments, found_for = _score(subjects, settings, rates)
    with transaction.atomic():
        _record(subjects, assessments, found_for)
        for assessment in assessments:
            above = assessment.score >= settings.nomination_threshold
            if not (above or assessment.random_control):
                continue
            nominate_from(assessment, above=above)
    return assessments


def _current_subjects(ids: list[int]) -> list[Subject]:
    """The subjects of ``ids`` that are still current (a superseded version is not assessed)."""
    return list(
        Subject.objects.filter(pk__in=ids, status=Subject.Status.CURRENT)
        .select_related("port")
        .order_by("pk")
    )


def _score(
    subjects: list[Subject], settings: RiskSettings, rates: RateTable
) -> tuple[list[Assessment], list[list[Component]]]:
    """An unsaved ``Assessment`` per subject, and the components found for each (in the same order)."""
    components = _gather(subjects)
    assessments: list[Assessment] = []
    found_for: list[list[Component]] = []
    for subject in subjects:
        found = components.get(subject.pk, [])
        score, channel, area, selected, explanation = _explain(subject, found, settings, rates)
        assessments.append(
            Assessment(
                subject=subject,
                score=score,
                channel=channel,
                risk_area=area,
                explanation=explanation,
                random_control=selected,
            )
        )
        found_for.append(found)
    return assessments, found_for


def _record(subjects: list[Subject], assessments: list[Assessment], found_for: list[list[Component]]) -> None:
    """Save the assessments, their rule hits and watchlist matches; tell the subjects' targets."""
    Assessment.objects.bulk_create(assessments, batch_size=2000)
    hits = [
        Hit(
            assessment=a,
            rule_id=c.details["rule_id"],
            rule_version_id=c.rule_version_id,
            shadow=c.shadow,
            weight=int(c.score),
            risk_area=c.risk_area,
            matched=c.details.get("matched", {}),
        )
        for a, found in zip(assessments, found_for, strict=True)
        for c in found
        if c.kind == "rule" and c.rule_version_id
    ]
    Hit.objects.bulk_create(hits, batch_size=5000)
    # Watchlist matches become hits a person rules before they may lead to action.
    record_screening(
        (a.pk, a.subject_id, found) for a, found in zip(assessments, found_for, strict=True) if found
    )
    # The report counts a target under its subject's latest channel: a re-assessment rewrites the
    # summary rows of the subject's existing targets (the nominations that follow rewrite their own).
    for target_id in Target.objects.filter(subject__in=subjects).values_list("pk", flat=True):
        announce_target_changed(target_id)

"""The targets an assessment nominates: when its score reaches the nomination threshold, or its subject
is drawn for random control, the engine nominates through the workflow (``nominate_target``)."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from apps.risk.models import Assessment
from apps.risk.scoring import RANDOM_CONTROL_AREA
from apps.targeting.models import Scope, Transition
from apps.targeting.routing import engine_scope

logger = logging.getLogger(__name__)


def nominate_from(assessment: Assessment, *, above: bool) -> None:
    """Nominate the assessment's subject (``above``: the score reached the threshold, else random control)
    in a savepoint; the outcome, or why the nomination was refused, is written into the explanation."""
    from apps.targeting.services import nominate_target

    explanation = assessment.explanation
    reasons = _reasons(assessment)
    area = assessment.risk_area or RANDOM_CONTROL_AREA[assessment.subject.kind]
    with transaction.atomic():  # a savepoint: one refused nomination does not undo the batch
        try:
            target = nominate_target(
                actor=None,
                subject=assessment.subject,
                risk_area=area,
                reasons=reasons,
                priority=_priority(assessment, above=above),
                score=assessment.score,
                by_engine=True,
                random_control=assessment.random_control,
                scope=engine_scope(explanation["components"]) if above else Scope.NATIONAL,
                reason=Transition.ENGINE_NOMINATION_REASON if above else Transition.RANDOM_NOMINATION_REASON,
            )
        except (ValidationError, PermissionDenied) as exc:
            logger.warning("Nomination of subject %s refused: %s", assessment.subject_id, exc)
            explanation["nomination"] = {"nominated": False, "error": str(exc)}
            Assessment.objects.filter(pk=assessment.pk).update(explanation=explanation)
            return
    explanation["nomination"] = {
        "nominated": True,
        "target_id": target.pk,
        "risk_area": area,
        "above_threshold": above,
        "random_control": assessment.random_control,
    }
    assessment.nominated, assessment.target_id = True, target.pk
    Assessment.objects.filter(pk=assessment.pk).update(
        nominated=True, target_id=target.pk, explanation=explanation
    )


def _priority(assessment: Assessment, *, above: bool) -> int:
    """The score as a priority (0-100); a subject drawn below the threshold enters at the threshold's.

    A draw is worked like a risk target: at its score (often 0) it would sink to the bottom of every
    queue, where it is left undecided until the conveyance has gone (the measured rate then describes
    what was easy to reach, not what arrives), and a priority no risk target can have would tell whoever
    may not be told that it was drawn.
    """
    priority = assessment.score
    if not above and assessment.random_control:
        thresholds = assessment.explanation.get("thresholds") or {}
        priority = max(priority, float(thresholds.get("nomination") or 0))
    return max(0, min(100, round(priority)))


def _reasons(assessment: Assessment) -> list[dict[str, Any]]:
    """The target's reasons: the counting components as the engine explained them, and the draw."""
    explanation = assessment.explanation
    reasons = [
        {
            "kind": c["kind"] if c["kind"] in {"rule", "watchlist", "model"} else "rule",
            "text": c["explanation"],
            "ref": c["ref"],
            # What anyone who may not read the rule or model is told instead.
            "plain": c.get("plain") or "",
            # Which list matched, so that target pages can withhold it from agencies that may
            # not see that list (apps.targeting.masking.reasons_view).
            **({"list": (c.get("details") or {}).get("watchlist_id")} if c["kind"] == "watchlist" else {}),
        }
        for c in explanation["components"]
    ]
    if assessment.random_control:
        reasons.append(
            {
                "kind": "random",
                "ref": f"random:{assessment.subject_id}",
                "text": f"Selected by chance for random control "
                f"(share {explanation['random_control']['share']:.2%}).",
            }
        )
    return reasons

"""The model in assessment: a risk-engine provider, explanations for pages, and bulk scoring.

:func:`provider` follows the contract of :mod:`apps.risk.providers`: for a batch of subjects it returns,
per subject id, a ``Component`` of kind ``"model"`` with the calibrated probability of a finding, the
component score ``100 x probability x weight``, and the top contributing features in plain words (the
risk engine stores the component, with its explanation, in the assessment; :func:`explanation_for`
reads it back for subject and target pages).

Scoring is vectorised: the whole batch is featurised at once, with the history features of each
subject computed from the stored records of the model's sources dated *strictly before* that
subject's own date (:func:`apps.learning.dataset.history_frame`; the subjects being scored are never
their own history, and their own examination results never reach their score).

**Legal basis.** A source whose ``allows_self_learning`` is false (the demo's PNR feed) may not be
processed by a self-learning model: its subjects are not scored, and the component says so with a
score of 0 ("model not applied: the legal basis of source X forbids self-learning models").
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from apps.intake.models import DataSource, SubjectKind
from apps.learning import dataset as D
from apps.learning import features as F
from apps.learning.models import ModelVersion

if TYPE_CHECKING:
    from apps.intake.models import Subject
    from apps.risk.providers import Component

log = logging.getLogger(__name__)

#: Features shown per score.
TOP_FEATURES = 5


def not_applied_text(source_name: str) -> str:
    """What the component says for a subject of a source that forbids self-learning models."""
    return f"model not applied: the legal basis of source {source_name} forbids self-learning models"


def _explanation_dicts(items: list[tuple[str, float, str]]) -> list[dict[str, Any]]:
    return [
        {
            "feature": name,
            "words": words,
            "contribution": round(float(value), 4),
            "direction": "raises" if value > 0 else "lowers",
        }
        for name, value, words in items
    ]


def _history_sources(version: ModelVersion, extra: Iterable[int] = ()) -> list[int]:
    ids = set(version.sources.values_list("pk", flat=True)) | set(extra)
    return sorted(ids)


def _with_history(
    version: ModelVersion, frame: pd.DataFrame, extra_sources: Iterable[int]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The frame with its stored labels, and the stored declarations before it (not in it).

    A frame row's own label is attached so that it counts as history for the frame's *later* rows; the
    core never lets a row see its own or a same-day label, so no result reaches its own score.
    """
    sources = _history_sources(version, extra_sources)
    stored = D.declarations_frame(sources)
    labels = dict(zip(stored[D.SUBJECT_ID], stored[F.LABEL], strict=True))
    chances = dict(zip(stored[D.SUBJECT_ID], stored[F.PROPENSITY], strict=True))
    frame = frame.drop(columns=list(F.LABEL_COLUMNS), errors="ignore").copy()
    frame[F.LABEL] = frame[D.SUBJECT_ID].map(labels).astype(float)
    frame[F.PROPENSITY] = frame[D.SUBJECT_ID].map(chances).astype(float)
    history = D.history_frame(
        sources, before=frame["date"].max().date(), exclude=frame[D.SUBJECT_ID].tolist()
    )
    return frame, history


def score_frame(
    version: ModelVersion,
    frame: pd.DataFrame,
    *,
    with_features: bool = False,
    extra_sources: Iterable[int] = (),
) -> Any:
    """Probabilities for the declarations of ``frame`` (from :func:`apps.learning.dataset.frame_for`).

    History: the stored declarations of the version's sources (and ``extra_sources``) dated before the
    frame's latest date, minus the frame's own subjects. With ``with_features`` also returns the
    encoded model inputs (for drift).
    """
    from apps.learning.services import load_model

    model = load_model(version)
    frame, history = _with_history(version, frame, extra_sources)
    x = model.features(frame, history, use_frame_labels=True)
    scores = model.calibrate(model._raw(x))
    return (scores, x) if with_features else scores


def score_and_explain(
    version: ModelVersion, frame: pd.DataFrame, *, extra_sources: Iterable[int] = (), top: int = TOP_FEATURES
) -> tuple[np.ndarray, list[list[dict[str, Any]]]]:
    """Probabilities and plain-words explanations for the declarations of ``frame`` (one feature build)."""
    from apps.learning.services import load_model

    model = load_model(version)
    frame, history = _with_history(version, frame, extra_sources)
    probabilities, explained = model.score_and_explain(frame, history, top=top, use_frame_labels=True)
    return probabilities, [_explanation_dicts(items) for items in explained]


def _component(version: ModelVersion, probability: float, features: list[dict[str, Any]]) -> Component:
    from apps.risk.providers import Component

    reasons = "; ".join(f["words"] for f in features[:3] if f["direction"] == "raises")
    sentence = f"Risk model v{version.number}: {probability:.0%} probability of a finding"
    sentence += f" (main reasons: {reasons})." if reasons else "."
    return Component(
        kind="model",
        ref=f"model:{version.pk}",
        score=float(100.0 * probability * version.score_weight),
        risk_area=version.risk_area,
        explanation=sentence,
        label=f"Risk model v{version.number}",
        details={
            "applied": True,
            "model_version_id": version.pk,
            "model_version": version.number,
            "probability": round(float(probability), 5),
            "weight": version.score_weight,
            "features": features,
        },
    )


def _not_applied(version: ModelVersion, source: DataSource) -> Component:
    from apps.risk.providers import Component

    text = not_applied_text(source.name)
    return Component(
        kind="model",
        ref=f"model:{version.pk}",
        score=0.0,
        risk_area=version.risk_area,
        explanation=text,
        label=f"Risk model v{version.number} not applied",
        details={
            "applied": False,
            "model_version_id": version.pk,
            "model_version": version.number,
            "reason": text,
            "source": source.name,
        },
    )


def provider(subjects: list[Subject]) -> dict[int, list[Component]]:
    """Risk-engine provider: score consignments with their agency's active model (see the module doc).

    Reads only. Subjects of an agency without an active model get nothing; subjects of a source whose
    legal basis forbids self-learning get a "not applied" component and no score.
    """
    if not subjects:
        return {}
    sources = DataSource.objects.in_bulk({s.source_id for s in subjects})
    by_agency: dict[int, list[Subject]] = defaultdict(list)
    for subject in subjects:
        by_agency[subject.owner_agency_id].append(subject)
    found: dict[int, list[Component]] = {}
    for agency_id, group in by_agency.items():
        version = ModelVersion.objects.filter(owner_agency_id=agency_id, status="active").first()
        if version is None:
            continue
        scorable: list[Subject] = []
        for subject in group:
            source = sources[subject.source_id]
            if not source.allows_self_learning:
                found[subject.pk] = [_not_applied(version, source)]
            elif subject.kind == SubjectKind.CONSIGNMENT and subject.facts.get("hs6"):
                scorable.append(subject)
        if not scorable:
            continue
        frame = D.subjects_frame(D.rows_of(scorable))
        if frame.empty:
            continue
        probabilities, explained = score_and_explain(
            version, frame, extra_sources={s.source_id for s in scorable}
        )
        for pk, p, features in zip(frame[D.SUBJECT_ID], probabilities, explained, strict=True):
            found[int(pk)] = [_component(version, float(p), features)]
    return found


def model_component_for(subject: Subject) -> dict[str, Any] | None:
    """The model component stored with the subject's latest assessment (applied or not), if any."""
    try:
        from apps.risk.models import Assessment
    except ImportError:  # the risk engine is not installed
        return None
    assessment = Assessment.objects.filter(subject=subject).order_by("-created_at", "-pk").first()
    if assessment is None:
        return None
    stored = assessment.explanation or {}
    for component in [*stored.get("components", []), *stored.get("shadow", [])]:
        if component.get("kind") == "model":
            return component
    return None


def explanation_for(subject: Subject) -> list[dict[str, Any]] | None:
    """The top contributing features of the subject's latest model score, as stored with the score.

    Each item: ``{"feature", "words", "contribution", "direction"}`` (``words`` is the plain-words
    description with this subject's value; ``contribution`` in log-odds, positive raises the risk).
    ``None`` when no model scored the subject.
    """
    component = model_component_for(subject)
    if not component:
        return None
    details = component.get("details") or {}
    if not details.get("applied", True):
        return None
    return details.get("features") or None


def score_source(source: DataSource) -> tuple[pd.DataFrame, ModelVersion]:
    """Score every current consignment of ``source`` with its agency's active model, all at once.

    Returns a frame ``id, score`` (``id`` = ``facts["declaration_id"]`` as received) in the order of
    the declarations' dates, and the version used. Raises ``ValidationError`` when there is no active
    model or the source's legal basis forbids self-learning models.
    """
    from django.core.exceptions import ValidationError

    from apps.learning.services import active_version

    if not source.allows_self_learning:
        raise ValidationError(not_applied_text(source.name))
    version = active_version(source.owner_agency_id)
    if version is None:
        raise ValidationError(
            f"{source.owner_agency} has no active risk model: train and activate one first."
        )
    frame = D.frame_for(D.consignments([source]))
    if frame.empty:
        return pd.DataFrame({"id": [], "score": []}), version
    probabilities = score_frame(version, frame, extra_sources=[source.pk])
    return pd.DataFrame({"id": frame["declaration_id"].astype(str), "score": probabilities}), version

"""From the product's records to the learning core's frame: the ONE mapping of subject facts to columns.

The learning core (:mod:`apps.learning.features`) reads declarations with normalised column names
(``declaration_id``, ``date``, ``office_id``, ``hs6``, ``net_mass``, ``item_price``, ``fraud``...).
Intake stores each declaration as a consignment :class:`~apps.intake.models.Subject` whose ``facts``
use the product's own names (``declaration_date``, ``office``, ``net_mass_kg``, ``value``...; see
``apps.intake.normalise.declaration_drafts``). :data:`FACT_COLUMNS` is the only place that maps one to
the other; the training frame, the scoring frame, the history and the drift window are all built by
:func:`subjects_frame`.

**Labels** come from :class:`~apps.intake.models.Outcome` rows: an examination recorded on a tablet or
imported history. When a subject has several outcomes, the most recent one counts. ``fraud`` is
``finding`` (0/1), ``critical_fraud`` the severity.

**Weighting against selection bias.** Targeted examinations are not a sample of the traffic: they
are what the rules and the model already chose, so a model that learns only from them learns the
centre's own bias. Each examined outcome is weighted by one over its *propensity*, the probability that
it would be examined given what the centre knew when it selected (see :mod:`apps.learning.selection`)::

    p = r + (1 - r) * s      w = min(1 / p, cap), self-normalised to average 1

read from the subject's assessment made before the outcome: ``r`` is 1 when its score reached the
nomination threshold of the time (the engine nominates deterministically), else 0; ``s`` is the
random-control share it was drawn at (both are kept in the assessment's explanation). So a random-
control draw below the threshold at a 1 % share stands for a hundred unexamined subjects, and an
outcome above the threshold weighs 1 (the cap is lowered when the random checks are so few against the
targeted ones that the weights would be worth less than half their number; see the selection module).
Outcomes whose selection cannot be reconstructed (imported history, a target raised by hand below the
threshold, no assessment) keep ``p = 1``: no correction is claimed that cannot be justified. The same
propensities go with the history (:func:`declarations_frame`), so the finding rates of an importer or
a goods line weigh each examined declaration alike at training and at scoring time (see
:mod:`apps.learning.features`).

**Legal basis.** Only sources whose ``allows_self_learning`` is true give training rows or history;
the scoring provider does not score subjects of other sources at all.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd
from django.db.models import Count, Max, QuerySet

from apps.intake.models import DataSource, Outcome, Subject, SubjectKind
from apps.learning import features as F
from apps.learning import selection as S
from apps.learning.training import WEIGHT

#: Core column -> the subject fact(s) it is read from, first non-empty wins.
FACT_COLUMNS: dict[str, tuple[str, ...]] = {
    "declaration_id": ("declaration_id", "mrn"),
    "date": ("declaration_date",),
    "office_id": ("office",),
    "process_type": ("process_type", "procedure"),
    "import_type": ("import_type", "declaration_type"),
    "import_use": ("import_use",),
    "payment_type": ("payment_type",),
    "mode_of_transport": ("mode_code", "transport_mode"),
    "declarant_id": ("declarant_id",),
    "importer_id": ("importer_id",),
    "seller_id": ("seller_id",),
    "courier_id": ("courier_id",),
    "hs6": ("hs6",),
    "country_of_departure": ("dispatch_country",),
    "country_of_origin": ("origin_country",),
    "tax_rate": ("tax_rate",),
    "tax_type": ("tax_type",),
    "origin_indicator": ("origin_indicator",),
    "net_mass": ("net_mass_kg",),
    "item_price": ("declared_value",),
}

#: Most a single examined outcome may weigh (1 / propensity is capped here before normalising);
#: ``settings.LEARNING_MAX_WEIGHT`` overrides it (lower: less variance, more of the centre's bias), and
#: ``settings.LEARNING_MIN_EFFECTIVE_SHARE`` the variance budget (:data:`~apps.learning.selection.
#: MIN_EFFECTIVE_SHARE`; None switches it off).
MAX_WEIGHT = S.DEFAULT_MAX_WEIGHT
#: Extra column: the subject's primary key, carried through frames (never a model input).
SUBJECT_ID = "subject_id"


def learnable_sources(owner_agency_id: int | None = None) -> QuerySet[DataSource]:
    """Sources whose legal basis allows self-learning models (optionally of one agency)."""
    rows = DataSource.objects.filter(allows_self_learning=True)
    return rows.filter(owner_agency_id=owner_agency_id) if owner_agency_id is not None else rows


def consignments(sources: Iterable[DataSource | int]) -> QuerySet[Subject]:
    """Current consignment subjects of the given sources that may feed a self-learning model."""
    ids = [s if isinstance(s, int) else s.pk for s in sources]
    return Subject.objects.filter(
        source_id__in=ids,
        source__allows_self_learning=True,
        kind=SubjectKind.CONSIGNMENT,
        status=Subject.Status.CURRENT,
    )


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or (isinstance(value, float) and np.isnan(value))


def _subject_date(facts: dict[str, Any], arrival_at: datetime | None, received_at: datetime | None) -> str:
    declared = facts.get("declaration_date")
    if declared:
        return str(declared)[:10]
    when = arrival_at or received_at
    return when.date().isoformat() if when else ""


#: Read from the first goods item of ``details`` when the fact is empty: intake stores a declared mass
#: or value of 0 as "no fact", and a zero is information the model uses (the CSV has such rows).
DETAIL_FALLBACKS: dict[str, str] = {
    "net_mass": "details__goods__0__net_mass_kg",
    "item_price": "details__goods__0__value",
}
_ROW_FIELDS = ("id", "facts", "arrival_at", "received_at", *DETAIL_FALLBACKS.values())


def subjects_frame(rows: Iterable[tuple[Any, ...]]) -> pd.DataFrame:
    """The core's frame from ``(subject id, facts, arrival_at, received_at[, mass, value])`` rows.

    No labels. Empty facts become missing values (the core treats "no courier" as missing, as the CSV
    does); the optional trailing values are the goods-item fallbacks of :data:`DETAIL_FALLBACKS`.
    """
    records: list[dict[str, Any]] = []
    for pk, facts, arrival_at, received_at, *fallbacks in rows:
        facts = facts or {}
        record: dict[str, Any] = {SUBJECT_ID: pk}
        for column, names in FACT_COLUMNS.items():
            value = next((facts[n] for n in names if not _empty(facts.get(n))), None)
            record[column] = value
        for column, fallback in zip(DETAIL_FALLBACKS, fallbacks, strict=False):
            if record[column] is None and not _empty(fallback):
                record[column] = fallback
        record["date"] = _subject_date(facts, arrival_at, received_at)
        if _empty(record["declaration_id"]):
            record["declaration_id"] = f"subject-{pk}"
        records.append(record)
    frame = pd.DataFrame.from_records(records, columns=[SUBJECT_ID, *FACT_COLUMNS])
    frame["date"] = pd.to_datetime(frame["date"], errors="coerce")
    return frame[frame["date"].notna()].reset_index(drop=True)


def rows_of(subjects: Iterable[Subject]) -> list[tuple[Any, ...]]:
    """:func:`subjects_frame` rows for subject objects already in memory (the provider's batch)."""
    out = []
    for s in subjects:
        goods = (s.details or {}).get("goods") or [{}]
        first = goods[0] if isinstance(goods[0], dict) else {}
        out.append(
            (s.pk, s.facts, s.arrival_at, s.received_at, first.get("net_mass_kg"), first.get("value"))
        )  # goods item in details
    return out


def frame_for(queryset: QuerySet[Subject]) -> pd.DataFrame:
    """:func:`subjects_frame` for a queryset of subjects (read in one query, facts only)."""
    return subjects_frame(queryset.values_list(*_ROW_FIELDS).iterator(2000))


def latest_outcomes(subjects: QuerySet[Subject]) -> pd.DataFrame:
    """The most recent outcome per subject.

    Columns: ``subject_id, finding, severity, random_control, origin, recorded_at``.
    """
    rows = (
        Outcome.objects.filter(subject__in=subjects.values("pk"))
        .order_by("subject_id", "recorded_at", "pk")
        .values_list("subject_id", "finding", "severity", "random_control", "origin", "recorded_at")
    )
    frame = pd.DataFrame.from_records(
        list(rows), columns=[SUBJECT_ID, "finding", "severity", "random_control", "origin", "recorded_at"]
    )
    return frame.drop_duplicates(SUBJECT_ID, keep="last").reset_index(drop=True)


def selection_at(outcomes: pd.DataFrame) -> pd.DataFrame:
    """For each outcome, what the engine knew when it selected: ``above_threshold`` and ``random_share``.

    Read from the subject's latest assessment made at or before the outcome (its score against the
    nomination threshold of the time, and the random-control share it was drawn at, both kept in the
    explanation). ``known`` is false where there is no such assessment.
    """
    from apps.risk.models import Assessment, RiskSettings

    out = outcomes[[SUBJECT_ID, "recorded_at"]].copy()
    out["above_threshold"], out["random_share"], out["known"] = False, 0.0, False
    if out.empty:
        return out
    default = RiskSettings.current()
    rows = (
        Assessment.objects.filter(subject_id__in=out[SUBJECT_ID].tolist())
        .order_by("created_at", "pk")
        .values_list(
            "subject_id",
            "created_at",
            "score",
            "explanation__thresholds__nomination",
            "explanation__random_control__share",
        )
    )
    assessed = pd.DataFrame.from_records(
        list(rows), columns=[SUBJECT_ID, "assessed_at", "score", "threshold", "share"]
    )
    if assessed.empty:
        return out
    threshold = pd.to_numeric(assessed["threshold"], errors="coerce").fillna(default.nomination_threshold)
    assessed["above"] = assessed["score"].astype(float) >= threshold
    share = pd.to_numeric(assessed["share"], errors="coerce").fillna(default.random_control_share)
    assessed["share"] = share.astype(float)
    order = out.reset_index().sort_values("recorded_at", kind="stable")
    matched = (
        pd.merge_asof(
            order,
            assessed.sort_values("assessed_at", kind="stable"),
            left_on="recorded_at",
            right_on="assessed_at",
            by=SUBJECT_ID,
            direction="backward",
        )
        .set_index("index")
        .reindex(out.index)
    )
    found = matched["assessed_at"].notna()
    out["known"] = found.to_numpy()
    out["above_threshold"] = matched["above"].where(found, False).astype(bool).to_numpy()
    out["random_share"] = matched["share"].where(found, 0.0).astype(float).to_numpy()
    return out


def selection_propensity(
    random_control: np.ndarray,
    origin: np.ndarray,
    above_threshold: np.ndarray,
    random_share: np.ndarray,
    known: np.ndarray,
) -> np.ndarray:
    """P(examined) per outcome (module docstring): 1 wherever the selection cannot be reconstructed.

    A random-control examination below the threshold: the share it was drawn at; at or above: 1. A
    targeted examination above the threshold: 1; below it (raised by hand) its propensity is unknown: 1.
    """
    random_control = np.asarray(random_control, dtype=bool)
    examined = np.asarray(origin) == Outcome.Origin.EXAMINATION
    above = np.asarray(above_threshold, dtype=bool)
    share = np.asarray(random_share, dtype=float)
    reconstructable = examined & np.asarray(known, dtype=bool) & random_control & (share > 0)
    p = S.propensity(above, share)
    return np.where(reconstructable, p, 1.0)


def outcome_propensities(outcomes: pd.DataFrame) -> np.ndarray:
    """:func:`selection_propensity` of each outcome of :func:`latest_outcomes` (as in training)."""
    if outcomes.empty:
        return np.ones(0)
    chosen = selection_at(outcomes)
    return selection_propensity(
        outcomes["random_control"].to_numpy(),
        outcomes["origin"].to_numpy(),
        chosen["above_threshold"].to_numpy(),
        chosen["random_share"].to_numpy(),
        chosen["known"].to_numpy(),
    )


def selection_weights(propensities: np.ndarray) -> np.ndarray:
    """Training weights: :func:`apps.learning.selection.ipw_weights` (capped, self-normalised)."""
    from django.conf import settings

    cap = float(getattr(settings, "LEARNING_MAX_WEIGHT", MAX_WEIGHT))
    floor = getattr(settings, "LEARNING_MIN_EFFECTIVE_SHARE", S.MIN_EFFECTIVE_SHARE)
    return S.ipw_weights(propensities, max_weight=cap, min_effective_share=floor)


def training_frame(sources: Iterable[DataSource | int], *, until: date | None = None) -> pd.DataFrame:
    """Labelled declarations of ``sources`` for :func:`apps.learning.training.train`.

    Columns: the core's columns, ``fraud``, ``critical_fraud``, ``propensity``,
    :data:`~apps.learning.training.WEIGHT` (from it) and ``subject_id``; ``until`` keeps records dated
    on or before that day.
    """
    subjects = consignments(sources).filter(outcomes__isnull=False).distinct()
    frame = frame_for(subjects)
    outcomes = latest_outcomes(consignments(sources))
    frame = frame.merge(outcomes, on=SUBJECT_ID, how="inner")
    if until is not None:
        frame = frame[frame["date"] <= pd.Timestamp(until)]
    frame = frame.reset_index(drop=True)
    frame[F.LABEL] = frame["finding"].astype(int)
    frame["critical_fraud"] = frame["severity"].astype(int)
    frame[F.PROPENSITY] = outcome_propensities(frame)
    frame[WEIGHT] = selection_weights(frame[F.PROPENSITY].to_numpy())
    return frame.drop(columns=["finding", "severity", "recorded_at"])


_DECLARATIONS_CACHE: dict[tuple[int, ...], tuple[tuple[Any, ...], pd.DataFrame]] = {}


def declarations_frame(sources: Iterable[DataSource | int]) -> pd.DataFrame:
    """Every current declaration of ``sources`` with its label and the :data:`~apps.learning.features.
    PROPENSITY` of its examination (both NaN when never examined).

    Cached per process and refreshed when subjects or outcomes are added or change status, so that the
    risk engine, which assesses in chunks of a few thousand, reads the facts once, not once per chunk.
    """
    ids = tuple(sorted({s if isinstance(s, int) else s.pk for s in sources}))
    subjects = consignments(ids)
    outcomes = Outcome.objects.filter(subject__in=subjects.values("pk"))
    stamp = (
        tuple(subjects.aggregate(n=Count("pk"), top=Max("pk"), last=Max("received_at")).values()),
        tuple(outcomes.aggregate(n=Count("pk"), top=Max("pk")).values()),
    )
    cached = _DECLARATIONS_CACHE.get(ids)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    frame = frame_for(subjects)
    found = latest_outcomes(subjects)
    labels = dict(zip(found[SUBJECT_ID], found["finding"].astype(float), strict=True))
    frame[F.LABEL] = frame[SUBJECT_ID].map(labels).astype(float)
    # The history's finding rates weigh each examined declaration as training does (features module).
    chances = dict(zip(found[SUBJECT_ID], outcome_propensities(found), strict=True))
    frame[F.PROPENSITY] = frame[SUBJECT_ID].map(chances).astype(float)
    _DECLARATIONS_CACHE.clear()  # one entry is enough: an agency's model reads one set of sources
    _DECLARATIONS_CACHE[ids] = (stamp, frame)
    return frame


def unexamined_frame(sources: Iterable[DataSource | int], *, until: date | None = None) -> pd.DataFrame:
    """Declarations of ``sources`` that were never examined: the ``context`` of a training run.

    They are never fitted (no label exists), but the history features count them as earlier
    declarations of an importer, a declarant, a route, exactly as scoring does.
    """
    frame = declarations_frame(sources)
    keep = frame[F.LABEL].isna()
    if until is not None:
        keep &= frame["date"] <= pd.Timestamp(until)
    return frame[keep].drop(columns=[F.LABEL, F.PROPENSITY]).reset_index(drop=True)


def clear_cache() -> None:
    """Forget cached declarations (tests; a process that knows the data changed under it)."""
    _DECLARATIONS_CACHE.clear()


def history_frame(
    sources: Iterable[DataSource | int], *, before: date, exclude: Iterable[int] = ()
) -> pd.DataFrame:
    """Earlier declarations of ``sources`` (dated before ``before``), labelled where an outcome exists.

    Unlabelled ones count as earlier declarations, never as findings; the core itself keeps, for each
    row scored, only records dated strictly before that row. Subjects in ``exclude`` (the ones being
    scored) are left out so their own results can never reach their score.
    """
    frame = declarations_frame(sources)
    keep = (frame["date"] < pd.Timestamp(before)) & ~frame[SUBJECT_ID].isin(set(exclude))
    return frame[keep].reset_index(drop=True)

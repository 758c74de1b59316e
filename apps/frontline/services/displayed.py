"""Results as displayed: a result and its corrections, the latest of each."""

from __future__ import annotations

from collections.abc import Sequence

from apps.frontline.models import (
    ExaminationResult,
)
from apps.targeting.models import Target


def _latest_by_root(root_ids: Sequence[int]) -> dict[int, ExaminationResult]:
    """The latest correction per original result (originals without correction are absent)."""
    latest: dict[int, ExaminationResult] = {}
    for row in ExaminationResult.objects.filter(original_id__in=root_ids).order_by("recorded_at", "pk"):
        assert row.original_id is not None  # filtered on it
        latest[row.original_id] = row
    return latest


def history_of(target: Target) -> list[ExaminationResult]:
    """The original result of the target's examination and its corrections, oldest first."""
    return list(
        ExaminationResult.objects.filter(target=target)
        .select_related("recorded_by", "recorded_by_agency")
        .prefetch_related("goods", "photos")
        .order_by("recorded_at", "pk")
    )


def displayed_result(target: Target) -> ExaminationResult | None:
    """The result to show: the latest correction, else the original, else None."""
    return (
        ExaminationResult.objects.filter(target=target)
        .prefetch_related("goods", "photos")
        .order_by("-recorded_at", "-pk")
        .first()
    )

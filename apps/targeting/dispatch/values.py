"""The expected findings of examining a target by each suitable method (calibrated when a calibration is given)."""

from __future__ import annotations

from typing import Any

from apps.targeting.dispatch.calibration import Calibration, table_rate
from apps.targeting.dispatch.methods import ALL_METHODS, SUITABLE


def finding_probability(target: Any) -> float:
    """The model score when there is one (0..1, or 0..100), else half the priority as a cautious guess."""
    if target.score is not None:
        score = float(target.score)
        return max(0.0, min(1.0, score / 100 if score > 1 else score))
    return max(0.0, min(1.0, target.priority / 200))


def detection_rates(
    target: Any, kind: str, methods: set[str], calibration: Calibration | None = None
) -> dict[str, float]:
    """Each suitable method's detection rate for the target's risk area (calibrated when given)."""
    out = {}
    for method in methods & SUITABLE.get(kind, ALL_METHODS):
        if calibration is None:
            out[method] = table_rate(method, target.risk_area)
        else:
            out[method] = calibration.detection(method, target.risk_area, target.port_id)
    return out


def method_values(
    target: Any, kind: str, methods: set[str], calibration: Calibration | None = None
) -> dict[str, float]:
    """Expected findings of examining the target by each suitable method."""
    p = finding_probability(target)
    if calibration is not None:
        p = calibration.probability(p)
    return {
        m: round(min(1.0, p * rate), 6)
        for m, rate in detection_rates(target, kind, methods, calibration).items()
    }

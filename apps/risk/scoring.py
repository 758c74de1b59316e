"""How components become one score and a channel, and how random control picks subjects.

**Score.** Each counting component contributes ``s_i`` in 0-100. The score is the probabilistic "or"
of the contributions::

    score = 100 * (1 - Π_i (1 - s_i / 100))

so one rule of weight 70 gives 70, two give 91, a weight-100 component gives 100, and the score never
leaves 0-100 however many rules fire. Shadow components are combined the same way into a separate
"would-be" score that is shown, never used. The risk area of the assessment is the area whose own
combined score is highest.

**Channel.** ``score ≥ red`` → red; ``score ≥ yellow`` → yellow, or blue when every counting
component is of the revenue area (post-clearance audit fits revenue risk better than a border stop);
otherwise green. A random-control selection is sent to red whatever its score (it is examined).

**Random control.** A subject is selected when ``u < share``, where ``u`` is the first 8 bytes of
``sha256(salt ":" subject_id)`` as a fraction of 2**64: uniform, independent of risk, and the same on
every re-assessment. The share is looked up per port and subject kind (a port's own rate, else the
all-ports rate for the kind, else the default in ``RiskSettings``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from apps.risk.providers import Component

__all__ = ["RANDOM_CONTROL_AREA", "RateTable", "channel_for", "combine", "random_draw"]

#: The risk area a random-control target is nominated under when no component names one.
RANDOM_CONTROL_AREA: dict[str, str] = {
    "consignment": "revenue",
    "traveller": "narcotics",
    "conveyance": "security",
    "trader": "revenue",
}


def combine(scores: Iterable[float]) -> float:
    """``100 * (1 - Π(1 - s/100))`` over contributions clipped to 0-100."""
    remaining = 1.0
    for score in scores:
        remaining *= 1.0 - min(100.0, max(0.0, float(score))) / 100.0
    return round(100.0 * (1.0 - remaining), 4)


def by_area(components: Iterable[Component]) -> dict[str, float]:
    """The combined score of the counting components of each risk area."""
    areas: dict[str, list[float]] = {}
    for c in components:
        if not c.shadow:
            areas.setdefault(c.risk_area, []).append(c.score)
    return {area: combine(scores) for area, scores in sorted(areas.items())}


def channel_for(score: float, components: list[Component], *, yellow: float, red: float) -> str:
    if score >= red:
        return "red"
    if score >= yellow:
        counting = [c for c in components if not c.shadow and c.score > 0]
        if counting and all(c.risk_area == "revenue" for c in counting):
            return "blue"
        return "yellow"
    return "green"


def random_draw(subject_id: int, salt: str) -> float:
    """A reproducible uniform number in [0, 1) for a subject."""
    digest = hashlib.sha256(f"{salt}:{subject_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


@dataclass(frozen=True, slots=True)
class RateTable:
    """Random-control shares: (port id, kind) → share, (None, kind) → share, and a default."""

    rates: Mapping[tuple[int | None, str], float]
    default: float

    @classmethod
    def load(cls) -> RateTable:
        from apps.risk.models import RandomControlRate, RiskSettings

        rates = {(r.port_id, r.subject_kind): r.share for r in RandomControlRate.objects.all()}
        return cls(rates, RiskSettings.current().random_control_share)

    def share(self, port_id: int | None, kind: str) -> float:
        if (port_id, kind) in self.rates:
            return self.rates[(port_id, kind)]
        return self.rates.get((None, kind), self.default)

"""The ledger's shapes: strata, baselines, rows and the ledger itself."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from apps.reports.definitions import MISSED_SHARE_WARN
from apps.reports.effectiveness.statistics import Lift, Rate, supports_lift, too_few

#: A stratum: (subject kind, port id or None, risk area) of the examined target.
Stratum = tuple[str, int | None, str]


RANDOM = ("random", "random")


@dataclass
class StratumLift:
    """One selector's examinations in one stratum, the random baseline there, and the lift."""

    stratum: Stratum
    examinations: int
    findings: int
    base: Rate
    lift: Lift
    note: str = ""

    @property
    def precision(self) -> float | None:
        return self.findings / self.examinations if self.examinations else None


@dataclass
class Baseline:
    """The random control of one stratum: its rate, and the random draws that ended missed."""

    stratum: Stratum
    rate: Rate
    missed: int = 0

    @property
    def supported(self) -> bool:
        return supports_lift(self.rate.exams, self.rate.findings)

    @property
    def missed_share(self) -> float | None:
        drawn = self.rate.exams + self.missed
        return self.missed / drawn if drawn else None

    @property
    def note(self) -> str:
        notes = [] if self.supported else [too_few(self.rate.exams)]
        if (self.missed_share or 0) > MISSED_SHARE_WARN:
            notes.append(f"{self.missed} random draws not examined: the baseline may be biased")
        return "; ".join(notes)


@dataclass(frozen=True, slots=True)
class MissedDraws:
    """Random-control targets of one stratum that ended missed for one reason."""

    stratum: Stratum
    reason: str
    count: int


@dataclass
class LedgerRow:
    """One selector's line in the ledger."""

    kind: str  # rule | rule_shadow | watchlist | model
    key: str
    name: str
    version: str
    owner: str = ""
    state: str = ""
    hits: int = 0
    examinations: int = 0
    findings: int = 0
    lift: Lift = field(default_factory=lambda: Lift(None, None, None))
    flags: list[str] = field(default_factory=list)
    rule_id: int | None = None
    strata: list[StratumLift] = field(default_factory=list)
    lift_note: str = ""
    refs: list[str] = field(default_factory=list)  # a watchlist's entry references in the feedback

    @property
    def precision(self) -> float | None:
        return self.findings / self.examinations if self.examinations else None

    @property
    def measured_exams(self) -> int:
        """Examinations in strata whose random sample supports a lift (what the overall lift rests on)."""
        return sum(x.examinations for x in self.strata if supports_lift(x.base.exams, x.base.findings))

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "version": self.version,
            "state": self.state,
            "hits": self.hits,
            "examinations": self.examinations,
            "findings": self.findings,
            "precision": self.precision,
            "lift": self.lift.value,
            "lift_low": self.lift.low,
            "lift_high": self.lift.high,
            "measured_exams": self.measured_exams,
            "lift_note": self.lift_note,
            "flags": "; ".join(self.flags),
        }


@dataclass
class Ledger:
    rows: list[LedgerRow]
    base_exams: int  # pooled over strata: shown for information, never divided into a lift
    base_findings: int
    baselines: list[Baseline] = field(default_factory=list)
    missed: list[MissedDraws] = field(default_factory=list)
    labels: dict[Stratum, str] = field(default_factory=dict)

    @property
    def missed_total(self) -> int:
        return sum(m.count for m in self.missed)

    def label(self, stratum: Stratum) -> str:
        return self.labels.get(stratum) or " · ".join(str(p) for p in stratum)

    @property
    def base_rate(self) -> float | None:
        return self.base_findings / self.base_exams if self.base_exams else None

    @property
    def flagged(self) -> list[LedgerRow]:
        return [r for r in self.rows if r.flags]

"""Detection rates by examination method and risk area, the candidates and the plan."""

from __future__ import annotations

from dataclasses import dataclass, field

from apps.agencies.models import ExaminationMethod
from apps.intake.models import SubjectKind

M = ExaminationMethod


#: Share of violations a method finds, by risk area (defaults, to be calibrated from outcomes).
DEFAULT_DETECTION = 0.3


DETECTION: dict[str, dict[str, float]] = {
    M.PHYSICAL: {"_": 0.9},
    M.SCAN: {"narcotics": 0.75, "weapons": 0.85, "security": 0.8, "people_smuggling": 0.85, "currency": 0.5,
             "cites": 0.5, "strategic": 0.6, "_": 0.4},
    M.DOG: {"narcotics": 0.85, "currency": 0.7, "cites": 0.5, "sps": 0.8, "weapons": 0.4, "_": 0.2},
    M.DOCUMENTS: {"revenue": 0.7, "ipr": 0.5, "strategic": 0.6, "sps": 0.5, "immigration": 0.6, "_": 0.2},
    M.INTERVIEW: {"immigration": 0.8, "people_smuggling": 0.6, "currency": 0.5, "narcotics": 0.4, "_": 0.25},
}  # fmt: skip


#: Every method (``M.values`` builds its list afresh on each call: this is read per target).
ALL_METHODS = frozenset(M.values)


#: Which methods apply to which kind of subject.
SUITABLE: dict[str, set[str]] = {
    SubjectKind.CONSIGNMENT: {M.DOCUMENTS, M.SCAN, M.PHYSICAL, M.DOG},
    SubjectKind.CONVEYANCE: {M.DOCUMENTS, M.SCAN, M.PHYSICAL, M.DOG},
    SubjectKind.TRAVELLER: {M.DOCUMENTS, M.PHYSICAL, M.DOG, M.INTERVIEW},
    SubjectKind.TRADER: {M.DOCUMENTS},
}


@dataclass
class Candidate:
    """A target the dispatcher may send, with its finding probability and what each method is worth."""

    target_id: int
    version: int
    p: float
    values: dict[str, float]
    order: int = 0
    label: str = ""


@dataclass
class Plan:
    chosen: dict[int, str] = field(default_factory=dict)
    total: float = 0.0

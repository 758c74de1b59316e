"""The normalised record of a trader register: who the operator is, its AEO status and compliance history.

Filled by the register parser (``apps.intake.parsers.traders``, CSV and JSON); turned into a trader
subject by ``apps.intake.normalise.register_drafts``. Plain dataclasses, no Django.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

__all__ = ["AEO_STATUSES", "AEO_TYPES", "HISTORY_KINDS", "ComplianceEvent", "TraderAddress", "TraderRecord"]

#: AEO certificate types: customs simplifications, security and safety, or both ("full").
AEO_TYPES = ("AEOC", "AEOS", "AEOF")
#: Where a certificate stands; only an ``active`` one within its validity dates makes an AEO.
AEO_STATUSES = ("none", "active", "suspended", "revoked")
#: Kinds of compliance-history events.
HISTORY_KINDS = ("finding", "penalty", "revocation")


@dataclass(slots=True)
class TraderAddress:
    street: str = ""
    city: str = ""
    postcode: str = ""
    country: str = ""

    @property
    def text(self) -> str:
        return ", ".join(p for p in (self.street, self.postcode, self.city, self.country) if p)


@dataclass(slots=True)
class ComplianceEvent:
    """One event of a trader's compliance history: an examination finding, a penalty, a revocation."""

    kind: str
    on: date | None = None
    reference: str = ""
    amount: float | None = None
    note: str = ""


@dataclass(slots=True)
class TraderRecord:
    """One operator of the register (one row of a CSV, one object of a JSON file)."""

    operator_id: str
    name: str
    short_name: str = ""
    country: str = ""
    addresses: list[TraderAddress] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)  # E.164
    emails: list[str] = field(default_factory=list)  # folded
    registered_on: date | None = None
    aeo_status: str = "none"
    aeo_type: str = ""
    aeo_valid_from: date | None = None
    aeo_valid_to: date | None = None
    aeo_certificate: str = ""
    findings_count: int = 0
    penalties_count: int = 0
    revocations_count: int = 0
    examinations_count: int | None = None
    history: list[ComplianceEvent] = field(default_factory=list)
    source_line: int = 0

    def aeo_on(self, day: date) -> bool:
        """Whether the operator is an AEO on ``day``: an active certificate whose validity covers it."""
        return (
            self.aeo_status == "active"
            and (self.aeo_valid_from is None or self.aeo_valid_from <= day)
            and (self.aeo_valid_to is None or day <= self.aeo_valid_to)
        )

"""Trader register entries as subjects: the trader of its source, with the facts the register gives."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.utils import timezone

from apps.intake.normalise.drafts import SubjectDraft, _iso, jsonable, key_hash
from apps.intake.records.trader import TraderRecord


def register_facts(r: TraderRecord, on: date | None = None) -> dict[str, Any]:
    """The facts a register entry gives its trader; ``aeo`` is whether the certificate is live ``on``
    that day (today when not given; the risk engine asks again for each subject's own day)."""
    day = on or timezone.now().date()
    return {
        "trader_id": r.operator_id,
        "trader_name": r.name,
        "trader_country": r.country,
        "registered_on": _iso(r.registered_on),
        "aeo": r.aeo_on(day),
        "aeo_status": r.aeo_status,
        "aeo_type": r.aeo_type,
        "aeo_valid_from": _iso(r.aeo_valid_from),
        "aeo_valid_to": _iso(r.aeo_valid_to),
        "findings_count": r.findings_count,
        "penalties_count": r.penalties_count,
        "revocations_count": r.revocations_count,
        "examinations_count": r.examinations_count,
        "phone": list(r.phones),
        "email": list(r.emails),
    }


def register_drafts(r: TraderRecord) -> list[SubjectDraft]:
    """A register entry becomes the trader subject of its source, ``trader:<operator id>`` as intake names
    the traders of declarations, so the same operator has the same identity everywhere."""
    keys = [key_hash("trader", r.operator_id)]
    keys += [key_hash("phone", p) for p in r.phones] + [key_hash("email", e) for e in r.emails]
    details = jsonable(r)
    details.pop("source_line", None)
    return [
        SubjectDraft(
            kind="trader",
            external_id=f"trader:{r.operator_id}",
            title=f"{r.name} ({r.operator_id})",
            facts=register_facts(r),
            details=details | {"register": True},
            keys=keys,
        )
    ]

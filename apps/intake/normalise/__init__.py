"""From parsed records to subject rows: the one place that decides what a subject's facts are.

Each function turns a record of one kind into ``SubjectDraft`` objects (a consignment and its traders, a
traveller and the flight they are on). ``facts`` are flat, typed values that rules, the model and
reports read by name (the catalogue of names is ``apps.risk.fields``); ``details`` keep the whole record
for the subject page; ``keys`` are keyed hashes of identifiers (document, name + date of birth, trader
id) used to link the same person or trader across sources, and they keep working after masking.
"""

from __future__ import annotations

from typing import Any

from apps.intake.normalise.cargo import (
    consignment_drafts,
    container_keys,
    container_numbers,
    conveyance_draft,
    declaration_drafts,
    trader_draft,
    vessel_imo,
)
from apps.intake.normalise.drafts import SubjectDraft, fold, jsonable, key_hash
from apps.intake.normalise.passenger import (
    CASH_WORDS,
    flight_draft,
    traveller_drafts,
    traveller_emails,
    traveller_phones,
)
from apps.intake.normalise.register import register_drafts, register_facts
from apps.intake.records.cargo import Consignment, Declaration
from apps.intake.records.passenger import PassengerReport
from apps.intake.records.trader import TraderRecord

__all__ = [
    "CASH_WORDS",
    "SubjectDraft",
    "consignment_drafts",
    "container_keys",
    "container_numbers",
    "conveyance_draft",
    "declaration_drafts",
    "drafts_for",
    "flight_draft",
    "fold",
    "jsonable",
    "key_hash",
    "register_drafts",
    "register_facts",
    "trader_draft",
    "traveller_drafts",
    "traveller_emails",
    "traveller_phones",
    "vessel_imo",
]


def drafts_for(record: Any) -> list[SubjectDraft]:
    """Subject drafts for any parsed record."""
    if isinstance(record, Declaration):
        return declaration_drafts(record)
    if isinstance(record, Consignment):
        return consignment_drafts(record)
    if isinstance(record, PassengerReport):
        return traveller_drafts(record)
    if isinstance(record, TraderRecord):
        return register_drafts(record)
    raise TypeError(f"no normaliser for {type(record).__name__}")

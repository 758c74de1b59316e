"""Holds as the viewer may read them: that a target is held, and by whom, for every viewer; why, only
for the holder."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from apps.targeting.disclosure.base import DisclosureBase


@dataclass(frozen=True)
class HoldView:
    """A hold as the viewer may read it: who and when for everyone, why only for the holder."""

    pk: int
    agency_id: int
    agency_code: str
    agency_name: str
    placed_by: str
    placed_at: datetime
    active: bool
    released_at: datetime | None
    released_by: str | None
    mine: bool
    reason: str
    release_reason: str
    withheld: bool


class HoldsPart(DisclosureBase):
    """The holds of a ``Disclosure``."""

    def hold(self, hold: Any) -> HoldView:
        mine = self.agency_id is not None and hold.agency_id == self.agency_id
        # The officer at the port is told to stand off, as on his tablet, not which partner asked.
        named = mine or not self.briefing_only
        return HoldView(
            pk=hold.pk,
            agency_id=hold.agency_id,
            agency_code=hold.agency.code if named else "",
            agency_name=hold.agency.name if named else "a partner agency",
            placed_by=hold.placed_by.username if hold.placed_by_id and named else "",
            placed_at=hold.placed_at,
            active=hold.released_at is None,
            released_at=hold.released_at,
            released_by=hold.released_by.username if hold.released_by_id and named else None,
            mine=mine,
            reason=hold.reason if mine else "",
            release_reason=hold.release_reason if mine else "",
            withheld=not mine,
        )

"""The target's history (its transitions) as the viewer may read it: the move is public to whoever sees
the target, the free text belongs to the agency that wrote it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth.models import User

from apps.targeting.disclosure.base import DisclosureBase

#: The moves an officer at the port takes part in: dispatch and after.
_PORT_MOVES = frozenset({"dispatched", "in_examination", "result_recorded", "closed", "missed"})

HOLD_PREFIXES = ("Hold by ", "Hold added by ", "Hold released by ")
OPERATION_PREFIX = "Added to operation "
#: "Shared with IMM: May see" says no more than the sharing panel every viewer of the target reads.
SHARE_PREFIX = "Shared with "


@dataclass(frozen=True)
class HistoryLine:
    """One transition as the viewer may read it. ``reason`` is "" when there is none or it is withheld."""

    at: datetime
    from_state: str
    to_state: str
    from_label: str
    to_label: str
    version: int
    actor: User | None  # None: the system, or a partner the officer is not told of
    actor_name: str | None
    agency: str | None
    reason: str
    withheld: bool
    partner: bool = False
    #: Why the reason is withheld, for the words beside it: "centre" (the port is briefed, not told the
    #: centre's reasons), "personal" (a nomination's text may name the subject, whose personal details
    #: the viewer's agency is not shown), "agency" (another agency's words); "" when not withheld.
    withheld_as: str = ""


class HistoryPart(DisclosureBase):
    """The history of a ``Disclosure``."""

    def history_line(self, transition: Any) -> HistoryLine:
        reason = transition.reason or ""
        kind = _kind_of(transition)
        agency = transition.actor_agency.code if transition.actor_agency is not None else None
        withheld, withheld_as = False, ""
        if self.briefing_only and transition.to_state not in _PORT_MOVES:
            shown = ""
            withheld, withheld_as = bool(reason), "centre"
        elif kind == "operation":
            shown = reason if self.operation is not None else "Added to a joint operation"
        elif not reason or self._may_read_text(transition.actor_agency_id, kind):
            shown = reason
            if (
                reason == transition.RANDOM_NOMINATION_REASON
                and not transition.actor_id
                and not self.knows_random_control
            ):
                shown = transition.ENGINE_NOMINATION_REASON  # the engine's nomination, as for any risk target
        else:
            # The move itself is public to whoever sees the target; the holder's or author's words are not.
            shown = _public_part(reason, kind)
            withheld, withheld_as = True, "personal" if kind == "nomination" else "agency"
        actor = transition.actor if transition.actor_id else None
        partner = self.briefing_only and transition.actor_agency_id not in (None, self.agency_id)
        if partner:  # as for holds: the officer is not told which partner agency acted, nor who
            actor, agency = None, None
        return HistoryLine(
            at=transition.at,
            from_state=transition.from_state,
            to_state=transition.to_state,
            from_label=transition.get_from_state_display() if transition.from_state else "",
            to_label=transition.get_to_state_display(),
            version=transition.version,
            actor=actor,
            actor_name=actor.username if actor is not None else None,
            agency=agency,
            reason=shown,
            withheld=withheld,
            partner=partner,
            withheld_as=withheld_as if withheld else "",
        )

    def history(self, transitions: Any = None) -> list[HistoryLine]:
        """The target's history (or the given transitions of it) as the viewer may read it."""
        if transitions is None:
            transitions = self.target.transitions.select_related("actor", "actor_agency")
        return [self.history_line(t) for t in transitions]


def _kind_of(transition: Any) -> str:
    """What a history line's text is, from the formats the services write it in."""
    reason = transition.reason or ""
    if not transition.from_state:
        return "nomination"
    if reason.startswith(HOLD_PREFIXES):
        return "hold"
    if reason.startswith(OPERATION_PREFIX):
        return "operation"
    if reason.startswith(SHARE_PREFIX):
        return "share"
    return "decision"


def _public_part(reason: str, kind: str) -> str:
    """The part of a withheld text that only says what happened ("Hold by POL"), without why."""
    if kind == "hold":
        head = reason.split(":", 1)[0]
        return head if head.startswith(HOLD_PREFIXES) else ""
    return ""

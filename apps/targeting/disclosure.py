"""Disclosure: what one viewer may read of one target. The one rule every renderer asks.

``visible_to`` decides whether a viewer sees a target at all; this module decides what of it he reads
once he does: the subject's personal fields, the reasons, the history's free texts, hold reasons, the
joint operation's name, and — for a frontline officer — no more than his briefing. Pages, htmx
partials, the history page and CSV, the API's serializers, the tablet and exports render only what
``disclose`` returned, so a withheld string cannot reach a renderer by accident.

The rules, in one place:

- **Personal fields** follow the source's legal basis and depersonalisation (``masking.may_see_personal``).
  A frontline officer sees the subject's name and reference and the facts that help find the goods or
  the person (``BRIEFING_FACTS``), never a date of birth or a document number.
- **Reasons**: a watchlist match is withheld (not even its entry) from an agency that may not see the
  list; watchlist and free-text ("person") reasons are withheld where personal fields are; a frontline
  officer reads rule and model reasons and is told how many others exist. Random control is never
  revealed to him, so the examination is as thorough.
- **History** free texts belong to the agency that wrote them: the actor's agency reads them, and so
  does the owner agency, except a hold's reason, which only the holding agency reads (a controlled
  delivery is the holder's secret). A sharing line says no more than the sharing panel: everyone reads it. The nomination's text is a "person" reason and follows that rule.
  Others read the move and "reason held by <agency>". A frontline officer reads the moves from dispatch
  on, never a reason written on the floor.
- **Joint operations** are named only to an agency that takes part (``JointOperation.visible_to``).
- **Holds**: every viewer of the target sees that it is held and by whom; only the holder reads why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

from apps.agencies.operations import membership_of
from apps.agencies.roles import Role
from apps.compliance.masking import PERSONAL_REASON_KINDS
from apps.targeting.masking import WITHHELD, SubjectView, may_see_personal, subject_view

__all__ = [
    "BRIEFING_FACTS",
    "BRIEFING_REASON_KINDS",
    "Disclosure",
    "HistoryLine",
    "HoldView",
    "disclose",
    "reads_briefing_only",
]

#: Reason kinds a frontline officer reads; watchlist and free-text reasons may name people, and a random
#: selection is not revealed so that the examination is as thorough as any other.
BRIEFING_REASON_KINDS = frozenset({"rule", "model"})

#: Subject facts that help an officer find and examine the goods or the person; anything else stays
#: on the floor.
BRIEFING_FACTS = {
    "container_number": "Container",
    "containers": "Containers",
    "vessel_name": "Vessel",
    "flight": "Flight",
    "hs_code": "HS code",
    "goods_description": "Goods",
    "description": "Goods",
    "origin_country": "Origin",
    "packages": "Packages",
    "gross_mass_kg": "Gross mass (kg)",
    "net_mass_kg": "Net mass (kg)",
    "bags_count": "Bags",
    "seat": "Seat",
}


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
    actor: Any
    actor_name: str | None
    agency: str | None
    reason: str
    withheld: bool
    partner: bool = False


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


@dataclass
class Disclosure:
    """What ``viewer`` may read of ``target`` (made by ``disclose``)."""

    viewer: Any
    target: Any
    agency_id: int | None
    role: str | None
    personal: bool
    briefing_only: bool
    _extra: dict[str, Any] = field(default_factory=dict, repr=False)

    # ------------------------------------------------------------------ the subject

    @cached_property
    def subject(self) -> SubjectView:
        view = subject_view(self.viewer, self.target.subject)
        if self.briefing_only and not view.masked:
            view.facts = {k: v for k, v in view.facts.items() if k in BRIEFING_FACTS}
        return view

    def subject_dict(self) -> dict[str, Any]:
        view = self.subject
        return {
            "id": view.id, "kind": view.kind, "masked": view.masked, "title": view.title,
            "external_id": view.external_id, "port": view.port, "arrival_at": view.arrival_at, "facts": view.facts,
        }  # fmt: skip

    # ------------------------------------------------------------------ reasons

    @cached_property
    def _reason_split(self) -> tuple[list[dict[str, str]], int]:
        shown: list[dict[str, str]] = []
        withheld = 0
        visible_lists: set[int] | None = None
        for reason in self.target.reasons or []:
            kind = reason.get("kind")
            if self.briefing_only:
                if kind in BRIEFING_REASON_KINDS and reason.get("text"):
                    shown.append(
                        {"kind": kind, "text": str(reason["text"]), "ref": str(reason.get("ref", ""))}
                    )
                elif kind != "random":
                    withheld += 1
                continue
            if kind == "watchlist" and reason.get("list") is not None:
                if visible_lists is None:
                    from apps.watchlists.screening import visible_list_ids

                    visible_lists = set(visible_list_ids(self.viewer))
                if reason["list"] not in visible_lists:
                    shown.append(
                        {
                            "kind": "watchlist",
                            "text": "A watchlist your agency may not see matched.",
                            "ref": WITHHELD,
                        }
                    )
                    withheld += 1
                    continue
            if not self.personal and kind in PERSONAL_REASON_KINDS:
                shown.append(
                    {
                        "kind": kind,
                        "text": "Details withheld: the source is not shared with your agency.",
                        "ref": WITHHELD,
                    }
                )
                withheld += 1
                continue
            shown.append({k: v for k, v in reason.items() if k != "list"})
        return shown, withheld

    @property
    def reasons(self) -> list[dict[str, str]]:
        """The reasons as the viewer may read them (withheld ones say so, with no text of theirs)."""
        return self._reason_split[0]

    @property
    def withheld_reasons(self) -> int:
        return self._reason_split[1]

    # ------------------------------------------------------------------ history

    def _may_read_text(self, actor_agency_id: int | None, kind: str) -> bool:
        if kind == "nomination":
            return self.personal and not self.briefing_only
        if kind == "hold":
            return actor_agency_id is not None and actor_agency_id == self.agency_id
        if kind == "share":
            return True
        if actor_agency_id is None:  # the system: engine, periodic tasks
            return True
        return actor_agency_id == self.agency_id or self.agency_id == self.target.owner_agency_id

    def history_line(self, transition: Any) -> HistoryLine:
        reason = transition.reason or ""
        kind = _kind_of(transition)
        agency = transition.actor_agency.code if transition.actor_agency_id else None
        withheld = False
        if self.briefing_only and transition.to_state not in _PORT_MOVES:
            shown = ""
            withheld = bool(reason)
        elif kind == "operation":
            shown = reason if self.operation is not None else "Added to a joint operation"
        elif not reason or self._may_read_text(transition.actor_agency_id, kind):
            shown = reason
        else:
            # The move itself is public to whoever sees the target; the holder's or author's words are not.
            shown = _public_part(reason, kind)
            withheld = True
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
        )

    def history(self, transitions: Any = None) -> list[HistoryLine]:
        """The target's history (or the given transitions of it) as the viewer may read it."""
        if transitions is None:
            transitions = self.target.transitions.select_related("actor", "actor_agency")
        return [self.history_line(t) for t in transitions]

    # ------------------------------------------------------------------ holds

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

    # ------------------------------------------------------------------ examination results

    def result_texts(self, result: Any) -> dict[str, str]:
        """An examination result's free texts (notes, a correction's reason): the officer's words may
        name people, so they follow the history's rule; outcome, goods and photos are the result itself
        and go to every viewer of the target."""
        if self._may_read_text(result.recorded_by_agency_id, "decision"):
            return {"notes": result.notes, "reason": result.reason}
        return {"notes": "", "reason": ""}

    # ------------------------------------------------------------------ joint operation

    @cached_property
    def operation(self) -> Any:
        """The target's joint operation if the viewer's agency takes part in it, else None."""
        if self.target.operation_id is None:
            return None
        from apps.targeting.models import JointOperation

        return JointOperation.objects.visible_to(self.viewer).filter(pk=self.target.operation_id).first()


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


def reads_briefing_only(viewer: Any) -> bool:
    """Whether the viewer reads targets only as the tablet briefs them (a frontline officer): lists and
    boards that show no single target's disclosure still hide random control and reasons from him."""
    membership = membership_of(viewer)
    return membership is not None and membership.role == Role.FRONTLINE


def disclose(viewer: Any, target: Any, *, briefing: bool = False) -> Disclosure:
    """What ``viewer`` may read of ``target``; the caller has already checked that he may see it.

    ``briefing``: the tablet's view (what an officer at the port reads), whoever looks at it; a frontline
    officer always gets it. Cached on the target for the viewer, so a page and its partials ask once.
    """
    cache = target.__dict__.setdefault("_ratc_disclosures", {})
    key = (getattr(viewer, "pk", None), target.version, briefing)
    if key in cache:
        return cache[key]
    membership = membership_of(viewer)
    role = membership.role if membership is not None else None
    found = Disclosure(
        viewer=viewer,
        target=target,
        agency_id=membership.agency_id if membership is not None else None,
        role=role,
        personal=membership is not None and may_see_personal(viewer, target.subject),
        briefing_only=briefing or reads_briefing_only(viewer),
    )
    cache[key] = found
    return found

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
  officer reads rule and model reasons, in their plain line only, and is told how many others exist.
  Random control is never revealed to him, so the examination is as thorough. What fired — a rule's
  condition, a model's features and probability — is read only by a role that may read rules or models
  (``rule.view``, ``model.view``) in an agency that may see that rule or model; everyone else reads the
  reason's plain line (``plain_reason``), which names no condition, feature or watched identifier.
- **History** free texts belong to the agency that wrote them: the actor's agency reads them, and so
  does the owner agency, except a hold's reason, which only the holding agency reads (a controlled
  delivery is the holder's secret). A sharing line says no more than the sharing panel: everyone reads it. The nomination's text is a "person" reason and follows that rule.
  Others read the move and "reason held by <agency>". A frontline officer reads the moves from dispatch
  on, never a reason written on the floor.
- **Joint operations** are named only to an agency that takes part (``JointOperation.visible_to``).
- **Holds**: every viewer of the target sees that it is held and by whom; only the holder reads why.
- **Examination results** (``results``): for roles that read examinations; outcome, goods, values and
  photos go to all of them, the officer's notes follow the history's rule, his name the history's too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from functools import cached_property
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User

from apps.agencies.operations import can, membership_of
from apps.agencies.roles import PORT_BOUND_ROLES
from apps.compliance.masking import PERSONAL_REASON_KINDS
from apps.targeting.masking import WITHHELD, SubjectView, may_see_personal, subject_view

__all__ = [
    "BRIEFING_FACTS",
    "BRIEFING_REASON_KINDS",
    "ENGINE_REASON_KINDS",
    "Disclosure",
    "GoodsLine",
    "HistoryLine",
    "HoldView",
    "PhotoRef",
    "ResultView",
    "centre_currency",
    "disclose",
    "plain_reason",
    "reads_briefing_only",
]

#: Reason kinds a frontline officer reads; watchlist and free-text reasons may name people, and a random
#: selection is not revealed so that the examination is as thorough as any other.
BRIEFING_REASON_KINDS = frozenset({"rule", "model"})

#: Reason kinds that say what fired in the engine; each carries a plain line (``plain``) for those who
#: may not read the rule or the model.
ENGINE_REASON_KINDS = frozenset({"rule", "model"})

#: General words for an engine reason that carries no plain line of its own (stored before they did).
PLAIN_BY_KIND = {
    "rule": "Matches a targeting profile for this risk.",
    "model": "The risk model, trained on past examination results, rates it as likely to hold a finding.",
}
#: How the engine words a rule's reason: 'Rule “<name>” v3 (national) matched: <condition>'.
_ENGINE_RULE_TEXT = re.compile(r"^Rule “(?P<name>[^”]+)” v\d+ ")

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
    actor: User
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


@dataclass(frozen=True)
class GoodsLine:
    """One line of goods found: the kind in words, the quantity with its unit, the value if estimated."""

    kind: str
    kind_label: str
    description: str
    quantity: str
    unit: str
    unit_label: str
    value: Decimal | None


@dataclass(frozen=True)
class PhotoRef:
    """A photo of the examination; the page links it to the scoped photo URL (``frontline:photo``)."""

    pk: int
    width: int
    height: int


@dataclass(frozen=True)
class ResultView:
    """An examination's result as the viewer may read it: the latest correction if there is one.

    ``notes`` and ``correction_reason`` are "" when withheld (``notes_withheld`` says so); ``officer`` and
    ``corrected_by`` are "" when the viewer is not told who (an officer is not told which partner acted).
    """

    pk: int
    method: str
    method_label: str
    outcome: str
    outcome_label: str
    finding: bool
    started_at: datetime
    ended_at: datetime
    duration_minutes: int
    goods: tuple[GoodsLine, ...]
    seized_value: Decimal | None
    revenue_at_stake: Decimal | None
    currency: str
    notes: str
    notes_withheld: bool
    officer: str
    officer_agency: str
    recorded_at: datetime
    entered_at: datetime | None
    corrected: bool
    corrections: int
    corrected_by: str
    corrected_at: datetime | None
    correction_reason: str
    photos: tuple[PhotoRef, ...]


def centre_currency() -> str:
    """The currency values are recorded in: the centre's (``RATC_CURRENCY``, as the tablet shows it)."""
    return getattr(settings, "RATC_CURRENCY", "GBP")


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
        by_engine = bool(getattr(self.target, "by_engine", False))
        for reason in self.target.reasons or []:
            kind = reason.get("kind")
            if self.briefing_only:
                if kind in BRIEFING_REASON_KINDS and reason.get("text"):
                    # The plain line only: the condition names what is watched, the model's features
                    # and probability are jargon; the reference says which rule, and he has no use for it.
                    shown.append({"kind": kind, "text": plain_reason(reason, by_engine=by_engine), "ref": ""})
                elif kind != "random":
                    withheld += 1
                continue
            if kind in ENGINE_REASON_KINDS and not self._reads_what_fired(reason):
                shown.append({"kind": kind, "text": plain_reason(reason, by_engine=by_engine), "ref": ""})
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

    def _reads_what_fired(self, reason: dict[str, Any]) -> bool:
        """Whether the viewer reads a rule's condition or a model's explanation, not only its plain line.

        A role that reads rules (``rule.view``) in an agency that may see that rule (its owner, or by
        grant); a role that reads models (``model.view``) in the agency that owns that model. A reason
        with no engine reference (written by a person) is his own words: read by those roles in the
        target's owner agency.
        """
        kind = reason.get("kind")
        operation = "rule.view" if kind == "rule" else "model.view"
        if not can(self.viewer, operation):
            return False
        found = _ENGINE_REF.match(str(reason.get("ref") or ""))
        if found is None or found["kind"] != kind:
            return self.agency_id is not None and self.agency_id == self.target.owner_agency_id
        return int(found["pk"]) in _engine_ids_seen_by(self.viewer, kind, self.target.reasons or [])

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
        agency = transition.actor_agency.code if transition.actor_agency is not None else None
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

    def _names_actor(self, agency_id: int | None) -> bool:
        # As in the history: an officer at the port is not told which partner agency acted, nor who.
        return not (self.briefing_only and agency_id not in (None, self.agency_id))

    def results(self) -> list[ResultView]:
        """The target's examination result(s) for the result card, each as its latest correction.

        Only for a role that may read examinations (``exam.view``, as the results API): a liaison
        officer reads the move "Result recorded" in the history, not the result. Outcome, method, goods,
        values and photos go to every such viewer of the target; the officer's notes and a correction's
        reason follow ``result_texts``; the names of who recorded and who corrected follow the history.
        """
        if not can(self.viewer, "exam.view"):
            return []
        rows = list(
            self.target.examination_results.select_related("recorded_by", "recorded_by_agency")
            .prefetch_related("goods", "photos")
            .order_by("recorded_at", "pk")
        )
        by_root: dict[int, list[Any]] = {}
        for row in rows:
            by_root.setdefault(row.original_id or row.pk, []).append(row)
        return [self._result_view(chain) for chain in by_root.values()]

    def _result_view(self, chain: list[Any]) -> ResultView:
        original, shown = chain[0], chain[-1]
        texts = self.result_texts(shown)
        goods = tuple(
            GoodsLine(
                kind=g.kind,
                kind_label=g.get_kind_display(),
                description=g.description,
                quantity=g.quantity_text,
                unit=g.unit,
                unit_label=g.get_unit_display(),
                value=g.estimated_value,
            )
            for g in shown.goods.all()
        )
        values = [g.value for g in goods if g.value is not None]
        corrected = shown is not original
        return ResultView(
            pk=shown.pk,
            method=shown.method,
            method_label=shown.get_method_display(),
            outcome=shown.outcome,
            outcome_label=shown.get_outcome_display(),
            finding=shown.is_finding,
            started_at=shown.started_at,
            ended_at=shown.ended_at,
            duration_minutes=shown.duration_minutes,
            goods=goods,
            seized_value=sum(values, Decimal(0)) if values else None,
            revenue_at_stake=shown.revenue_at_stake,
            currency=centre_currency(),
            notes=texts["notes"],
            notes_withheld=bool(shown.notes) and not texts["notes"],
            officer=_name(original.recorded_by) if self._names_actor(original.recorded_by_agency_id) else "",
            officer_agency=original.recorded_by_agency.code
            if self._names_actor(original.recorded_by_agency_id)
            else "",
            recorded_at=original.recorded_at,
            entered_at=original.entered_at,
            corrected=corrected,
            corrections=len(chain) - 1,
            corrected_by=_name(shown.recorded_by)
            if corrected and self._names_actor(shown.recorded_by_agency_id)
            else "",
            corrected_at=shown.recorded_at if corrected else None,
            correction_reason=texts["reason"] if corrected else "",
            # Every photo of the examination, the original's too: a correction adds, never takes away.
            photos=tuple(
                PhotoRef(pk=p.pk, width=p.width, height=p.height) for row in chain for p in row.photos.all()
            ),
        )

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


def _name(user: Any) -> str:
    """A person's full name, else the username (as the pages' ``person`` filter writes it)."""
    return user.get_full_name() or user.username


#: An engine reference: ``rule:12@v3`` (rule 12, version 3) or ``model:4`` (model version 4).
_ENGINE_REF = re.compile(r"^(?P<kind>rule|model):(?P<pk>\d{1,18})(?:@v\d+)?$")


def _engine_ids_seen_by(viewer: Any, kind: str, reasons: list[dict[str, Any]]) -> set[int]:
    """Ids of the rules (or model versions) cited in ``reasons`` that the viewer's agency may see.

    Remembered on the viewer for the request: a list of fifty targets citing the same rules asks once
    per new id, not once per target.
    """
    cache: dict[tuple[str, int], bool] | None = getattr(viewer, "_ratc_engine_refs", None)
    if cache is None:
        cache = {}
        viewer._ratc_engine_refs = cache  # as ``membership_of`` caches the membership on the user
    wanted = set()
    for reason in reasons:
        found = _ENGINE_REF.match(str(reason.get("ref") or "")) if reason.get("kind") == kind else None
        if found is not None and found["kind"] == kind and (kind, int(found["pk"])) not in cache:
            wanted.add(int(found["pk"]))
    if wanted:
        if kind == "rule":
            from apps.risk.models import Rule as model
        else:
            from apps.learning.models import ModelVersion as model
        seen = set(model.objects.visible_to(viewer).filter(pk__in=wanted).values_list("pk", flat=True))
        cache.update({(kind, pk): pk in seen for pk in wanted})
    return {pk for (k, pk), ok in cache.items() if k == kind and ok}


def plain_reason(reason: dict[str, Any], *, by_engine: bool = False) -> str:
    """A rule or model reason in plain words: never a condition, a model feature or a watched identifier.

    The engine writes the line at nomination (``plain``: the rule's officer text or name; general words
    for a model); a reason a person wrote is his own words. A reason stored before reasons carried a plain
    line is recognised by the engine's wording (or, on an engine target, by its kind) and said in
    general words.
    """
    plain = str(reason.get("plain") or "").strip()
    if plain:
        return plain
    kind = reason.get("kind")
    text = str(reason.get("text") or "").strip()
    if kind == "rule" and (named := _ENGINE_RULE_TEXT.match(text)):
        from apps.risk.models import Rule

        return Rule.plain_line(named["name"])
    if kind == "model" and text.startswith("Risk model v"):
        return PLAIN_BY_KIND["model"]
    if by_engine and kind in PLAIN_BY_KIND:
        return PLAIN_BY_KIND[kind]
    return text


def reads_briefing_only(viewer: Any) -> bool:
    """Whether the viewer reads targets only as the tablet briefs them (a frontline officer): lists and
    boards that show no single target's disclosure still hide random control and reasons from him."""
    membership = membership_of(viewer)
    return membership is not None and membership.role in PORT_BOUND_ROLES


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

"""The reasons a target was nominated, as the viewer may read them, and their plain lines."""

from __future__ import annotations

import re
from functools import cached_property
from typing import Any

from apps.agencies.operations import can
from apps.compliance.masking import PERSONAL_REASON_KINDS
from apps.targeting.disclosure.base import DisclosureBase
from apps.targeting.masking import WITHHELD

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
        from apps.learning.models import ModelVersion
        from apps.risk.models import Rule

        model: type[Rule] | type[ModelVersion] = Rule if kind == "rule" else ModelVersion
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


class ReasonsPart(DisclosureBase):
    """The reasons of a ``Disclosure``."""

    @cached_property
    def _reason_split(self) -> tuple[list[dict[str, str]], int]:
        if self.briefing_only:
            # The officer at the port reads no reason, not even a rule's plain line, and no count of
            # them: a target drawn for random control has none (or only a score's below the threshold),
            # so any of them would tell him which targets were drawn, and he would examine those less
            # thoroughly. The instruction (``default_instruction``: the risk area and what to look for)
            # is what he is told, the same for every target of an area.
            return [], 0
        shown: list[dict[str, str]] = []
        withheld = 0
        visible_lists: set[int] | None = None
        by_engine = bool(getattr(self.target, "by_engine", False))
        for reason in self.target.reasons or []:
            kind = reason.get("kind")
            if kind == "random" and not self.knows_random_control:
                continue  # not even counted as withheld: that would tell the draw all the same
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

"""What every part of a disclosure shares: who looks at which target, the subject as he may read it,
whose words he reads (``_may_read_text``) and the joint operation he may know of."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from apps.risk.random_control import random_control_told_to
from apps.targeting.masking import SubjectView, subject_view

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


@dataclass
class DisclosureBase:
    """Who reads which target, as ``disclose`` found it; the parts (``reasons``, ``history``, ``holds``,
    ``results``) add what he may read of each, and ``decision.Disclosure`` puts them together."""

    viewer: Any
    target: Any
    agency_id: int | None
    role: str | None
    personal: bool
    briefing_only: bool
    _extra: dict[str, Any] = field(default_factory=dict, repr=False)

    # ------------------------------------------------------------------ random control

    @cached_property
    def knows_random_control(self) -> bool:
        """Whether the viewer may be told if this target was drawn by chance (``random_control_told_to``)."""
        return random_control_told_to(None if self.briefing_only else self.agency_id, self.target)

    @property
    def random_control(self) -> bool:
        """The target was drawn for random control, and the viewer may be told so."""
        return self.knows_random_control and bool(self.target.random_control)

    @property
    def score(self) -> float | None:
        """The engine's score, told to whom the draw is told (the owner agency's floor), else ``None``
        for every target alike: a drawn target's score is often below the nomination threshold, which
        says it was drawn as plainly as the mark; to the officer at the port it is jargon besides."""
        return self.target.score if self.knows_random_control else None

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

    # ------------------------------------------------------------------ whose words the viewer reads

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

    # ------------------------------------------------------------------ joint operation

    @cached_property
    def operation(self) -> Any:
        """The target's joint operation if the viewer's agency takes part in it, else None."""
        if self.target.operation_id is None:
            return None
        from apps.targeting.models import JointOperation

        return JointOperation.objects.visible_to(self.viewer).filter(pk=self.target.operation_id).first()

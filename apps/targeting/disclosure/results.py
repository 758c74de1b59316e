"""Examination results as the viewer may read them: the result for every viewer who reads examinations,
the officer's words and name as the history's rule allows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings

from apps.agencies.operations import can
from apps.targeting.disclosure.base import DisclosureBase


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


def _name(user: Any) -> str:
    """A person's full name, else the username (as the pages' ``person`` filter writes it)."""
    return user.get_full_name() or user.username


class ResultsPart(DisclosureBase):
    """The examination results of a ``Disclosure``."""

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
        if self.target.__dict__.get("panel_examination_results") is False:  # loaded for its page: none
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

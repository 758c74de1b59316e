"""A port's capacity for a shift and the dispatch proposal built from it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date as Date
from typing import Any

from django.contrib.auth.models import User
from django.db.models import (
    Count,
    F,
)
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from apps.agencies.models import CapacityDay, Port, PortCapacity
from apps.agencies.operations import membership_of
from apps.targeting.dispatch.calibration import Calibration, recorded_counts
from apps.targeting.dispatch.methods import Candidate, M
from apps.targeting.dispatch.plans import (
    first_come_plan,
    optimal_plan,
    random_control_plan,
    random_reserve_share,
    reserved_slots,
)
from apps.targeting.dispatch.values import detection_rates, finding_probability, method_values
from apps.targeting.models import DispatchProposal, Hold, Instruction, Target, TargetState
from apps.targeting.routing import in_deciding_team, may_act_as_agency


def capacity_for(port: Port, shift: str, date: Date) -> tuple[dict[str, int], dict[str, str]]:
    """Slots per method for the port's shift on ``date``: the weekly default, each method replaced by the
    calendar's row for the day when there is one; and where each figure comes from."""
    capacity = dict(PortCapacity.objects.filter(port=port, shift=shift).values_list("method", "slots"))
    source = dict.fromkeys(capacity, "weekly default")
    for method, slots, note in CapacityDay.objects.filter(port=port, shift=shift, date=date).values_list(
        "method", "slots", "note"
    ):
        capacity[method] = slots
        source[method] = f"calendar: {note}" if note else "calendar"
    return capacity, source


def free_capacity(port: Port, shift: str, date: Date | None = None) -> dict[str, int]:
    """Slots per method for the shift of ``date`` (today by default), minus the instructions of that date
    and shift still waiting at the port (an instruction's date is its proposal's, else the day it was sent)."""
    date = date or timezone.localdate()
    capacity, _ = capacity_for(port, shift, date)
    return _minus_waiting(capacity, port, shift, date)


def _minus_waiting(capacity: dict[str, int], port: Port, shift: str, date: Date) -> dict[str, int]:
    capacity = dict(capacity)
    waiting = (
        Instruction.objects.filter(port=port, shift=shift, target__state=TargetState.DISPATCHED)
        .annotate(day=Coalesce(F("proposal__date"), TruncDate("dispatched_at")))
        .filter(day=date)
        .order_by()
        .values("method")
        .annotate(n=Count("pk"))
    )
    for row in waiting:
        if row["method"] in capacity:
            capacity[row["method"]] = max(0, capacity[row["method"]] - row["n"])
    return capacity


def build_proposal(*, actor: User, port: Port, shift: str, date: Date | None = None) -> DispatchProposal:
    """Gather the candidates the actor may dispatch, optimise, and store the proposal with its reasons."""
    membership = membership_of(actor)
    date = date or timezone.localdate()
    default, source = capacity_for(port, shift, date)
    capacity = _minus_waiting(default, port, shift, date)
    calibration = Calibration.fit(recorded_counts(viewer=actor))
    targets = list(
        Target.objects.visible_to(actor)
        .filter(port=port, state__in=[TargetState.APPROVED, TargetState.ON_HOLD])
        .select_related("subject", "port")
        .prefetch_related("shares")
        .order_by("created_at", "id")
    )
    methods = {m for m, slots in capacity.items() if slots > 0}
    candidates, randoms, left_out, area_of = _candidates(targets, membership, methods, calibration)

    def basis(target_id: int, method: str) -> str:
        return calibration.basis(method, area_of[target_id], port.pk).text(port.locode)

    # Random control first, within its reserve; what it leaves of the reserve goes back to risk targets.
    reserve = reserved_slots(capacity, random_reserve_share())
    drawn, refused = random_control_plan(randoms, reserve)
    rest = dict(capacity)
    for m in drawn.chosen.values():
        rest[m] -= 1
    plan = optimal_plan(candidates, rest)
    baseline = first_come_plan(candidates, rest)
    selected = _selected(randoms, candidates, drawn.chosen, refused, plan.chosen, basis, left_out)
    return DispatchProposal.objects.create(
        port=port, shift=shift, date=date, agency=membership.agency, created_by=actor, capacity=capacity,
        capacity_source={m: source.get(m, "weekly default") for m in capacity},
        selected=selected, left_out=left_out, expected_findings=round(plan.total, 4),
        baseline_findings=round(baseline.total, 4),
    )  # fmt: skip


def _candidates(
    targets: list[Target], membership: Any, methods: set[str], calibration: Calibration
) -> tuple[list[Candidate], list[Candidate], list[dict[str, Any]], dict[int, str]]:
    """Risk and random-control candidates with what each method is worth; the targets left out, with why;
    and each candidate's risk area."""
    held = {
        h.target_id: h.agency.code
        for h in Hold.objects.filter(target__in=targets, released_at__isnull=True).select_related("agency")
    }
    candidates: list[Candidate] = []
    randoms: list[Candidate] = []
    left_out: list[dict[str, Any]] = []
    area_of: dict[int, str] = {}
    for order, t in enumerate(targets):
        if t.pk in held or t.state == TargetState.ON_HOLD:
            left_out.append(
                {"target": t.pk, "reason": f"On hold by {held.get(t.pk, 'a partner')}: cannot be dispatched."}
            )
            continue
        if not (may_act_as_agency(membership, t) and in_deciding_team(membership, t)):
            left_out.append({"target": t.pk, "reason": "Another team dispatches this target."})
            continue
        area_of[t.pk] = t.risk_area
        if t.random_control:
            # Worth is measured by the method's detection rate alone: its score says nothing here.
            values = detection_rates(t, t.subject.kind, methods, calibration)
            p = finding_probability(t)
        else:
            values = method_values(t, t.subject.kind, methods, calibration)
            p = min(1.0, calibration.probability(finding_probability(t)))
        if not values:
            left_out.append(
                {
                    "target": t.pk,
                    "version": t.version,
                    "reason": "No suitable examination method has capacity this shift.",
                }
            )
            continue
        candidate = Candidate(t.pk, t.version, round(p, 6), values, order, t.reference)
        (randoms if t.random_control else candidates).append(candidate)
    return candidates, randoms, left_out, area_of


def _selected(
    randoms: list[Candidate],
    candidates: list[Candidate],
    drawn: dict[int, str],
    refused: dict[int, str],
    chosen: dict[int, str],
    basis: Callable[[int, str], str],
    left_out: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    """The proposal's lines, random control first then by value; adds the candidates not chosen to
    ``left_out`` with why."""
    selected: list[dict[str, Any]] = []
    for c in randoms:
        if c.target_id in drawn:
            m = drawn[c.target_id]
            selected.append({"target": c.target_id, "version": c.version, "method": m, "p": c.p,
                             "value": 0.0, "random": True, "basis": basis(c.target_id, m)})  # fmt: skip
        else:
            left_out.append({"target": c.target_id, "version": c.version, "reason": refused[c.target_id]})
    floor: dict[str, float] = {}
    for c in candidates:
        if c.target_id in chosen:
            m = chosen[c.target_id]
            selected.append({"target": c.target_id, "version": c.version, "method": m, "p": c.p,
                             "value": c.values[m], "basis": basis(c.target_id, m)})  # fmt: skip
            floor[m] = min(floor.get(m, 1.0), c.values[m])
    for c in candidates:
        if c.target_id not in chosen:
            best_m, best_v = max(c.values.items(), key=lambda kv: kv[1])
            reason = (
                f"Capacity full: {M(best_m).label.lower()} would find {best_v:.2f} expected, "
                f"below the {floor.get(best_m, 0):.2f} of the last target chosen for it."
            )
            left_out.append({"target": c.target_id, "version": c.version, "reason": reason, "value": best_v,
                             "basis": basis(c.target_id, best_m)})  # fmt: skip
    selected.sort(key=lambda r: (not r.get("random"), -r["value"]))
    return selected

"""The ports' steps: dispatch (with random controls), examinations begun, results recorded, closure."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from functools import partial
from typing import Any

from django.db import transaction

from apps.simulator.generators import rng_for, truth_key_for
from apps.simulator.models import SimAction, SubjectTruth
from apps.simulator.staff.pace import (
    CLEAR_NOTES,
    DETECTION,
    ERRORS,
    EXAM_MINUTES,
    NO_SHOW,
    PER_STEP,
    RANDOM_CONTROL_METHODS,
    StaffBase,
    log,
)


class PortSteps(StaffBase):
    """The supervisor dispatches to the ports; officers examine and record what they find."""

    def dispatch(self, now: datetime) -> int:
        """Per port: a capacity-aware proposal for the shift, accepted for the targets ready for it."""
        from apps.agencies.models import Port
        from apps.frontline.services import current_shift
        from apps.targeting.models import TargetState as S
        from apps.targeting.services import accept_proposal, propose_dispatch

        ready: dict[int, list[Any]] = {}
        for target in self.candidates([S.APPROVED]):
            if target.port_id and target.updated_at + self.delay(target.pk, "dispatch") <= now:
                ready.setdefault(target.port_id, []).append(target)
        count = 0
        for port in Port.objects.filter(pk__in=list(ready)):
            wanted = {t.pk: t for t in ready[port.pk]}
            try:
                with transaction.atomic():
                    proposal = propose_dispatch(
                        actor=self.supervisor, port=port, shift=current_shift(port, now)
                    )
                    choices = {
                        row["target"]: row["method"] for row in proposal.selected if row["target"] in wanted
                    }
                    if not choices:
                        continue
                    instructions, problems = accept_proposal(
                        actor=self.supervisor, proposal=proposal, choices=choices
                    )
                    SimAction.objects.bulk_create(
                        [SimAction(target_id=i.target_id, step="dispatch") for i in instructions],
                        ignore_conflicts=True,
                    )
                    count += len(instructions)
                    for problem in problems:
                        log.debug("dispatch at %s: %s", port.locode, problem)
            except ERRORS as exc:
                log.info("simulated dispatch at %s refused: %s", port.locode, exc)
            count += self.dispatch_random_controls(port, now, wanted)
        return count

    def dispatch_random_controls(self, port: Any, now: datetime, wanted: dict[int, Any]) -> int:
        """Random-control targets are examined whatever their score (the proposal values them at 0)."""
        from apps.frontline.services import current_shift
        from apps.targeting.dispatch import SUITABLE, free_capacity
        from apps.targeting.models import TargetState as S
        from apps.targeting.services import dispatch_target

        count = 0
        capacity = free_capacity(port, current_shift(port, now))
        for target in wanted.values():
            if not target.random_control:
                continue
            target.refresh_from_db()
            if target.state != S.APPROVED:
                continue
            methods = [
                m
                for m in RANDOM_CONTROL_METHODS
                if m in SUITABLE.get(target.subject.kind, ()) and capacity.get(m)
            ]
            if not methods:
                continue
            capacity[methods[0]] -= 1
            if self.step(
                target, "dispatch",
                partial(dispatch_target, actor=self.supervisor, target=target, method=methods[0],
                        # The default words, as for a risk target: the officer is not told it was drawn.
                        instruction="", shift=current_shift(port, now)),
            ):  # fmt: skip
                count += 1
        return count

    def begin(self, now: datetime) -> int:
        from apps.frontline.services import begin_examination
        from apps.targeting.models import Instruction
        from apps.targeting.models import TargetState as S

        count = 0
        for target in self.candidates([S.DISPATCHED], order="arrival_at"):
            start = max(filter(None, (target.arrival_at, target.updated_at)))
            if start + self.delay(target.pk, "begin") > now or count >= PER_STEP:
                continue
            officer = self.officer_for(target.port_id)
            if officer is None or self.chance(target.pk, "no-show") < NO_SHOW:
                continue  # nobody free at the port: it will be released unexamined
            instruction = Instruction.objects.filter(target=target).order_by("-dispatched_at").first()
            if instruction is None:
                continue
            if self.step(target, "begin", partial(begin_examination, actor=officer, instruction=instruction)):
                count += 1
        return count

    def record(self, now: datetime) -> int:
        from apps.frontline.services import record_examination
        from apps.targeting.models import Instruction
        from apps.targeting.models import TargetState as S

        count = 0
        for target in self.candidates([S.IN_EXAMINATION]):
            instruction = Instruction.objects.filter(target=target).order_by("-dispatched_at").first()
            if instruction is None or count >= PER_STEP:
                continue
            duration = self.minutes(*EXAM_MINUTES.get(instruction.method, (10, 30)), target.pk, "exam")
            if target.updated_at + duration > now:
                continue
            officer = self.officer_for(target.port_id)
            if officer is None:
                continue
            data = self.result_for(target, instruction.method, started=target.updated_at, ended=now)
            if self.step(
                target, "record", partial(record_examination, actor=officer, instruction=instruction, data=data)
            ):  # fmt: skip
                count += 1
        return count

    def close(self, now: datetime) -> int:
        from apps.targeting.models import TargetState as S
        from apps.targeting.services import close_target

        count = 0
        for target in self.candidates([S.RESULT_RECORDED]):
            if target.updated_at + self.delay(target.pk, "close") > now or count >= PER_STEP:
                continue
            if self.step(
                target,
                "close",
                partial(
                    close_target,
                    actor=self.analyst_for(target),
                    target=target,
                    reason="Result reviewed; case closed",
                ),
            ):
                count += 1
        return count

    # --- outcomes -------------------------------------------------------------------------------------

    def result_for(self, target: Any, method: str, *, started: datetime, ended: datetime) -> Any:
        """What the officer records, drawn from the subject's hidden truth and the method's detection rate."""
        from apps.frontline.services import GoodsLine, ResultInput

        key = truth_key_for(target.subject.kind, target.subject.facts or {})
        truth = SubjectTruth.objects.filter(key=key).first() if key else None
        rng = rng_for(self.seed, "t", target.pk, "finding")
        found = (
            truth is not None
            and truth.violation
            and rng.random() < DETECTION.get(truth.outcome, {}).get(method, 0.5)
        )
        result = ResultInput(
            idempotency_key=uuid.uuid5(uuid.NAMESPACE_URL, f"ratc-sim:{self.seed}:{target.pk}"),
            method=method,
            outcome="no_finding",
            started_at=started,
            ended_at=ended,
            notes=CLEAR_NOTES.get(method, "Nothing found."),
        )
        if not found or truth is None:  # found implies a truth; said again for the type checker
            return result
        result.outcome = truth.outcome
        result.notes = truth.note or "Finding recorded."
        if truth.revenue:
            result.revenue_at_stake = Decimal(str(round(truth.revenue, 2)))
        if truth.goods_kind and truth.quantity > 0:
            result.goods = [
                GoodsLine(
                    kind=truth.goods_kind,
                    quantity=Decimal(str(round(truth.quantity, 3))),
                    unit=truth.unit or "pcs",
                    estimated_value=Decimal(str(round(truth.value, 2))),
                    description=truth.note[:200],
                )
            ]
        elif truth.outcome == "seizure":
            result.outcome = "irregularity"
        return result

"""The simulated floor staff: analysts review, supervisors decide and dispatch, officers examine.

Every step goes through the targeting and frontline services as one of the simulated colleagues
(:mod:`apps.simulator.colleagues`: named accounts of their own, never the demo accounts a visitor signs
in with), at a realistic pace in simulated minutes (scaled to real time by the floor's speed), and is
recorded as a ``SimAction`` in the same transaction, so a step is taken once. What a person on the
floor touched is left to them: the simulator compares each target's transitions made by people with
the steps it took itself. The analysts share what partner agencies work on (police, immigration,
biosecurity, coast guard) through the real sharing service, so each partner's board has work.

So that a visitor always has work, the simulator keeps its hands off targets nominated in the last
``hands_off_minutes`` (simulated), and off a share of targets for good (``reserve_share``); those lapse
(the supervisor rejects them) once their conveyance has been released.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Sum
from django.http import Http404

from apps.simulator import colleagues
from apps.simulator.generators import rng_for, truth_key_for
from apps.simulator.models import SimAction, SubjectTruth

if TYPE_CHECKING:
    from apps.simulator.engine import Floor

log = logging.getLogger("apps.simulator")

PER_STEP = 25
#: Simulated minutes: (low, high) of how long each step takes once its target is ready for it.
DELAYS: dict[str, tuple[float, float]] = {
    "review": (5, 25),
    "submit": (3, 15),
    "decide": (2, 12),
    "dispatch": (2, 10),
    "begin": (2, 20),
    "close": (10, 40),
}
EXAM_MINUTES: dict[str, tuple[float, float]] = {
    "documents": (8, 20), "interview": (6, 20), "scan": (10, 30), "dog": (5, 15), "physical": (30, 90),
}  # fmt: skip
#: Simulated minutes after arrival (or nomination, when later) after which goods and people are released.
RELEASE_MINUTES = 120
#: Share of dispatched examinations the port cannot get to (they end up missed).
NO_SHOW = 0.06
APPROVE_SHARE = 0.88
REJECT_REASONS = (
    "Intelligence does not support an examination; profile hit on a regular traveller.",
    "Same consignee examined last week with no finding; release.",
    "Duplicate of a target already dispatched for the same conveyance.",
    "Partner agency advises against intervention; documentary check after release instead.",
)
#: Chance an examination by each method finds what is there, by outcome.
DETECTION: dict[str, dict[str, float]] = {
    "seizure": {"physical": 0.95, "dog": 0.85, "scan": 0.8, "interview": 0.5, "documents": 0.3},
    "irregularity": {"documents": 0.85, "physical": 0.8, "scan": 0.35, "dog": 0.2, "interview": 0.4},
    "refusal": {"interview": 0.95, "documents": 0.9, "physical": 0.8, "scan": 0.6, "dog": 0.6},
}
CLEAR_NOTES = {
    "documents": "Documents in order; invoice consistent with the goods.",
    "interview": "Account of the journey consistent; nothing found.",
    "scan": "Scan image consistent with the declared goods.",
    "dog": "Dog showed no interest.",
    "physical": "Physical examination: goods as declared.",
}
#: Random-control targets get a full examination; the officer is not told why the target was chosen.
RANDOM_CONTROL_METHODS = ("physical", "documents", "scan", "interview")
FULL_EXAMINATION = "{area} risk. Full examination: record everything you find, including nothing."
SUBMIT_REASON = "Indicators confirmed against the subject's history; proposing an examination."
TRUE_MATCH_REASON = "Name, date of birth and nationality agree with the list entry."
STEPS = (
    "review", "share", "submit", "decide", "lapse", "dispatch", "begin", "record", "close", "missed", "historic",
)  # fmt: skip
#: Risk areas the police work on; a target in one of them is shared with the police ("may see").
POLICE_AREAS = frozenset({"narcotics", "weapons", "security", "currency", "people_smuggling"})
#: HS chapters of plants and plant products (live plants, vegetables, fruit, coffee, cereals, seeds):
#: the biosecurity authority checks their plant health.
PLANT_CHAPTERS = ("06", "07", "08", "09", "10", "12", "14")
#: Targets shared per pass at most.
SHARE_PER_STEP = 10
SHARE_REASON = "Shared with {agency} for their input."
ERRORS = (PermissionDenied, ValidationError, Http404)


class Staff:
    """One pass of the simulated staff over the targets, at ``now``."""

    def __init__(self, floor: Floor) -> None:
        self.floor = floor
        self.seed = floor.options.seed
        self.analysts = [a for a in map(colleagues.account, colleagues.ANALYSTS) if a is not None]
        self.supervisor = colleagues.account(colleagues.SUPERVISOR)
        self._officers: dict[int, Any] = {}
        self._agencies: dict[str, Any] | None = None

    # --- helpers --------------------------------------------------------------------------------------

    def analyst_for(self, target: Any) -> Any:
        """The analyst who works this target, always the same one (the claim is theirs until submitted)."""
        return self.analysts[target.pk % len(self.analysts)]

    def minutes(self, low: float, high: float, target_id: int, step: str) -> timedelta:
        return self.floor.scaled(rng_for(self.seed, "t", target_id, step).uniform(low, high))

    def delay(self, target_id: int, step: str) -> timedelta:
        return self.minutes(*DELAYS[step], target_id, step)

    def chance(self, target_id: int, step: str) -> float:
        return rng_for(self.seed, "t", target_id, step, "chance").random()

    def reserved(self, target: Any) -> bool:
        """Left to the people on the floor for good (never for random control: it must be examined)."""
        return (
            not target.random_control and self.chance(target.pk, "reserve") < self.floor.options.reserve_share
        )

    def released_at(self, target: Any) -> datetime:
        start = max(filter(None, (target.arrival_at, target.created_at)))
        return start + self.floor.scaled(RELEASE_MINUTES)

    @staticmethod
    def touched(ids: Iterable[int]) -> set[int]:
        """Targets a person moved: more transitions with an actor than the simulator's own steps made."""
        from apps.targeting.models import Transition

        ids = list(ids)
        if not ids:
            return set()
        people = dict(
            Transition.objects.filter(target_id__in=ids, actor__isnull=False)
            .values("target_id")
            .annotate(n=Count("id"))
            .values_list("target_id", "n")
        )
        mine = dict(
            SimAction.objects.filter(target_id__in=ids)
            .values("target_id")
            .annotate(n=Sum("transitions"))
            .values_list("target_id", "n")
        )
        return {i for i in ids if people.get(i, 0) > (mine.get(i) or 0)}

    def step(self, target: Any, step: str, action: Callable[[], Any], transitions: int = 1) -> bool:
        """Record the step and take it in one transaction; False when done before or refused."""
        from apps.targeting.services import StaleChange

        try:
            with transaction.atomic():
                SimAction.objects.create(target_id=target.pk, step=step, transitions=transitions)
                action()
        except IntegrityError:
            return False
        except (StaleChange, *ERRORS) as exc:
            log.debug("simulated %s on target %s refused: %s", step, target.pk, exc)
            return False
        return True

    def candidates(self, states: Iterable[str], *, order: str = "updated_at") -> list[Any]:
        from apps.targeting.models import Target

        found = list(
            Target.objects.filter(state__in=list(states))
            .select_related("subject", "port")
            .prefetch_related("shares")
            .order_by(order, "pk")[: PER_STEP * 4]
        )
        human = self.touched(t.pk for t in found)
        return [t for t in found if t.pk not in human]

    def officer_for(self, port_id: int) -> Any:
        if port_id not in self._officers:
            from apps.agencies.models import Membership
            from apps.agencies.roles import Role

            membership = (
                Membership.objects.filter(
                    role=Role.FRONTLINE,
                    ports__id=port_id,
                    user__is_active=True,
                    user__username__in=[o.username for o in colleagues.OFFICERS],
                )
                .select_related("user")
                .order_by("user__username")
                .first()
            )
            self._officers[port_id] = membership.user if membership else None
        return self._officers[port_id]

    # --- the pass -------------------------------------------------------------------------------------

    def act(self, now: datetime) -> dict[str, int]:
        """Take every step that is due at ``now``; returns how many of each were taken."""
        done = dict.fromkeys(STEPS, 0)
        if not self.analysts or self.supervisor is None:
            return done
        done["missed"] = self.mark_missed(now)
        done["historic"] = self.withdraw_historic(now)
        done["review"], done["lapse"] = self.review(now)
        done["share"] = self.share(now)
        done["submit"] = self.submit(now)
        done["decide"] = self.decide(now)
        done["dispatch"] = self.dispatch(now)
        done["begin"] = self.begin(now)
        done["record"] = self.record(now)
        done["close"] = self.close(now)
        return done

    def mark_missed(self, now: datetime) -> int:
        """Approved or dispatched targets whose goods or people were released before examination."""
        from apps.targeting.models import TargetState as S
        from apps.targeting.services import StaleChange, mark_missed

        count = 0
        for target in self.candidates([S.APPROVED, S.DISPATCHED], order="arrival_at"):
            if self.released_at(target) > now:
                continue
            try:
                mark_missed(actor=None, target=target, reason="Released before it could be examined")
                count += 1
            except StaleChange:
                continue
        return count

    def withdraw_historic(self, now: datetime) -> int:
        from apps.simulator.setup import withdraw_historic_targets
        from apps.targeting.models import Target
        from apps.targeting.models import TargetState as S

        cutoff = now - timedelta(days=2)
        if not Target.objects.filter(state=S.NOMINATED, arrival_at__lt=cutoff).exists():
            return 0
        return withdraw_historic_targets()

    def review(self, now: datetime) -> tuple[int, int]:
        from apps.targeting.models import TargetState as S
        from apps.targeting.services import reject_target, start_review

        reviewed = lapsed = 0
        hands_off = self.floor.scaled(self.floor.options.hands_off_minutes)
        for target in self.candidates([S.NOMINATED], order="created_at"):
            if self.reserved(target):
                if self.released_at(target) <= now and self.step(
                    target, "lapse",
                    lambda t=target: reject_target(
                        actor=self.supervisor, target=t,
                        reason="No decision before the conveyance was released; closed by the duty manager.",
                    ),
                ):  # fmt: skip
                    lapsed += 1
                continue
            if target.created_at + hands_off + self.delay(target.pk, "review") > now:
                continue
            if reviewed < PER_STEP and self.step(
                target, "review",
                lambda t=target: start_review(actor=self.analyst_for(t), target=t, reason="Picked from the queue"),
            ):  # fmt: skip
                reviewed += 1
        return reviewed, lapsed

    # --- sharing with partner agencies -----------------------------------------------------------------

    def agencies(self) -> dict[str, Any]:
        if self._agencies is None:
            from apps.agencies.models import Agency

            self._agencies = {a.code: a for a in Agency.objects.all()}
        return self._agencies

    def partners_for(self, target: Any) -> list[Any]:
        """The partner agencies a target concerns: the police its crimes, immigration its travellers,
        biosecurity plant products, the coast guard what comes by sea. Only the owner agency shares
        (a partner's target that customs sees is not customs' to pass on)."""
        agencies = self.agencies()
        own = agencies.get(colleagues.AGENCY)
        if own is None or target.owner_agency_id != own.pk:
            return []
        subject = target.subject
        facts = subject.facts or {}
        codes = []
        if target.risk_area in POLICE_AREAS:
            codes.append("POL")
        if subject.kind == "traveller":
            codes.append("IMM")
        hs = str(facts.get("hs_code") or "")
        if subject.kind == "consignment" and (
            target.risk_area in {"sps", "cites"} or hs.startswith(PLANT_CHAPTERS)
        ):
            codes.append("BIO")
        if target.port is not None and target.port.mode == "sea" and target.risk_area in POLICE_AREAS:
            codes.append("CG")
        shared = {s.agency_id for s in target.shares.all()}
        return [
            agencies[c] for c in codes
            if c in agencies and agencies[c].pk != target.owner_agency_id and agencies[c].pk not in shared
        ]  # fmt: skip

    def share(self, now: datetime) -> int:
        """Targets the analysts have picked up are shared with the partners they concern, "may see"."""
        from apps.targeting.models import HandlingCode
        from apps.targeting.models import TargetState as S
        from apps.targeting.services import share_target

        found = self.candidates([S.IN_REVIEW, S.AWAITING_APPROVAL, S.APPROVED, S.DISPATCHED])
        done = set(
            SimAction.objects.filter(target_id__in=[t.pk for t in found], step="share").values_list(
                "target_id", flat=True
            )
        )
        count = 0
        for target in found:
            if target.pk in done or count >= SHARE_PER_STEP:
                continue
            partners = self.partners_for(target)
            if not partners:
                continue

            def action(t: Any = target, partners: list[Any] = partners) -> None:
                for agency in partners:
                    share_target(actor=self.analyst_for(t), target=t, agency=agency, code=HandlingCode.SEE)

            # One transition is recorded per agency shared with: the step says so, or the target would
            # look touched by a person.
            if self.step(target, "share", action, transitions=len(partners)):
                count += 1
        return count

    def submit(self, now: datetime) -> int:
        from apps.targeting.models import TargetState as S

        count = 0
        for target in self.candidates([S.IN_REVIEW]):
            if target.updated_at + self.delay(target.pk, "submit") > now or count >= PER_STEP:
                continue
            if self.step(target, "submit", lambda t=target: self._rule_and_submit(t)):
                count += 1
        return count

    def _rule_and_submit(self, target: Any) -> None:
        """The analyst rules each watchlist hit behind the target (a person must, before it leads to
        action), then submits it. The simulated analyst compared the details and found them agreeing."""
        from apps.targeting.services import submit_for_approval
        from apps.watchlists.models import MatchRuling
        from apps.watchlists.rulings import hits_behind, rule_hit

        analyst = self.analyst_for(target)
        for hit in hits_behind(target):
            if hit.current is None:
                rule_hit(actor=analyst, hit=hit, ruling=MatchRuling.TRUE_MATCH, reason=TRUE_MATCH_REASON)
        submit_for_approval(actor=analyst, target=target, reason=SUBMIT_REASON)

    def decide(self, now: datetime) -> int:
        from apps.targeting.models import TargetState as S
        from apps.targeting.services import approve_target, reject_target

        count = 0
        for target in self.candidates([S.AWAITING_APPROVAL]):
            if target.updated_at + self.delay(target.pk, "decide") > now or count >= PER_STEP:
                continue
            rng = rng_for(self.seed, "t", target.pk, "decision")
            if target.random_control or rng.random() < APPROVE_SHARE:
                action = partial(
                    approve_target, actor=self.supervisor, target=target, reason="Approved for examination"
                )
            else:
                action = partial(
                    reject_target, actor=self.supervisor, target=target, reason=rng.choice(REJECT_REASONS)
                )
            if self.step(target, "decide", action):
                count += 1
        return count

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
                        instruction=FULL_EXAMINATION.format(area=target.get_risk_area_display()), shift=current_shift(port, now)),
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
            if self.step(
                target, "begin", lambda i=instruction, o=officer: begin_examination(actor=o, instruction=i)
            ):
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
                target, "record", lambda i=instruction, o=officer, d=data: record_examination(actor=o, instruction=i, data=d)
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
                lambda t=target: close_target(
                    actor=self.analyst_for(t), target=t, reason="Result reviewed; case closed"
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

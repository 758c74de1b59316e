"""The targeting desk's steps: missed and historic targets, review, sharing, submission, decision."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial
from typing import Any, cast

from apps.simulator import colleagues
from apps.simulator.generators import rng_for
from apps.simulator.models import SimAction
from apps.simulator.staff.pace import (
    APPROVE_SHARE,
    PER_STEP,
    PLANT_CHAPTERS,
    POLICE_AREAS,
    REJECT_REASONS,
    SHARE_PER_STEP,
    SUBMIT_REASON,
    TRUE_MATCH_REASON,
    StaffBase,
)


class DeskSteps(StaffBase):
    """The targeting desk: analysts review, share and submit, the supervisor decides."""

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
                    partial(
                        reject_target, actor=self.supervisor, target=target,
                        reason="No decision before the conveyance was released; closed by the duty manager.",
                    ),
                ):  # fmt: skip
                    lapsed += 1
                continue
            if target.created_at + hands_off + self.delay(target.pk, "review") > now:
                continue
            if reviewed < PER_STEP and self.step(
                target, "review",
                partial(start_review, actor=self.analyst_for(target), target=target, reason="Picked from the queue"),
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
            if self.step(target, "submit", partial(self._rule_and_submit, target)):
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
            # The hits come annotated with their standing ruling (rulings.with_standing), which the
            # model's type does not declare.
            if cast(Any, hit).current is None:
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

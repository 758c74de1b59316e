"""How the simulated staff work: their pace, their odds, who acts, and which targets are theirs."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Sum
from django.http import Http404

from apps.simulator import colleagues
from apps.simulator.generators import rng_for
from apps.simulator.models import SimAction

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
#: The methods a random-control target left out of the proposal is sent for, the most thorough first;
#: its instruction reads as a risk target's (``default_instruction``), so the officer is not told.
RANDOM_CONTROL_METHODS = ("physical", "documents", "scan", "interview")
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


class StaffBase:
    """The simulated staff's accounts, pace and odds, and the targets left to them."""

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

"""How each trainee did: their decisions on the floor, read from the product's own record, against the answers.

A trainee's decisions are what the append-only record says they did during the exercise: a target they
nominated, or sent for approval (or approved), is a decision to **target** the subject; a target they
withdrew (or rejected) is a decision to **release** it. Their last decision on a subject counts. Then:

* **found** — a planted violation they decided to target;
* **missed** — a planted violation they did not;
* **false targets** — subjects they decided to target that hold nothing (planted decoys and ordinary
  traffic whose hidden truth is clean);
* **time to decide** — from the subject's data reaching the floor to their first decision on it, in
  real time and in the exercise's simulated time;
* **rule-lab use** — backtests they ran in the rule lab during the exercise;
* **holds respected** — held subjects they left to the partner (no decision of theirs on them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from statistics import median
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone

from apps.training.models import Exercise, PlantedItem

__all__ = ["Decision", "TraineeScore", "decisions_of", "score_trainee", "scoreboard"]

POSITIVE_STATES = frozenset({"awaiting_approval", "approved"})
NEGATIVE_STATES = frozenset({"withdrawn", "rejected"})


@dataclass(slots=True)
class Decision:
    """A trainee's decision on one subject: ``target`` or ``release``, when, and how long it took."""

    subject_id: int
    verdict: str
    at: datetime
    first_at: datetime
    seconds: float | None  # from the subject reaching the floor to the first decision
    target_id: int
    target_reference: str


@dataclass(slots=True)
class Row:
    """One answer and what the trainee made of it, for the answers page."""

    item: PlantedItem
    decision: Decision | None
    outcome: str  # found, missed, false_target, released, hold_respected, hold_broken
    correct: bool


@dataclass(slots=True)
class TraineeScore:
    user: Any
    found: int = 0
    missed: int = 0
    false_targets: int = 0
    released: int = 0
    holds_respected: int = 0
    holds: int = 0
    blind_spot_found: int = 0
    blind_spots: int = 0
    decisions: int = 0
    median_seconds: float | None = None
    rule_lab: int = 0
    rows: list[Row] = field(default_factory=list)
    other_false: list[Decision] = field(default_factory=list)

    @property
    def violations(self) -> int:
        return self.found + self.missed

    @property
    def points(self) -> int:
        """A single number to rank by: a find is worth more than a false target costs."""
        return self.found * 10 + self.holds_respected * 5 - self.false_targets * 4 - self.missed * 5


def _window(exercise: Exercise) -> tuple[datetime, datetime]:
    start = exercise.started_at or exercise.created_at
    return start, exercise.finished_at or timezone.now()


def decisions_of(exercise: Exercise, user: Any) -> dict[int, Decision]:
    """The user's decisions during the exercise, by subject (last decision counts, first one timed)."""
    from apps.targeting.models import Target, Transition

    start, end = _window(exercise)
    events: list[tuple[datetime, int, str, Any]] = []
    for target in Target.objects.filter(
        nominated_by=user, created_at__gte=start, created_at__lte=end
    ).select_related("subject"):
        events.append((target.created_at, target.subject_id, "target", target))
    moves = (
        Transition.objects.filter(actor=user, at__gte=start, at__lte=end)
        .filter(to_state__in=POSITIVE_STATES | NEGATIVE_STATES)
        .select_related("target__subject")
    )
    for move in moves:
        verdict = "target" if move.to_state in POSITIVE_STATES else "release"
        events.append((move.at, move.target.subject_id, verdict, move.target))
    decisions: dict[int, Decision] = {}
    for at, subject_id, verdict, target in sorted(events, key=lambda e: e[0]):
        seen = decisions.get(subject_id)
        if seen is None:
            arrived = target.subject.received_at
            seconds = max((at - arrived).total_seconds(), 0.0) if arrived else None
            decisions[subject_id] = Decision(
                subject_id, verdict, at, at, seconds, target.pk, target.reference
            )
        else:
            seen.verdict, seen.at, seen.target_id, seen.target_reference = (
                verdict,
                at,
                target.pk,
                target.reference,
            )
    return decisions


def _clean_subjects(subject_ids: set[int]) -> set[int]:
    """Of ``subject_ids``, those whose hidden truth is known and clean (ordinary traffic holding nothing)."""
    from apps.intake.models import Subject
    from apps.simulator.generators import truth_key_for
    from apps.simulator.models import SubjectTruth

    keys = {
        s.pk: truth_key_for(s.kind, s.facts or {})
        for s in Subject.objects.filter(pk__in=subject_ids).only("pk", "kind", "facts")
    }
    truths = dict(
        SubjectTruth.objects.filter(key__in=[k for k in keys.values() if k]).values_list("key", "violation")
    )
    return {pk for pk, key in keys.items() if key in truths and not truths[key]}


def score_trainee(exercise: Exercise, user: Any, planted: list[PlantedItem] | None = None) -> TraineeScore:
    from apps.risk.models import Backtest

    planted = planted if planted is not None else list(exercise.planted.select_related("subject"))
    decisions = decisions_of(exercise, user)
    score = TraineeScore(user=user, decisions=len(decisions))
    answered = set()
    for item in planted:
        decision = decisions.get(item.subject_id) if item.subject_id else None
        if item.subject_id:
            answered.add(item.subject_id)
        targeted = decision is not None and decision.verdict == "target"
        if item.expect == PlantedItem.Expect.TARGET:
            outcome, correct = ("found", True) if targeted else ("missed", False)
            score.found += targeted
            score.missed += not targeted
            if item.blind_spot:
                score.blind_spots += 1
                score.blind_spot_found += targeted
        elif item.expect == PlantedItem.Expect.RELEASE:
            outcome, correct = ("false_target", False) if targeted else ("released", True)
            score.false_targets += targeted
            score.released += not targeted
        else:
            score.holds += 1
            outcome, correct = ("hold_broken", False) if decision is not None else ("hold_respected", True)
            score.holds_respected += decision is None
        score.rows.append(Row(item, decision, outcome, correct))
    others = {s: d for s, d in decisions.items() if s not in answered and d.verdict == "target"}
    clean = _clean_subjects(set(others))
    score.other_false = [d for s, d in others.items() if s in clean]
    score.false_targets += len(score.other_false)
    timed = [d.seconds for d in decisions.values() if d.seconds is not None]
    score.median_seconds = median(timed) if timed else None
    start, end = _window(exercise)
    score.rule_lab = Backtest.objects.filter(
        requested_by=user, created_at__gte=start, created_at__lte=end
    ).count()
    return score


def scoreboard(exercise: Exercise) -> list[TraineeScore]:
    """Every trainee's score, best first (points, then fewer false targets, then faster decisions)."""
    planted = list(exercise.planted.select_related("subject"))
    trainees = list(exercise.trainees.order_by("username")) or list(get_user_model().objects.none())
    scores = [score_trainee(exercise, user, planted) for user in trainees]
    return sorted(
        scores,
        key=lambda s: (
            -s.points,
            s.false_targets,
            s.median_seconds if s.median_seconds is not None else 1e12,
        ),
    )


def simulated(seconds: float | None, speed: float) -> timedelta | None:
    """Real seconds as simulated time at the exercise's speed."""
    return None if seconds is None else timedelta(seconds=seconds * speed)

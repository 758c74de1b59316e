"""The training floor's work: start an exercise, send its arrivals when due, place its holds, finish it.

Every step goes through the product's own services (rules through ``apps.risk.services``, lookouts
through ``apps.watchlists.services``, data through intake, holds through ``apps.targeting.services``),
as the simulated colleagues of the demo (``apps.simulator.colleagues``) or a partner's liaison, so the
trainees work the floor exactly as on a live shift. Nothing here runs on a live centre: the installation
must be a training floor (``RATC_TRAINING``) and its database must carry the training mark
(``apps.core.exercise``, ``apps.simulator.guard``). Scoring is in :mod:`apps.training.scoring`.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from apps.agencies.operations import membership_of
from apps.core.exercise import LiveCentreRefused
from apps.simulator import generators as gen
from apps.training import scenario as scenarios
from apps.training.models import TRAINER_ROLES, Exercise, ExerciseArrival, PlantedItem

log = logging.getLogger("apps.training")

__all__ = [
    "TrainingRefused",
    "finish_exercise",
    "get_exercise_for",
    "is_training_floor",
    "may_train",
    "start_exercise",
    "tick",
    "trainee_choices",
    "visible_exercises",
]

#: Roles that work targets and so may train on the floor.
TRAINEE_ROLES = ("analyst", "supervisor")
HISTORY_SOURCE = "Import declarations"
HISTORY_FILE = "declarations/df_syn_train_eng.csv"


class TrainingRefused(PermissionDenied):
    """The step may not be taken here (not a training floor, or not a trainer)."""


def is_training_floor() -> bool:
    return bool(getattr(settings, "RATC_TRAINING", False))


def may_train(user: Any) -> bool:
    """A supervisor, risk manager, manager or administrator runs exercises and reads scoreboards."""
    membership = membership_of(user)
    return membership is not None and membership.role in TRAINER_ROLES


def visible_exercises(user: Any) -> QuerySet[Exercise]:
    return Exercise.objects.visible_to(user)


def get_exercise_for(user: Any, pk: Any, *, answers: bool = False) -> Exercise:
    """The exercise if the user's agency owns it (else 404); with ``answers``, 403 for a trainee while it
    runs: the scoreboard and the answers are the trainer's until the exercise is over."""
    try:
        exercise = visible_exercises(user).get(pk=pk)
    except (Exercise.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404("Not found.") from None
    if answers and not may_train(user) and exercise.state != Exercise.State.FINISHED:
        raise PermissionDenied("The answers are shown once the exercise is over.")
    return exercise


def trainee_choices(actor: User) -> QuerySet[Any]:
    """People of the trainer's agency who work targets (not the simulated colleagues)."""
    membership = membership_of(actor)
    if membership is None:
        return get_user_model().objects.none()
    return (
        get_user_model()
        .objects.filter(
            is_active=True,
            membership__agency_id=membership.agency_id,
            membership__role__in=TRAINEE_ROLES,
        )
        .exclude(username__startswith="sim.")
        .exclude(pk=actor.pk)  # the trainer runs the exercise, he is not scored in it
        .order_by("username")
    )


# --- starting -------------------------------------------------------------------------------------------


def _check_floor(what: str) -> None:
    if not is_training_floor():
        raise TrainingRefused(
            f"{what}: this installation is not a training floor (RATC_TRAINING is not set). Exercises run "
            "on a training floor with its own database, never on a live centre (see docs/training.md)."
        )
    # A training floor has the simulator installed (settings); a live centre stopped above.
    from apps.simulator.guard import ensure_exercise_database

    try:
        ensure_exercise_database(what=what)
    except LiveCentreRefused as exc:
        raise TrainingRefused(str(exc)) from None


def start_exercise(
    *,
    actor: User,
    scenario_key: str,
    speed: float | None = None,
    trainees: list[Any] | None = None,
    now: datetime | None = None,
) -> Exercise:
    """Start scenario ``scenario_key`` at ``speed`` (simulated seconds per real second; the scenario's
    own when None) for ``trainees`` (every analyst and supervisor of the agency when empty).

    Loads and checks the scenario (``ScenarioError`` names the line), puts its rules, lookouts and model
    on the floor, and plans its arrivals; the first are sent at once (``tick``).
    """
    _check_floor("Starting an exercise")
    if not may_train(actor):
        raise TrainingRefused("Only a supervisor, risk manager, manager or administrator runs exercises.")
    script = scenarios.load(scenario_key)
    speed = float(speed or script.speed)
    if not 1 <= speed <= 3600:
        raise ValidationError({"speed": "The speed is between 1 and 3600 simulated seconds per real second."})
    membership = membership_of(actor)
    allowed = trainee_choices(actor)
    chosen = list(allowed.filter(pk__in=[t.pk for t in trainees])) if trainees else list(allowed)
    if trainees and len(chosen) != len({t.pk for t in trainees}):
        raise ValidationError({"trainees": "A trainee must be an analyst or supervisor of your agency."})
    now = now or timezone.now()
    with transaction.atomic():
        exercise = Exercise.objects.create(
            scenario=script.key, title=script.title, scenario_text=script.text, agency=membership.agency,
            trainer=actor, speed=speed, seed=script.seed, started_at=now,
        )  # fmt: skip
        exercise.trainees.set(chosen)
        _plan(exercise, script, now)
    try:
        _prepare(exercise, script)
    except Exception as exc:  # the exercise is over before it began; the trainer sees why
        Exercise.objects.filter(pk=exercise.pk).update(
            state=Exercise.State.FINISHED,
            finished_at=timezone.now(),
            prepare_error=f"Could not start: {exc}"[:2000],
        )
        raise
    Exercise.objects.filter(pk=exercise.pk).update(state=Exercise.State.RUNNING)
    exercise.refresh_from_db()
    tick(exercise, now=now)
    return exercise


def _scaled(exercise: Exercise, minutes: float) -> timedelta:
    return timedelta(minutes=minutes / exercise.speed)


def _plan(exercise: Exercise, script: scenarios.Scenario, now: datetime) -> None:
    """The exercise's arrivals (scripted and background) and its answers."""
    rows = []
    for number, arrival in enumerate(script.arrivals):
        announce = now + _scaled(exercise, arrival.at)
        rows.append(ExerciseArrival(
            exercise=exercise, number=number, label=arrival.id or f"arrival-{number}", title="", port=arrival.port,
            announce_at=announce, arrival_at=announce + _scaled(exercise, arrival.arrives_after),
        ))  # fmt: skip
    number = len(script.arrivals)
    for port, count in sorted(script.background.items()):
        for i in range(count):
            at = script.duration * (i + 1) / (count + 1)
            announce = now + _scaled(exercise, at)
            rows.append(ExerciseArrival(
                exercise=exercise, number=number, label=f"background-{port}-{i}", title="", port=port,
                announce_at=announce, arrival_at=announce + _scaled(exercise, 120),
            ))  # fmt: skip
            number += 1
    for row in rows:
        plan, _ = _arrival_plan(exercise, script, row)
        row.title = plan.title[:200]
    ExerciseArrival.objects.bulk_create(rows)
    planted = []
    for number, arrival in enumerate(script.arrivals):
        row = next(r for r in rows if r.number == number)
        _, keys = _arrival_plan(exercise, script, row)
        for item in arrival.items():
            if item.answer is None:
                continue
            if isinstance(item, scenarios.Consignment):
                title = f"{item.description} from {item.origin} ({item.importer[1] or item.importer[0]})"
            else:
                title = f"{item.given} {item.surname}, {arrival.flight.get('carrier', '')}{arrival.flight.get('number', '')}"
            planted.append(PlantedItem(
                exercise=exercise, ref=item.id, truth_key=keys[item.id], title=title[:200],
                expect=item.answer.expect, risk_area=item.answer.risk_area, finding=item.answer.finding[:300],
                blind_spot=item.answer.blind_spot, hold=item.answer.hold,
            ))  # fmt: skip
    PlantedItem.objects.bulk_create(planted)


def _arrival_plan(
    exercise: Exercise, script: scenarios.Scenario, row: ExerciseArrival
) -> tuple[gen.ArrivalPlan, dict[str, str]]:
    """The messages of one of the exercise's arrivals, made again from the frozen scenario (deterministic)."""
    if row.number < len(script.arrivals):
        return scenarios.build_arrival(
            script,
            script.arrivals[row.number],
            row.number,
            exercise_number=exercise.pk,
            arrival_at=row.arrival_at,
        )
    # Background traffic: the demo simulator's own arrivals, numbered apart for every exercise.
    n = exercise.pk * 100 + row.number
    return gen.plan_arrival(script.seed, row.port, n, row.arrival_at), {}


def _colleague(spec: Any) -> Any:
    from apps.simulator import colleagues

    user = colleagues.account(spec)
    if user is None:
        colleagues.ensure_colleagues()
        user = colleagues.account(spec)
    if user is None:
        raise TrainingRefused(
            "The training floor has no customs agency yet: run `manage.py training_floor setup`."
        )
    return user


def _prepare(exercise: Exercise, script: scenarios.Scenario) -> None:
    """The scenario's rules, partner lookouts and model on the floor (the earlier exercise's retired);
    no random control."""
    from apps.risk.models import RandomControlRate, RiskSettings, Rule, RuleState
    from apps.risk.services import activate_rule, create_rule, publish_rule_to_shadow, retire_rule
    from apps.simulator import colleagues

    risk_manager = _colleague(colleagues.RISK_MANAGER)
    for rule in Rule.objects.filter(created_by=risk_manager).exclude(state=RuleState.RETIRED):
        retire_rule(
            actor=risk_manager, rule=rule, reason=f"Training floor: replaced by exercise {exercise.pk}"
        )
    for spec in script.rules:
        rule = create_rule(
            actor=risk_manager, name=spec["name"], text=spec["text"], subject_kind=spec["kind"],
            risk_area=spec["risk_area"], weight=spec["weight"], ports=spec["ports"], rationale=spec["rationale"],
            note=f"Training exercise {exercise.pk}: {script.title}"[:300],
        )  # fmt: skip
        publish_rule_to_shadow(actor=risk_manager, rule=rule, reason="Training floor: scenario rule")
        if spec["state"] == "active":
            activate_rule(actor=risk_manager, rule=rule, reason="Training floor: scenario rule")
    _lookouts(exercise, script)
    _model(exercise, script, risk_manager)
    # A subject drawn by chance would be a target the scenario's answers do not know of, and one the
    # trainee may not withdraw (a draw is only marked missed): scores would depend on the draw. The
    # training floor has its own database, so this changes no live centre.
    RiskSettings.objects.filter(pk=RiskSettings.current().pk).update(random_control_share=0.0)
    RandomControlRate.objects.update(share=0.0)


def _lookouts(exercise: Exercise, script: scenarios.Scenario) -> None:
    """Partner alerts: each partner's lookout list (shared with the centre), this exercise's entries only."""
    from apps.agencies.models import Agency
    from apps.watchlists.models import Watchlist, WatchlistEntry
    from apps.watchlists.services import create_entry, create_watchlist, share_watchlist, update_entry

    for entry in WatchlistEntry.objects.filter(watchlist__name__startswith="Training lookouts", active=True):
        update_entry(actor=None, entry=entry, data={"active": False})
    for alert in script.alerts:
        agency = Agency.objects.filter(code=alert["agency"]).first()
        if agency is None:
            log.warning("training: no agency %s for alert %s", alert["agency"], alert["id"])
            continue
        name = f"Training lookouts ({agency.code})"
        watchlist = Watchlist.objects.filter(name=name, owner_agency=agency).first()
        if watchlist is None:
            watchlist = create_watchlist(
                actor=None, owner_agency=agency, name=name, risk_area="narcotics", weight=70,
                description=f"{agency.name}'s lookouts shared with the centre for training exercises.",
            )  # fmt: skip
            share_watchlist(actor=None, watchlist=watchlist, agency=exercise.agency)
        data: dict[str, Any] = {
            "id": f"TRN{exercise.pk}-{alert['id']}", "kind": alert["kind"], "name": alert["name"],
            "remarks": alert["remarks"], "handling_code": "",
        }  # fmt: skip
        if alert["date_of_birth"]:
            data["dates_of_birth"] = [alert["date_of_birth"].isoformat()]
        if alert["documents"]:
            data["documents"] = [
                {"type": "passport", "number": scenarios.unique(d, exercise.pk)} for d in alert["documents"]
            ]
        create_entry(actor=None, watchlist=watchlist, data=data)


def _model(exercise: Exercise, script: scenarios.Scenario, risk_manager: Any) -> None:
    """The scenario's model: trained on the shared labelled declarations, or none on the floor."""
    from apps.learning.models import ModelStatus, ModelVersion
    from apps.learning.services import retire_version, train_now

    rows = int(script.model.get("history_rows") or 0)
    active = ModelVersion.objects.filter(owner_agency=exercise.agency, status=ModelStatus.ACTIVE)
    if rows <= 0:
        for version in active:
            retire_version(actor=risk_manager, version=version)
        return
    if active.exists():
        return  # trained for an earlier exercise on the same history: its blind spot is the same
    from apps.intake.models import DataSource, Message
    from apps.intake.services import parse_payload, store_messages
    from apps.simulator.setup import shared_data, withdraw_historic_targets

    source = DataSource.objects.filter(name=HISTORY_SOURCE).first()
    path = shared_data() / HISTORY_FILE
    if source is None or not path.exists():
        Exercise.objects.filter(pk=exercise.pk).update(
            prepare_error=f"No history to train the model on ({path})."
        )
        return
    if not Message.objects.filter(source=source, file_name__startswith="history:").exists():
        with path.open(encoding="utf-8-sig") as handle:
            lines = [next(handle) for _ in range(rows + 1)]
        result = parse_payload("".join(lines).encode(), name=f"history:{path.name}", fmt="declarations-csv")
        store_messages(source=source, parsed=[(m, f"history:{path.name}") for m in result.messages])
        withdraw_historic_targets(reason="Historic declaration loaded to train the training floor's model.")
    train_now(actor=None, sources=[source], activate=True)


# --- running --------------------------------------------------------------------------------------------


def running_exercises() -> QuerySet[Exercise]:
    return Exercise.objects.filter(state=Exercise.State.RUNNING)


def tick(exercise: Exercise, *, now: datetime | None = None) -> int:
    """Send the exercise's arrivals that are due, link the answers to their subjects, place due holds;
    finish the exercise when its time is up. Safe to repeat; returns the arrivals sent."""
    from apps.intake.services import PortIndex
    from apps.simulator.engine import send_plan

    if exercise.state != Exercise.State.RUNNING:
        return 0
    now = now or timezone.now()
    script = scenarios.parse(exercise.scenario_text, name=f"{exercise.scenario}.yaml")
    ports = PortIndex()
    sent = 0
    for row in exercise.arrivals.filter(sent_at=None, announce_at__lte=now).order_by("announce_at", "number"):
        plan, _ = _arrival_plan(exercise, script, row)
        with transaction.atomic():
            if not ExerciseArrival.objects.filter(pk=row.pk, sent_at=None).update(sent_at=now):
                continue  # another runner sent it
            subjects = send_plan(plan, ports, who="training: ")
            ExerciseArrival.objects.filter(pk=row.pk).update(subjects=subjects)
        sent += 1
    _link_answers(exercise)
    _place_holds(exercise)
    end = (exercise.started_at or now) + _scaled(exercise, script.duration)
    if now >= end and not exercise.arrivals.filter(sent_at=None).exists():
        finish_exercise(actor=None, exercise=exercise, now=now)
    return sent


def _link_answers(exercise: Exercise) -> None:
    from apps.intake.models import Subject

    for item in exercise.planted.filter(subject=None):
        kind, _, value = item.truth_key.partition(":")
        found = (
            Subject.objects.filter(kind="traveller", facts__document_number=value)
            if kind == "doc"
            else Subject.objects.filter(kind="consignment", facts__declaration_id=value)
        )
        subject = found.order_by("-pk").first()
        if subject is not None:
            PlantedItem.objects.filter(pk=item.pk).update(subject=subject)


def _place_holds(exercise: Exercise) -> None:
    """A partner's hold on a planted subject, once the engine (or a trainee) has made it a target."""
    from apps.agencies.models import Agency
    from apps.simulator import colleagues
    from apps.targeting.models import OPEN_STATES, Target, TargetShare, TargetState
    from apps.targeting.services import place_hold, share_target

    supervisor = _colleague(colleagues.SUPERVISOR)
    for item in exercise.planted.filter(hold_placed=False).exclude(subject=None).exclude(hold={}):
        if item.subject_id is None:  # excluded above; said again for the type checker
            continue
        target = (
            Target.objects.filter(subject_id=item.subject_id, state__in=OPEN_STATES).order_by("pk").first()
        )
        if target is None or target.state == TargetState.ON_HOLD:
            continue
        agency = Agency.objects.filter(code=item.hold.get("agency")).first()
        liaison = (
            get_user_model()
            .objects.filter(membership__agency=agency, membership__role="liaison", is_active=True)
            .order_by("pk")
            .first()
        )
        if agency is None or liaison is None:
            log.warning(
                "training: no liaison of %s to place the hold on %s", item.hold.get("agency"), item.ref
            )
            continue
        if not TargetShare.objects.filter(target=target, agency=agency).exists():
            share_target(actor=supervisor, target=target, agency=agency)
        place_hold(actor=liaison, target=target, reason=item.hold.get("reason") or "Partner's hold.")
        PlantedItem.objects.filter(pk=item.pk).update(hold_placed=True)


def finish_exercise(*, actor: User | None, exercise: Exercise, now: datetime | None = None) -> Exercise:
    """End the exercise (the trainer, or the runner when its time is up): the scoreboard is final and the
    trainees may read their answers."""
    if actor is not None and (not may_train(actor) or membership_of(actor).agency_id != exercise.agency_id):
        raise TrainingRefused("Only a trainer of the exercise's agency finishes it.")
    Exercise.objects.filter(pk=exercise.pk, state=Exercise.State.RUNNING).update(
        state=Exercise.State.FINISHED, finished_at=now or timezone.now()
    )
    exercise.refresh_from_db()
    return exercise

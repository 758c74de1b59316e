"""The training floor's pages: scenarios and the start form, an exercise's scoreboard, a trainee's answers.

Thin views: the work is in ``services`` and ``scoring``; every exercise is read through
``services.get_exercise_for`` (404 outside the agency, 403 for a trainee before the end).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from apps.agencies.operations import membership_of
from apps.core.actions import cleaned, refusal_text
from apps.core.errors import id_or_none
from apps.core.htmx import render_page_or_fragment
from apps.core.requests import AuthedRequest
from apps.training import scenario as scenarios
from apps.training import scoring, services
from apps.training.forms import StartExerciseForm
from apps.training.models import Exercise


def _scenario_cards() -> list[dict[str, Any]]:
    cards: list[dict[str, Any]] = []
    for path in scenarios.available():
        try:
            script = scenarios.parse(path.read_text(encoding="utf-8"), name=path.name)
        except scenarios.ScenarioError as exc:
            cards.append({"key": path.stem, "title": path.stem, "problems": exc.problems})
            continue
        expected = [i.answer.expect for _, i in script.planted() if i.answer is not None]
        cards.append({
            "key": script.key, "title": script.title, "briefing": script.briefing, "speed": script.speed,
            "arrivals": len(script.arrivals), "violations": expected.count("target"),
            "decoys": expected.count("release"),
            "holds": expected.count("leave"),
            "alerts": len(script.alerts), "blind_spot": script.model.get("blind_spot", ""),
            "duration": script.duration,
        })  # fmt: skip
    return cards


@login_required
@require_http_methods(["GET", "POST"])
def home(request: AuthedRequest) -> HttpResponse:
    """The scenarios, the start form (trainers), the running exercise's briefing and past exercises."""
    if membership_of(request.user) is None:
        raise Http404("Not found.")
    trainer = services.may_train(request.user)
    errors: list[str] = []
    if request.method == "POST":
        if not trainer:
            raise PermissionDenied("Only a trainer starts an exercise.")
        form = StartExerciseForm(request.POST, trainees=services.trainee_choices(request.user))
        try:
            data = cleaned(form)
            exercise = services.start_exercise(
                actor=request.user, scenario_key=data["scenario"], speed=data["speed"] or None,
                trainees=list(data["trainees"]) or None,
            )  # fmt: skip
        except scenarios.ScenarioError as exc:
            errors = exc.problems
        except (ValidationError, services.TrainingRefused) as exc:
            errors = [refusal_text(exc)]
        else:
            messages.success(request, f"Exercise “{exercise.title}” started at x{exercise.speed:g}.")
            return redirect("training:exercise", pk=exercise.pk)
    exercises = services.visible_exercises(request.user).select_related("trainer")
    context = {
        "floor": services.is_training_floor(),
        "trainer": trainer,
        "scenarios": _scenario_cards(),
        "trainees": services.trainee_choices(request.user) if trainer else [],
        "running": [e for e in exercises[:20] if e.state == Exercise.State.RUNNING],
        "exercises": exercises[:20],
        "errors": errors,
    }
    return render(request, "training/home.html", context, status=400 if errors else 200)


@login_required
def exercise_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    """The scoreboard (refreshed while the exercise runs) and the exercise's arrivals."""
    exercise = services.get_exercise_for(request.user, pk, answers=True)
    board = scoring.scoreboard(exercise)
    context = {
        "exercise": exercise,
        "board": board,
        "planted": exercise.planted.all(),
        "arrivals": exercise.arrivals.all(),
        "may_finish": services.may_train(request.user) and exercise.state == Exercise.State.RUNNING,
    }
    return render_page_or_fragment(request, "training/exercise.html", context, fragment="scoreboard")


@login_required
@require_POST
def finish(request: AuthedRequest, pk: int) -> HttpResponse:
    exercise = services.get_exercise_for(request.user, pk)
    services.finish_exercise(actor=request.user, exercise=exercise)
    messages.success(
        request, "The exercise is finished: the scoreboard is final and trainees may read their answers."
    )
    return redirect("training:exercise", pk=exercise.pk)


@login_required
def answers(request: AuthedRequest, pk: int) -> HttpResponse:
    """One trainee's decisions against the answers (``?trainee=<user id>``; the viewer's own by default):
    the trainer's to read for every trainee, a trainee's for himself once the exercise is over."""
    exercise = services.get_exercise_for(request.user, pk, answers=True)
    wanted = id_or_none(request.GET.get("trainee")) or request.user.pk
    trainee = exercise.trainees.filter(pk=wanted).first()
    if trainee is None or (not services.may_train(request.user) and trainee.pk != request.user.pk):
        raise Http404("Not found.")
    score = scoring.score_trainee(exercise, trainee)
    context = {
        "exercise": exercise,
        "trainee": trainee,
        "score": score,
        "trainer_view": services.may_train(request.user),
    }
    return render(request, "training/answers.html", context)

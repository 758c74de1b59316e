"""An exercise from start to scoreboard through the product's services, and who may see what of it."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import reverse

from apps.targeting.models import Target, TargetState
from apps.targeting.services import nominate, start_review, submit_for_approval, withdraw_target
from apps.training import scoring, services
from apps.training.models import Exercise
from tests.training.conftest import SCENARIOS

HELD = """\
title: A hold
briefing: The police hold one consignment.
seed: 5
speed: 600
rules:
  - name: Bananas far below value
    kind: consignment
    text: 'hs_code prefix "0803" and value_per_kg < 0.5'
    risk_area: narcotics
    weight: 80
    rationale: cover loads
arrivals:
  - id: V1
    at: 0
    port: GBFXT
    vessel: "9398400"
    consignments:
      - id: C1
        hs_code: "0803901000"
        description: fresh bananas
        origin: CO
        net_mass_kg: 20000
        value: 4000
        importer: {id: GB628374910000, name: Albion Fresh Produce Ltd}
        answer:
          expect: leave
          risk_area: narcotics
          finding: Controlled delivery.
          hold: {agency: POL, reason: Controlled delivery - do not examine.}
      - id: C2
        hs_code: "0803901000"
        description: fresh bananas
        origin: CO
        net_mass_kg: 20000
        value: 4100
        importer: {id: GB338274659000, name: Pennine Foods Ltd}
        answer: {expect: target, risk_area: narcotics, finding: Cocaine.}
"""


def _target_of(exercise: Exercise, ref: str) -> Target | None:
    item = exercise.planted.get(ref=ref)
    return Target.objects.filter(subject_id=item.subject_id).first()


def _start(training, key: str, capture, **kwargs):
    """Start as the trainer; the engine assesses after commit (inline here, as in the embedded mode)."""
    with capture(execute=True):
        exercise = services.start_exercise(actor=training.trainer, scenario_key=key, **kwargs)
    with capture(execute=True):
        services.tick(exercise)
    return exercise


def test_a_drill_scored_against_its_answers(training, client, django_capture_on_commit_callbacks):
    exercise = _start(
        training, "short_drill", django_capture_on_commit_callbacks, trainees=[training.one, training.two]
    )
    assert exercise.state == Exercise.State.RUNNING and exercise.speed == 600
    assert exercise.arrivals.get().subjects > 0, "the vessel's data went through intake at the start"
    c1, c2, c3 = (_target_of(exercise, ref) for ref in ("C1", "C2", "C3"))
    assert c1 and c2 and c3 is None, "the rule nominated both bananas, and nothing saw the coffee"

    # Trainee one: sends the cocaine for approval, withdraws the decoy; misses the coffee.
    start_review(actor=training.one, target=c1)
    submit_for_approval(actor=training.one, target=Target.objects.get(pk=c1.pk))
    withdraw_target(actor=training.one, target=c2, reason="Distressed sale, papers on file")
    # Trainee two: finds the coffee the rule missed (from its subject) and sends the decoy on.
    coffee = exercise.planted.get(ref="C3").subject
    nominate(
        actor=training.two, subject=coffee, risk_area="narcotics", reasons=["Price fits, route does not"]
    )
    one, two = (scoring.score_trainee(exercise, u) for u in (training.one, training.two))
    assert (one.found, one.missed, one.false_targets, one.released) == (1, 1, 0, 1)
    assert (two.found, two.missed, two.false_targets) == (1, 1, 0)
    assert two.blind_spot_found == 1 and one.blind_spot_found == 0
    assert one.median_seconds is not None and one.decisions == 2
    assert {r.item.ref: r.outcome for r in one.rows} == {"C1": "found", "C2": "released", "C3": "missed"}

    # The scoreboard is the trainer's while the exercise runs; the trainee reads it after the end.
    client.force_login(training.one)
    url = reverse("training:exercise", args=[exercise.pk])
    assert client.get(url).status_code == 403
    client.force_login(training.trainer)
    page = client.get(url)
    assert page.status_code == 200 and b'data-trainee="trainee.1"' in page.content
    client.post(reverse("training:finish", args=[exercise.pk]))
    client.force_login(training.one)
    assert client.get(url).status_code == 200


def test_an_exercise_draws_nothing_by_chance(training, django_capture_on_commit_callbacks):
    """With random control on (every subject drawn), the exercise's floor still holds only the targets
    its answers know of, and a trainee may withdraw the decoy: the scenario, not the draw, decides."""
    from apps.risk.models import RiskSettings

    RiskSettings.objects.filter(pk=RiskSettings.current().pk).update(random_control_share=1.0)
    exercise = _start(
        training, "short_drill", django_capture_on_commit_callbacks, trainees=[training.one, training.two]
    )
    assert not Target.objects.filter(random_control=True).exists()
    assert _target_of(exercise, "C3") is None
    withdraw_target(actor=training.one, target=_target_of(exercise, "C2"), reason="Papers on file")


def test_a_partner_hold_is_placed_and_leaving_it_scores(
    training, tmp_path, settings, django_capture_on_commit_callbacks
):
    (tmp_path / "held.yaml").write_text(HELD)
    settings.RATC_TRAINING_SCENARIOS = str(tmp_path)
    exercise = _start(training, "held", django_capture_on_commit_callbacks, trainees=[training.one])
    held = _target_of(exercise, "C1")
    assert held.state == TargetState.ON_HOLD and held.holds.get().agency.code == "POL"
    score = scoring.score_trainee(exercise, training.one)
    assert (score.holds, score.holds_respected, score.missed) == (1, 1, 1)


def test_exercises_never_run_on_a_live_centre_and_stay_in_their_agency(training, settings):
    settings.RATC_TRAINING = False
    with pytest.raises(services.TrainingRefused, match="not a training floor"):
        services.start_exercise(actor=training.trainer, scenario_key="short_drill")
    settings.RATC_TRAINING = True
    with pytest.raises(services.TrainingRefused, match="Only a supervisor"):
        services.start_exercise(actor=training.one, scenario_key="short_drill")
    exercise = services.start_exercise(actor=training.trainer, scenario_key="short_drill")
    with pytest.raises(Http404):
        services.get_exercise_for(training.outsider, exercise.pk)
    with pytest.raises(PermissionDenied):
        services.get_exercise_for(training.one, exercise.pk, answers=True)
    assert SCENARIOS.exists()


def test_the_start_form_starts_an_exercise_for_the_trainees_picked(training, client):
    client.force_login(training.trainer)
    url = reverse("training:home")
    answer = client.post(url, {"scenario": "short_drill", "speed": "120", "trainees": [training.one.pk]})
    exercise = Exercise.objects.get()
    assert answer.status_code == 302 and answer["Location"] == reverse(
        "training:exercise", args=[exercise.pk]
    )
    assert exercise.speed == 120 and list(exercise.trainees.all()) == [training.one]


def test_the_start_form_names_the_field_it_refuses(training, client):
    client.force_login(training.trainer)
    url = reverse("training:home")
    # Someone of another agency is not the trainer's to train; a speed out of range is not a speed.
    answer = client.post(url, {"scenario": "short_drill", "trainees": [training.outsider.pk]})
    assert answer.status_code == 400 and "(field “trainees”)" in answer.content.decode()
    answer = client.post(url, {"scenario": "short_drill", "speed": "0"})
    assert answer.status_code == 400 and "(field “speed”)" in answer.content.decode()
    answer = client.post(url, {"scenario": "no_such_scenario"})
    assert answer.status_code == 400
    assert not Exercise.objects.exists()

"""Exploration near the threshold: drawn with a recorded probability, reproducible, never random control."""

from __future__ import annotations

import pytest

from apps.frontline.services.feedback import _reason_refs
from apps.learning.selection import propensity
from apps.risk.models import Assessment, RiskSettings
from apps.risk.scoring import random_draw
from apps.risk.services import assess_subjects
from apps.targeting.models import Target

COFFEE = {"hs_code": "09011100", "origin_country": "CO", "declared_value": 1000, "net_mass_kg": 100}


@pytest.fixture(autouse=True)
def _settings(db):
    """Threshold 60, band 10 below it; random control off unless a test turns it on."""
    RiskSettings.objects.create(
        random_control_share=0.0,
        nomination_threshold=60.0,
        exploration_band=10.0,
        exploration_probability=0.0,
    )


def _assess(subject) -> Assessment:
    (assessment,) = assess_subjects([subject.pk])
    return assessment


def test_in_the_band_the_probability_is_recorded_and_one_draw_nominates_a_risk_target(
    rule_writer, subject_maker
):
    rule_writer('hs_code prefix "0901"', state="active", weight=55)  # score 55: inside [50, 60)
    RiskSettings.objects.update(exploration_probability=1.0, random_control_share=0.01)
    subject = subject_maker(COFFEE)
    a = _assess(subject)
    assert a.score == 55 and a.explored and not a.random_control and a.nominated
    # P(selected) = q + (1 - q) * s, kept on the row and in the explanation.
    assert a.selection_probability == pytest.approx(1.0) == a.explanation["selection_probability"]
    assert a.explanation["exploration"]["risk_probability"] == 1.0
    target = Target.objects.get()
    assert not target.random_control and target.by_engine
    # Its reasons are the rules that scored it: the random-control ledger never counts it.
    assert all(r["kind"] != "random" for r in target.reasons)
    assert ("random", "random") not in _reason_refs(target)
    assert a.explanation["nomination"]["explored"] is True


def test_the_recorded_probability_is_r_plus_1_minus_r_times_s_in_and_out_of_the_band(
    rule_writer, subject_maker
):
    RiskSettings.objects.update(exploration_probability=0.2, random_control_share=0.05)
    rule_writer('hs_code prefix "0901"', state="active", weight=55, name="In the band")
    in_band = _assess(subject_maker(COFFEE))
    assert in_band.selection_probability == pytest.approx(float(propensity(False, 0.05, 0.2)))
    assert in_band.selection_probability == pytest.approx(0.2 + 0.8 * 0.05)
    tea = {"hs_code": "09021000", "origin_country": "CN", "declared_value": 1, "net_mass_kg": 1}
    below = _assess(subject_maker(tea))  # score 0: below the band, only the random control
    assert below.score == 0 and below.selection_probability == pytest.approx(0.05) and not below.explored


def test_above_the_threshold_or_with_exploration_off_nothing_is_explored(rule_writer, subject_maker):
    RiskSettings.objects.update(exploration_probability=1.0)
    rule_writer('hs_code prefix "0901"', state="active", weight=70)
    above = _assess(subject_maker(COFFEE))
    assert above.nominated and not above.explored and above.selection_probability == 1.0
    RiskSettings.objects.update(exploration_probability=0.0, nomination_threshold=80.0)
    off = _assess(subject_maker(COFFEE))  # 70 is in [70, 80) but the probability is 0
    assert not off.explored and not off.nominated and off.selection_probability == 0.0


def test_the_draw_is_reproducible_with_its_salt_and_independent_of_the_random_control(
    rule_writer, subject_maker
):
    rule_writer('hs_code prefix "0901"', state="active", weight=55)
    RiskSettings.objects.update(exploration_probability=0.5)
    subjects = [subject_maker(COFFEE) for _ in range(40)]
    first = {a.subject_id: a.explored for a in assess_subjects([s.pk for s in subjects])}
    again = {a.subject_id: a.explored for a in assess_subjects([s.pk for s in subjects])}
    assert first == again and 0 < sum(first.values()) < 40  # the same draws on re-assessment
    salt = RiskSettings.current().random_salt
    for s in subjects:
        assert first[s.pk] == (random_draw(s.pk, f"{salt}:exploration") < 0.5)
    # Its own salt: not the random control's draw.
    assert any(random_draw(s.pk, f"{salt}:exploration") != random_draw(s.pk, salt) for s in subjects)
    RiskSettings.objects.update(random_salt="another")
    redrawn = {a.subject_id: a.explored for a in assess_subjects([s.pk for s in subjects])}
    assert redrawn != first

"""Assessment: score and channel, shadow mode, port scope, validity, nomination, random control, providers."""

from __future__ import annotations

import datetime as dt
import logging

import pytest

from apps.risk import providers, rules
from apps.risk.models import Assessment, Hit, RandomControlRate, RiskSettings
from apps.risk.providers import Component
from apps.risk.scoring import channel_for, combine, random_draw
from apps.risk.services import assess_subjects
from apps.risk.tasks import assess_subjects_task
from apps.targeting.models import Target
from tests.risk.conftest import ARRIVAL

COFFEE = {"hs_code": "09011100", "origin_country": "CO", "declared_value": 1000, "net_mass_kg": 100}
TEA = {"hs_code": "09021000", "origin_country": "CN", "declared_value": 1000, "net_mass_kg": 100}


@pytest.fixture(autouse=True)
def _no_random_control(db):
    """Random control off unless a test turns it on, so scores alone decide."""
    RiskSettings.objects.create(random_control_share=0.0)


def only(subject) -> Assessment:
    (assessment,) = assess_subjects([subject.pk])
    return assessment


def test_score_formula_and_channels():
    assert combine([]) == 0 and combine([70]) == 70 and combine([60, 60]) == 84 and combine([100, 5]) == 100
    assert combine([150, -4]) == 100
    rule = lambda area, score, shadow=False: Component("rule", "r", score, area, "", shadow=shadow)  # noqa: E731
    assert channel_for(70, [rule("narcotics", 70)], yellow=30, red=60) == "red"
    assert channel_for(40, [rule("narcotics", 40)], yellow=30, red=60) == "yellow"
    assert channel_for(40, [rule("revenue", 40)], yellow=30, red=60) == "blue"
    assert channel_for(10, [rule("narcotics", 10)], yellow=30, red=60) == "green"


def test_an_active_rule_hits_scores_and_nominates_above_threshold(rule_writer, subject_maker):
    rule = rule_writer('hs_code prefix "0901" and origin_country = "CO"', state="active", weight=70)
    coffee, tea = subject_maker(COFFEE), subject_maker(TEA)
    assessments = assess_subjects([coffee.pk, tea.pk])
    by_subject = {a.subject_id: a for a in assessments}
    hit = Hit.objects.get()
    assert (
        hit.assessment == by_subject[coffee.pk] and hit.rule_version == rule.live_version and not hit.shadow
    )
    assert hit.matched == {"hs_code": "09011100", "origin_country": "CO"}
    assert by_subject[coffee.pk].score == 70 and by_subject[coffee.pk].channel == "red"
    assert by_subject[tea.pk].score == 0 and by_subject[tea.pk].channel == "green"
    target = Target.objects.get()
    assert target.subject == coffee and target.by_engine and target.risk_area == "narcotics"
    assert target.reasons[0]["kind"] == "rule" and target.reasons[0]["ref"] == f"rule:{rule.pk}@v1"
    assert target.priority == 70 and not target.random_control
    assert by_subject[coffee.pk].nominated and by_subject[coffee.pk].target_id == target.pk
    assert Assessment.objects.get(pk=by_subject[coffee.pk].pk).target_id == target.pk


def test_below_the_nomination_threshold_nothing_is_nominated(rule_writer, subject_maker):
    rule_writer('hs_code prefix "0901"', state="active", weight=40, risk_area="revenue")
    assessment = only(subject_maker(COFFEE))
    assert assessment.score == 40 and assessment.channel == "blue" and not assessment.nominated
    assert not Target.objects.exists()


def test_shadow_rules_record_what_they_would_have_done_and_never_nominate(rule_writer, subject_maker):
    shadow = rule_writer('hs_code prefix "0901"', state="shadow", weight=90, name="Shadow coffee")
    assessment = only(subject_maker(COFFEE))
    assert assessment.score == 0 and assessment.channel == "green" and not assessment.nominated
    hit = Hit.objects.get()
    assert hit.shadow and hit.rule == shadow and hit.rule_version == shadow.live_version
    assert assessment.explanation["shadow_score"] == 90 and assessment.explanation["shadow"][0]["shadow"]
    assert not Target.objects.exists()


def test_drafts_and_retired_rules_do_not_run(rule_writer, subject_maker, risk_manager):
    from apps.risk.services import retire_rule

    rule_writer('hs_code prefix "0901"')
    retired = rule_writer('hs_code prefix "0901"', state="active", name="Old")
    retire_rule(actor=risk_manager, rule=retired, reason="Replaced")
    assert only(subject_maker(COFFEE)).score == 0 and not Hit.objects.exists()


def test_scope_by_port(rule_writer, subject_maker, world):
    rule_writer('hs_code prefix "0901"', state="active", ports=["GBLHR"])
    at_heathrow = subject_maker(COFFEE, port=world.port_b)
    at_felixstowe = subject_maker(COFFEE, port=world.port_a)
    nowhere = subject_maker(COFFEE, port=None)
    scores = {a.subject_id: a.score for a in assess_subjects([at_heathrow.pk, at_felixstowe.pk, nowhere.pk])}
    assert scores == {at_heathrow.pk: 70, at_felixstowe.pk: 0, nowhere.pk: 0}


def test_validity_dates_judge_the_subjects_arrival(rule_writer, subject_maker):
    rule_writer(
        'hs_code prefix "0901"',
        state="active",
        valid_from=dt.date(2025, 3, 10),
        valid_to=dt.date(2025, 3, 11),
    )
    inside = subject_maker(COFFEE, arrival_at=dt.datetime(2025, 3, 11, 23, 59, tzinfo=dt.UTC))
    before = subject_maker(COFFEE, arrival_at=dt.datetime(2025, 3, 9, 23, 59, tzinfo=dt.UTC))
    after = subject_maker(COFFEE, arrival_at=dt.datetime(2025, 3, 12, 0, 0, tzinfo=dt.UTC))
    no_arrival = subject_maker(COFFEE, arrival_at=None, received_at=dt.datetime(2025, 3, 10, tzinfo=dt.UTC))
    scores = {a.subject_id: a.score for a in assess_subjects([inside.pk, before.pk, after.pk, no_arrival.pk])}
    assert scores == {inside.pk: 70, before.pk: 0, after.pk: 0, no_arrival.pk: 70}


def test_subject_kind_is_respected(rule_writer, subject_maker):
    rule_writer("bags_count = 0", state="active", subject_kind="traveller")
    traveller = subject_maker({"bags_count": 0}, kind="traveller")
    consignment = subject_maker({"bags_count": 0})
    scores = {a.subject_id: a.score for a in assess_subjects([traveller.pk, consignment.pk])}
    assert scores == {traveller.pk: 70, consignment.pk: 0}


def test_a_batch_and_single_assessments_agree(rule_writer, subject_maker, world, monkeypatch):
    """Batches above VECTOR_MIN go through the DataFrame path; one by one through the per-subject path."""
    rule_writer('hs_code prefix "0901" and not value_per_kg > 20', state="active", weight=50)
    rule_writer(
        'origin_country in ("CO", "PE") or route_countries in ("VE")',
        state="shadow",
        weight=30,
        name="Andean origin",
        ports=["GBFXT"],
    )
    rule_writer("arrival_hour between 0 and 5", state="active", weight=20, name="Night", risk_area="revenue")
    subjects = []
    for i in range(rules.VECTOR_MIN + 8):
        facts = {
            "hs_code": ["0901", "0902", "090111"][i % 3],
            "origin_country": ["CO", "PE", "CN", None][i % 4],
            "declared_value": i * 100,
            "net_mass_kg": [0, 10, 50, "x"][i % 4],
            "route_countries": [["VE"], [], ["PA", "CO"]][i % 3],
        }
        arrival = ARRIVAL.replace(hour=i % 24)
        subjects.append(subject_maker(facts, port=[world.port_a, world.port_b][i % 2], arrival_at=arrival))
    batch = {
        a.subject_id: (a.score, a.channel, sorted(h.rule_version_id for h in a.hits.all()))
        for a in assess_subjects([s.pk for s in subjects])
    }
    singles = {}
    for s in subjects:
        a = only(s)
        singles[s.pk] = (a.score, a.channel, sorted(h.rule_version_id for h in a.hits.all()))
    assert batch == singles
    assert len({v[0] for v in batch.values()}) > 2  # the rules did separate the subjects


def test_the_explanation_says_how_the_score_was_made(rule_writer, subject_maker, world):
    rule_writer('hs_code prefix "0901"', state="active", weight=60, name="Coffee")
    rule_writer('origin_country = "CO"', state="active", weight=50, name="Colombia", risk_area="revenue")
    assessment = only(subject_maker(COFFEE))
    explanation = assessment.explanation
    assert assessment.score == 80 and "1 - " in explanation["formula"]
    assert [c["label"] for c in explanation["components"]] == ["Coffee (v1)", "Colombia (v1)"]
    assert explanation["by_area"] == {"narcotics": 60, "revenue": 50}
    assert assessment.risk_area == "narcotics"
    assert explanation["thresholds"] == {"yellow": 30, "red": 60, "nomination": 60}
    assert explanation["components"][0]["details"]["matched"] == {"hs_code": "09011100"}
    assert explanation["random_control"]["selected"] is False
    assert explanation["nomination"]["nominated"] is True


def test_other_providers_components_are_combined_and_explained(rule_writer, subject_maker, monkeypatch):
    rule_writer('hs_code prefix "0901"', state="active", weight=50)

    def watchlist(subjects):
        return {
            s.pk: [
                Component(
                    "watchlist",
                    "watchlist-entry:7",
                    40,
                    "narcotics",
                    "Consignee on a lookout",
                    label="Lookout 7",
                    details={"fields": ["consignee_name"]},
                )
            ]
            for s in subjects
        }

    import apps.risk

    monkeypatch.setattr(apps.risk, "tests_provider", watchlist, raising=False)
    monkeypatch.setattr(providers, "PROVIDERS", [*providers.PROVIDERS, "apps.risk.tests_provider"])
    assessment = only(subject_maker(COFFEE))
    assert assessment.score == 70
    kinds = {c["kind"] for c in assessment.explanation["components"]}
    assert kinds == {"rule", "watchlist"}
    target = Target.objects.get()
    assert {r["kind"] for r in target.reasons} == {"rule", "watchlist"}


def test_absent_providers_are_skipped_with_a_warning(caplog):
    with caplog.at_level(logging.WARNING):
        loaded = providers.load_providers(["apps.risk.rules.provider", "apps.nowhere.screening.provider"])
    assert [path for path, _ in loaded] == ["apps.risk.rules.provider"]
    assert "apps.nowhere.screening.provider is not installed" in caplog.text


def test_random_control_is_reproducible_and_kept_apart(subject_maker, world):
    RiskSettings.objects.update(random_control_share=1.0)
    subject = subject_maker(TEA)
    first = only(subject)
    assert first.random_control and first.channel == "red" and first.score == 0
    target = Target.objects.get()
    assert target.random_control and target.reasons[-1]["kind"] == "random"
    assert target.risk_area == "revenue"
    # Queued as a target at the nomination threshold, not at its score of 0 (the bottom of every queue).
    assert target.priority == RiskSettings.objects.get().nomination_threshold == 60
    assert only(subject).random_control  # re-assessment: the same draw
    assert random_draw(subject.pk, "salt") == random_draw(subject.pk, "salt")
    assert random_draw(subject.pk, "salt") != random_draw(subject.pk, "other salt")


def test_random_control_share_per_port_and_kind_is_within_tolerance(customs_source, world):
    """Over a few thousand subjects the drawn share is near the configured one, per port and kind."""
    from tests.risk.conftest import make_subject

    RandomControlRate.objects.create(port=world.port_a, subject_kind="consignment", share=0.10)
    RandomControlRate.objects.create(port=None, subject_kind="consignment", share=0.02)
    RandomControlRate.objects.create(port=None, subject_kind="traveller", share=0.05)
    groups = {("GBFXT", "consignment"): 0.10, ("GBLHR", "consignment"): 0.02, ("GBLHR", "traveller"): 0.05}
    ids: dict[tuple[str, str], list[int]] = {}
    for (locode, kind), _ in groups.items():
        port = world.port_a if locode == "GBFXT" else world.port_b
        ids[(locode, kind)] = [make_subject(customs_source, {}, kind=kind, port=port).pk for _ in range(1500)]
    assessments = assess_subjects([i for group in ids.values() for i in group])
    selected = {a.subject_id for a in assessments if a.random_control}
    for key, share in groups.items():
        drawn = sum(1 for i in ids[key] if i in selected) / len(ids[key])
        tolerance = 4 * (share * (1 - share) / len(ids[key])) ** 0.5  # four standard errors
        assert abs(drawn - share) < tolerance, (key, drawn, share)


def test_the_task_assesses_what_intake_stored(rule_writer, subject_maker):
    rule_writer('hs_code prefix "0901"', state="active")
    subject = subject_maker(COFFEE)
    ids = assess_subjects_task.delay([subject.pk]).get()
    assert Assessment.objects.get(pk=ids[0]).score == 70


def test_superseded_subjects_are_not_assessed(subject_maker):
    subject = subject_maker(COFFEE)
    subject.status = subject.Status.SUPERSEDED
    subject.save()
    assert assess_subjects([subject.pk]) == []

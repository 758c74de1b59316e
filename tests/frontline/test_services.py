"""Recording, correcting and feeding back examination results through the service layer."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from apps.frontline import services
from apps.frontline.models import ExaminationFeedback, ExaminationResult
from apps.intake.models import Outcome
from apps.targeting.models import TargetShare, TargetState, Transition
from tests.frontline.conftest import seizure

pytestmark = pytest.mark.django_db


def test_an_officer_records_a_seizure_and_the_loop_closes(instruction, port_officer):
    done = services.record_examination(actor=port_officer, instruction=instruction, data=seizure())
    assert done.created
    target = instruction.target
    target.refresh_from_db()
    assert target.state == TargetState.RESULT_RECORDED
    moves = list(Transition.objects.filter(target=target).values_list("to_state", flat=True))
    assert moves[-2:] == [TargetState.IN_EXAMINATION, TargetState.RESULT_RECORDED]
    result = done.result
    assert result.goods.get().kind == "cocaine" and result.goods.get().quantity == Decimal("12.5")
    outcome = Outcome.objects.get(subject=target.subject)
    assert outcome.origin == Outcome.Origin.EXAMINATION and outcome.finding and outcome.severity == 1
    assert outcome.random_control is False
    assert result.outcome_record == outcome


def test_the_same_key_twice_records_once(instruction, port_officer):
    key = uuid.uuid4()
    first = services.record_examination(actor=port_officer, instruction=instruction, data=seizure(key))
    again = services.record_examination(actor=port_officer, instruction=instruction, data=seizure(key))
    assert first.created and not again.created
    assert again.result.pk == first.result.pk
    assert ExaminationResult.objects.count() == 1
    assert Outcome.objects.count() == 1


def test_a_second_result_under_another_key_is_a_conflict(instruction, port_officer):
    services.record_examination(actor=port_officer, instruction=instruction, data=seizure())
    with pytest.raises(services.Conflict, match="already recorded by"):
        services.record_examination(actor=port_officer, instruction=instruction, data=seizure())
    assert ExaminationResult.objects.count() == 1


def test_only_a_frontline_officer_of_the_port_records(
    instruction, other_port_officer, customs_analyst, customs_supervisor, outsider
):
    with pytest.raises(Http404):
        services.record_examination(actor=other_port_officer, instruction=instruction, data=seizure())
    with pytest.raises(Http404):
        services.record_examination(actor=outsider, instruction=instruction, data=seizure())
    for person in (customs_analyst, customs_supervisor):
        with pytest.raises(PermissionDenied):
            services.record_examination(actor=person, instruction=instruction, data=seizure())
    assert not ExaminationResult.objects.exists()
    instruction.target.refresh_from_db()
    assert instruction.target.state == TargetState.DISPATCHED


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"goods": []}, "goods"),
        ({"outcome": "no_finding"}, "goods"),
        ({"ended_at": timezone.now() + timedelta(hours=2)}, "ended_at"),
        ({"started_at": timezone.now(), "ended_at": timezone.now() - timedelta(hours=1)}, "started_at"),
        ({"method": "telepathy"}, "method"),
        ({"goods": [services.GoodsLine(kind="gold bars", quantity=Decimal(1), unit="kg")]}, "goods"),
        ({"goods": [services.GoodsLine(kind="heroin", quantity=Decimal(0), unit="kg")]}, "goods"),
    ],
)
def test_bad_results_are_refused_naming_the_field(instruction, port_officer, overrides, field):
    with pytest.raises(ValidationError) as caught:
        services.record_examination(actor=port_officer, instruction=instruction, data=seizure(**overrides))
    assert field in caught.value.message_dict
    assert not ExaminationResult.objects.exists() and not Outcome.objects.exists()
    instruction.target.refresh_from_db()
    assert instruction.target.state == TargetState.DISPATCHED


def test_no_finding_needs_no_goods(instruction, port_officer):
    data = seizure(outcome="no_finding", goods=[], method="scan")
    result = services.record_examination(actor=port_officer, instruction=instruction, data=data).result
    assert not result.is_finding
    assert Outcome.objects.get().finding is False


def test_a_supervisor_corrects_and_the_original_stays(instruction, port_officer, customs_supervisor):
    original = services.record_examination(actor=port_officer, instruction=instruction, data=seizure()).result
    fix = seizure(outcome="irregularity", goods=[], revenue_at_stake=Decimal("1250.00"))
    correction = services.correct_examination(
        actor=customs_supervisor, result=original, data=fix, reason="Lab test: sugar, but misdeclared weight"
    ).result
    assert correction.original_id == original.pk and correction.reason.startswith("Lab test")
    original.refresh_from_db()
    assert original.outcome == "seizure" and original.goods.count() == 1
    assert services.displayed_result(instruction.target).pk == correction.pk
    assert [r.pk for r in services.history_of(instruction.target)] == [original.pk, correction.pk]
    outcome = Outcome.objects.get()
    assert (
        outcome.finding is True and outcome.severity == 0 and outcome.revenue_at_stake == Decimal("1250.00")
    )
    # A correction of the correction still links to the first result.
    again = services.correct_examination(
        actor=customs_supervisor,
        result=correction,
        data=seizure(outcome="no_finding", goods=[]),
        reason="Re-test",
    ).result
    assert again.original_id == original.pk
    assert Outcome.objects.get().finding is False


def test_corrections_need_a_supervisor_and_a_reason(instruction, port_officer, customs_supervisor):
    original = services.record_examination(actor=port_officer, instruction=instruction, data=seizure()).result
    with pytest.raises(PermissionDenied):
        services.correct_examination(actor=port_officer, result=original, data=seizure(), reason="mine")
    with pytest.raises(ValidationError, match="Say why"):
        services.correct_examination(actor=customs_supervisor, result=original, data=seizure(), reason=" ")


def test_results_are_never_changed_in_place(instruction, port_officer):
    result = services.record_examination(actor=port_officer, instruction=instruction, data=seizure()).result
    result.notes = "edited"
    with pytest.raises(PermissionDenied):
        result.save()
    with pytest.raises(PermissionDenied):
        result.delete()


def test_outcomes_reach_the_statistics_of_what_caused_the_target(
    make_instruction, port_officer, customs_supervisor
):
    reasons = [
        {"kind": "rule", "text": "Cocaine route", "ref": "rule:12@v3"},
        {"kind": "watchlist", "text": "Consignee on a watchlist", "ref": "watchlist-entry:881"},
        {"kind": "model", "text": "Model score 0.91", "ref": "model:4"},
    ]
    found = make_instruction(reasons=reasons)
    clean = make_instruction(reasons=[reasons[0]], random_control=True)
    services.record_examination(actor=port_officer, instruction=found, data=seizure())
    services.record_examination(
        actor=port_officer, instruction=clean, data=seizure(outcome="no_finding", goods=[])
    )
    rule = services.outcome_counts_for("rule", "rule:12@v3")
    assert rule["examinations"] == 2 and rule["findings"] == 1 and rule["seizure"] == 1
    assert rule["no_finding"] == 1 and rule["hit_rate"] == 0.5
    assert rule["seized_value"] == Decimal("400000.00")
    assert services.outcome_counts_for("watchlist", "watchlist-entry:881")["findings"] == 1
    assert services.outcome_counts_for("model", "model:4")["examinations"] == 1
    random = services.outcome_counts_for("random", "random")
    assert random["examinations"] == 1 and random["random_control"] == 1 and random["findings"] == 0
    assert Outcome.objects.get(subject=clean.target.subject).random_control is True
    # A correction moves the statistics with it; the examination still counts once.
    first = ExaminationResult.objects.get(target=found.target)
    services.correct_examination(
        actor=customs_supervisor,
        result=first,
        data=seizure(outcome="no_finding", goods=[]),
        reason="Negative test",
    )
    rule = services.outcome_counts_for("rule", "rule:12@v3")
    assert rule["examinations"] == 2 and rule["findings"] == 0
    assert ExaminationFeedback.objects.filter(ref="rule:12@v3").count() == 2


def test_partner_agencies_are_told_with_ids_only(instruction, port_officer, world, monkeypatch):
    TargetShare.objects.create(target=instruction.target, agency=world.police)
    sent = []
    monkeypatch.setattr(
        services.feedback,
        "publish_many_on_commit",
        lambda groups, event, **payload: sent.extend((group, event, payload) for group in groups),
    )
    result = services.record_examination(actor=port_officer, instruction=instruction, data=seizure()).result
    told = {group: payload for group, event, payload in sent if event == "examination.recorded"}
    assert f"agency-{world.police.pk}" in told and f"agency-{world.customs.pk}" in told
    assert f"agency-{world.bio.pk}" not in told
    assert told[f"agency-{world.police.pk}"] == {
        "target": instruction.target.pk,
        "result": result.pk,
        "version": instruction.target.version + 2,
    }


def test_the_officer_sees_his_ports_instructions_by_arrival(make_instruction, port_officer, world):
    late = make_instruction(arrival_in_hours=8)
    early = make_instruction(arrival_in_hours=1)
    make_instruction(port=world.port_b)
    make_instruction(state="result_recorded")
    assert [i.pk for i in services.open_instructions(port_officer)] == [early.pk, late.pk]


def test_the_briefing_tells_the_instruction_and_no_reason(make_instruction, port_officer, client_for):
    found = make_instruction(
        reasons=[
            {"kind": "rule", "text": "Cocaine route, new consignee", "ref": "rule:1@v1",
             "plain": "Cocaine route, new consignee"},
            {"kind": "watchlist", "text": "Consignee IVANOV on police list", "ref": "watchlist-entry:9"},
            {"kind": "random", "text": "Selected by chance", "ref": "random:1"},
        ]
    )  # fmt: skip
    brief = services.briefing(port_officer, found)
    assert brief.look_for == found.instruction
    assert ("Container", "MSCU1234567") in brief.facts
    page = client_for(port_officer).get(reverse("frontline:instruction", args=[found.pk])).content.decode()
    assert "check the reefer" in page
    for said in ("Cocaine route", "IVANOV", "by chance", "further reason"):
        assert said not in page


def test_current_shift_follows_the_port_clock(world):
    world.port_a.timezone = "Europe/London"
    moment = datetime(2026, 1, 15, 13, 30, tzinfo=UTC)
    assert services.current_shift(world.port_a, moment) == "early"
    assert services.current_shift(world.port_a, moment + timedelta(hours=1)) == "late"
    assert services.current_shift(world.port_a, moment + timedelta(hours=10)) == "night"

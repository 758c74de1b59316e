"""The risk API: rules through the services, assessments read, backtests started and followed."""

from __future__ import annotations

from django.urls import reverse

from apps.risk.models import RiskSettings, Rule
from apps.risk.services import assess_subjects
from tests.risk.conftest import write_rule

COFFEE = 'hs_code prefix "0901"'
NEW_RULE = {
    "name": "Coffee",
    "subject_kind": "consignment",
    "risk_area": "narcotics",
    "weight": 70,
    "text": COFFEE,
    "rationale": "Seizures.",
    "ports": ["GBFXT"],
}


def test_create_update_and_move_a_rule(client_for, risk_manager):
    client = client_for(risk_manager)
    created = client.post(reverse("risk-rule-list"), NEW_RULE, content_type="application/json")
    assert created.status_code == 201, created.content
    rule_id = created.json()["id"]
    assert created.json()["state"] == "draft" and created.json()["latest_version"]["number"] == 1
    tree = {
        "op": "and",
        "args": [
            {"field": "hs_code", "op": "prefix", "value": ["0901"]},
            {"field": "origin_country", "op": "eq", "value": "co"},
        ],
    }
    updated = client.patch(
        reverse("risk-rule-detail", args=[rule_id]),
        {"condition": tree, "note": "JSON"},
        content_type="application/json",
    )
    assert updated.status_code == 200, updated.content
    assert updated.json()["latest_version"]["text"] == 'hs_code prefix "0901" and origin_country = "CO"'
    moved = client.post(
        reverse("risk-rule-transitions", args=[rule_id]),
        {"action": "shadow"},
        content_type="application/json",
    )
    assert moved.status_code == 200 and moved.json()["state"] == "shadow"
    history = client.get(reverse("risk-rule-transitions", args=[rule_id])).json()
    assert [h["to_state"] for h in history] == ["shadow", "draft"]


def test_errors_name_the_field_and_the_column(client_for, risk_manager):
    client = client_for(risk_manager)
    bad = client.post(
        reverse("risk-rule-list"),
        {**NEW_RULE, "text": 'hs_code prefix "0901" or'},
        content_type="application/json",
    )
    errors = {error["field"]: error["detail"] for error in bad.json()["errors"]}
    assert bad.status_code == 400 and "column 25" in errors["text"]
    missing = client.post(reverse("risk-rule-list"), {"name": "x"}, content_type="application/json")
    assert missing.status_code == 400 and "weight" in {error["field"] for error in missing.json()["errors"]}
    assert not Rule.objects.exists()


def test_readers_may_list_but_not_write(client_for, risk_manager, customs_analyst):
    rule = write_rule(risk_manager, COFFEE)
    client = client_for(customs_analyst)
    assert client.get(reverse("risk-rule-list")).json()["results"][0]["id"] == rule.pk
    assert (
        client.post(reverse("risk-rule-list"), NEW_RULE, content_type="application/json").status_code == 403
    )
    assert (
        client.patch(
            reverse("risk-rule-detail", args=[rule.pk]), {"weight": 5}, content_type="application/json"
        ).status_code
        == 403
    )
    assert (
        client.post(
            reverse("risk-rule-transitions", args=[rule.pk]),
            {"action": "shadow"},
            content_type="application/json",
        ).status_code
        == 403
    )


def test_outsiders_see_no_rules(client_for, risk_manager, outsider_risk_manager):
    rule = write_rule(risk_manager, COFFEE)
    client = client_for(outsider_risk_manager)
    assert client.get(reverse("risk-rule-list")).json()["results"] == []
    assert client.get(reverse("risk-rule-detail", args=[rule.pk])).status_code == 404
    assert (
        client.patch(
            reverse("risk-rule-detail", args=[rule.pk]), {"weight": 5}, content_type="application/json"
        ).status_code
        == 404
    )


def test_assessments_are_read_with_their_hits(
    client_for, risk_manager, customs_analyst, subject_maker, outsider
):
    RiskSettings.objects.create(random_control_share=0.0)
    rule = write_rule(risk_manager, COFFEE, state="active")
    subject = subject_maker({"hs_code": "0901"})
    assess_subjects([subject.pk])
    data = client_for(customs_analyst).get(reverse("risk-assessment-list"), {"subject": subject.pk}).json()
    (assessment,) = data["results"]
    assert assessment["score"] == 70 and assessment["hits"][0]["rule_version"] == f"rule:{rule.pk}@v1"
    assert client_for(outsider).get(reverse("risk-assessment-list")).json()["results"] == []


def test_backtests_are_started_and_followed(
    client_for, risk_manager, subject_maker, django_capture_on_commit_callbacks
):
    rule = write_rule(risk_manager, COFFEE, state="active")
    subject_maker({"hs_code": "0901"})
    client = client_for(risk_manager)
    with django_capture_on_commit_callbacks(execute=True):
        started = client.post(
            reverse("risk-backtest-list"),
            {
                "rule": rule.pk,
                "period_start": "2025-03-01",
                "period_end": "2025-03-31",
                "compare_version": rule.live_version_id,
            },
            content_type="application/json",
        )
    assert started.status_code == 202, started.content
    followed = client.get(reverse("risk-backtest-detail", args=[started.json()["id"]])).json()
    assert followed["status"] == "done" and followed["percent"] == 100
    assert followed["results"]["tested"]["hits"] == 1 and followed["compare_version"] == f"rule:{rule.pk}@v1"
    refused = client.post(
        reverse("risk-backtest-list"),
        {"rule": rule.pk, "period_start": "2025-03-31", "period_end": "2025-03-01"},
        content_type="application/json",
    )
    assert refused.status_code == 400 and [e["field"] for e in refused.json()["errors"]] == ["period_end"]


def test_the_schema_describes_the_risk_api(client_for, customs_analyst):
    schema = client_for(customs_analyst).get(reverse("api-schema")).content.decode()
    assert "/api/v1/rules/" in schema and "/api/v1/backtests/" in schema and "/api/v1/assessments/" in schema

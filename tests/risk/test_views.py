"""The risk pages: list, editor with live parse feedback, lifecycle by POST, lab, backtest and assessment."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from apps.agencies.roles import Role
from apps.risk.models import Backtest, RiskSettings, Rule, RuleState
from apps.risk.services import assess_subjects
from tests.factories import member
from tests.risk.conftest import write_rule

COFFEE = 'hs_code prefix "0901" and origin_country in ("CO", "PE")'


def form_data(**overrides):
    data = {
        "name": "Coffee from the Andes",
        "subject_kind": "consignment",
        "risk_area": "narcotics",
        "weight": 70,
        "text": COFFEE,
        "ports": ["GBFXT"],
        "rationale": "Seizures in 2024.",
        "note": "",
    }
    data.update(overrides)
    return data


def test_rule_list_shows_badges_and_filters(client_for, risk_manager, customs_analyst):
    write_rule(risk_manager, COFFEE, name="Coffee", state="active")
    write_rule(risk_manager, "bags_count = 0", name="No bags", subject_kind="traveller")
    client = client_for(customs_analyst)
    page = client.get(reverse("risk:rules")).content.decode()
    assert "Coffee" in page and "No bags" in page and "rk-state-active" in page and "rk-state-draft" in page
    assert "New rule" not in page  # analysts read rules, they do not write them
    filtered = client.get(reverse("risk:rules"), {"state": "active"}, HTTP_HX_REQUEST="true").content.decode()
    assert 'id="rows"' in filtered and "Coffee" in filtered and "No bags" not in filtered
    assert "<html" not in filtered  # an htmx request gets the fragment only
    assert "No bags" in client.get(reverse("risk:rules"), {"kind": "traveller"}).content.decode()


def test_a_risk_manager_writes_a_rule_in_the_browser(client_for, risk_manager):
    client = client_for(risk_manager)
    assert client.get(reverse("risk:rule_new")).status_code == 200
    response = client.post(reverse("risk:rule_new"), form_data())
    rule = Rule.objects.get()
    assert response.status_code == 302 and response.url == reverse("risk:rule", args=[rule.pk])
    assert rule.latest.ports == ["GBFXT"] and rule.latest.text == COFFEE


def test_a_bad_condition_is_refused_with_the_column(client_for, risk_manager):
    response = client_for(risk_manager).post(reverse("risk:rule_new"), form_data(text='hs_code prefx "0901"'))
    assert response.status_code == 400 and not Rule.objects.exists()
    assert "column 9" in response.content.decode()


def test_live_parse_feedback(client_for, risk_manager):
    client = client_for(risk_manager)
    ok = client.post(reverse("risk:parse"), {"text": COFFEE, "subject_kind": "consignment"}).content.decode()
    assert "Understood" in ok and "&#x27;prefix&#x27;" in ok and "<html" not in ok
    bad = client.post(
        reverse("risk:parse"), {"text": 'origin_country = "CO" andd x', "subject_kind": "consignment"}
    )
    text = bad.content.decode()
    assert "column 23" in text and "<mark>andd x</mark>" in text


def test_editing_makes_a_new_version(client_for, risk_manager):
    rule = write_rule(risk_manager, COFFEE, state="active")
    client = client_for(risk_manager)
    page = client.get(reverse("risk:rule_edit", args=[rule.pk])).content.decode()
    assert "Save as a new version" in page and "hs_code prefix" in page
    response = client.post(reverse("risk:rule_edit", args=[rule.pk]), form_data(name=rule.name, weight=90))
    assert response.status_code == 302
    rule.refresh_from_db()
    assert rule.latest_number == 2 and rule.live_version.number == 1 and rule.has_unpublished_changes


def test_the_risk_manager_words_what_the_officer_is_told(client_for, risk_manager):
    """The plain line for the port is written in the editor, kept across versions and changeable alone."""
    client = client_for(risk_manager)
    said = "Narcotics: look inside the sacks of coffee."
    client.post(reverse("risk:rule_new"), form_data(officer_text=said))
    rule = Rule.objects.get()
    assert rule.officer_text == said
    page = client.get(reverse("risk:rule_edit", args=[rule.pk])).content.decode()
    assert said in page
    reworded = "Narcotics: open the first row of sacks."
    response = client.post(reverse("risk:rule_edit", args=[rule.pk]), form_data(officer_text=reworded))
    assert response.status_code == 302
    rule.refresh_from_db()
    assert rule.officer_text == reworded and rule.latest_number == 2


def test_readers_see_the_editor_disabled_and_cannot_post(client_for, risk_manager, customs_analyst):
    rule = write_rule(risk_manager, COFFEE)
    client = client_for(customs_analyst)
    page = client.get(reverse("risk:rule_edit", args=[rule.pk])).content.decode()
    assert "<fieldset disabled" in page and "Save as" not in page
    assert client.post(reverse("risk:rule_edit", args=[rule.pk]), form_data(weight=5)).status_code == 403
    assert client.get(reverse("risk:rule_new")).status_code == 403


def test_lifecycle_actions_are_posts_for_risk_managers(client_for, risk_manager, customs_analyst):
    rule = write_rule(risk_manager, COFFEE)
    url = reverse("risk:rule", args=[rule.pk])
    analyst = client_for(customs_analyst)
    page = analyst.get(url).content.decode()
    assert "Publish v1 to shadow" not in page
    # Refused by the service: said on the rule's page, and nothing moves.
    refused = analyst.post(reverse("risk:rule_shadow", args=[rule.pk]), follow=True)
    assert (
        refused.redirect_chain[-1][0] == url and 'class="message message-error"' in refused.content.decode()
    )
    assert Rule.objects.get(pk=rule.pk).state == RuleState.DRAFT
    manager = client_for(risk_manager)
    assert "Publish v1 to shadow" in manager.get(url).content.decode()
    manager.post(reverse("risk:rule_shadow", args=[rule.pk]))
    manager.post(reverse("risk:rule_activate", args=[rule.pk]), {"reason": "Looks right"})
    assert Rule.objects.get(pk=rule.pk).state == RuleState.ACTIVE
    response = manager.post(reverse("risk:rule_retire", args=[rule.pk]), follow=True)
    assert "Say why" in response.content.decode()
    manager.post(reverse("risk:rule_retire", args=[rule.pk]), {"reason": "Obsolete"})
    assert Rule.objects.get(pk=rule.pk).state == RuleState.RETIRED


def test_post_without_csrf_token_is_refused(client, risk_manager):
    from django.test import Client

    rule = write_rule(risk_manager, COFFEE)
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(risk_manager)
    assert strict.post(reverse("risk:rule_shadow", args=[rule.pk])).status_code == 403


def test_frontline_officers_do_not_see_rules(client_for, port_officer, risk_manager):
    rule = write_rule(risk_manager, COFFEE)
    client = client_for(port_officer)
    assert client.get(reverse("risk:rules")).status_code == 403
    assert client.get(reverse("risk:rule", args=[rule.pk])).status_code == 403


def test_lab_starts_a_backtest_and_the_page_polls_until_done(
    client_for, risk_manager, subject_maker, django_capture_on_commit_callbacks
):
    rule = write_rule(risk_manager, COFFEE)
    subject_maker({"hs_code": "0901", "origin_country": "CO"})
    client = client_for(risk_manager)
    assert client.get(reverse("risk:lab")).status_code == 200
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(
            reverse("risk:lab"), {"rule": rule.pk, "period_start": "2025-03-01", "period_end": "2025-03-31"}
        )
    backtest = Backtest.objects.get()
    assert response.url == reverse("risk:backtest", args=[backtest.pk])
    queued = client.get(response.url, HTTP_HX_REQUEST="true").content.decode()
    assert 'hx-trigger="every 1s"' in queued and "<html" not in queued
    for callback in callbacks:
        callback()
    done = client.get(response.url).content.decode()
    assert "every 1s" not in done and "What it would have done" in done and "GBFXT" in done


def test_assessment_page_explains_itself(client_for, customs_analyst, risk_manager, subject_maker):
    RiskSettings.objects.create(random_control_share=0.0)
    write_rule(risk_manager, COFFEE, name="Coffee", state="active", weight=60)
    write_rule(risk_manager, 'origin_country = "CO"', name="Colombia shadow", state="shadow", weight=30)
    (assessment,) = assess_subjects([subject_maker({"hs_code": "0901", "origin_country": "CO"}).pk])
    page = client_for(customs_analyst).get(reverse("risk:assessment", args=[assessment.pk])).content.decode()
    for expected in (
        "How the score was made",
        "Coffee (v1)",
        "Colombia shadow",
        "Watchlist entries",
        "Model",
        "hs_code",
        "Red (physical)",
        "Nominated as <a href=",
    ):
        assert expected in page, expected


@pytest.mark.parametrize(
    "role", [Role.ANALYST, Role.SUPERVISOR, Role.MANAGER, Role.AUDITOR, Role.RISK_MANAGER]
)
def test_rule_pages_for_every_reading_role(role, client_for, risk_manager, world):
    rule = write_rule(risk_manager, COFFEE)
    client = client_for(member(f"reader-{role}", world.customs, role))
    for url in (
        reverse("risk:rules"),
        reverse("risk:rule", args=[rule.pk]),
        reverse("risk:rule_edit", args=[rule.pk]),
    ):
        assert client.get(url).status_code == 200, url


def test_backtest_detail_shows_comparison(client_for, risk_manager, world):
    rule = write_rule(risk_manager, COFFEE, state="active")
    results = {
        "subjects": 10,
        "days": 2,
        "base": {"known": 4, "findings": 1, "random_known": 0, "rate": 0.25, "source": "all examinations"},
        "tested": {
            "hits": 3,
            "hit_share": 0.3,
            "examinations": 3,
            "examinations_per_day": 1.5,
            "alone_nominates": True,
            "by_port": {"GBFXT": 3},
            "by_day": {"2025-03-01": 3},
            "known": 2,
            "findings": 1,
            "precision": 0.5,
            "lift": 2.0,
        },
        "compared": None,
        "overlap": None,
    }
    backtest = Backtest.objects.create(
        owner_agency=world.customs,
        rule=rule,
        version=rule.latest,
        period_start=dt.date(2025, 3, 1),
        period_end=dt.date(2025, 3, 2),
        status="done",
        results=results,
        progress_done=10,
        progress_total=10,
    )
    page = client_for(risk_manager).get(reverse("risk:backtest", args=[backtest.pk])).content.decode()
    assert "50 %" in page and "2.00\u00d7" in page and "GBFXT" in page


def test_the_rule_page_names_no_traveller(client_for, world, risk_manager):
    """A rule's recent hits name consignments; a traveller only by kind and number (finding 4)."""
    from apps.risk.models import Assessment, Hit
    from tests.targeting.factories import TravellerFactory

    rule = write_rule(risk_manager, 'nationality == "XX"', state="active", subject_kind="traveller")
    traveller = TravellerFactory(source__owner_agency=world.customs, title="OKONKWO, Adaeze")
    assessment = Assessment.objects.create(subject=traveller, score=0.5, channel="yellow")
    Hit.objects.create(
        assessment=assessment, rule=rule, rule_version=rule.versions.last(), weight=10, risk_area="narcotics"
    )
    page = client_for(risk_manager).get(reverse("risk:rule", args=[rule.pk])).content.decode()
    assert "OKONKWO" not in page and f"Traveller #{traveller.pk}" in page

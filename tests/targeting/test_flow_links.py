"""The flow, linked both ways (issue 17, item 1): a hit → its assessment → nominate → the target, and back.

Every link is offered only to a viewer who may open what it points to: a partner agency that may see
the target is not led to the subject, assessment, rule or watchlist entry of another agency, and a
frontline officer (who reads the briefing) gets no links to rules, entries or assessments at all.
"""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.intake.models import SourceKind, Subject
from apps.risk.models import Assessment, RiskSettings
from apps.risk.services import assess_subjects
from apps.targeting import services
from apps.targeting.models import HandlingCode, Target, TargetShare
from apps.watchlists.models import WatchlistHit
from apps.watchlists.services import rule_hit
from tests.factories import DataSourceFactory
from tests.risk.conftest import write_rule

pytestmark = pytest.mark.django_db

ENTRY_NAME = "Viktor Anatolyevich BOUTOV"
RULED = "Date of birth and nationality agree with the listing; passport seen."


@pytest.fixture(autouse=True)
def _engine(db):
    """Scores alone decide (no random control); each test screens against its own lists."""
    from apps.watchlists.screening import clear_cache

    RiskSettings.objects.create(random_control_share=0.0)
    clear_cache()
    yield
    clear_cache()


@pytest.fixture
def lookout(world):
    """A customs lookout list (not shared) with one listed person."""
    from tests.watchlists.helpers import make_entry, make_list

    wl = make_list(world.customs, "Customs lookouts", default_handling="examine")
    entry = make_entry(wl, ENTRY_NAME, id="C-1", dates_of_birth=["1967-01-13"], nationalities=["RU"])
    return entry


@pytest.fixture
def api_source(world):
    return DataSourceFactory(owner_agency=world.customs, kind=SourceKind.API, name="CUS API")


def _traveller(source, world, full_name: str, nationality: str = "RUS") -> Subject:
    return Subject.objects.create(
        kind="traveller", source=source, owner_agency=source.owner_agency, external_id=f"api:{full_name}",
        title=f"{full_name} on BA117", port=world.port_a, received_at=timezone.now(),
        arrival_at=timezone.now() + timezone.timedelta(hours=20),
        facts={"full_name": full_name, "date_of_birth": "1967-01-13", "nationality": nationality,
               "booking_to_departure_hours": 12, "paid_cash": False, "bags_count": None},
    )  # fmt: skip


@pytest.fixture
def rule(risk_manager):
    return write_rule(
        risk_manager, 'nationality = "RUS"', name="Travellers from RU", subject_kind="traveller",
        risk_area="narcotics", weight=70, state="active",
    )  # fmt: skip


@pytest.fixture
def engine_target(world, api_source, lookout, rule) -> Target:
    """The engine assesses a listed traveller: the rule fires, the list matches, a target is nominated."""
    boutov = _traveller(api_source, world, "VIKTOR BOUTOV")
    assess_subjects([boutov.pk])
    return Target.objects.get(subject=boutov)


@pytest.fixture
def quiet_assessment(world, api_source, risk_manager) -> Assessment:
    """An assessment below the nomination threshold: a weak rule fired, no target came of it."""
    write_rule(
        risk_manager, 'nationality = "FRA"', name="Weak signal", subject_kind="traveller",
        risk_area="immigration", weight=20, state="active",
    )  # fmt: skip
    (assessment,) = assess_subjects([_traveller(api_source, world, "JEAN DUPONT", nationality="FRA").pk])
    assert not Target.objects.filter(subject_id=assessment.subject_id).exists()
    return assessment


def _page(client, target: Target) -> str:
    response = client.get(reverse("targeting:detail", args=[target.pk]))
    assert response.status_code == 200
    return response.content.decode()


# --------------------------------------------------------------------------- the target page


def test_the_target_page_links_to_its_subject_assessment_rule_and_watchlist_entry(
    client_for, customs_analyst, engine_target, rule, lookout
):
    page = _page(client_for(customs_analyst), engine_target)
    assessment = Assessment.objects.get(target_id=engine_target.pk)
    assert f'href="{reverse("intake:subject", args=[engine_target.subject_id])}"' in page
    assert f'href="{reverse("risk:assessment", args=[assessment.pk])}"' in page
    assert f'href="{reverse("risk:rule", args=[rule.pk])}#v1"' in page and "Travellers from RU v1" in page
    assert f'href="{reverse("watchlists:entry", args=[lookout.pk])}"' in page
    # And the assessment page links forward to the target that came of it.
    forward = (
        client_for(customs_analyst).get(reverse("risk:assessment", args=[assessment.pk])).content.decode()
    )
    assert f'href="{reverse("targeting:detail", args=[engine_target.pk])}"' in forward
    assert 'data-testid="assessment-target"' in forward and engine_target.reference in forward
    assert 'data-testid="nominate"' not in forward  # it has a live target: no second nomination offered


def test_a_partner_that_may_see_the_target_is_not_led_to_what_it_may_not_open(
    client_for, police_analyst, engine_target, rule, lookout, world
):
    TargetShare.objects.create(target=engine_target, agency=world.police, code=HandlingCode.SEE)
    page = _page(client_for(police_analyst), engine_target)
    for url in (
        reverse("intake:subject", args=[engine_target.subject_id]),
        reverse("risk:rule", args=[rule.pk]),
        reverse("watchlists:entry", args=[lookout.pk]),
        reverse("risk:assessment", args=[Assessment.objects.get(target_id=engine_target.pk).pk]),
    ):
        assert url not in page, url
    assert 'data-testid="flow-links"' not in page
    assert "BOUTOV" not in page.upper()  # neither the traveller nor the watched entry is named


def test_an_outsider_gets_nothing_not_even_the_page(client_for, outsider, engine_target):
    assert client_for(outsider).get(reverse("targeting:detail", args=[engine_target.pk])).status_code == 404


def test_a_frontline_officer_reads_the_briefing_with_no_links_to_rules_entries_or_assessments(
    client_for, customs_analyst, customs_supervisor, port_officer, engine_target, rule, lookout
):
    rule_hit(actor=customs_analyst, hit=WatchlistHit.objects.get(), ruling="true_match", reason=RULED)
    services.start_review(actor=customs_analyst, target=engine_target)
    services.submit_for_approval(actor=customs_analyst, target=engine_target)
    services.approve_target(actor=customs_supervisor, target=engine_target)
    instruction = services.dispatch_target(
        actor=customs_supervisor, target=engine_target, method="physical", instruction="Check the bags"
    )
    page = _page(client_for(port_officer), Target.objects.get(pk=engine_target.pk))
    for url in (
        reverse("risk:rule", args=[rule.pk]),
        reverse("watchlists:entry", args=[lookout.pk]),
        reverse("intake:subject", args=[engine_target.subject_id]),
        reverse("risk:assessment", args=[Assessment.objects.get(target_id=engine_target.pk).pk]),
    ):
        assert url not in page, url
    # His own examination page is his to open.
    assert f'href="{reverse("frontline:instruction", args=[instruction.pk])}"' in page


# --------------------------------------------------------------------------- nominate, and back


def test_the_nominate_button_is_offered_to_an_analyst_and_not_to_roles_that_may_not_nominate(
    client_for, customs_analyst, risk_manager, manager, quiet_assessment
):
    url = reverse("risk:assessment", args=[quiet_assessment.pk])
    analyst = client_for(customs_analyst).get(url).content.decode()
    nominate = reverse("targeting:nominate", args=[quiet_assessment.subject_id])
    assert 'data-testid="nominate"' in analyst
    assert f'href="{nominate}?assessment={quiet_assessment.pk}"' in analyst
    for reader in (risk_manager, manager):  # they read assessments, they do not nominate
        page = client_for(reader).get(url).content.decode()
        assert 'data-testid="nominate"' not in page and nominate not in page


def test_nominating_from_an_assessment_carries_its_reasons_and_links_both_ways(
    client_for, customs_analyst, quiet_assessment
):
    client = client_for(customs_analyst)
    url = reverse("targeting:nominate", args=[quiet_assessment.subject_id])
    form = client.get(url, {"assessment": quiet_assessment.pk}).content.decode()
    assert 'data-testid="from-assessment"' in form and 'name="assessment"' in form
    response = client.post(
        url,
        {"assessment": quiet_assessment.pk, "risk_area": "immigration", "priority": 40,
         "reason": "Paid cash the day before; look at the return ticket."},
    )  # fmt: skip
    target = Target.objects.get(subject_id=quiet_assessment.subject_id)
    assert response.status_code == 302 and response.url == reverse("targeting:detail", args=[target.pk])
    kinds = {r["kind"]: r for r in target.reasons}
    assert (
        kinds["rule"]["ref"].startswith("rule:")
        and kinds["person"]["ref"] == f"assessment:{quiet_assessment.pk}"
    )
    page = _page(client, target)
    assert f'href="{reverse("risk:assessment", args=[quiet_assessment.pk])}"' in page
    assert "Weak signal v1" in page
    back = client.get(reverse("risk:assessment", args=[quiet_assessment.pk])).content.decode()
    assert 'data-testid="assessment-target"' in back and target.reference in back
    assert 'data-testid="nominate"' not in back


def test_an_assessment_the_nominator_may_not_see_is_ignored(
    client_for, customs_analyst, outsider, world, quiet_assessment
):
    """A forged ``assessment`` of another subject carries nothing and links nothing."""
    other = Subject.objects.create(
        kind="consignment", source=DataSourceFactory(owner_agency=world.customs), owner_agency=world.customs,
        external_id="DEC-1", title="Machine parts", received_at=timezone.now(),
    )  # fmt: skip
    client = client_for(customs_analyst)
    client.post(
        reverse("targeting:nominate", args=[other.pk]),
        {"assessment": quiet_assessment.pk, "risk_area": "revenue", "reason": "Undervalued"},
    )
    target = Target.objects.get(subject=other)
    assert [r["kind"] for r in target.reasons] == ["person"] and not target.reasons[0]["ref"]


# --------------------------------------------------------------------------- hits: the rule's and the watchlist's


def test_the_rules_recent_hits_offer_nominate_or_the_open_target(
    client_for, customs_analyst, risk_manager, quiet_assessment, engine_target, rule
):
    from apps.risk.models import Hit

    weak = Hit.objects.get(assessment=quiet_assessment).rule
    page = client_for(customs_analyst).get(reverse("risk:rule", args=[weak.pk])).content.decode()
    assert f"{reverse('targeting:nominate', args=[quiet_assessment.subject_id])}?assessment=" in page
    assert (
        'data-testid="nominate"'
        not in client_for(risk_manager).get(reverse("risk:rule", args=[weak.pk])).content.decode()
    )
    fired = client_for(customs_analyst).get(reverse("risk:rule", args=[rule.pk])).content.decode()
    assert f"Open target {engine_target.reference}" in fired
    assert (
        f'href="{reverse("targeting:detail", args=[engine_target.pk])}"' in fired
    )  # targets that came of it


def test_the_watchlist_pages_lead_to_the_assessment_the_target_and_back(
    client_for, customs_analyst, risk_manager, engine_target, lookout
):
    hits = client_for(customs_analyst).get(reverse("watchlists:hits")).content.decode()
    hit = WatchlistHit.objects.get()
    assert f"Open target {engine_target.reference}" in hits
    assert f'href="{reverse("risk:assessment", args=[hit.last_assessment_id])}"' in hits
    entry = client_for(customs_analyst).get(reverse("watchlists:entry", args=[lookout.pk])).content.decode()
    assert 'data-testid="entry-outcomes"' in entry and engine_target.reference in entry
    # A risk manager keeps lists but does not read targets: the assessments, not the targets.
    keeper = client_for(risk_manager).get(reverse("watchlists:entry", args=[lookout.pk])).content.decode()
    assert engine_target.reference not in keeper
    assert reverse("risk:assessment", args=[hit.last_assessment_id]) in keeper


# --------------------------------------------------------------------------- facts in words


def test_the_target_page_shows_facts_in_words(client_for, customs_analyst, engine_target):
    page = _page(client_for(customs_analyst), engine_target)
    assert "Booked before departure" in page and "12 h" in page
    assert "Paid in cash" in page and "<dd>No</dd>" in page
    assert "booking_to_departure_hours</dt>" not in page and "None" not in page
    assert "Checked bags" not in page  # nothing known: left out


def test_words_for_facts_and_codes():
    from apps.targeting.words import code_label, fact_label, fact_value, facts_in_words

    assert fact_label("booking_to_departure_hours") == "Booked before departure"
    assert fact_label("some_new_fact") == "Some new fact"
    assert fact_value(12, "booking_to_departure_hours") == "12 h"
    assert (
        fact_value(12.5, "gross_mass_kg") == "12.5 kg"
        and fact_value(1234567.891, "declared_value") == "1,234,567.89"
    )
    assert fact_value(True) == "Yes" and fact_value(False) == "No" and fact_value(None) == "—"
    assert fact_value(0.25, "finding_rate") == "25 %" and fact_value(["CO", "PA"]) == "CO, PA"
    assert (
        fact_value("2025-02-27", "booking_date") == "27 Feb 2025"
        and fact_value("cash", "payment_form") == "Cash"
    )
    assert fact_value(1.0, "paid_cash") == "Yes" and fact_value(1, "bags_count") == "1"
    assert code_label("ipr") == "Intellectual property" and code_label("red", "channel") == "Red (physical)"
    assert code_label("unknown") == "unknown" and code_label("") == "—"
    assert [f.label for f in facts_in_words({"paid_cash": True, "bags_count": None})] == ["Paid in cash"]

"""The assessments list (issue 17, item 1): scoped by ``Assessment.visible_to``, filtered, paged, linked.

Another agency's assessments are never listed; a target on the subject counts (and is linked) only when
the viewer may see it; each row leads to the assessment, the subject and the target.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from guardian.shortcuts import assign_perm

from apps.agencies.roles import Role
from apps.compliance.models import AccessLogEntry
from apps.risk import assessments as listing
from apps.risk.models import Assessment, RiskSettings
from apps.risk.services import assess_subjects
from apps.targeting import services as targeting
from apps.targeting.models import Target
from tests.factories import DataSourceFactory, member
from tests.risk.conftest import make_subject, write_rule

pytestmark = pytest.mark.django_db

URL = "/risk/assessments/"
COFFEE = {"hs_code": "09011100", "origin_country": "CO"}
TEA = {"hs_code": "09021000", "origin_country": "CN"}


@pytest.fixture(autouse=True)
def _no_random_control(db):
    RiskSettings.objects.create(random_control_share=0.0)


@pytest.fixture
def floor(world, risk_manager, customs_source):
    """Customs: coffee at Felixstowe (a red hit, nominated by the engine), tea at Heathrow (green).
    Biosecurity: a consignment of its own, assessed as well."""
    rule = write_rule(risk_manager, 'hs_code prefix "0901"', name="Coffee", state="active", weight=70)
    coffee = make_subject(customs_source, COFFEE, port=world.port_a)
    tea = make_subject(customs_source, TEA, port=world.port_b)
    bio_source = DataSourceFactory(owner_agency=world.bio, name="BIO declarations")
    plants = make_subject(bio_source, {"hs_code": "0602", "origin_country": "NL"}, port=world.port_a)
    by_subject = {a.subject_id: a for a in assess_subjects([coffee.pk, tea.pk, plants.pk])}
    return {
        "rule": rule,
        "coffee": by_subject[coffee.pk],
        "tea": by_subject[tea.pk],
        "plants": by_subject[plants.pk],
        "source": customs_source,
    }


def _rows(client, **params) -> str:
    response = client.get(URL, params)
    assert response.status_code == 200
    return response.content.decode()


def _listed(body: str, *assessments: Assessment) -> list[bool]:
    return [f'data-assessment="{a.pk}"' in body for a in assessments]


def test_an_agency_sees_its_own_assessments_never_anothers(client_for, customs_analyst, outsider, floor):
    coffee, tea, plants = floor["coffee"], floor["tea"], floor["plants"]
    assert _listed(_rows(client_for(customs_analyst)), coffee, tea, plants) == [True, True, False]
    assert _listed(_rows(client_for(outsider)), coffee, tea, plants) == [False, False, True]
    # Every filter narrows within the scope: none brings the other agency's rows in.
    assert _listed(_rows(client_for(customs_analyst), port="GBFXT"), coffee, plants) == [True, False]


def test_each_row_links_to_the_assessment_the_subject_and_the_target(client_for, customs_analyst, floor):
    coffee = floor["coffee"]
    target = Target.objects.get(pk=coffee.target_id)
    body = _rows(client_for(customs_analyst))
    assert reverse("risk:assessment", args=[coffee.pk]) in body
    assert reverse("intake:subject", args=[coffee.subject_id]) in body
    assert f'href="{reverse("targeting:detail", args=[target.pk])}"' in body and target.reference in body
    # The untargeted tea offers a nomination from its assessment instead.
    tea = floor["tea"]
    assert f"{reverse('targeting:nominate', args=[tea.subject_id])}?assessment={tea.pk}" in body


def test_the_filters(client_for, customs_analyst, floor):
    client = client_for(customs_analyst)
    coffee, tea = floor["coffee"], floor["tea"]
    assert _listed(_rows(client, area="narcotics"), coffee, tea) == [True, False]
    assert _listed(_rows(client, band="high"), coffee, tea) == [True, False]
    assert _listed(_rows(client, band="low"), coffee, tea) == [False, True]
    assert _listed(_rows(client, rule=floor["rule"].pk), coffee, tea) == [True, False]
    assert _listed(_rows(client, targeted="yes"), coffee, tea) == [True, False]
    assert _listed(_rows(client, targeted="no"), coffee, tea) == [False, True]
    assert _listed(_rows(client, port="GBLHR"), coffee, tea) == [False, True]
    today = coffee.created_at.date()
    assert _listed(_rows(client, **{"from": today.isoformat(), "to": today.isoformat()}), coffee, tea) == [
        True,
        True,
    ]
    tomorrow = (today + dt.timedelta(days=1)).isoformat()
    assert _listed(_rows(client, **{"from": tomorrow}), coffee, tea) == [False, False]
    # A bad date is named and ignored, never a server error.
    body = _rows(client, **{"from": "03/12/2026"})
    assert "is not a date" in body and _listed(body, coffee, tea) == [True, True]
    # The htmx request gets the results fragment only.
    fragment = client.get(URL, {"band": "high"}, HTTP_HX_REQUEST="true").content.decode()
    assert 'id="results"' in fragment and "<html" not in fragment


def test_another_agencys_rule_is_no_filter(client_for, outsider, floor):
    """Filtering by a rule the viewer may not see would tell which of his subjects it hit: ignored."""
    body = _rows(client_for(outsider), rule=floor["rule"].pk)
    assert _listed(body, floor["plants"]) == [True] and "Coffee" not in body


def test_a_target_the_viewer_may_not_see_neither_counts_nor_shows(client_for, world, floor, customs_analyst):
    """Police may read the customs source (granted) but not the customs target on the coffee."""
    assign_perm("intake.view_datasource", world.police.group, floor["source"])
    police = member("pam", world.police, Role.ANALYST)
    coffee = floor["coffee"]
    client = client_for(police)
    body = _rows(client)
    assert _listed(body, coffee) == [True]
    assert Target.objects.get(pk=coffee.target_id).reference not in body
    assert _listed(_rows(client, targeted="yes"), coffee) == [False]
    assert _listed(_rows(client, targeted="no"), coffee) == [True]
    # Police nominates its own target from the assessment: that one counts, and shows, for police only.
    theirs = targeting.nominate_target(
        actor=police, subject=coffee.subject, risk_area="narcotics", reasons=[], reason="Our own lead"
    )
    body = _rows(client, targeted="yes")
    assert _listed(body, coffee) == [True] and theirs.reference in body


def test_pages_without_counting(client_for, customs_analyst, customs_source, world, monkeypatch):
    subjects = [make_subject(customs_source, TEA, port=world.port_a) for _ in range(5)]
    assess_subjects([s.pk for s in subjects])
    monkeypatch.setattr(listing, "PAGE_SIZE", 2)
    client = client_for(customs_analyst)
    first = _rows(client)
    newest = list(Assessment.objects.order_by("-created_at", "-pk"))
    assert _listed(first, *newest[:3]) == [True, True, False] and 'data-testid="next-page"' in first
    last = _rows(client, page=3)
    assert _listed(last, newest[4]) == [True] and 'data-testid="next-page"' not in last
    assert "Newer" in last and "Newer" not in first
    assert _rows(client, page="x").count("data-assessment=") == 2  # a bad page is the first


def test_roles_and_the_purpose_gate(client_for, customs_analyst, port_officer, police_liaison, floor):
    assert client_for(port_officer).get(URL).status_code == 403
    assert client_for(police_liaison).get(URL).status_code == 403
    assert client_for(customs_analyst, purpose=None).get(URL).status_code == 302  # purpose first
    _rows(client_for(customs_analyst))
    assert AccessLogEntry.objects.filter(user=customs_analyst, object_type="assessment").exists()


def test_the_list_is_in_the_navigation_for_those_who_read_assessments(
    client_for, customs_analyst, port_officer
):
    from apps.core.navigation import items_for

    assert URL in [i["url"] for i in items_for(customs_analyst)]
    assert URL not in [i["url"] for i in items_for(port_officer)]

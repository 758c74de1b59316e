"""The random draw of an assessment is told to the subject's owner agency only.

A partner that reads the owner's source (granted) sees the assessment, its score and its channel, but
neither the "random" mark in the list, the draw on the page nor ``random_control`` in the API: it
would treat what it acts on as chosen by chance (``apps.risk.random_control``).
"""

from __future__ import annotations

import pytest
from django.urls import reverse
from guardian.shortcuts import assign_perm
from rest_framework.test import APIClient

from apps.agencies.roles import Role
from apps.risk.models import RiskSettings
from apps.risk.services import assess_subjects
from tests.factories import member
from tests.risk.conftest import make_subject

pytestmark = pytest.mark.django_db


@pytest.fixture
def drawn(world, customs_source):
    """Tea at Felixstowe, which no rule flags, drawn for random control (every subject is drawn)."""
    RiskSettings.objects.create(random_control_share=1.0)
    tea = make_subject(customs_source, {"hs_code": "09021000", "origin_country": "CN"}, port=world.port_a)
    [assessment] = assess_subjects([tea.pk])
    assert assessment.random_control
    assign_perm("intake.view_datasource", world.police.group, customs_source)
    return assessment


def _api(user, assessment) -> dict:
    client = APIClient()
    client.force_authenticate(user)
    response = client.get(
        reverse("risk-assessment-detail", args=[assessment.pk]), HTTP_X_ACCESS_PURPOSE="risk_analysis"
    )
    assert response.status_code == 200, response.content
    return response.json()


def test_the_owner_is_told_and_the_partner_is_not(drawn, world, customs_analyst, client_for):
    police = member("pam", world.police, Role.ANALYST)
    told = {
        "page": "Selected by chance for random control",
        "list": 'title="Selected by chance for random control"',
    }
    for user, expected in ((customs_analyst, True), (police, False)):
        client = client_for(user)
        page = client.get(reverse("risk:assessment", args=[drawn.pk]))
        assert page.status_code == 200
        assert (told["page"] in page.content.decode()) is expected, user
        listing = client.get(reverse("risk:assessments"))
        assert listing.status_code == 200 and f'data-assessment="{drawn.pk}"' in listing.content.decode()
        assert (told["list"] in listing.content.decode()) is expected, user
        body = _api(user, drawn)
        assert body["random_control"] is (True if expected else None), user
        assert ("random_control" in body["explanation"]) is expected, user

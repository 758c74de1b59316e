"""Random control in the reports of a partner agency: a target shared with it is a risk target there.

The owner agency's floor is told which targets were drawn by chance (``random_control_told_to``); a
partner the targets are shared with is not, on the target's pages nor here: its figures, tables,
exports and API count a drawn target as any other, and its random baseline holds none of them. The
known history (``conftest``) has one random draw, T1, examined with a seizure.
"""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from apps.agencies.roles import Role
from apps.intake.services import share_source
from apps.reports import measures as m
from apps.reports.effectiveness import ledger
from apps.reports.stats import refresh_daily_stats
from apps.targeting.services.sharing import share_target
from tests.factories import member
from tests.reports.conftest import PERIOD

pytestmark = pytest.mark.django_db
QUERY = {"start": str(PERIOD.start), "end": str(PERIOD.end)}


@pytest.fixture
def shared(history, world):
    """Every target of the history shared with the police, and the customs subjects' source too."""
    for target in history.targets:
        share_target(actor=history.bob, target=target, agency=world.police)
    admin = member("ada", world.customs, Role.ADMINISTRATOR)
    share_source(actor=admin, source=history.subjects[6].source, agency=world.police)
    refresh_daily_stats(date(2026, 2, 1), date(2026, 3, 31))
    return history


def _api(user, name: str, **params) -> dict:
    client = APIClient()
    client.force_authenticate(user)
    response = client.get(reverse(name), {**QUERY, **params})
    assert response.status_code == 200, response.content
    return response.json()


def test_the_partner_counts_the_draw_as_a_risk_examination(shared, manager, police_manager):
    mine, theirs = m.examination_figures(manager, PERIOD), m.examination_figures(police_manager, PERIOD)
    assert (mine["examinations_random"], mine["findings_random"]) == (1, 1)
    # The police see the same three examinations, T1's seizure among the risk-selected ones.
    assert theirs["examinations"] == mine["examinations"] == 3
    assert (theirs["examinations_random"], theirs["findings_random"], theirs["hit_rate_random"]) == (
        0,
        0,
        None,
    )
    assert (theirs["examinations_risk"], theirs["findings_risk"]) == (3, 2)
    # Subjects assessed: the draw is told to the owner only, wherever the partner sees the subject.
    assert m.subject_figures(manager, PERIOD)["random_control_assessed"] == 1
    assert m.subject_figures(police_manager, PERIOD)["arrivals"] == 2  # S6 (its source shared) and their own
    assert m.subject_figures(police_manager, PERIOD)["random_control_assessed"] == 0


def test_the_partner_has_no_random_baseline_in_the_ledger(shared, manager, police_manager):
    assert ledger(manager, PERIOD).base_exams == 1
    book = ledger(police_manager, PERIOD)
    assert (book.base_exams, book.base_findings, book.baselines, book.missed) == (0, 0, [], [])


def test_the_api_and_the_exports_tell_the_partner_nothing_of_the_draw(
    shared, manager, police_manager, client_for
):
    measures = {x["key"]: x for x in _api(police_manager, "report-measures")["measures"]}
    assert measures["examinations"]["value"] == 3
    assert measures["hit_rate_random"]["value"] is None
    owners = {x["key"]: x for x in _api(manager, "report-measures")["measures"]}
    assert owners["hit_rate_random"]["value"] == 1.0
    assert _api(police_manager, "report-ledger")["random_control"]["examinations"] == 0
    assert _api(manager, "report-ledger")["random_control"]["examinations"] == 1
    # The page's summary file: examinations 3 (as the owner's), and no random-control row with a count.
    csv = client_for(police_manager).get(
        reverse("reports:export"), {**QUERY, "table": "summary", "format": "csv"}
    )
    assert csv.status_code == 200
    lines = csv.content.decode("utf-8-sig").splitlines()
    assert any(line.startswith("Examinations,3,") for line in lines)
    random_rows = [line for line in lines if "random" in line.lower()]
    assert random_rows and all(",0," not in line and ",1," not in line for line in random_rows), random_rows
    # The random baseline by stratum: the owner's file has T1's stratum, the partner's none.
    for user, baselines in ((manager, 1), (police_manager, 0)):
        strata = client_for(user).get(
            reverse("reports:export"), {**QUERY, "table": "ledger_strata", "format": "csv"}
        )
        lines = strata.content.decode("utf-8-sig").splitlines()
        assert len([line for line in lines if line.startswith("Random control,")]) == baselines, lines

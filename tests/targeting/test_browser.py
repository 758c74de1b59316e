"""In a real browser: an analyst nominates, a supervisor approves and dispatches, the port officer sees it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.agencies.models import Port
from apps.core.demo import DEMO_PASSWORD, ensure_demo_world
from apps.intake.models import DataSource, Subject, SubjectKind
from apps.targeting.models import Target, TargetState
from tests.browser.conftest import sign_in

# Without Chromium the plugin tests.browser_support skips these (fails them with RATC_REQUIRE_BROWSER=1).
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def demo(live_server, settings):
    settings.RATC_DEMO = True
    ensure_demo_world()
    return live_server.url


@pytest.fixture
def consignment(demo):
    source = DataSource.objects.get(name="Import declarations")
    return Subject.objects.create(
        kind=SubjectKind.CONSIGNMENT, source=source, owner_agency=source.owner_agency, external_id="DEC-2026-000417",
        title="40ft container, 'garden furniture', consignee registered 3 weeks ago",
        port=Port.objects.get(locode="GBFXT"), arrival_at=timezone.now() + timedelta(hours=5),
        received_at=timezone.now(), facts={"hs_code": "9403", "origin_country": "EC", "value_per_kg": 0.4},
    )  # fmt: skip


def test_nominate_approve_dispatch_and_the_port_sees_it(demo, consignment, new_page, screenshot):
    analyst = new_page()
    sign_in(analyst, demo, "analyst", DEMO_PASSWORD)
    analyst.goto(f"{demo}/targets/nominate/{consignment.pk}/")
    # A subject may be a person: the purpose of access is asked first, once per session.
    analyst.check("input[value=risk_analysis]")
    analyst.click("text=Continue")
    analyst.select_option("#risk_area", "narcotics")
    analyst.fill("#priority", "75")
    analyst.fill(
        "#reason", "Garden furniture from Ecuador at 0.40 per kg; new consignee; route used in two seizures."
    )
    screenshot(analyst, "targeting-nominate")
    analyst.click("button[type=submit]:has-text('Nominate')")
    analyst.wait_for_selector("text=nominated.")
    target = Target.objects.get(subject=consignment)
    analyst.click("[data-action=start_review]")
    analyst.wait_for_selector(".tg-state-in_review")
    analyst.fill("#reason", "Checked the route and the consignee: propose physical examination.")
    analyst.click("[data-action=submit]")
    analyst.wait_for_selector(".tg-state-awaiting_approval")
    assert not analyst.locator("[data-action=approve]").count()
    screenshot(analyst, "targeting-detail-analyst")

    supervisor = new_page(viewport=(1920, 1080))
    sign_in(supervisor, demo, "supervisor", DEMO_PASSWORD)
    supervisor.goto(f"{demo}/targets/queues/")
    screenshot(supervisor, "targeting-queues")
    supervisor.goto(f"{demo}/targets/{target.pk}/")
    supervisor.check("input[value=risk_analysis]")
    supervisor.click("text=Continue")
    supervisor.fill("#reason", "Agreed.")
    supervisor.click("[data-action=approve]")
    supervisor.wait_for_selector(".tg-state-approved")
    supervisor.select_option("#method", "physical")
    supervisor.fill(
        "#instruction", "Narcotics risk: open the container, check the furniture frames for cavities."
    )
    supervisor.click("[data-action=dispatch]")
    supervisor.wait_for_selector(".tg-state-dispatched")
    screenshot(supervisor, "targeting-detail-supervisor")
    assert Target.objects.get(pk=target.pk).state == TargetState.DISPATCHED

    officer = new_page(viewport=(800, 1280), has_touch=True, is_mobile=True)
    sign_in(officer, demo, "officer.felixstowe", DEMO_PASSWORD)
    officer.goto(f"{demo}/targets/instructions/")
    card = officer.locator("[data-testid=instruction]").first
    assert target.reference in card.inner_text() and "cavities" in card.inner_text()
    screenshot(officer, "targeting-instructions-tablet")

    other = new_page(viewport=(800, 1280), has_touch=True, is_mobile=True)
    sign_in(other, demo, "officer.heathrow", DEMO_PASSWORD)
    other.goto(f"{demo}/targets/instructions/")
    assert other.locator("[data-testid=instruction]").count() == 0


def test_dispatch_proposal_page(demo, consignment, new_page, screenshot):
    # Made directly: services publish live events, which cannot run inside Playwright's event loop.
    target = Target.objects.create(
        subject=consignment, owner_agency=consignment.owner_agency, risk_area="narcotics", port=consignment.port,
        arrival_at=consignment.arrival_at, by_engine=True, score=0.8, state=TargetState.APPROVED,
        reasons=[{"kind": "rule", "text": "Route risk", "ref": "R-1"}],
    )  # fmt: skip
    page = new_page(viewport=(1920, 1080))
    sign_in(page, demo, "supervisor", DEMO_PASSWORD)
    page.goto(f"{demo}/targets/dispatch/?port=GBFXT&shift=early")
    page.click("[data-action=propose]")
    page.wait_for_selector("text=Expected findings")
    screenshot(page, "targeting-dispatch")
    page.click("[data-action=accept]")
    page.wait_for_selector("text=instruction(s) sent")
    assert Target.objects.get(pk=target.pk).state == TargetState.DISPATCHED

"""In the browser: the outgoing supervisor hands over, the incoming one sees it waiting and acknowledges."""

from __future__ import annotations

import pytest

from tests.browser.conftest import sign_in
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_handover_from_one_supervisor_to_the_next(
    live_server,
    new_page,
    screenshot,
    floor,
    customs_supervisor,
    incoming_supervisor,
):
    page = new_page()
    sign_in(page, live_server.url, "bob", PASSWORD)
    page.locator("nav.sidenav a", has_text="Shift handover").click()
    page.select_option("#ho-desk", label="National desk")
    page.click("button:has-text('Prepare')")
    page.wait_for_selector('[data-testid="handover-state"]')
    assert page.locator('[data-testid="section-breaches"] li').count() == 1
    page.fill("#ho-text", "Police to confirm the controlled delivery")
    page.select_option("#ho-target", label=f"{floor.held.reference} · Narcotics")
    page.click("text=Add item")
    page.fill("#ho-notes", "Two partner requests open; FXT breach needs a decision first thing.")
    page.click("button:has-text('Hand over')")
    page.wait_for_selector("text=Awaiting acknowledgement")

    page.context.clear_cookies()
    sign_in(page, live_server.url, "carol", PASSWORD)
    panel = page.locator('[data-testid="panel-handover"]')
    assert "Awaiting acknowledgement" in panel.inner_text()
    screenshot(page, "handover-home-awaiting")
    panel.locator("a", has_text="National desk").click()
    page.wait_for_selector("text=Acknowledge: I take the desk")
    assert "Police to confirm the controlled delivery" in page.locator('[data-testid="items"]').inner_text()
    screenshot(page, "handover-detail")
    page.click("text=Acknowledge: I take the desk")
    page.wait_for_selector('[data-testid="handover-state"]:has-text("Acknowledged")')
    page.goto(live_server.url + "/")
    assert (
        "Every handover has been acknowledged." in page.locator('[data-testid="panel-handover"]').inner_text()
    )

"""An analyst loads a PNR file in the browser, follows the intake and opens a traveller's page."""

import pytest
from playwright.sync_api import expect

from apps.core.demo import DEMO_PASSWORD, ensure_demo_world
from tests.browser.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_upload_follow_progress_and_open_subject(live_server, new_page, screenshot, shared_data):
    ensure_demo_world()
    page = new_page()
    sign_in(page, live_server.url, "analyst", DEMO_PASSWORD)
    page.locator("nav.sidenav >> text=Intake").click()
    page.select_option("#id_source", label="PNR — passenger information unit")
    page.set_input_files(
        "#id_files", str(shared_data / "passenger-messages" / "pnrgov" / "gtas_pnrWithBags.txt")
    )
    screenshot(page, "intake-upload")
    page.click("text=Start intake")
    page.wait_for_selector("text=Done")
    assert page.locator(".progress-row strong").inner_text() == "100%"
    stored = int(page.locator("dt:has-text('Subjects') + dd").inner_text())
    assert stored > 100
    assert int(page.locator("dt:has-text('Sensitive fields filtered') + dd").inner_text()) > 0
    screenshot(page, "intake-run")
    page.locator("nav.sidenav >> text=Subjects").click()
    # Personal data: the purpose of access is asked once per session, then logged with every view.
    page.check("input[value=risk_analysis]")
    screenshot(page, "purpose-of-access")
    page.click("text=Continue")
    page.select_option("#kind", "traveller")
    page.wait_for_url("**kind=traveller**")
    page.wait_for_load_state("networkidle")
    page.locator("#results a").first.click()
    # The click starts a navigation; expect() waits for the new page, is_visible() would read the old one.
    expect(page.locator("h2", has_text="Links")).to_be_visible()
    # One person, one page: the records it merges, and the booking among the trip's facts.
    assert page.locator("h2", has_text="Records of this").is_visible()
    assert page.locator("h3", has_text="Booking").first.is_visible()
    screenshot(page, "subject-traveller")

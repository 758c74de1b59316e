"""In the browser: the carriers ranked, one carrier's page, and a request for the missing data sent."""

from __future__ import annotations

import pytest
from django.core import mail

from tests.browser.conftest import sign_in
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_supervisor_ranks_the_carriers_and_asks_one_for_its_data(
    live_server,
    new_page,
    screenshot,
    small_set,
    customs_supervisor,
):
    page = new_page()
    sign_in(page, live_server.url, "bob", PASSWORD)
    page.locator("nav.sidenav a", has_text="Data quality").click()
    rows = page.locator('[data-testid="carrier-ranking"] tbody tr')
    assert [rows.nth(i).get_attribute("data-carrier") for i in range(3)] == ["-", "CD", "AB"]
    assert "75.0\xa0%" in rows.nth(2).locator('[data-testid="completeness"]').inner_text()
    screenshot(page, "quality-carriers")
    rows.nth(1).locator("a").first.click()
    page.wait_for_selector("text=Where data is missing")
    page.fill("#id_contact_name", "CD Air")
    page.fill("#id_contact_email", "api@cd-air.example")
    screenshot(page, "quality-carrier")
    page.click("text=Send the request")
    page.wait_for_selector("text=Request sent to api@cd-air.example")
    assert len(mail.outbox) == 1 and "Travel document number" in mail.outbox[0].body

"""The incoming-alert queue and one alert, as an analyst sees them in Chromium. Screenshots go to
artifacts/screenshots/alerts-*.png."""

from __future__ import annotations

import copy

import pytest

from apps.alerts import services, stix
from tests.alerts.test_exchange import _grouping, _partner_bundle
from tests.alerts.world import seed_site
from tests.browser.conftest import sign_in
from tests.factories import PASSWORD

# Without Chromium the plugin tests.browser_support skips these (fails them with RATC_REQUIRE_BROWSER=1).
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


def test_the_analyst_works_the_incoming_queue(live_server, new_page, screenshot):
    site = seed_site(code="CUS", partner_code="BEC", partner_name="Belgian Customs")
    courier = _partner_bundle(
        subject_kind="traveller", risk_area="narcotics", containers=[], flight="SN2093", port_locode="GBLHR",
        traveller={"name": "IVANOVA, Maria", "date_of_birth": "1984-03-02", "nationality": "RU"},
    )  # fmt: skip
    information = _partner_bundle(risk_area="revenue", trader_id="BE0123456789", customs_procedure="4200")
    _grouping(information)["object_marking_refs"] = [stix.TLP["amber+strict"], stix.NO_ACTION]
    consent = _partner_bundle(subject_kind="conveyance", risk_area="security", vessel_imo="9321483")
    _grouping(consent)["object_marking_refs"] = [stix.TLP["amber"], stix.CONSENT]
    container = _partner_bundle(risk_area="narcotics", description="Cocaine in machine parts, Guayaquil")
    for bundle in (courier, information, consent, container):
        services.import_bundle(partner=site.partner, data=copy.deepcopy(bundle))

    page = new_page()
    sign_in(page, live_server.url, site.analyst.username, PASSWORD)
    page.goto(f"{live_server.url}/alerts/")
    rows = page.locator("[data-testid=alert-row]")
    assert rows.count() == 4
    assert (
        page.get_by_text("information only").count() == 1 and page.get_by_text("consent needed").count() == 1
    )
    screenshot(page, "alerts-queue")

    assert page.get_by_role("link", name="Partner alerts").count() == 1  # in the navigation
    with page.expect_navigation():  # the traveller's alert (references count on from earlier tests' rows)
        rows.filter(has_text="Traveller").get_by_role("link").first.click()
    if page.locator("input[name=purpose]").count():  # an alert may name a traveller: the purpose first
        page.check("input[value=risk_analysis]")
        with page.expect_navigation():
            page.click("text=Continue")
    assert "IVANOVA, Maria" in page.locator("[data-testid=traveller]").inner_text()
    screenshot(page, "alerts-incoming")
    # The consignment alert: the analyst picks the subject that carries its container, and nominates.
    page.goto(f"{live_server.url}/alerts/")
    with page.expect_navigation():
        rows.filter(has_text="Narcotics").filter(has_text="Consignment").get_by_role("link").first.click()
    assert site.subject.external_id in page.locator("label.choice").first.inner_text()
    screenshot(page, "alerts-incoming-consignment")
    with page.expect_navigation():
        page.get_by_role("button", name="Turn into a target").click()
    assert " nominated from A-" in page.content()
    page.goto(f"{live_server.url}/alerts/partners/")
    assert page.locator("[data-testid=partner-status]").inner_text() == "receive only"
    screenshot(page, "alerts-partners")

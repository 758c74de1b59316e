"""The watchlist pages in headless Chromium: list, detail with search, entry, import progress, screening.

Screenshots go to ``artifacts/screenshots/watchlists-*.png`` for a person to look at.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from apps.agencies.roles import Role
from apps.watchlists.services import import_path
from tests.browser.conftest import sign_in
from tests.factories import PASSWORD, member
from tests.watchlists.helpers import make_entry, make_list

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def site(live_server, world, data_dir):
    member("rita", world.customs, Role.RISK_MANAGER)
    un = make_list(world.customs, "UN Security Council consolidated list", description="Sanctions (UNSC).",
                   default_handling="deny")  # fmt: skip
    import_path(actor=None, watchlist=un, fmt="un", path=data_dir / "un_consolidated.xml")
    lookouts = make_list(world.customs, "Customs lookouts", default_handling="examine", risk_area="narcotics")
    make_entry(lookouts, "Viktor Anatolyevich BOUTOV", id="C-1", aliases=["Viktor Bout"],
               dates_of_birth=["1967-01-13"], nationalities=["RU"],
               documents=[{"type": "passport", "number": "21N0588029", "country": "RU"}])  # fmt: skip
    make_entry(lookouts, "Ocean Voyager", id="C-3", kind="vessel", imo=["9123453"])
    return live_server.url, un, lookouts


def test_risk_manager_walks_through_the_watchlist_pages(site, new_page, screenshot):
    url, un, _lookouts = site
    page = new_page()
    sign_in(page, url, "rita", PASSWORD)
    page.locator("nav.sidenav >> text=Watchlists").click()
    assert page.locator("[data-testid=watchlists]").inner_text().count("Customs lookouts") == 1
    screenshot(page, "watchlists-list")
    page.locator("text=UN Security Council consolidated list").first.click()
    page.fill("#q", "taliban")
    page.wait_for_timeout(900)
    assert (
        "Taliban" in page.locator("#results").inner_text()
        or "TALIBAN" in page.locator("#results").inner_text()
    )
    screenshot(page, "watchlists-detail")
    page.locator("#results a").first.click()
    # The click starts a navigation; expect() waits for the new page, is_visible() would read the old one.
    expect(page.locator("text=Names (")).to_be_visible()
    screenshot(page, "watchlists-entry")
    page.goto(f"{url}/watchlists/imports/{un.imports.first().pk}/")
    assert page.locator("[role=progressbar]").get_attribute("aria-valuenow") == "100"
    screenshot(page, "watchlists-import-run")
    page.goto(f"{url}/watchlists/screen/")
    page.fill("#id_name", "Viktor Boutov")
    page.fill("#id_date_of_birth", "1967-01-13")
    page.fill("#id_nationality", "RU")
    page.click("form.wl-screen-form button[type=submit]")
    page.wait_for_selector(".wl-hit")
    assert "date of birth matches" in page.locator("[data-testid=hits]").inner_text()
    screenshot(page, "watchlists-screen")

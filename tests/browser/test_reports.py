"""A manager opens the performance report, slices it, reads a chart's figures and the effectiveness ledger."""

from __future__ import annotations

import pytest

from apps.agencies.roles import Role
from tests.browser.conftest import sign_in
from tests.factories import PASSWORD, member
from tests.reports.busy_history import FIRST, LAST, build_busy_history

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_manager_reads_the_reports(
    live_server, new_page, screenshot, world, customs_supervisor, port_officer
):
    from apps.reports.services import forget_reports

    forget_reports()
    build_busy_history(world, customs_supervisor, port_officer)
    member("maria", world.customs, Role.MANAGER)
    page = new_page()
    sign_in(page, live_server.url, "maria", PASSWORD)
    page.locator("nav.sidenav a", has_text="Reports").click()
    page.wait_for_selector('h1:has-text("Performance")')
    page.goto(f"{live_server.url}/reports/?start={FIRST}&end={LAST}")
    assert page.locator("h1", has_text="Performance").is_visible()
    assert page.locator(".rp-kpi").count() == 14  # with the two step times: approval→dispatch→result
    assert page.locator("svg.rp-chart[role=img]").count() >= 6
    screenshot(page, "reports-overview")
    page.locator("#figure-trend summary").click()
    assert page.locator("#figure-trend table").is_visible()
    page.select_option("#id_port", label="Felixstowe (GBFXT)")
    page.click("text=Show")
    page.wait_for_url("**port=**")
    assert "port: Felixstowe" in page.locator(".lead").inner_text()
    page.locator(".rp-tabs >> text=Effectiveness").click()
    page.wait_for_selector("text=Ledger")
    assert page.locator(".rp-ledger tbody tr").count() >= 3
    screenshot(page, "reports-effectiveness")
    page.set_viewport_size({"width": 820, "height": 1000})
    page.goto(f"{live_server.url}/reports/?start={FIRST}&end={LAST}")
    screenshot(page, "reports-overview-tablet")

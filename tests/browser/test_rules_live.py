"""Two browsers on a real Daphne server: a risk manager retires a rule, an analyst's rules list shows it
retired at once, without a reload (``rule.changed`` through ``ws/rules/``, ``static/js/rules.js``)."""

from __future__ import annotations

import pytest

from apps.core.demo import DEMO_PASSWORD
from tests.browser.conftest import sign_in
from tests.live.server import DaphneServer

pytestmark = [pytest.mark.browser]


@pytest.fixture(scope="module")
def daphne(tmp_path_factory):
    server = DaphneServer(tmp_path_factory.mktemp("daphne"))
    seeded = server.prepare("flow")
    server.start()
    yield server, seeded
    server.stop()


def test_a_retired_rule_shows_on_another_rules_list_without_reload(daphne, new_page):
    server, seeded = daphne
    rule = seeded["rule"]
    listing = new_page()
    sign_in(listing, server.url, "analyst", DEMO_PASSWORD)
    listing.goto(f"{server.url}/risk/rules/")
    listing.wait_for_selector('[data-rules-ws][data-live="live"]', state="attached", timeout=20_000)
    row = f'#rows tr:has(a[href="/risk/rules/{rule}/"])'
    assert listing.locator(f"{row} .rk-state-active").count() == 1
    listing.evaluate("window.__notReloaded = true")

    manager = new_page()
    sign_in(manager, server.url, "riskmanager", DEMO_PASSWORD)
    manager.goto(f"{server.url}/risk/rules/{rule}/")
    manager.fill("#reason", "Superseded by the new coffee profile")
    manager.click('button[formaction$="/retire/"]')

    listing.wait_for_selector(f"{row} .rk-state-retired", timeout=15_000)
    assert listing.evaluate("window.__notReloaded") is True

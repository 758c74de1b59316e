"""The whole floor, clicked as its users click it, with no typed URL after the first page.

A rule fired on a container of coffee at Felixstowe, below the nomination threshold (``seed_flow``). The
analyst starts on the floor board, goes to the assessments, opens the hit, nominates it with what the port
should look for, and sends it for approval. The supervisor (another person) approves it and dispatches it
with an instruction. The officer's tablet, open all along, shows the instruction without a reload; he
records a seizure with a photo. Back on the floor the target page shows the result card, and the manager's
report counts the seizure.

Daphne runs in a subprocess against its own SQLite file (``tests/live/server.py``). Screenshots of every
step are kept in ``artifacts/screenshots/flow-*`` at 1920 x 1080, and the tablet's at 1024 x 768 and
768 x 1024.
"""

from __future__ import annotations

import re

import pytest

from apps.core.demo import DEMO_PASSWORD
from tests.browser.conftest import sign_in
from tests.frontline.conftest import jpeg_bytes
from tests.live.server import DaphneServer

pytestmark = [pytest.mark.browser]
LARGE = (1920, 1080)
LANDSCAPE = (1024, 768)
PORTRAIT = (768, 1024)
TABLET = {"has_touch": True, "is_mobile": True, "device_scale_factor": 1}
LOOK_FOR = "Open the first row of sacks; look for bricks in the middle of the load."


@pytest.fixture(scope="module")
def daphne(tmp_path_factory):
    # Tasks run inline in the server, as in the embedded mode: with REDIS_URL set (CI) the report's
    # summary rows would otherwise wait in the broker for a worker this test does not start.
    server = DaphneServer(tmp_path_factory.mktemp("daphne-flow"), extra_env={"CELERY_TASK_ALWAYS_EAGER": "1"})
    seeded = server.prepare("flow")
    server.start()
    yield server, seeded
    server.stop()


def state_purpose(page, purpose: str = "risk_analysis") -> None:
    """The purpose of access is asked once per session, on the first page that shows personal data."""
    if page.locator("input[name=purpose]").count():
        page.check(f"input[value={purpose}]")
        page.click("text=Continue")
        page.wait_for_load_state()


def follow(page, link) -> None:
    """Click a link and wait for the page it leads to (not the one still showing when the click returns)."""
    with page.expect_navigation():
        link.click()


def click_nav(page, label: str) -> None:
    follow(page, page.locator(".sidenav").get_by_role("link", name=label, exact=True))


def test_from_a_hit_to_the_seizure_in_the_report(daphne, new_page, screenshot, tmp_path):
    server, seeded = daphne
    base = server.url

    # The officer's tablet is open at Felixstowe from the start of the shift, at 1024 x 768.
    tablet = new_page(viewport=LANDSCAPE, **TABLET)
    sign_in(tablet, base, "officer.felixstowe", DEMO_PASSWORD)
    state_purpose_at_port(tablet, base)
    tablet.wait_for_selector('[data-notifications][data-state="live"]', timeout=20_000)
    assert tablet.locator("[data-testid=instruction]").count() == 0
    tablet.evaluate("window.__notReloaded = true")
    screenshot(tablet, "flow-00-tablet-1024x768-empty")

    # 1. The analyst, on the floor board, follows the navigation to the assessments and opens the hit.
    analyst = new_page(viewport=LARGE)
    sign_in(analyst, base, "analyst", DEMO_PASSWORD)
    analyst.goto(f"{base}/live/")
    analyst.wait_for_selector("[data-board-ws]")
    screenshot(analyst, "flow-01-floor-board")
    click_nav(analyst, "Assessments")
    state_purpose(analyst)
    row = analyst.locator(f'[data-assessment="{seeded["assessment"]}"]')
    row.wait_for()
    assert "Coffee" in row.inner_text() or "coffee" in row.inner_text()
    screenshot(analyst, "flow-02-assessments")
    follow(analyst, row.locator("[data-testid=row-assessment]"))
    analyst.wait_for_selector("[data-testid=nominate]")
    assert "Coffee from the Andes" in analyst.locator("main").inner_text()
    screenshot(analyst, "flow-03-assessment")

    # 2. Nominate it, with what the port should look for.
    follow(analyst, analyst.locator("[data-testid=nominate]").first)
    analyst.wait_for_selector("[data-testid=from-assessment]")
    analyst.select_option("#risk_area", "narcotics")
    analyst.fill("#priority", "75")
    analyst.fill("#reason", LOOK_FOR)
    screenshot(analyst, "flow-04-nominate")
    analyst.get_by_role("button", name="Nominate").click()
    analyst.wait_for_url(re.compile(r"/targets/\d+/$"))
    target_url = analyst.url
    reference = re.search(r"T-\d+", analyst.locator("h1").inner_text()).group(0)
    # The target links back to what it came from.
    assert analyst.locator(f'a[href="/risk/assessments/{seeded["assessment"]}/"]').count() >= 1 or (
        analyst.locator("[data-testid=link-assessment]").count() >= 1
    )
    for step in ("start_review", "submit"):
        button = analyst.locator(f'[data-action="{step}"]')
        if button.count():
            follow(analyst, button)
    assert "Awaiting approval" in analyst.locator("#panel").inner_text()
    screenshot(analyst, "flow-05-target-submitted")

    # 3. The supervisor, another person, finds it on his home page and approves it; then dispatches it.
    supervisor = new_page(viewport=LARGE)
    sign_in(supervisor, base, "supervisor", DEMO_PASSWORD)
    screenshot(supervisor, "flow-06-supervisor-home")
    follow(
        supervisor,
        supervisor.locator("main").get_by_role("link", name=re.compile("awaiting my approval", re.I)).first,
    )
    state_purpose(supervisor)
    follow(supervisor, supervisor.locator(f'a[href="{target_url.removeprefix(base)}"]').first)
    state_purpose(supervisor)
    supervisor.wait_for_selector('[data-action="approve"]')
    supervisor.click('[data-action="approve"]')
    supervisor.wait_for_selector('[data-action="dispatch"]')
    instruction = supervisor.locator("textarea#instruction")
    assert LOOK_FOR in instruction.input_value()  # the analyst's words are the instruction offered
    instruction.fill(instruction.input_value() + " Scanner first, then devanning.")
    screenshot(supervisor, "flow-07-dispatch")
    with supervisor.expect_response(lambda r: r.request.method == "POST"):
        supervisor.click('[data-action="dispatch"]')
    supervisor.wait_for_load_state()

    # 4. The tablet shows it without a reload, and the officer records a seizure with a photo.
    card = tablet.locator(f'.fl-card:has-text("{reference}")')
    card.wait_for(timeout=30_000)  # pushed, not polled: the tablet is never reloaded (asserted below)
    assert tablet.evaluate("window.__notReloaded") is True
    screenshot(tablet, "flow-08-tablet-1024x768-new")
    card.tap()
    assert LOOK_FOR in tablet.locator("[data-testid=look-for]").inner_text()
    briefing = tablet.locator("main").inner_text()
    assert "origin_country" not in briefing and "prefix" not in briefing  # no rule syntax for the officer
    tablet.locator("[data-testid=start]").tap()
    tablet.wait_for_selector("[data-started-note]:not([hidden])")
    tablet.locator("label.fl-tile-seizure").tap()
    tablet.select_option("select[name=goods-0-kind]", "cocaine")
    tablet.fill("input[name=goods-0-quantity]", "36.2")
    tablet.select_option("select[name=goods-0-unit]", "kg")
    tablet.fill("input[name=goods-0-value]", "1448000")
    photo = tmp_path / "sacks.jpg"
    photo.write_bytes(jpeg_bytes((640, 480), "saddlebrown"))
    tablet.set_input_files("input[name=photos]", str(photo))
    tablet.fill("textarea[name=notes]", "Thirty bricks in the middle row of sacks.")
    screenshot(tablet, "flow-09-tablet-1024x768-form")
    tablet.locator("[data-testid=record]").tap()
    tablet.wait_for_selector("[data-testid=result]")
    screenshot(tablet, "flow-10-tablet-1024x768-result")
    portrait = new_page(viewport=PORTRAIT, **TABLET)
    sign_in(portrait, base, "officer.felixstowe", DEMO_PASSWORD)
    state_purpose_at_port(portrait, base)
    portrait.goto(tablet.url)
    portrait.wait_for_selector("[data-testid=result]")
    screenshot(portrait, "flow-11-tablet-768x1024-result")

    # 5. The target page shows the result card, with the goods, the value and its currency, and the photo.
    analyst.goto(target_url)
    result = analyst.locator("[data-testid=result-card]")
    result.wait_for()
    text = result.inner_text()
    assert "Seizure" in text and "36.2" in text and "1,448,000" in text
    assert re.search(r"GBP|£|EUR|€", text), text
    analyst.wait_for_function(
        "Array.from(document.querySelectorAll('[data-testid=result-card] img')).some(i => i.naturalWidth > 0)"
    )
    screenshot(analyst, "flow-12-target-result-card")

    # 6. The manager's report counts it, with no refresh button pressed.
    manager = new_page(viewport=LARGE)
    sign_in(manager, base, "manager", DEMO_PASSWORD)
    click_nav(manager, "Reports")
    # Figures follow results within a minute (recounted in the background): look again until then,
    # every second for up to 90 s (a longer interval only adds to the wait).
    for _ in range(90):
        if "1,448,000 GBP" in manager.locator("main").inner_text():
            break
        manager.wait_for_timeout(1000)
        manager.reload()
    assert re.search(r"value seized\s*1,448,000 GBP", manager.locator("main").inner_text(), re.I)
    screenshot(manager, "flow-13-report")


def state_purpose_at_port(page, base: str) -> None:
    """The officer states his purpose once; the tablet's list follows (as the frontline tests do)."""
    page.goto(f"{base}/oversight/purpose/?next=/port/")
    page.check("input[value=examination]")
    page.click("text=Continue")
    page.wait_for_url(f"{base}/port/")

"""The tablet is told at once: a supervisor dispatches on the floor, the officer's list at Felixstowe shows
the new instruction without a reload, with a toast in the header. The tablet pages have no desktop
sidebar, and a goods value of 1234.5 is shown whole, at 1024 x 768 and at 768 x 1024. After an offline
sync the list shows what was sent, and a recorded result cannot be recorded again.

Daphne runs in a subprocess (``tests/live/server.py``) against its own SQLite file, seeded below with the
demo world plus two Felixstowe targets: one approved (dispatched during the test), one dispatched already.
Screenshots go to ``artifacts/screenshots/tablet-*``.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from apps.core.demo import DEMO_PASSWORD
from tests.browser.conftest import sign_in
from tests.browser.test_frontline import _ready_offline, declare_purpose
from tests.live.server import DaphneServer

pytestmark = [pytest.mark.browser]
LANDSCAPE = (1024, 768)
PORTRAIT = (768, 1024)
TABLET = {"has_touch": True, "is_mobile": True, "device_scale_factor": 1}
OFFICER = "officer.felixstowe"


def seed() -> dict[str, Any]:
    """Run inside the server's environment: the demo world and two targets at Felixstowe."""
    from datetime import timedelta

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from apps.agencies.models import Agency, Port
    from apps.core.demo import ensure_demo_world
    from apps.intake.models import DataSource, Subject, SubjectKind
    from apps.targeting.models import Instruction, RiskArea, Target, TargetState, Transition

    ensure_demo_world()
    customs = Agency.objects.get(code="CUS")
    port = Port.objects.get(locode="GBFXT")
    source = DataSource.objects.get(name="Import declarations")
    supervisor = get_user_model().objects.get(username="supervisor")
    now = timezone.now()
    made = {}
    for key, state, hours, title in (
        ("live", TargetState.APPROVED, 2, "Reefer container of fresh bananas"),
        ("open", TargetState.DISPATCHED, 3, "Trailer of flat-packed furniture"),
    ):
        subject = Subject.objects.create(
            kind=SubjectKind.CONSIGNMENT, source=source, owner_agency=customs, external_id=f"DEC-TAB-{key}",
            title=title, port=port, arrival_at=now + timedelta(hours=hours), received_at=now,
            facts={"hs_code": "0803", "origin_country": "EC"},
        )  # fmt: skip
        target = Target.objects.create(
            subject=subject, owner_agency=customs, state=state, risk_area=RiskArea.NARCOTICS, priority=70,
            port=port, arrival_at=subject.arrival_at,
            reasons=[{"kind": "rule", "text": "Reefer from Guayaquil, consignee new to the trade", "ref": "R-1"}],
        )  # fmt: skip
        Transition.objects.create(target=target, to_state=state, version=1, reason="seed")
        made[key] = {"target": target.pk, "reference": target.reference}
        if state == TargetState.DISPATCHED:
            found = Instruction.objects.create(
                target=target, port=port, method="scan", dispatched_by=supervisor,
                instruction="Scan the trailer; look for a false front wall behind the cartons.",
            )  # fmt: skip
            made[key]["instruction"] = found.pk
    return made


@pytest.fixture(scope="module")
def daphne(tmp_path_factory):
    server = DaphneServer(tmp_path_factory.mktemp("daphne-tablet"))
    server.migrate()
    seeded = json.loads(
        server.seed("import json; from tests.browser.test_tablet_live import seed; print(json.dumps(seed()))")
        .strip()
        .splitlines()[-1]
    )
    server.start()
    yield server, seeded
    server.stop()


def open_tablet(new_page, base: str, viewport: tuple[int, int]):
    page = new_page(viewport=viewport, **TABLET)
    sign_in(page, base, OFFICER, DEMO_PASSWORD)
    declare_purpose(page, base)
    page.goto(f"{base}/port/")
    page.wait_for_selector('[data-notifications][data-state="live"]', timeout=20_000)
    return page


def assert_no_sidebar(page) -> None:
    assert not page.locator(".sidenav").is_visible(), "the desktop navigation is shown on the tablet"
    left = page.evaluate("document.getElementById('main').getBoundingClientRect().left")
    assert left < 1, f"the page starts {left}px from the left edge"


def small_touch_targets(page) -> list[str]:
    """Controls a finger uses that are less than 44 px high (visible ones only)."""
    return page.evaluate(
        """() => Array.from(document.querySelectorAll(
              '.topbar button, .topbar a.brand, .fl-app button, .fl-app select, .fl-chip, .fl-card, .fl-back a,'
            + ' .fl-app input:not([type=hidden]):not([type=radio]):not([type=file]), .fl-tile span, .fl-camera'))
            .filter(el => el.offsetParent !== null && !el.closest('[hidden]'))
            .filter(el => el.getBoundingClientRect().height < 44)
            .map(el => el.outerHTML.slice(0, 90))"""
    )


def fill_goods(page) -> None:
    page.locator("label.fl-tile-seizure").tap()
    page.select_option("select[name=goods-0-kind]", "cocaine")
    page.fill("input[name=goods-0-quantity]", "1234.5")
    page.select_option("select[name=goods-0-unit]", "kg")
    page.fill("input[name=goods-0-value]", "1234.5")


def assert_goods_whole(page) -> None:
    """The typed values fit their fields: nothing scrolled out of sight, no part of the number hidden."""
    for name in ("goods-0-quantity", "goods-0-value"):
        box = page.locator(f"input[name={name}]")
        assert box.input_value() == "1234.5"
        fits = box.evaluate(
            """el => { const c = document.createElement('canvas').getContext('2d');
                       const s = getComputedStyle(el); c.font = s.font;
                       const inner = el.clientWidth - parseFloat(s.paddingLeft) - parseFloat(s.paddingRight);
                       return el.scrollWidth <= el.clientWidth && c.measureText(el.value).width <= inner; }"""
        )
        assert fits, f"{name} cuts its value"


def test_a_dispatched_instruction_reaches_the_tablet_without_reload(daphne, new_page, screenshot):
    server, seeded = daphne
    base = server.url
    live = seeded["live"]
    tablet = open_tablet(new_page, base, LANDSCAPE)
    assert tablet.locator("[data-testid=instruction]").count() == 1
    assert_no_sidebar(tablet)
    tablet.evaluate("window.__notReloaded = true")
    screenshot(tablet, "tablet-1024x768-before")

    supervisor = new_page(viewport=(1440, 900))
    sign_in(supervisor, base, "supervisor", DEMO_PASSWORD)
    supervisor.goto(f"{base}/targets/{live['target']}/")
    supervisor.check("input[value=risk_analysis]")
    supervisor.click("text=Continue")
    supervisor.wait_for_selector('[data-action="dispatch"]')
    supervisor.fill("textarea#instruction", "Check the evaporator housing and the pallet bases.")
    with supervisor.expect_response(lambda r: r.request.method == "POST"):
        supervisor.click('[data-action="dispatch"]')
    sent = time.monotonic()
    card = f'.fl-card:has-text("{live["reference"]}")'
    tablet.wait_for_selector(card, timeout=10_000)
    seconds = time.monotonic() - sent
    print(f"\nnew instruction on the tablet {seconds:.2f} s after the dispatch was stored")
    # The goal is one second (0.2 s measured on an idle machine); the bound leaves room for a loaded CI
    # machine. What must hold exactly is that it arrived pushed, without a reload.
    assert seconds < 3.0, f"the tablet showed the instruction after {seconds:.2f} s"
    assert tablet.evaluate("window.__notReloaded") is True
    assert tablet.locator("[data-testid=instruction]").count() == 2
    assert tablet.locator(card).get_attribute("class").count("is-new") == 1
    assert tablet.locator("[data-testid=open-count]").inner_text() == "2"
    toast = tablet.locator("[data-testid=notification-toast]")
    toast.wait_for()
    assert f"New instruction {live['reference']}" in toast.inner_text()
    # Unread: the new instruction and the one sent before he opened the tablet.
    assert tablet.locator("[data-testid=notifications-count]").inner_text() == "2"
    screenshot(tablet, "tablet-1024x768-new-instruction")
    assert small_touch_targets(tablet) == []

    # The list in the header, and its unread count gone once opened.
    tablet.locator("[data-testid=notifications-bell]").tap()
    tablet.wait_for_selector("[data-testid=notification]")
    assert tablet.locator("[data-testid=notifications-count]").is_hidden()
    screenshot(tablet, "tablet-1024x768-notifications")
    tablet.keyboard.press("Escape")

    # The officer works it: the goods line shows 1234.5 whole, and the result once recorded.
    tablet.locator(card).tap()
    tablet.locator("[data-testid=start]").tap()
    tablet.wait_for_selector("[data-started-note]:not([hidden])")
    fill_goods(tablet)
    assert_goods_whole(tablet)
    assert_no_sidebar(tablet)
    assert small_touch_targets(tablet) == []
    tablet.locator("[data-goods-section]").scroll_into_view_if_needed()
    tablet.screenshot(path=str(_shot("tablet-1024x768-goods")))
    tablet.evaluate("window.scrollTo(0, 0)")
    screenshot(tablet, "tablet-1024x768-form")
    tablet.locator("[data-testid=record]").tap()
    tablet.wait_for_selector("[data-testid=result]")
    quantity = tablet.locator(".fl-goods-table td.num").first
    assert quantity.inner_text() == "1,234.5 kg"
    assert quantity.evaluate("el => el.scrollWidth <= el.clientWidth")
    assert tablet.locator("[data-testid=record]").count() == 0  # no second recording offered
    screenshot(tablet, "tablet-1024x768-result")


def _shot(name: str):
    from tests.browser_support import SCREENSHOTS

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS / f"{name}.png"


def test_portrait_form_and_the_list_after_an_offline_sync(daphne, new_page, screenshot):
    server, seeded = daphne
    base = server.url
    opened = seeded["open"]
    tablet = open_tablet(new_page, base, PORTRAIT)
    assert_no_sidebar(tablet)
    _ready_offline(tablet)
    screenshot(tablet, "tablet-768x1024-list")
    assert small_touch_targets(tablet) == []

    # No network: the result waits on the tablet, and the list says so.
    tablet.context.set_offline(True)
    tablet.goto(f"{base}/port/instructions/{opened['instruction']}/")
    fill_goods(tablet)
    assert_goods_whole(tablet)
    assert_no_sidebar(tablet)
    tablet.locator("[data-goods-section]").scroll_into_view_if_needed()
    tablet.screenshot(path=str(_shot("tablet-768x1024-goods")))
    tablet.locator("[data-testid=record]").tap()
    tablet.wait_for_selector("[data-saved]:not([hidden])")
    assert tablet.locator("[data-testid=record]").is_disabled()  # a second tap sends nothing
    tablet.goto(f"{base}/port/")
    card = tablet.locator(f'.fl-card[data-instruction="{opened["instruction"]}"]')
    card.wait_for()
    tablet.wait_for_function(
        "document.querySelector('[data-outbox-badge]') && !document.querySelector('[data-outbox-badge]').hidden"
    )
    assert card.locator("[data-testid=card-state]").inner_text() == "Saved, not sent"
    assert tablet.locator("[data-outbox-badge]").inner_text() == "1 waiting"
    screenshot(tablet, "tablet-768x1024-offline")

    # The network returns: the result is sent once, and the list shows it as recorded, not "Dispatched".
    # On the floor, the analyst has the target's page open: it follows the result without a reload.
    analyst = new_page(viewport=LANDSCAPE)
    sign_in(analyst, base, "analyst", DEMO_PASSWORD)
    analyst.goto(f"{base}/targets/{opened['target']}/")
    analyst.check("input[value=risk_analysis]")
    analyst.click("text=Continue")
    analyst.wait_for_selector("[data-testid=presence]")
    analyst.wait_for_function("document.querySelector('[data-presence-ws]').getAttribute('data-started')")
    analyst.wait_for_timeout(500)  # its socket says hello
    assert "Result recorded" not in analyst.locator("#panel").inner_text()
    analyst.evaluate("window.__notReloaded = true")

    tablet.evaluate("window.__notReloaded = true")
    tablet.context.set_offline(False)
    tablet.evaluate("() => window.dispatchEvent(new Event('online'))")
    tablet.wait_for_selector("[data-outbox]", state="hidden", timeout=30_000)
    tablet.wait_for_function(
        """id => { const c = document.querySelector(`.fl-card[data-instruction="${id}"]`);
                   return !c || c.querySelector('[data-testid=card-state]').textContent.startsWith('Result sent'); }""",
        arg=str(opened["instruction"]),
    )
    tablet.wait_for_function(
        """ref => Array.from(document.querySelectorAll('[data-testid=recent]')).some(li => li.textContent.includes(ref))""",
        arg=opened["reference"],
        timeout=10_000,
    )
    assert card.count() == 0  # the list was fetched again: the instruction was worked
    assert tablet.evaluate("window.__notReloaded") is True
    screenshot(tablet, "tablet-768x1024-after-sync")
    analyst.wait_for_function(
        "document.getElementById('panel').innerText.includes('Result recorded')", timeout=10_000
    )
    assert analyst.evaluate("window.__notReloaded") is True
    assert analyst.locator("[data-presence-ws]").count() == 1
    # The redrawn panel's presence section is bound to the page's one socket (not a second one).
    analyst.wait_for_function("document.querySelector('[data-presence-ws]').getAttribute('data-started')")
    analyst.wait_for_function("document.querySelector('[data-testid=presence]').innerText.trim().length > 0")
    screenshot(analyst, "tablet-1024x768-target-page-live")

    # The instruction page, even as kept from before the sync, offers no second recording.
    tablet.goto(f"{base}/port/instructions/{opened['instruction']}/")
    tablet.wait_for_selector("[data-testid=result]")
    assert tablet.locator("[data-testid=record]").count() == 0
    assert tablet.locator("[data-testid=result] .fl-goods-table td.num").first.inner_text() == "1,234.5 kg"
    screenshot(tablet, "tablet-768x1024-result")


def test_desktop_pages_at_tablet_width_have_no_sidebar_column(daphne, new_page, screenshot):
    server, _ = daphne
    page = new_page(viewport=LANDSCAPE)
    sign_in(page, server.url, "analyst", DEMO_PASSWORD)
    page.goto(f"{server.url}/targets/")
    nav = page.locator(".sidenav").bounding_box()
    main = page.locator("#main").bounding_box()
    assert nav["height"] < 80 and nav["width"] > 900  # one compact row above the page, not a column
    assert main["x"] < 1 and main["y"] > nav["y"]
    screenshot(page, "tablet-1024x768-desktop-targets")

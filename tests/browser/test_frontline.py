"""A frontline officer on a 10-inch tablet: records a seizure with a photo, then another with no network.

The second result waits in the tablet's outbox (IndexedDB) while the network is cut, and is sent when
it returns; exactly one copy of each reaches the server. Screenshots of the officer's pages are kept
in portrait and landscape.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from apps.agencies.roles import Role
from apps.frontline.models import ExaminationResult
from apps.intake.models import Outcome
from apps.targeting.models import Instruction, TargetState
from tests.browser.conftest import sign_in
from tests.factories import PASSWORD, member
from tests.frontline.conftest import jpeg_bytes
from tests.targeting.factories import SubjectFactory, TargetFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PORTRAIT = (800, 1280)
LANDSCAPE = (1280, 800)
TABLET = {"has_touch": True, "is_mobile": True, "device_scale_factor": 1}


@pytest.fixture
def port_day(world, customs_supervisor):
    """Felixstowe's open instructions: a reefer of bananas and a trailer of 'furniture'."""
    officer = member("oscar", world.customs, Role.FRONTLINE, ports=[world.port_a])
    officer.first_name, officer.last_name = "Dan", "Hughes"
    officer.save()
    made = []
    for hours, title, facts, reasons, look_for, method in (
        (1.5, "Reefer container of fresh bananas", {"container_number": "MSCU7265113", "hs_code": "0803", "origin_country": "EC"},
         [{"kind": "rule", "text": "Reefer from Guayaquil, consignee new to the trade", "ref": "rule:12@v3"},
          {"kind": "watchlist", "text": "Consignee director on a police list", "ref": "watchlist-entry:4"}],
         "Check the evaporator housing and the pallet bases; bananas are a known cover load.", "physical"),
        (4, "Trailer of flat-packed furniture", {"container_number": "TRLU4410021", "hs_code": "9403", "origin_country": "PL"},
         [{"kind": "model", "text": "Model score 0.87: value per kg far below the route's norm", "ref": "model:4"}],
         "Scan the trailer; look for a false front wall behind the cartons.", "scan"),
    ):  # fmt: skip
        subject = SubjectFactory(
            source__owner_agency=world.customs, port=world.port_a, title=title, facts=facts,
            arrival_at=timezone.now() + timedelta(hours=hours),
        )  # fmt: skip
        target = TargetFactory(
            subject=subject, state=TargetState.DISPATCHED, reasons=reasons, risk_area="narcotics"
        )
        found = Instruction.objects.create(
            target=target, port=world.port_a, method=method, instruction=look_for,
            dispatched_by=customs_supervisor, dispatched_at=timezone.now() - timedelta(minutes=30),
        )  # fmt: skip
        made.append(found)
    return officer, made


def _wait_until(check, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.25)
    raise AssertionError("timed out waiting for the server to see the result")


def _ready_offline(page) -> None:
    """Wait until the service worker controls the page and has kept the open instructions.

    A worker that became active after this page loaded controls it once it claims its clients; should
    the page miss that, the next load is controlled for certain, so reload once rather than wait."""
    page.evaluate("() => navigator.serviceWorker.ready.then(() => true)")
    if not page.evaluate("navigator.serviceWorker.controller !== null"):
        page.wait_for_timeout(1000)
        if not page.evaluate("navigator.serviceWorker.controller !== null"):
            page.reload()
    page.wait_for_function(
        "navigator.serviceWorker && navigator.serviceWorker.controller !== null", timeout=30000
    )
    # A keep whose fetch failed on a loaded machine (the worker stops at the first failure, as when the
    # network goes) reports fewer pages: ask again, as the tablet does on its next page load.
    for attempt in range(3):
        page.evaluate(
            "() => navigator.serviceWorker.ready.then(r => r.active.postMessage({type: 'keep', urls: "
            "JSON.parse(document.getElementById('fl-keep').textContent).concat(['/port/'])}))"
        )
        try:
            page.wait_for_function(
                "Number(document.getElementById('fl-app').dataset.kept || 0) >= 3", timeout=15000
            )
            return
        except PlaywrightTimeout:
            if attempt == 2:
                raise


def declare_purpose(page, base: str) -> None:
    """The instruction shows the traveller's name: the officer states his purpose once per session (before
    the tablet caches the instructions for offline work, so that it caches them, not the question)."""
    page.goto(f"{base}/oversight/purpose/?next=/port/")
    page.check("input[value=examination]")
    page.click("text=Continue")
    page.wait_for_url(f"{base}/port/")


def test_officer_records_online_and_offline_on_a_tablet(
    live_server, port_day, new_page, screenshot, tmp_path
):
    officer, (bananas, furniture) = port_day
    photo = tmp_path / "evaporator.jpg"
    photo.write_bytes(jpeg_bytes((640, 480), "darkorange"))
    page = new_page(viewport=PORTRAIT, **TABLET)
    base = live_server.url
    sign_in(page, base, officer.username, PASSWORD)
    declare_purpose(page, base)
    page.goto(f"{base}/port/")
    assert page.locator("[data-testid=instruction]").count() == 2
    _ready_offline(page)
    screenshot(page, "frontline-home-portrait")

    # 1. Online: a seizure with a photo.
    page.locator(f"a[href='/port/instructions/{bananas.pk}/']").click()
    assert "evaporator housing" in page.locator("[data-testid=look-for]").inner_text()
    assert "police list" not in page.content()  # the watchlist reason's text stays on the floor
    page.locator("[data-testid=start]").tap()
    page.wait_for_selector("[data-started-note]:not([hidden])")
    page.locator("label.fl-tile-seizure").tap()
    page.select_option("select[name=goods-0-kind]", "cocaine")
    page.fill("input[name=goods-0-quantity]", "48.6")
    page.select_option("select[name=goods-0-unit]", "kg")
    page.fill("input[name=goods-0-value]", "1944000")
    page.set_input_files("input[name=photos]", str(photo))
    page.fill("textarea[name=notes]", "40 bricks in the evaporator housing, seal intact.")
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "frontline-instruction-form-portrait")
    page.locator("[data-testid=record]").tap()
    page.wait_for_selector("[data-testid=result]")
    assert page.locator("[data-testid=outcome]").inner_text() == "Seizure"
    page.wait_for_function("document.querySelector('[data-testid=photo]').naturalWidth > 0")
    screenshot(page, "frontline-result-portrait")
    first = ExaminationResult.objects.get(target=bananas.target)
    assert first.photos.count() == 1 and first.goods.get().kind == "cocaine"

    # 2. No network: the second result waits on the tablet.
    page.context.set_offline(True)
    page.goto(f"{base}/port/instructions/{furniture.pk}/")
    assert "false front wall" in page.locator("[data-testid=look-for]").inner_text()
    page.locator("label.fl-tile-seizure").tap()
    page.select_option("select[name=goods-0-kind]", "tobacco")
    page.fill("input[name=goods-0-quantity]", "120000")
    page.select_option("select[name=goods-0-unit]", "sticks")
    page.fill("input[name=goods-0-value]", "52000")
    page.fill("input[name=revenue_at_stake]", "49800")
    page.locator("[data-testid=record]").tap()
    page.wait_for_selector("[data-saved]:not([hidden])")
    assert "sent when the network returns" in page.locator("[data-saved]").inner_text()
    page.goto(f"{base}/port/")
    page.wait_for_selector("[data-testid=outbox-item]")
    assert page.locator("[data-outbox-badge]").inner_text() == "1 waiting"
    assert "Offline" in page.locator("[data-net]").inner_text()
    screenshot(page, "frontline-home-offline-portrait")
    assert not ExaminationResult.objects.filter(target=furniture.target).exists()

    # 3. The network returns: the outbox empties by itself, and each result is stored once.
    page.context.set_offline(False)
    _wait_until(lambda: ExaminationResult.objects.filter(target=furniture.target).exists())
    page.wait_for_selector("[data-outbox]", state="hidden", timeout=30000)
    page.evaluate("() => window.dispatchEvent(new Event('online'))")  # a second send of nothing
    time.sleep(1)
    assert ExaminationResult.objects.count() == 2
    assert ExaminationResult.objects.filter(target=bananas.target).count() == 1
    second = ExaminationResult.objects.get(target=furniture.target)
    assert second.goods.get().unit == "sticks" and second.entered_at is not None
    assert Outcome.objects.filter(origin="examination").count() == 2
    furniture.target.refresh_from_db()
    assert furniture.target.state == TargetState.RESULT_RECORDED

    # Landscape, as the tablet is often held on a bench.
    wide = new_page(viewport=LANDSCAPE, **TABLET)
    sign_in(wide, base, officer.username, PASSWORD)
    declare_purpose(wide, base)
    wide.goto(f"{base}/port/?shift=all")
    screenshot(wide, "frontline-home-landscape-done")
    wide.goto(f"{base}/port/instructions/{bananas.pk}/")
    wide.wait_for_function("document.querySelector('[data-testid=photo]').naturalWidth > 0")
    screenshot(wide, "frontline-result-landscape")


def test_the_form_in_landscape(live_server, port_day, new_page, screenshot):
    officer, (bananas, _) = port_day
    page = new_page(viewport=LANDSCAPE, **TABLET)
    sign_in(page, live_server.url, officer.username, PASSWORD)
    declare_purpose(page, live_server.url)
    page.goto(f"{live_server.url}/port/")
    screenshot(page, "frontline-home-landscape")
    page.goto(f"{live_server.url}/port/instructions/{bananas.pk}/")
    page.locator("label.fl-tile-irregularity").tap()
    screenshot(page, "frontline-instruction-form-landscape")
    # Every control the officer touches is at least 48 px high.
    small = page.evaluate(
        """() => Array.from(document.querySelectorAll('.fl-app button:not([hidden]), .fl-app .fl-tile span,'
            + ' .fl-app select, .fl-app input:not([type=hidden]):not([type=radio]):not([type=file]), .fl-camera'))
            .filter(el => el.offsetParent !== null && el.getBoundingClientRect().height < 48)
            .map(el => el.outerHTML.slice(0, 80))"""
    )
    assert small == []

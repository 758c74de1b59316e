"""Two browsers on a real Daphne server: one approves a target, the other's floor board changes, no reload.

pytest-django's ``live_server`` speaks WSGI only, so this test starts Daphne in a subprocess on a free
127.0.0.1 port against its own SQLite file (``tests/live/server.py``); with ``REDIS_URL`` set the server
uses the Redis channel layer, otherwise the in-memory one. Screenshots of the floor board (light and
dark, at 1920 x 1080) go to ``artifacts/screenshots/``.
"""

from __future__ import annotations

import time

import pytest

from apps.core.demo import DEMO_PASSWORD
from tests.browser.conftest import sign_in
from tests.live.server import DaphneServer

pytestmark = [pytest.mark.browser]
LARGE = (1920, 1080)


@pytest.fixture(scope="module")
def daphne(tmp_path_factory):
    server = DaphneServer(tmp_path_factory.mktemp("daphne"))
    seeded = server.prepare("board")
    server.start()
    yield server, seeded
    server.stop()


def open_board(page, base: str, username: str, path: str = "/live/") -> None:
    sign_in(page, base, username, DEMO_PASSWORD)
    page.goto(f"{base}{path}")
    page.wait_for_selector('[data-live-status][data-state="live"]', timeout=20_000)
    page.wait_for_selector("[data-board-ws][data-synced]", timeout=20_000)


def test_an_approval_shows_on_another_floor_board_without_reload(daphne, new_page, screenshot):
    server, seeded = daphne
    target = seeded["approve"]
    board = new_page(viewport=LARGE)
    open_board(board, server.url, "analyst")
    card = f'.lv-col-awaiting_approval [data-target="{target}"]'
    assert board.locator(card).count() == 1
    board.evaluate("window.__notReloaded = true")
    screenshot(board, "live-floor-board")

    supervisor = new_page()
    sign_in(supervisor, server.url, "supervisor", DEMO_PASSWORD)
    supervisor.goto(f"{server.url}/targets/{target}/")
    # The target page is personal data's gate: the purpose of access is asked once per session.
    supervisor.check("input[value=risk_analysis]")
    supervisor.click("text=Continue")
    supervisor.wait_for_selector('[data-action="approve"]')
    started = time.monotonic()
    supervisor.click('[data-action="approve"]')
    board.wait_for_selector(f'.lv-col-approved [data-target="{target}"]', timeout=15_000)
    seconds = time.monotonic() - started
    assert board.locator(card).count() == 0
    assert board.evaluate("window.__notReloaded") is True
    print(f"approval visible on the other board after {seconds:.2f} s (click to card, incl. the POST)")
    screenshot(board, "live-floor-board-after-approval")


def test_the_board_in_dark_theme_on_a_large_display(daphne, new_page, screenshot):
    server, _ = daphne
    page = new_page(viewport=LARGE)
    page.add_init_script("localStorage.setItem('ratc-theme', 'dark')")
    open_board(page, server.url, "supervisor")
    assert page.evaluate("document.documentElement.getAttribute('data-theme')") == "dark"
    screenshot(page, "live-floor-board-dark")


def test_a_liaison_board_is_empty_of_customs_work_and_a_port_board_opens(daphne, new_page, screenshot):
    server, _ = daphne
    page = new_page(viewport=LARGE)
    open_board(page, server.url, "police.liaison")
    assert page.locator("[data-target]").count() == 0
    port = new_page(viewport=(1280, 800))
    open_board(port, server.url, "officer.felixstowe", "/live/ports/GBFXT/")
    screenshot(port, "live-port-board-frontline")

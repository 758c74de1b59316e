"""Browser tests: Playwright driving the machine's Chromium (``/usr/bin/chromium``), never a download.

A pytest plugin (loaded by tests/conftest.py), so that every app's browser tests share one browser
per session: a second Playwright instance in the same process would clash with the first.

Without Chromium these tests are skipped, so ``make test`` passes on a bare laptop; CI sets
``RATC_REQUIRE_BROWSER=1`` and installs Chromium, so there a missing browser is a failure.
Screenshots are kept in ``artifacts/screenshots/`` for a person to look at.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("RATC_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[1] / "artifacts" / "screenshots"
# Playwright's sync API keeps an event loop in the test thread; the ORM calls made by the test itself
# (creating users) are still plain synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


PARALLEL = bool(os.environ.get("PYTEST_XDIST_WORKER"))


#: Files that take a minute or more (``--durations``), longest first: handed out before the others
#: (after the browser group), so that the two workers finish together.
LONG_FILES = (
    "browser",
    "tests/security/test_crawl.py",
    "tests/compliance/test_gate.py",
    "tests/core/test_migrations.py",
    "tests/simulator/test_floor.py",
)


def is_browser_file(nodeid: str) -> bool:
    """Browser tests live in ``tests/browser/`` or in an app's ``test_browser.py`` (the controller of
    pytest-xdist sees only node ids, not marks)."""
    path = nodeid.split("::", 1)[0]
    return path.startswith("tests/browser/") or path.endswith("/test_browser.py")


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """``make test`` runs ``-n auto --dist loadfile``: work goes out file by file (module fixtures are
    built once), and every browser file is one unit, so one worker drives Chromium and its Daphne
    servers while the others run the rest, instead of browsers and servers fighting over two cores.
    (xdist's own ``loadgroup`` marks do not reach its scheduler under pytest 9, which keeps node ids
    elsewhere, so the grouping is done here, from the node id.)"""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class BrowserTogether(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return "browser" if is_browser_file(nodeid) else super()._split_scope(nodeid)

        def _assign_work_unit(self, node) -> None:
            # xdist hands out files by their number of tests; a file of a few long tests would come
            # last and leave one worker running it alone. The long ones go out first instead.
            for scope in LONG_FILES:
                if scope in self.workqueue:
                    self.workqueue.move_to_end(scope, last=False)
                    break
            super()._assign_work_unit(node)

    return BrowserTogether(config, log)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    # Browser tests run last in one process (after pytest-django has ordered the rest): while Playwright's
    # sync API is active an event loop runs in the main thread, and async tests cannot start their own.
    # Under xdist they come first, so that their long group starts at once; the module-scoped browser
    # is closed, and its loop with it, before that worker takes the next file.
    browser = [i for i in items if "browser" in i.keywords]
    rest = [i for i in items if "browser" not in i.keywords]
    items[:] = browser + rest if PARALLEL else rest + browser
    have_browser = Path(CHROMIUM).exists() or shutil.which(CHROMIUM)
    if have_browser:
        return
    if os.environ.get("RATC_REQUIRE_BROWSER") == "1":
        raise pytest.UsageError(f"RATC_REQUIRE_BROWSER=1 but no Chromium at {CHROMIUM}")
    skip = pytest.mark.skip(reason=f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="module")
def browser():
    """One browser per test module, closed after it, so that no event loop outlives the module."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser):
    contexts = []

    def make(viewport=(1440, 900), **kwargs):
        context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]}, **kwargs)
        # A loaded 2-core machine can be slow to serve the first page; waits are generous, not timed.
        context.set_default_timeout(60_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def screenshot():
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


def sign_in(page, base_url: str, username: str, password: str) -> None:
    page.goto(f"{base_url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_selector("[data-testid=who]")

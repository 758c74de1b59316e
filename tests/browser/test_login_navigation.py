"""A person signs in, sees the navigation of their role, moves around, and signs out."""

import pytest

from apps.core.demo import DEMO_PASSWORD, ensure_demo_world
from tests.browser.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo(live_server, settings):
    settings.RATC_DEMO = True
    ensure_demo_world()
    return live_server.url


def test_supervisor_signs_in_and_navigates(demo, new_page, screenshot):
    page = new_page()
    page.goto(f"{demo}/login/")
    assert page.locator("text=Demo users").is_visible()
    screenshot(page, "login")
    sign_in(page, demo, "supervisor", DEMO_PASSWORD)
    nav = page.locator("nav.sidenav")
    assert nav.locator("text=People").is_visible()
    assert nav.locator("text=Agencies and ports").is_visible()
    assert page.locator("text=What to try").is_visible()
    screenshot(page, "home-supervisor")
    nav.locator("text=Agencies and ports").click()
    page.locator("text=Felixstowe container port").click()
    assert page.locator("h1").inner_text().startswith("Felixstowe container port")
    screenshot(page, "port-felixstowe")
    page.locator("text=Sign out").click()
    page.wait_for_url(f"{demo}/login/")


def test_frontline_officer_sees_a_small_navigation_on_a_tablet(demo, new_page, screenshot):
    page = new_page(viewport=(800, 1280), has_touch=True, is_mobile=True)
    sign_in(page, demo, "officer.felixstowe", DEMO_PASSWORD)
    nav_text = page.locator("nav.sidenav").inner_text()
    assert "People" not in nav_text and "Data sources" not in nav_text
    screenshot(page, "home-frontline-tablet")


def test_wrong_password_is_refused_plainly(demo, new_page):
    page = new_page()
    page.goto(f"{demo}/login/")
    page.fill("#id_username", "analyst")
    page.fill("#id_password", "not-the-password")
    page.click("button[type=submit]")
    assert page.locator("[role=alert]").inner_text().startswith("Your username and password did not match")


def test_dark_mode_for_the_floor(demo, new_page, screenshot):
    page = new_page(color_scheme="dark")
    sign_in(page, demo, "analyst", DEMO_PASSWORD)
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(14, 20, 27)"
    screenshot(page, "home-analyst-dark")
    page.click("#theme-toggle")
    assert page.evaluate("document.documentElement.dataset.theme") == "light"

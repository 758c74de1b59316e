"""The network page in a browser: an analyst expands a traveller's network to three hops by clicking,
and the police's record (and what lies behind it) never appears."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.agencies.roles import Role
from tests.browser_support import sign_in
from tests.entities.network_world import build
from tests.factories import PASSWORD, member

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def click_node(page, subject_id: int) -> None:
    """Click where Cytoscape drew the node, as a person would."""
    # Scrolled first, instantly (the page may scroll smoothly), then measured where the node is now.
    page.evaluate(
        "() => document.getElementById('cy').scrollIntoView({block: 'center', behavior: 'instant'})"
    )
    page.wait_for_timeout(100)
    x, y = page.evaluate(
        """(id) => { const holder = document.getElementById('network');
        const node = holder.cytoscape.getElementById(String(id)); const p = node.renderedPosition();
        const box = document.getElementById('cy').getBoundingClientRect();
        return [box.left + p.x, box.top + p.y]; }""",
        subject_id,
    )
    page.mouse.click(x, y)


def node_ids(page) -> set[int]:
    return set(
        page.evaluate("() => document.getElementById('network').cytoscape.nodes().map(n => Number(n.id()))")
    )


def test_expand_a_network_to_three_hops(live_server, new_page, screenshot, world):
    net = build(world)
    member("nina", world.customs, Role.ANALYST)
    page = new_page()
    sign_in(page, live_server.url, "nina", PASSWORD)
    page.goto(live_server.url + reverse("entities:network", args=[net["ana"].pk]) + "?hops=1")
    page.check("input[value=risk_analysis]")  # the purpose of access, asked once per session
    page.click("text=Continue")
    page.wait_for_selector("#network[data-ready='1']")
    assert node_ids(page) == {net["ana"].pk, net["ben"].pk}
    click_node(page, net["ben"].pk)
    page.wait_for_function("() => document.getElementById('network').dataset.expanded === '1'")
    assert net["cat"].pk in node_ids(page)
    click_node(page, net["cat"].pk)
    page.wait_for_function("() => document.getElementById('network').dataset.expanded === '2'")
    assert node_ids(page) == {net["ana"].pk, net["ben"].pk, net["cat"].pk, net["dan"].pk}  # three hops
    assert page.locator("[data-testid=node-count]").inner_text() == "4"
    assert page.locator("[data-testid=network-detail]").inner_text().startswith("CAT, Test")
    body = page.content()
    assert "POL, Test" not in body and "EVE, Test" not in body
    page.evaluate("() => window.scrollTo(0, 0)")
    screenshot(page, "entities-network-3-hops")

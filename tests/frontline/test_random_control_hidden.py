"""An officer at the port never learns that a target was drawn for random control: the examination is
then as thorough as for any risk target. Every surface he reads goes through ``disclosure``."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from apps.frontline import services as frontline
from apps.targeting import services
from apps.targeting.models import Target

pytestmark = pytest.mark.django_db

REASONS = [
    {"kind": "rule", "text": "Rule “Reefer bananas” v2 (national) matched: origin == 'EC'", "ref": "rule:9@v2",
     "plain": "Reefer consignments from this route."},
    {"kind": "random", "text": "Selected by chance for random control (share 1.00%).", "ref": "random:77"},
]  # fmt: skip
TELLS = re.compile(r"random|by chance", re.IGNORECASE)


def _dispatched(make_instruction, **target):
    """A target dispatched as the dispatcher sends it without writing: with ``default_instruction``."""
    instruction = make_instruction(by_engine=True, risk_area="narcotics", **target)
    supervisor = instruction.dispatched_by
    instruction.instruction = services.default_instruction(instruction.target, supervisor)
    instruction.save(update_fields=["instruction"])
    return instruction


@pytest.fixture
def drawn(make_instruction):
    """A pure draw: nothing fired, only the engine's line that it was drawn (which the officer never reads)."""
    return _dispatched(make_instruction, random_control=True, reasons=REASONS[1:])


@pytest.fixture
def risk(make_instruction):
    return _dispatched(make_instruction, reasons=REASONS[:1])


def _tells(text: str) -> list[str]:
    return TELLS.findall(text)


def test_the_tablet_page_reads_the_same_for_random_control_and_risk(client_for, port_officer, drawn, risk):
    client = client_for(port_officer)
    briefs = {}
    for name, instruction in (("drawn", drawn), ("risk", risk)):
        body = client.get(reverse("frontline:instruction", args=[instruction.pk])).content.decode()
        assert _tells(body) == [], name
        # No reason, not even the rule's plain line, and no count of withheld ones: a draw has none.
        assert "Reefer consignments from this route." not in body and "further reason" not in body, name
        assert "Look for concealed drugs" in body, name
        brief = frontline.briefing(port_officer, instruction)
        briefs[name] = (brief.risk_area, brief.method, brief.look_for, brief.subject_kind, brief.facts)
    assert briefs["drawn"] == briefs["risk"]
    home = client.get(reverse("frontline:home") + "?shift=all").content.decode()
    assert _tells(home) == []


def test_the_apis_an_officer_reads_do_not_say_random_control(client_for, port_officer, drawn):
    client = client_for(port_officer)
    target = drawn.target
    data = client.get(reverse("target-detail", args=[target.pk])).json()
    assert data["random_control"] is None
    assert data["reasons"] == []
    listed = client.get(reverse("target-list")).json()["results"]
    assert [t["random_control"] for t in listed] == [None]
    for url in (
        reverse("target-transitions", args=[target.pk]),
        reverse("target-instruction-detail", args=[drawn.pk]),
        reverse("target-instruction-list"),
    ):
        answer = client.get(url)
        assert answer.status_code == 200, url
        assert _tells(answer.content.decode()) == [], url


def test_the_targeting_pages_an_officer_opens_do_not_say_random_control(client_for, port_officer, drawn):
    client = client_for(port_officer)
    for url in (reverse("targeting:list"), reverse("targeting:detail", args=[drawn.target.pk])):
        answer = client.get(url)
        assert answer.status_code == 200, url
        assert _tells(answer.content.decode()) == [], url


def test_the_default_instruction_does_not_say_random_control(customs_supervisor, drawn, risk):
    target = Target.objects.select_related("port", "subject").get(pk=drawn.target.pk)
    text = services.default_instruction(target, customs_supervisor)
    assert _tells(text) == [] and text == services.default_instruction(risk.target, customs_supervisor)


def test_a_supervisor_does_see_it(client_for, customs_supervisor, drawn):
    """The control: the same page tells the centre, so the officer's pages are not blank by accident."""
    page = client_for(customs_supervisor).get(reverse("targeting:detail", args=[drawn.target.pk]))
    assert "random control" in page.content.decode()

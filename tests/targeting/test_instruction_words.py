"""The instruction carries the analyst's words; officers read plain reasons, never what fired.

What an analyst writes at nomination for the port becomes what the officer is told — through the
target page's dispatch box and through the proposal page's box per target, both prefilled with it and
editable by the supervisor. An engine target tells the officer, on his tablet page and in the API, the
plain line of its rule and model reasons: never the rule's condition, the identifiers it watches, or
the model's features and probability. The owner agency's analyst still reads the rule.
"""

from __future__ import annotations

import html
import json
import re
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.agencies.roles import Role
from apps.intake.models import SourceKind
from apps.learning.models import ModelVersion
from apps.learning.scoring import _component as model_component
from apps.risk import providers
from apps.risk.models import RiskSettings, Rule
from apps.risk.services import assess_subjects
from apps.targeting import services
from apps.targeting.models import (
    EXAMINATION_FOCUS,
    ExaminationFocus,
    HandlingCode,
    Instruction,
    Target,
    TargetShare,
)
from tests.factories import DataSourceFactory, PortCapacityFactory, member
from tests.risk.conftest import make_subject, write_rule
from tests.targeting.factories import SubjectFactory

pytestmark = [pytest.mark.django_db]

NARCOTICS = EXAMINATION_FOCUS["narcotics"]
WORDS = "Look behind the reefer's evaporator panel; the pallet bases sound hollow."
WATCHED = "GB771234567000"
CONDITION = f'importer_id in ("{WATCHED}")'
FEATURE = "importer_finding_rate"
FEATURE_WORDS = "smoothed earlier finding rate for declarations with the same importer: 41%"


def _approved_by_hand(client_for, analyst, supervisor, world, words: str = WORDS) -> Target:
    """Nominated on the page with ``words``, reviewed by the analyst, approved by the supervisor."""
    subject = SubjectFactory(source__owner_agency=world.customs, port=world.port_a)
    client_for(analyst).post(
        reverse("targeting:nominate", args=[subject.pk]),
        {"risk_area": "narcotics", "priority": "60", "reason": words},
    )
    target = Target.objects.get(subject=subject)
    services.start_review(actor=analyst, target=target)
    services.submit_for_approval(actor=analyst, target=target)
    services.approve_target(actor=supervisor, target=target)
    return target


def _tablet(client_for, officer, instruction: Instruction) -> str:
    client = client_for(officer, purpose="examination")
    return html.unescape(client.get(reverse("frontline:instruction", args=[instruction.pk])).content.decode())


def test_the_analysts_words_reach_the_officers_tablet(
    client_for, customs_analyst, customs_supervisor, port_officer, world
):
    target = _approved_by_hand(client_for, customs_analyst, customs_supervisor, world)
    client = client_for(customs_supervisor)
    page = html.unescape(client.get(reverse("targeting:detail", args=[target.pk])).content.decode())
    box = page.split('name="instruction"', 1)[1].split("</textarea>", 1)[0]
    assert WORDS in box  # the dispatch box starts with what the analyst wrote for the port
    client.post(
        reverse("targeting:target_dispatch", args=[target.pk]),
        {
            "version": target.version,
            "method": "physical",
            "instruction": box.split(">", 1)[1],
        },
    )
    instruction = Instruction.objects.get(target=target)
    assert WORDS in instruction.instruction
    tablet = _tablet(client_for, port_officer, instruction)
    assert WORDS in tablet.split('data-testid="look-for"', 1)[1].split("</p>", 1)[0]


def test_a_dispatch_without_words_uses_the_analysts(customs_analyst, customs_supervisor, client_for, world):
    target = _approved_by_hand(client_for, customs_analyst, customs_supervisor, world)
    instruction = services.dispatch_target(
        actor=customs_supervisor, target=target, method="dog", instruction=""
    )
    assert instruction.instruction == f"Narcotics risk.\n{NARCOTICS}\n{WORDS}"


def test_the_centres_words_start_every_instruction_of_their_area(
    client_for, customs_analyst, customs_supervisor, world
):
    ExaminationFocus.objects.create(risk_area="narcotics", text="Dog first, then the pallet bases.")
    target = _approved_by_hand(client_for, customs_analyst, customs_supervisor, world)
    page = html.unescape(
        client_for(customs_supervisor).get(reverse("targeting:detail", args=[target.pk])).content.decode()
    )
    assert "Narcotics risk.\nDog first, then the pallet bases.\n" + WORDS in page  # the dispatch box
    assert NARCOTICS not in page


def test_the_proposal_box_per_target_reaches_the_instruction(
    client_for, customs_analyst, customs_supervisor, port_officer, world
):
    PortCapacityFactory(port=world.port_a, shift="early", method="physical", slots=2)
    edited = _approved_by_hand(client_for, customs_analyst, customs_supervisor, world)
    kept = _approved_by_hand(
        client_for,
        customs_analyst,
        customs_supervisor,
        world,
        words="Count the cartons against the manifest.",
    )
    client = client_for(customs_supervisor)
    url = reverse("targeting:dispatch")
    client.post(reverse("targeting:dispatch_propose"), {"port": "GBFXT", "shift": "early"})
    page = html.unescape(client.get(url, {"port": "GBFXT", "shift": "early"}).content.decode())
    boxes = {
        target.pk: page.split(f'name="instruction-{target.pk}"', 1)[1]
        .split("</textarea>", 1)[0]
        .split(">", 1)[1]
        for target in (edited, kept)
    }
    assert boxes[edited.pk] == f"Narcotics risk.\n{NARCOTICS}\n{WORDS}"
    assert boxes[kept.pk] == f"Narcotics risk.\n{NARCOTICS}\nCount the cartons against the manifest."
    proposal = services.DispatchProposal.objects.get()
    client.post(
        reverse("targeting:dispatch_accept"),
        {
            "port": "GBFXT", "shift": "early", "proposal": proposal.pk,
            f"method-{edited.pk}": "physical", f"method-{kept.pk}": "physical",
            # One box edited by the supervisor, the other sent as the page filled it.
            f"instruction-{edited.pk}": "Supervisor: strip the evaporator panel, dog first.",
            f"instruction-{kept.pk}": boxes[kept.pk],
        },
    )  # fmt: skip
    sent = dict(Instruction.objects.values_list("target_id", "instruction"))
    assert sent == {
        edited.pk: "Supervisor: strip the evaporator panel, dog first.",
        kept.pk: f"Narcotics risk.\n{NARCOTICS}\nCount the cartons against the manifest.",
    }
    tablet = _tablet(client_for, port_officer, Instruction.objects.get(target=edited))
    assert "strip the evaporator panel" in tablet


# --------------------------------------------------------------------------- an engine target


def _model_provider(version):
    """A provider giving customs' model's component as ``apps.learning.scoring`` words it."""
    features = [{"feature": FEATURE, "words": FEATURE_WORDS, "contribution": 1.3, "direction": "raises"}]
    return lambda subjects: {s.pk: [model_component(version, 0.83, features)] for s in subjects}


@pytest.fixture
def engine_target(world, monkeypatch, customs_analyst, customs_supervisor):
    """A target the engine nominated from a rule that watches an importer and a model score, dispatched
    by the supervisor with the default instruction."""
    RiskSettings.objects.create(random_control_share=0.0)
    risk_manager = member("rita", world.customs, Role.RISK_MANAGER)
    rule = write_rule(
        risk_manager, CONDITION, state="active", name="Importers under investigation for undervaluation",
        risk_area="revenue", weight=70,
    )  # fmt: skip
    model = ModelVersion.objects.create(owner_agency=world.customs, number=3, risk_area="revenue")
    monkeypatch.setattr("apps.risk.tests_model_provider", _model_provider(model), raising=False)
    monkeypatch.setattr(
        providers, "PROVIDERS", ["apps.risk.rules.provider", "apps.risk.tests_model_provider"]
    )
    source = DataSourceFactory(owner_agency=world.customs, kind=SourceKind.DECLARATION)
    subject = make_subject(
        source, {"importer_id": WATCHED, "hs_code": "640399"}, port=world.port_a,
        arrival_at=timezone.now() + timedelta(hours=8),
    )  # fmt: skip
    assess_subjects([subject.pk])
    target = Target.objects.get(subject=subject)
    assert target.by_engine and any(CONDITION in r["text"] for r in target.reasons)
    services.start_review(actor=customs_analyst, target=target)
    services.submit_for_approval(actor=customs_analyst, target=target)
    services.approve_target(actor=customs_supervisor, target=target)
    instruction = services.dispatch_target(
        actor=customs_supervisor, target=target, method="documents", instruction=""
    )
    target.refresh_from_db()
    return SimpleNamespace(target=target, instruction=instruction, rule=rule)


def _leaks(text: str) -> list[str]:
    found = [s for s in (CONDITION, "importer_id", WATCHED, FEATURE, FEATURE_WORDS, "83%") if s in text]
    # The model's 0.83 as a number of its own, not the digits of a timestamp's fraction (…:00.834).
    if re.search(r"(?<![\d.:])0\.83(?!\d)", text):
        found.append("0.83")
    return found + (["probability"] if "probability" in text.lower() else [])


def test_an_officer_never_reads_what_fired(client_for, port_officer, engine_target):
    target, instruction = engine_target.target, engine_target.instruction
    assert _leaks(instruction.instruction) == []
    # What he is told instead: the risk area and what to look for in it, as for any target of the area.
    assert instruction.instruction == f"Revenue risk.\n{EXAMINATION_FOCUS['revenue']}"
    client = client_for(port_officer, purpose="examination")
    api = {"HTTP_X_ACCESS_PURPOSE": "examination"}
    tablet = _tablet(client_for, port_officer, instruction)
    surfaces = {
        "tablet": tablet,
        "tablet list": client.get(reverse("frontline:home")).content.decode(),
        "target page": client.get(reverse("targeting:detail", args=[target.pk])).content.decode(),
        "api target": json.dumps(client.get(f"/api/v1/targets/{target.pk}/", **api).json()),
        "api targets": json.dumps(client.get("/api/v1/targets/", **api).json()),
        "api history": json.dumps(client.get(f"/api/v1/targets/{target.pk}/transitions/", **api).json()),
        "api instructions": json.dumps(client.get("/api/v1/instructions/", **api).json()),
    }
    for name, text in surfaces.items():
        assert _leaks(html.unescape(text)) == [], name
    # Not even the rule's plain line or the model's: a target drawn by chance would have neither.
    for name, text in surfaces.items():
        assert "Importers under investigation" not in text and "risk model" not in text, name
    assert EXAMINATION_FOCUS["revenue"].split(";")[0] in html.unescape(tablet)


def test_a_rules_officer_text_is_what_the_officer_reads(engine_target):
    Rule.objects.filter(pk=engine_target.rule.pk).update(
        officer_text="Revenue: check invoices against goods."
    )
    subject = make_subject(
        DataSourceFactory(owner_agency=engine_target.target.owner_agency, kind=SourceKind.DECLARATION),
        {"importer_id": WATCHED}, port=engine_target.target.port, arrival_at=timezone.now() + timedelta(hours=9),
    )  # fmt: skip
    assess_subjects([subject.pk])
    target = Target.objects.get(subject=subject)
    rule_reason = next(r for r in target.reasons if r["kind"] == "rule")
    assert rule_reason["plain"] == "Revenue: check invoices against goods."


def test_the_owner_agencys_analyst_still_reads_the_rule(
    client_for, customs_analyst, police_liaison, engine_target, world
):
    target = engine_target.target
    page = html.unescape(
        client_for(customs_analyst).get(reverse("targeting:detail", args=[target.pk])).content.decode()
    )
    assert CONDITION in page and FEATURE_WORDS in page
    api = client_for(customs_analyst).get(f"/api/v1/targets/{target.pk}/").json()
    assert any(CONDITION in r["text"] for r in api["reasons"])
    # A partner agency's liaison, shared the target, reads the plain lines: the importers customs
    # watches are not his to know, nor how its model works.
    TargetShare.objects.create(target=target, agency=world.police, code=HandlingCode.SEE)
    partner = client_for(police_liaison).get(f"/api/v1/targets/{target.pk}/").json()
    assert partner["reasons"] and _leaks(json.dumps(partner["reasons"])) == []

"""Scenario files: the shipped ones are valid, and a wrong one is refused with every problem's line and key."""

from __future__ import annotations

import pytest

from apps.training import scenario as scenarios

BROKEN = """\
title: Broken on purpose
briefing: Every line below has something wrong.
rules:
  - name: A rule
    kind: parcel
    text: 'net_mass_kg > 1'
    risk_area: narcotics
    weight: 500
    rationale: none
arrivals:
  - id: V1
    at: 0
    port: GBFXT
    vessel: "9398400"
    consignments:
      - id: C1
        hs_code: 803
        description: bananas
        origin: Colombia
        net_mass_kg: 100
        value: 10
        importer: {id: GB628374910000, name: Albion}
        colour: yellow
        answer: {expect: target, risk_area: narcotics, finding: drugs}
"""


def test_the_three_shipped_scenarios_are_valid_and_plant_what_the_issue_asks():
    keys = {p.stem for p in scenarios.SCENARIO_DIR.glob("*.yaml")}
    assert keys == {"cocaine_transshipment", "new_importer_undervaluation", "passenger_couriers"}
    for key in keys:
        script = scenarios.parse((scenarios.SCENARIO_DIR / f"{key}.yaml").read_text(), name=f"{key}.yaml")
        expects = [item.answer.expect for _, item in script.planted()]
        assert "target" in expects and "release" in expects, key
        assert any(item.answer.blind_spot for _, item in script.planted()), f"{key}: no blind spot planted"
        assert script.alerts or script.model, key


def test_a_wrong_scenario_is_refused_naming_line_and_key_for_every_problem():
    with pytest.raises(scenarios.ScenarioError) as caught:
        scenarios.parse(BROKEN, name="broken.yaml")
    problems = caught.value.problems
    assert "broken.yaml, line 5: rules[0].kind: 'parcel' is not one of consignment, traveller" in problems
    assert "broken.yaml, line 8: rules[0].weight: must be at most 100, not 500" in problems
    assert any(p.startswith("broken.yaml, line 17: arrivals[0].consignments[0].hs_code:") for p in problems)
    assert any(p.startswith("broken.yaml, line 19: arrivals[0].consignments[0].origin:") for p in problems)
    assert any(
        p.startswith("broken.yaml, line 23: arrivals[0].consignments[0].colour: unknown key")
        for p in problems
    )
    assert len(problems) == 5


def test_a_missing_key_and_bad_yaml_name_their_line():
    with pytest.raises(scenarios.ScenarioError) as caught:
        scenarios.parse("title: x\nbriefing: y\narrivals:\n  - port: GBFXT\n    at: 0\n", name="s.yaml")
    assert "s.yaml, line 4: arrivals[0].id: is required" in caught.value.problems
    with pytest.raises(scenarios.ScenarioError) as caught:
        scenarios.parse("title: x\nbriefing: [unclosed\n", name="s.yaml")
    assert caught.value.problems[0].startswith("s.yaml, line 3: not valid YAML")

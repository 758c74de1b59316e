"""Scenarios: the YAML files a trainer picks, read and checked, and turned into arrivals and answers.

A scenario (format in ``docs/training.md``) scripts an exercise: the rules on the floor, the model and
its blind spot, partner alerts (lookouts of a partner agency), ordinary background traffic, and the
scripted arrivals whose consignments and travellers carry the answers. Reading is strict: every problem
is reported with the file, the line and the key (``cocaine_transshipment.yaml, line 41:
arrivals[0].consignments[1].value: must be a number above 0``), all of them at once, and nothing is
created from a scenario with a problem.

The arrivals are made with the floor simulator's generators (``apps.simulator.generators``): the same
PAXLST, PNRGOV and declaration JSON the demo sends, through the same intake. Identities are made unique
to the exercise (the last three characters of a document number or a trader's EORI become the
exercise's number) so that a second run of a scenario never links to the travellers and traders, and
their history, of the first.
"""

from apps.training.scenario.building import build_arrival, unique
from apps.training.scenario.reading import available, load, parse
from apps.training.scenario.script import (
    SCENARIO_DIR,
    Answer,
    Arrival,
    Consignment,
    Scenario,
    ScenarioError,
    Traveller,
)

__all__ = [
    "SCENARIO_DIR",
    "Answer",
    "Arrival",
    "Consignment",
    "Scenario",
    "ScenarioError",
    "Traveller",
    "available",
    "build_arrival",
    "load",
    "parse",
    "unique",
]

"""The performance measures, defined once: key, label, unit, and what exactly each counts.

The report page's help, the exports and the PDF print these definitions; :mod:`apps.reports.measures`
computes them (its docstring says which choices the definitions needed).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Measure:
    """One measure: its key, how it is called, its unit and what exactly it counts."""

    key: str
    label: str
    unit: str  # count | percent | hours | money | ratio
    definition: str
    better: str = ""  # "up", "down" or "" (neither): how a change is coloured


MEASURES: dict[str, Measure] = {
    m.key: m
    for m in (
        Measure(
            "arrivals",
            "Arrivals",
            "count",
            "Subjects (consignments, travellers, conveyances) whose arrival time falls in the period, "
            "counted once per subject (the current version of its record).",
        ),
        Measure(
            "assessed",
            "Subjects assessed",
            "count",
            "Arrivals of the period that the risk engine assessed at least once.",
            "up",
        ),
        Measure(
            "released_share",
            "Released with no intervention",
            "percent",
            "Of the period's arrivals that have arrived and are settled, the share released with no "
            "examination instruction ever sent to a port and no target still open: the facilitation "
            "side of the balance. Arrivals still to come are not counted yet; an arrived subject whose "
            "target is still undecided, approved or on hold counts once it is dispatched (an "
            "intervention) or rejected, withdrawn or missed (released).",
            "up",
        ),
        Measure(
            "targets",
            "Targets nominated",
            "count",
            "Targets created (by the engine or a person) in the period, whatever their state now.",
        ),
        Measure(
            "examinations",
            "Examinations",
            "count",
            "Frontline examination results whose examination ended in the period, one per target "
            "(a correction replaces the outcome, it is not a second examination).",
        ),
        Measure(
            "findings",
            "Findings",
            "count",
            "Examinations whose outcome (after any correction) is an irregularity, a seizure or a "
            "refusal of entry.",
            "up",
        ),
        Measure(
            "hit_rate",
            "Hit rate",
            "percent",
            "Findings ÷ examinations, over every examination of the period.",
            "up",
        ),
        Measure(
            "hit_rate_risk",
            "Hit rate, risk-selected",
            "percent",
            "Findings ÷ examinations for targets selected on risk (not by random control).",
            "up",
        ),
        Measure(
            "hit_rate_random",
            "Hit rate, random control",
            "percent",
            "Findings ÷ examinations for targets drawn by random control: the true violation rate "
            "that lift is measured against.",
        ),
        Measure(
            "seized_value",
            "Value seized",
            "money",
            "Sum of the estimated value of every line of goods seized in the period's examinations.",
            "up",
        ),
        Measure(
            "revenue",
            "Revenue recovered",
            "money",
            "Sum of the revenue at stake recorded on examinations with a finding in the period.",
            "up",
        ),
        Measure(
            "release_hours_targeted",
            "Arrival to release, targeted",
            "hours",
            "Mean hours from arrival to the end of the examination, over the period's examinations "
            "(0 when the examination ended before arrival, e.g. a pre-arrival document check).",
            "down",
        ),
        Measure(
            "release_hours_untargeted",
            "Arrival to release, untargeted",
            "hours",
            "Mean hours from arrival to release over arrivals never targeted: 0 when assessed before "
            "arrival, else the delay until the first assessment.",
            "down",
        ),
        Measure(
            "decision_hours",
            "Nomination to decision",
            "hours",
            "Mean hours from a target's nomination to its first approval, rejection or withdrawal, "
            "over targets nominated in the period that have been decided.",
            "down",
        ),
        Measure(
            "dispatch_hours",
            "Approval to dispatch",
            "hours",
            "Mean hours from a target's first approval to its first examination instruction sent to a "
            "port, over targets nominated in the period that have been dispatched.",
            "down",
        ),
        Measure(
            "result_hours",
            "Dispatch to result",
            "hours",
            "Mean hours from a target's first dispatch to a port to the first examination result "
            "recorded, over targets nominated in the period that have a result.",
            "down",
        ),
        Measure(
            "missed",
            "Missed targets",
            "count",
            "Targets that moved to \u201cmissed\u201d in the period: released before they could be examined.",
            "down",
        ),
        Measure(
            "breaches",
            "Queue breaches",
            "count",
            "Targets arriving in the period that were still undecided two hours before arrival "
            "(the service level of the queues).",
            "down",
        ),
        Measure(
            "capacity_use",
            "Examination capacity used",
            "percent",
            "Examinations ÷ examination slots of the ports in the period (slots per shift and method "
            "from the ports' capacities, times the days of the period).",
        ),
    )
}

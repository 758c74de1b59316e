# ruff: noqa: RUF001 - typographic dashes, minus and times signs are meant for readers
"""The performance measures, defined once: key, label, unit, and what exactly each counts.

The report page's help, the exports and the PDF print these definitions; :mod:`apps.reports.measures`
computes them (its docstring says which choices the definitions needed). The effectiveness ledger's
terms (:data:`LEDGER_TERMS`) and the size of random sample it needs to measure a lift are defined here
too; :mod:`apps.reports.effectiveness` computes them.
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
            "Findings ÷ examinations for targets drawn by random control: the true violation rate. "
            "Pooled here over every subject kind, port and risk area; the effectiveness ledger measures "
            "lift only against the rate of the same subject kind, port and risk area.",
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


#: A stratum's random sample supports a lift only with this many random-control examinations ...
MIN_RANDOM_EXAMS = 30
#: ... and this many findings among them (a rate of 0 has no ratio).
MIN_RANDOM_FINDINGS = 1
#: Random draws not examined above this share of a stratum's draws are flagged as biasing its baseline.
MISSED_SHARE_WARN = 0.10


@dataclass(frozen=True, slots=True)
class Term:
    """One term of the effectiveness ledger and how it is computed (the page's "How it is computed")."""

    label: str
    definition: str


LEDGER_TERMS: tuple[Term, ...] = (
    Term(
        "Hits",
        "For a rule version, the times it fired in an assessment of the period (shadow versions on their "
        "own line); for a watchlist or model version, the targets nominated in the period that cite it.",
    ),
    Term(
        "Examinations, findings, precision",
        "Examinations of the targets it caused that ended in the period; findings are irregularities, "
        "seizures and refusals after any correction; precision = findings ÷ examinations.",
    ),
    Term(
        "Stratum",
        "The subject kind, port and risk area of the examined target. Violation rates differ between "
        "them, and a selector does not examine them in the proportions random control draws them, so "
        "every lift compares like with like: a selector against the random control of the same stratum.",
    ),
    Term(
        "Random-control rate of a stratum",
        "Findings ÷ examinations of targets drawn by random control in the stratum: the true violation "
        "rate there. Its 95 % interval is Wilson's: (p + z²/2n ± z·√(p(1 − p)/n + z²/4n²)) ÷ (1 + z²/n), "
        "z = 1.96.",
    ),
    Term(
        "Too few random-control examinations",
        f"A stratum supports a lift only with at least {MIN_RANDOM_EXAMS} random-control examinations "
        f"and at least {MIN_RANDOM_FINDINGS} finding among them. Below that the ledger says "
        "“too few random-control examinations (n) to measure lift here”, and the selector's "
        "examinations in that stratum stay out of its overall lift.",
    ),
    Term(
        "Lift in a stratum",
        "The selector's precision ÷ the random-control rate of the stratum, with the log-normal (Katz) "
        "interval exp(ln lift ± 1.96 × √(1/a − 1/n₁ + 1/c − 1/n₀)), a of n₁ the selector's findings and "
        "examinations, c of n₀ the random control's.",
    ),
    Term(
        "Overall lift and its 95 % interval",
        "The Mantel–Haenszel ratio over the strata that support a lift: Σ a·n₀/N ÷ Σ c·n₁/N with "
        "N = n₁ + n₀ in each stratum, a mean of the stratum lifts weighted by c·n₁/N (mostly by where "
        "the selector examines). Interval exp(ln lift ± 1.96 × √V), V = Σ (n₁·n₀·(a + c)/N² − a·c/N) ÷ "
        "(Σ a·n₀/N × Σ c·n₁/N) (Greenland–Robins); with one stratum this is the Katz interval. An "
        "interval that stays above 1× means better than chance with 95 % confidence. * marks an interval "
        "computed with 0.5 added to each cell because a count is zero.",
    ),
    Term(
        "Random draws not examined",
        "Random-control targets that ended as missed in the period, with the reason recorded on the "
        "move to missed. A random-control target cannot be rejected or withdrawn; one not examined is "
        "missing from the random sample, so when they are more than "
        f"{MISSED_SHARE_WARN:.0%} of a stratum's draws its baseline may be biased and the ledger says so.",
    ),
    Term(
        "Flags",
        "No finding in 180 days: the live version of an active rule found nothing in 180 days. "
        "Precision falling: lower than in the previous period by a one-sided two-proportion z-test at "
        "5 % (at least 5 examinations in each). Annual review due: no review recorded for an active or "
        "shadow rule in the last 365 days.",
    ),
)

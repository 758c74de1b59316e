# ruff: noqa: RUF002 - typographic dashes, minus and times signs are meant for readers
"""The effectiveness ledger: how well each rule version, watchlist and model version selects.

For each selector, over the slice's period:

- **hits**: for a rule version, the times it fired in an assessment (``risk.Hit``; shadow versions
  apart); for a watchlist or a model version, the targets nominated that cite it among their reasons.
- **examinations** and **findings**: the examinations of targets it caused, from the frontline
  feedback rows (``frontline.ExaminationFeedback``, one per examination and cause, kept in step with
  corrections), counted on the day the examination ended.
- **precision** = findings ÷ examinations.
- **precision** is never compared with a pooled random-control rate: what a selector fires on is not
  spread over subject kinds, ports and risk areas the way random draws are, and violation rates differ
  between them. Every figure of lift is taken within a **stratum** = (subject kind, port, risk area) of
  the examined target.
- **random-control rate of a stratum** (the true violation rate there) = findings ÷ examinations of
  targets drawn by random control (feedback ``kind = "random"``) in that stratum, with the **Wilson**
  95 % interval ``(p̂ + z²/2n ± z·√(p̂(1−p̂)/n + z²/4n²)) ÷ (1 + z²/n)``.
- A stratum **supports** a lift only with at least ``MIN_RANDOM_EXAMS`` random-control examinations
  and ``MIN_RANDOM_FINDINGS`` finding (both in :mod:`apps.reports.definitions`); otherwise the ledger says "too few random-control examinations
  (n) to measure lift here" and that stratum's examinations stay out of the selector's overall lift
  (counted as "examinations without a baseline").
- **lift in a stratum** k = (a_k/n₁ₖ) ÷ (c_k/n₀ₖ), where ``a_k`` of ``n₁ₖ`` are the selector's findings
  and examinations there and ``c_k`` of ``n₀ₖ`` the random control's, with the log-normal (Katz)
  interval ``exp(ln(lift) ± 1.96 · √(1/a − 1/n₁ + 1/c − 1/n₀))``.
- **overall lift** of a selector = the Mantel–Haenszel ratio over the strata that support a lift,
  ``Σ a_k·n₀ₖ/N_k ÷ Σ c_k·n₁ₖ/N_k`` with ``N_k = n₁ₖ + n₀ₖ`` (a weighted mean of the stratum lifts, each
  weighted by ``c_k·n₁ₖ/N_k``: mostly by where the selector examines), with the 95 % interval
  ``exp(ln(lift) ± 1.96·√V)``, ``V = Σ (n₁ₖ·n₀ₖ·(a_k+c_k)/N_k² − a_k·c_k/N_k) ÷ (Σ a_k·n₀ₖ/N_k ·
  Σ c_k·n₁ₖ/N_k)`` (Greenland–Robins). With one stratum both are exactly the Katz ratio and interval.
- When the selector has no finding (or, in one stratum, a count is 0) the interval is computed with 0.5
  added to every cell (Haldane–Anscombe) and marked as such.
- **random draws not examined**: random-control targets that ended as missed in the period (a
  supervisor's reason, or the conveyance released first), per stratum and reason. They are left out
  of the random sample, so if they are frequent the baseline is biased; the share is shown by stratum.

Flags for review (rules): **silent** when an active rule has had no finding in ``SILENT_DAYS`` (or
none ever, once it has been live that long); **falling** when its precision in the period is below the
previous period's by a one-sided two-proportion z-test at 5 % (each period needing at least
``MIN_EXAMS`` examinations); **review due** when no annual review is recorded in the last 365 days.


One module per concern: ``statistics`` (lift, rates and their intervals), ``book`` (the ledger's rows and
strata), ``counting`` (the examinations counted per source and stratum), ``building`` (the ledger made)
and ``rows`` (one row per rule version, list and model, and their flags).
"""

from __future__ import annotations

from apps.reports.effectiveness.book import (
    RANDOM,
    Baseline,
    Ledger,
    LedgerRow,
    MissedDraws,
    Stratum,
    StratumLift,
)
from apps.reports.effectiveness.building import (
    _stratified_lift,  # noqa: F401 - read by tests
    ledger,
    random_not_examined,
    rule_ledger,
)
from apps.reports.effectiveness.counting import Counts, StrataCounts, feedback
from apps.reports.effectiveness.statistics import (
    MIN_EXAMS,
    REVIEW_DAYS,
    RULE_REF,
    SILENT_DAYS,
    Z95,
    Z_ONE_SIDED_5,
    Lift,
    Rate,
    katz_lift,
    mh_lift,
    precision_falling,
    supports_lift,
    too_few,
    wilson,
)

__all__ = [
    "MIN_EXAMS",
    "RANDOM",
    "REVIEW_DAYS",
    "RULE_REF",
    "SILENT_DAYS",
    "Z95",
    "Z_ONE_SIDED_5",
    "Baseline",
    "Counts",
    "Ledger",
    "LedgerRow",
    "Lift",
    "MissedDraws",
    "Rate",
    "StrataCounts",
    "Stratum",
    "StratumLift",
    "feedback",
    "katz_lift",
    "ledger",
    "mh_lift",
    "precision_falling",
    "random_not_examined",
    "rule_ledger",
    "supports_lift",
    "too_few",
    "wilson",
]

"""One match score from several pieces of evidence, each shown as a part of the explanation.

A name match is evidence that the subject is the listed person, of a strength that depends on how alike
the names are and how much a name of that shape says (one short name says little). A date of birth, a
nationality and a document number each add evidence for or against. Each piece is a *log-odds
weight*: positive for, negative against, zero for "nothing to compare". The score is the logistic of
their sum, a number between 0 and 1 that reads as odds: 0.5 is even odds, 0.9 is nine to one.

The weights follow how often the evidence agrees by chance, not any list's entries:

* **Name.** ``NAME_SLOPE * (name score - NAME_MIDPOINT)``: an identical name is strong evidence, one in
  five letters wrong is none, and less alike counts against.
* **Date of birth.** The same full date happens by chance about once in 20,000 pairs: strong. The same
  year (when the list gives only a year) about once in 60: moderate; inside a listed range: weaker the
  wider the range. Day and month swapped is a common keying slip. A year or two off is a mild conflict
  (lists carry estimates); a decade off is a different person, and outweighs an identical name.
* **Nationality.** Agrees by chance often and differs for dual nationals: weak either way.
* **Document.** The same document number is near proof.
* **Data quality.** A weak alias (the list's own "low quality" grade), a single name, or a name of very
  short parts say less than a full name: they need a date of birth or a document to reach a threshold.

:func:`name_floor` inverts the sum: the lowest name score that could still reach a threshold given the
evidence a query brings, which lets the screening index skip hopeless candidates without changing any
result.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from apps.watchlists.importers.entries import BirthDate

__all__ = [
    "MATCH_THRESHOLD",
    "REVIEW_THRESHOLD",
    "Part",
    "combine",
    "dob_part",
    "document_part",
    "name_floor",
    "name_part",
    "nationality_part",
]

NAME_SLOPE = 11.0
NAME_MIDPOINT = 0.78
DOB_EXACT = 2.5
DOB_SWAPPED = 1.5  # day and month swapped
DOB_YEAR = 1.2  # the list gives the year only, and it agrees
DOB_RANGE = 1.2  # inside a listed range of one year; scaled down for wider ranges
DOB_SAME_YEAR_OTHER_DAY = -0.3
DOB_NEAR = -1.0  # a year or so off
DOB_OFF = -2.0  # a few years off
DOB_FAR = -3.5  # a different generation
NATIONALITY_MATCH = 0.4
NATIONALITY_CONFLICT = -0.6
DOCUMENT_MATCH = 3.0
WEAK_ALIAS = -1.0
SINGLE_NAME = -1.2
SHORT_NAME = -0.7

#: Score at or above which a match is shown for review (even odds): the batch command and the tool.
REVIEW_THRESHOLD = 0.5
#: Score at or above which a list without a calibrated threshold of its own raises a hit.
MATCH_THRESHOLD = 0.8


@dataclass(frozen=True, slots=True)
class Part:
    """One piece of evidence: what it is, its log-odds weight, and a sentence for the explanation."""

    key: str  # name | quality | date_of_birth | nationality | document
    weight: float
    text: str

    def as_dict(self) -> dict[str, object]:
        return {"key": self.key, "weight": round(self.weight, 2), "text": self.text}


def combine(parts: Sequence[Part]) -> float:
    """The match score: the logistic of the parts' summed weights."""
    total = sum(p.weight for p in parts)
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, total))))


def name_part(name_score: float, alias: str, *, weak: bool) -> Part:
    label = "weak alias" if weak else "alias"
    return Part(
        "name", NAME_SLOPE * (name_score - NAME_MIDPOINT), f"name {name_score:.2f} on {label} {alias!r}"
    )


def quality_parts(*, weak: bool, single: bool, short: bool) -> list[Part]:
    """What the matched name itself is worth: a graded-weak alias, a single name, very short parts."""
    parts = []
    if weak:
        parts.append(Part("quality", WEAK_ALIAS, "the list grades this alias weak"))
    if single:
        parts.append(Part("quality", SINGLE_NAME, "a single name: needs a date of birth or a document"))
    elif short:
        parts.append(Part("quality", SHORT_NAME, "a name of short parts: common by chance"))
    return parts


def _one_dob(q: BirthDate, d: BirthDate) -> tuple[float, str]:
    """Weight and sentence for a query date of birth against one listed date."""
    slack = 2 if d.approximate else 0
    if d.year_to:  # a range "between 1955 and 1958"
        lo, hi = d.year - slack, d.year_to + slack
        if any(lo <= y <= hi for y in q.years()):
            width = hi - lo + 1
            return DOB_RANGE * min(1.0, 2.0 / (width + 1)), f"year of birth in the listed range {d}"
        off = min(abs(y - lo) if y < lo else abs(y - hi) for y in q.years())
    elif d.is_full and q.is_full:
        if (q.year, q.month, q.day) == (d.year, d.month, d.day):
            return DOB_EXACT, "date of birth matches"
        if (q.year, q.month, q.day) == (d.year, d.day, d.month):
            return DOB_SWAPPED, f"date of birth matches with day and month swapped (listed {d})"
        off = abs(q.year - d.year)
        if off == 0:
            return DOB_SAME_YEAR_OTHER_DAY, f"same year of birth but different date (listed {d})"
    else:  # one side gives a year (and maybe a month) only
        if any(abs(y - d.year) <= slack for y in q.years()):
            if d.month and q.month and d.month != q.month:
                return DOB_SAME_YEAR_OTHER_DAY, f"same year of birth but different month (listed {d})"
            return (DOB_YEAR if not slack else DOB_YEAR / 2), f"year of birth matches ({d})"
        off = min(abs(y - d.year) for y in q.years()) - slack
    if off <= 1:
        return DOB_NEAR, f"date of birth differs by a year (listed {d})"
    if off <= 4:
        return DOB_OFF, f"date of birth differs by {off} years (listed {d})"
    return DOB_FAR, f"date of birth differs (listed {d})"


def dob_part(query: BirthDate | None, listed: Sequence[BirthDate]) -> Part | None:
    """The best agreement of the query's date of birth with any listed one; None if either is missing."""
    if query is None or not listed:
        return None
    weight, text = max((_one_dob(query, d) for d in listed), key=lambda wt: wt[0])
    return Part("date_of_birth", weight, text)


def nationality_part(query: str | None, listed: Sequence[str]) -> Part | None:
    if not query or not listed:
        return None
    if query in listed:
        return Part("nationality", NATIONALITY_MATCH, f"nationality matches ({query})")
    return Part("nationality", NATIONALITY_CONFLICT, f"nationality differs (listed {', '.join(listed[:3])})")


def document_part(matched: tuple[str, str] | None) -> Part | None:
    """``matched``: (document type, number) of the listed document with the query's number."""
    if matched is None:
        return None
    return Part("document", DOCUMENT_MATCH, f"{matched[0]} number {matched[1]} matches")


def name_floor(threshold: float, *, dob: bool, nationality: bool, document: bool) -> float:
    """The lowest name score that could reach ``threshold`` with the best the other evidence can add.

    Quality parts only subtract, so leaving them out keeps the floor safe (never above the truth).
    """
    if threshold <= 0.0:
        return -1.0
    if threshold >= 1.0:
        return 2.0
    best = (DOB_EXACT if dob else 0.0) + (NATIONALITY_MATCH if nationality else 0.0)
    best += DOCUMENT_MATCH if document else 0.0
    logit = math.log(threshold / (1.0 - threshold))
    return NAME_MIDPOINT + (logit - best) / NAME_SLOPE - 1e-9

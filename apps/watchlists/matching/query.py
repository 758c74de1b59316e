"""What a screening query brings besides its name (:class:`Evidence`) and what it gets back (:class:`Match`).

Also :func:`merge_spellings`, which the per-name path (:meth:`ScreeningIndex.screen`) and the bulk
path (:mod:`apps.watchlists.bulk`) share, so that both keep the same best score per alias.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from apps.watchlists import evidence
from apps.watchlists.evidence import Part
from apps.watchlists.importers.countries import country_code
from apps.watchlists.importers.dates import parse_date_of_birth
from apps.watchlists.importers.entries import BirthDate, WatchlistEntry


@dataclass(slots=True)
class Match:
    """One screening hit: which entry, on which alias, how strongly and why.

    ``score`` is the combined score (:mod:`apps.watchlists.evidence`); ``parts`` the evidence it was
    made of, each with its weight; ``reasons`` the same parts as sentences, the name first.
    """

    entry_id: str
    entry: WatchlistEntry
    alias: str
    score: float
    name_score: float
    reasons: list[str] = field(default_factory=list)
    parts: list[Part] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Evidence:
    """What a query brings besides its name, in the form the evidence rules compare."""

    dob: BirthDate | None = None
    nationality: str | None = None
    document: str = ""

    @classmethod
    def of(
        cls, date_of_birth: Any = None, nationality: str | None = None, document: str | None = None
    ) -> Evidence:
        nat = country_code(nationality) or (
            nationality.strip().upper() if nationality and nationality.strip() else None
        )
        return cls(_as_birthdate(date_of_birth), nat, _doc_key(document) if document else "")

    def floor(self, threshold: float) -> float:
        """The lowest name score that may still reach ``threshold`` with this evidence."""
        return evidence.name_floor(
            threshold,
            dob=self.dob is not None,
            nationality=bool(self.nationality),
            document=bool(self.document),
        )


def _as_birthdate(value: str | date | BirthDate | None) -> BirthDate | None:
    if value is None or value == "":
        return None
    if isinstance(value, BirthDate):
        return value
    if isinstance(value, date):
        return BirthDate(value.year, value.month, value.day)
    parsed = parse_date_of_birth(str(value))
    return parsed[0] if parsed else None


_NOT_DOC = re.compile(r"[^0-9A-Z]")


def _doc_key(number: str) -> str:
    return _NOT_DOC.sub("", number.upper())


def merge_spellings(lists: Sequence[Iterable[tuple[int, float]]], floor: float) -> list[tuple[int, float]]:
    """(alias, name score) pairs of several spellings of one name: the best score per alias at or above
    ``floor``, in order of first appearance (shared by the per-name and the bulk paths, so both agree)."""
    if len(lists) == 1:
        return [(a, s) for a, s in lists[0] if s >= floor]
    best: dict[int, float] = {}
    for scored in lists:
        for a, s in scored:
            if s >= floor and s > best.get(a, -1.0):
                best[a] = s
    return list(best.items())

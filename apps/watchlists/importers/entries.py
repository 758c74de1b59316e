"""What an importer yields: a listed entry and its parts, as plain dataclasses, and the import error.

Every reader (:mod:`.un`, :mod:`.ofac`, :mod:`.generic`) and every writer of entries (the API, the
list editor) builds the same :class:`WatchlistEntry`, so the screening index and the database never
see a list's own format.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Literal

EntryKind = Literal[
    "person", "organisation", "vessel", "aircraft", "vehicle", "container", "phone", "email", "payment_card"
]
KINDS: frozenset[str] = frozenset(
    ("person", "organisation", "vessel", "aircraft", "vehicle", "container", "phone", "email", "payment_card")
)
AliasQuality = Literal["strong", "weak"]


class WatchlistImportError(ValueError):
    """A watchlist file could not be read; says where (file, line or element, field) and why."""

    def __init__(self, path: str | Path, where: str, field_name: str, problem: str) -> None:
        self.path = str(path)
        self.where = where
        self.field_name = field_name
        self.problem = problem
        super().__init__(f"{self.path}, {where}, field {field_name!r}: {problem}")


@dataclass(frozen=True, slots=True)
class Alias:
    """Another name of the entry. ``quality`` is set only when the list grades its aliases."""

    name: str
    quality: AliasQuality | None = None
    alias_type: str = "aka"  # aka, fka (formerly), nka (now), original_script


@dataclass(frozen=True, slots=True)
class BirthDate:
    """A date of birth as precise as the list gives it.

    ``month``/``day`` are ``None`` for year-only dates; ``year_to`` is set for ranges
    ("between 1955 and 1958"); ``approximate`` for "circa" dates.
    """

    year: int
    month: int | None = None
    day: int | None = None
    year_to: int | None = None
    approximate: bool = False

    @property
    def is_full(self) -> bool:
        """True when year, month and day are known (an exact comparison is meaningful)."""
        return self.month is not None and self.day is not None and self.year_to is None

    def years(self) -> range:
        """The birth years this value covers (a range of one for exact dates)."""
        return range(self.year, (self.year_to or self.year) + 1)

    def __str__(self) -> str:
        if self.year_to:
            return f"{self.year}..{self.year_to}"
        text = f"{self.year:04d}"
        if self.month:
            text += f"-{self.month:02d}"
            if self.day:
                text += f"-{self.day:02d}"
        return ("~" if self.approximate else "") + text


@dataclass(frozen=True, slots=True)
class Document:
    """An identity or registration document: passport, national id, IMO number, tax id..."""

    doc_type: str
    number: str
    country: str | None = None  # ISO alpha-2 where derivable, else the list's wording
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Address:
    """A postal address; ``country`` is ISO alpha-2 where derivable."""

    text: str
    country: str | None = None


@dataclass(slots=True)
class WatchlistEntry:
    """One listed person, organisation, vessel... as imported from a list."""

    source: str
    external_id: str
    kind: EntryKind
    name: str
    aliases: list[Alias] = field(default_factory=list)
    dates_of_birth: list[BirthDate] = field(default_factory=list)
    places_of_birth: list[str] = field(default_factory=list)
    nationalities: list[str] = field(default_factory=list)
    documents: list[Document] = field(default_factory=list)
    addresses: list[Address] = field(default_factory=list)
    programmes: list[str] = field(default_factory=list)
    remarks: str = ""
    listed_on: date | None = None
    gender: str | None = None
    reference: str | None = None  # the list's human reference, e.g. UN "QDi.001"
    #: Extra exact keys in normal form, by kind (``imo``, ``container``, ``phone``, ``email``,
    #: ``payment_card``); see :func:`apply_keys`.
    identifiers: dict[str, list[str]] = field(default_factory=dict)

    def all_names(self) -> list[str]:
        """Primary name first, then distinct aliases, for indexing."""
        seen = {self.name.casefold()}
        names = [self.name]
        for alias in self.aliases:
            if alias.name.casefold() not in seen:
                seen.add(alias.name.casefold())
                names.append(alias.name)
        return names


def join_parts(*parts: str) -> str:
    """The non-empty parts of an address or a place, comma-separated."""
    return ", ".join(p for p in parts if p)


def load_all(entries: Iterable[Iterable[WatchlistEntry]]) -> list[WatchlistEntry]:
    """Concatenate several importers' output into one list (convenience for building an index)."""
    return [e for source in entries for e in source]

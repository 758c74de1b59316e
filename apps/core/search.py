"""The search in the header: one box for every kind of record, each app answering for its own kinds.

An app declares what can be found in it in its own ``search.py`` (``register(SearchKind(...))``); those
modules are discovered on first use, as the admin discovers ``admin.py``, so this module (low in the
layers) imports none of the apps above it. Each kind:

- names the operation a viewer needs (``subject.view``, ``target.view``): a role without it never has
  the kind asked at all;
- finds through its model's ``visible_to(user)``, so another agency's records are never found, and
  excludes records shown masked to the viewer from matches on what is masked (the match itself would
  re-identify the person, and so would a count);
- answers with indexed look-ups only (exact identifiers, keyed hashes, an indexed name prefix) and at
  most ``limit`` results plus one to say "more", never a scan of a table of millions.

The page that runs it is gated (``apps.core.urls``): a purpose of access is declared first, and every
search is logged with its query and the number of results (``apps.compliance.gate``).
"""

from __future__ import annotations

import importlib
import threading
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from django.apps import apps as django_apps
from django.utils.module_loading import module_has_submodule

from apps.agencies.operations import can

__all__ = [
    "MAX_LENGTH",
    "MIN_LENGTH",
    "PER_KIND",
    "Found",
    "Group",
    "Result",
    "SearchKind",
    "SearchOutcome",
    "SearchQuery",
    "kinds_for",
    "register",
    "run_search",
]

#: Shorter queries match too much to be useful (and cost a wide index range).
MIN_LENGTH = 2
MAX_LENGTH = 100
#: Results shown per kind; one more is fetched to know that there are more.
PER_KIND = 8


@dataclass
class SearchQuery:
    """What was typed, with the normal forms the kinds compare against; ``memo`` lets kinds of one app
    share work within one search (the subjects a name matches serve the subject and the target groups)."""

    text: str
    memo: dict[Any, Any] = field(default_factory=dict, repr=False, compare=False)

    @cached_property
    def upper(self) -> str:
        """Upper case, runs of white space folded: how a name prefix is compared (accents kept, as titles
        keep them)."""
        return " ".join(self.text.upper().split())

    @cached_property
    def compact(self) -> str:
        """Letters and digits only, accents removed, upper case: how identifiers are compared."""
        decomposed = unicodedata.normalize("NFKD", self.text)
        return "".join(c for c in decomposed if c.isalnum() and not unicodedata.combining(c)).upper()

    @cached_property
    def words(self) -> list[str]:
        """The words of the query (commas and white space separate them), upper case."""
        return self.upper.replace(",", " ").split()

    @property
    def has_digits(self) -> bool:
        return any(c.isdigit() for c in self.compact)

    @property
    def has_letters(self) -> bool:
        return any(c.isalpha() for c in self.compact)

    @property
    def usable(self) -> bool:
        return len(self.compact) >= MIN_LENGTH and len(self.text) <= MAX_LENGTH


@dataclass(frozen=True)
class Result:
    """One record found: what to call it, where it is, and a line that tells it from the others."""

    label: str
    url: str
    detail: str = ""
    badge: str = ""


@dataclass(frozen=True)
class Found:
    results: list[Result]
    more: bool = False
    more_url: str = ""


@dataclass(frozen=True)
class SearchKind:
    """A kind of record the header search finds. ``find(user, query, limit)`` returns at most ``limit``
    results the user may see; ``order`` places the group on the page (lower first)."""

    key: str
    label: str
    operation: str
    find: Callable[[Any, SearchQuery, int], Found]
    order: int = 100
    hint: str = ""


@dataclass(frozen=True)
class Group:
    kind: SearchKind
    found: Found

    @property
    def key(self) -> str:
        return self.kind.key

    @property
    def label(self) -> str:
        return self.kind.label

    @property
    def results(self) -> list[Result]:
        return self.found.results


@dataclass(frozen=True)
class SearchOutcome:
    query: SearchQuery
    groups: list[Group]
    hints: list[str]
    too_short: bool = False

    @property
    def total(self) -> int:
        return sum(len(g.results) for g in self.groups)


_KINDS: dict[str, SearchKind] = {}
_discovered = False
_lock = threading.Lock()


def register(kind: SearchKind) -> SearchKind:
    """Declare a searchable kind (from an app's ``search.py``); registering a key again replaces it."""
    _KINDS[kind.key] = kind
    return kind


def _discover() -> None:
    """Import every project app's ``search`` module once, so each registers its kinds."""
    global _discovered
    if _discovered:
        return
    with _lock:
        if _discovered:
            return
        for config in django_apps.get_app_configs():
            if config.name.startswith("apps.") and module_has_submodule(config.module, "search"):
                importlib.import_module(f"{config.name}.search")
        _discovered = True


def kinds_for(user: Any) -> list[SearchKind]:
    """The kinds this user may search, in page order (none: the header shows no search box)."""
    _discover()
    return sorted((k for k in _KINDS.values() if can(user, k.operation)), key=lambda k: (k.order, k.key))


def run_search(user: Any, text: str, *, limit: int = PER_KIND) -> SearchOutcome:
    """Ask every kind the user may search; groups with nothing found are left out."""
    query = SearchQuery((text or "").strip()[:MAX_LENGTH])
    kinds = kinds_for(user)
    hints = [k.hint for k in kinds if k.hint]
    if not query.text:
        return SearchOutcome(query, [], hints)
    if not query.usable:
        return SearchOutcome(query, [], hints, too_short=True)
    groups = []
    for kind in kinds:
        found = kind.find(user, query, limit)
        if found.results:
            groups.append(Group(kind, found))
    return SearchOutcome(query, groups, hints)

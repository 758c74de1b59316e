"""The visible lists' entries and their matching index as one bundle, built once per lists' versions and day, and cached."""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db.models import Q
from django.utils import timezone

from apps.intake.keys import BadKey, card_key, normal_key
from apps.intake.normalise import key_hash
from apps.watchlists import importers
from apps.watchlists.evidence import MATCH_THRESHOLD
from apps.watchlists.matching.index import ScreeningIndex
from apps.watchlists.models import HandlingCode, Watchlist, WatchlistEntry
from apps.watchlists.services import to_dataclass

if TYPE_CHECKING:
    pass


#: Indexes kept per process (one per distinct set of lists screened against).
CACHE_SIZE = 4


#: Subject fields screened, by subject kind: (fact, label, entry kinds it may match).
PARTY_KINDS = ("person", "organisation")


@dataclass(slots=True)
class StoredEntry(importers.WatchlistEntry):
    """An indexed entry, with what the service needs to find and show it again."""

    pk: int = 0
    watchlist_id: int = 0
    owner_agency_id: int = 0
    handling: str = ""


@dataclass(frozen=True, slots=True)
class ListInfo:
    pk: int
    name: str
    owner_agency_id: int
    owner_agency_code: str
    weight: int
    risk_area: str
    threshold: float = MATCH_THRESHOLD  # the list's own, calibrated on its stated false-hit rate


@dataclass(slots=True)
class Bundle:
    """One cached screening set: the fuzzy index, exact identifier keys and the lists' facts."""

    key: tuple[Any, ...]
    index: ScreeningIndex
    identifiers: dict[tuple[str, str], list[StoredEntry]]
    lists: dict[int, ListInfo]
    built_at: float = 0.0

    @property
    def size(self) -> int:
        return len(self.index.entries)

    @property
    def lowest_threshold(self) -> float:
        """The index is asked down to the lowest list threshold; each hit then meets its own list's."""
        return min((info.threshold for info in self.lists.values()), default=MATCH_THRESHOLD)


@dataclass(slots=True)
class Hit:
    """One match of a name (or identifier) against a stored entry, with why and where it came from."""

    entry_pk: int
    external_id: str
    entry_name: str
    kind: str
    watchlist_id: int
    watchlist: str
    owner_agency_id: int
    owner_agency: str
    alias: str
    score: float
    name_score: float
    handling: str
    reasons: list[str] = field(default_factory=list)
    subject_field: str = "name"
    query: str = ""
    parts: list[dict[str, Any]] = field(default_factory=list)  # the evidence, weight by weight
    threshold: float = 0.0  # the threshold the hit met (its list's, or the one asked for)

    @property
    def handling_label(self) -> str:
        return HandlingCode(self.handling).label if self.handling in HandlingCode.values else self.handling

    def as_dict(self) -> dict[str, Any]:
        return {
            "entry_id": self.entry_pk,
            "external_id": self.external_id,
            "entry_name": self.entry_name,
            "kind": self.kind,
            "watchlist_id": self.watchlist_id,
            "watchlist": self.watchlist,
            "owner_agency_id": self.owner_agency_id,
            "owner_agency": self.owner_agency,
            "alias": self.alias,
            "score": round(self.score, 4),
            "name_score": round(self.name_score, 4),
            "handling_code": self.handling,
            "reasons": list(self.reasons),
            "field": self.subject_field,
            "query": self.query,
            "parts": list(self.parts),
            "threshold": round(self.threshold, 4),
        }


_cache: OrderedDict[tuple[Any, ...], Bundle] = OrderedDict()


_lock = threading.Lock()


def clear_cache() -> None:
    """Forget every cached index (tests; the version key makes this unnecessary in production)."""
    with _lock:
        _cache.clear()


def _today() -> dt.date:
    return timezone.localdate()


def _key(list_ids: Iterable[int] | None) -> tuple[tuple[tuple[int, int, Any], ...], dt.date]:
    """(pk, version, updated_at) of each list, and today: any change to a list changes the key."""
    rows = Watchlist.objects.all()
    if list_ids is not None:
        rows = rows.filter(pk__in=list(list_ids))
    return tuple(rows.order_by("pk").values_list("pk", "version", "updated_at")), _today()


def bundle_for(list_ids: Iterable[int] | None = None) -> Bundle:
    """The cached index over the live entries of ``list_ids`` (all lists when None); rebuilt if stale."""
    versions, today = _key(list_ids)
    key = (versions, today)
    with _lock:
        bundle = _cache.get(key)
        if bundle is not None:
            _cache.move_to_end(key)
            return bundle
    bundle = _build(key, [row[0] for row in versions], today)
    with _lock:
        _cache[key] = bundle
        # Drop stale versions of the same set and keep at most CACHE_SIZE sets.
        pks = [row[0] for row in versions]
        same_set = [k for k in _cache if k != key and [row[0] for row in k[0]] == pks]
        for k in same_set:
            del _cache[k]
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return bundle


def _build(key: tuple[Any, ...], list_ids: list[int], today: dt.date) -> Bundle:
    import time

    started = time.perf_counter()
    lists = {
        w.pk: ListInfo(
            w.pk, w.name, w.owner_agency_id, w.owner_agency.code, w.weight, w.risk_area, w.match_threshold
        )
        for w in Watchlist.objects.filter(pk__in=list_ids).select_related("owner_agency")
    }
    defaults = dict(Watchlist.objects.filter(pk__in=list_ids).values_list("pk", "default_handling"))
    rows = (
        WatchlistEntry.objects.filter(watchlist_id__in=list_ids, active=True)
        .filter(Q(expires_on__isnull=True) | Q(expires_on__gt=today))
        .order_by("pk")
        .values(
            "pk",
            "watchlist_id",
            "external_id",
            "kind",
            "name",
            "aliases",
            "dates_of_birth",
            "places_of_birth",
            "nationalities",
            "documents",
            "addresses",
            "programmes",
            "remarks",
            "listed_on",
            "gender",
            "reference",
            "identifiers",
            "handling_code",
        )
    )
    entries: list[StoredEntry] = []
    identifiers: dict[tuple[str, str], list[StoredEntry]] = defaultdict(list)
    for row in rows.iterator(chunk_size=2000):
        entry = to_dataclass(
            row,
            StoredEntry,
            pk=row["pk"],
            watchlist_id=row["watchlist_id"],
            owner_agency_id=lists[row["watchlist_id"]].owner_agency_id,
            handling=row["handling_code"] or defaults[row["watchlist_id"]],
        )
        entries.append(entry)
        for name, values in (row["identifiers"] or {}).items():
            for value in values:
                if ident := _ident(name, value):
                    identifiers[(name, ident)].append(entry)
    return Bundle(key, ScreeningIndex.build(entries), dict(identifiers), lists, time.perf_counter() - started)


def _ident(kind: str, value: str) -> str:
    """The form an exact identifier is looked up by: its normal form (``apps.intake.keys``) where it has
    one, else a plain canonical spelling (entries stored before keys were normalised, a published list's
    IMO number whose check digit fails). A payment card is looked up by the keyed hash subjects carry.
    """
    value = str(value).strip()
    if kind == "payment_card":
        try:
            return key_hash("card", card_key(value))
        except BadKey:
            return ""
    try:
        return normal_key(kind, value, strict=False)
    except (BadKey, ValueError):
        pass
    if kind in {"imo", "phone"}:
        digits = "".join(c for c in value if c.isdigit())
        return f"+{digits}" if kind == "phone" and value.startswith("+") else digits
    if kind == "email":
        return value.casefold()
    return "".join(c for c in value.upper() if c.isalnum())

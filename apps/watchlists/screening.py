"""Screening service: subjects and names against the stored watchlists, with a per-process index cache.

**Cache.** Building a :class:`~apps.watchlists.matching.ScreeningIndex` over UN + OFAC takes about a
second, screening one name a millisecond, so each process keeps the indexes it has built, keyed by the
set of lists and each list's ``version`` (bumped by every import or edit) and by today's date (an entry
stops being screened on its ``expires_on``). A changed key makes the next screening rebuild, lazily, in
whichever process screens; nothing has to be told. Only active, unexpired entries are indexed.

**Who learns what.** Screening for the risk engine (:func:`screen_subject`, :func:`provider`) uses every
active list, whoever owns it: a police lookout must be able to flag a customs declaration. But an agency
must never learn of an entry on a list it may not see. So every hit and every risk component carries
the list and its owner agency (``details["watchlist_id"]``, ``details["owner_agency_id"]``), its
explanation text names neither the list nor the entry, and pages filter with
:func:`visible_components` / :func:`visible_hits` before showing anything. Screening a name for a person
(the tool page, the API) uses only the lists that person may see (:func:`screen_name_for`).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.contrib.auth.models import User
from django.db.models import Q
from django.utils import timezone

from apps.agencies.operations import check
from apps.intake.keys import BadKey, card_key, normal_key
from apps.intake.normalise import key_hash
from apps.watchlists import importers
from apps.watchlists.bulk import Query, screen_many, screen_one
from apps.watchlists.evidence import MATCH_THRESHOLD
from apps.watchlists.matching.index import ScreeningIndex
from apps.watchlists.matching.query import Match
from apps.watchlists.models import HandlingCode, Watchlist, WatchlistEntry
from apps.watchlists.rulings import false_match_pairs
from apps.watchlists.services import to_dataclass

if TYPE_CHECKING:
    from apps.intake.models import Subject
    from apps.risk.providers import Component

__all__ = [
    "Hit",
    "bundle_for",
    "clear_cache",
    "provider",
    "screen_name",
    "screen_name_for",
    "screen_subject",
    "screen_subjects",
    "visible_components",
    "visible_hits",
    "visible_list_ids",
]

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


#: Subject facts screened exactly, by subject kind: (fact, key kind, label of the field).
EXACT_KEYS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "traveller": (
        ("document_number", "document", "travel document"),
        ("phone", "phone", "phone number"),
        ("email", "email", "e-mail address"),
        ("payment_card_keys", "payment_card", "payment card"),
    ),
    "consignment": (("container_numbers", "container", "container"), ("vessel_imo", "imo", "vessel IMO")),
    "trader": (
        ("trader_id", "document", "operator id"),
        ("phone", "phone", "phone number"),
        ("email", "email", "e-mail address"),
    ),
    "conveyance": (("vessel_imo", "imo", "vessel IMO"),),
}
_KEY_WORDS = {
    "document": "document number",
    "phone": "phone number",
    "email": "e-mail address",
    "payment_card": "payment card",
    "container": "container number",
    "imo": "IMO number",
}


def _same_country(a: str | None, b: str | None) -> bool:
    """Document countries agree unless both are given in the same code form and differ (ISO alpha-2 and
    alpha-3 are both sent; a mismatch of forms is no evidence)."""
    a, b = (a or "").strip().upper(), (b or "").strip().upper()
    return not a or not b or len(a) != len(b) or a == b


def _exact_hits(bundle: Bundle, subject: Subject) -> list[Hit]:
    """Hits on the subject's exact keys: container, IMO, phone, e-mail, document, payment card."""
    facts = subject.facts or {}
    hits: list[Hit] = []
    for fact, kind, label in EXACT_KEYS.get(subject.kind, ()):
        raw = facts.get(fact)
        values = raw if isinstance(raw, list) else [raw] if raw else []
        for value in values:
            # A card comes as the keyed hash intake stored; anything else in its normal form.
            ident = str(value) if kind == "payment_card" else _ident(kind, str(value))
            if not ident:
                continue
            for entry in bundle.identifiers.get((kind, ident), []):
                if kind == "document" and subject.kind == "traveller":
                    country = facts.get("document_country")
                    if not any(
                        _ident("document", d.number) == ident and _same_country(d.country, country)
                        for d in entry.documents
                    ):
                        continue
                # The card is named by its kind only: neither its hash nor a part of it is shown.
                shown = "" if kind == "payment_card" else ident
                text = f"{_KEY_WORDS[kind]} {shown} matches".replace("  ", " ")
                hits.append(
                    _hit(
                        bundle,
                        entry,
                        alias=f"{_KEY_WORDS[kind]} {shown}".strip(),
                        score=1.0,
                        name_score=0.0,
                        reasons=[text],
                        parts=[{"key": kind, "weight": 30.0, "text": text}],
                        subject_field=label,
                        query=shown or "payment card",
                    )
                )
    return hits


def _hit(bundle: Bundle, entry: StoredEntry, **kw: Any) -> Hit:
    info = bundle.lists[entry.watchlist_id]
    return Hit(
        entry_pk=entry.pk,
        external_id=entry.external_id,
        entry_name=entry.name,
        kind=entry.kind,
        watchlist_id=entry.watchlist_id,
        watchlist=info.name,
        owner_agency_id=info.owner_agency_id,
        owner_agency=info.owner_agency_code,
        handling=entry.handling,
        **kw,
    )


def _query(
    name: str,
    *,
    date_of_birth: Any = None,
    nationality: str | None = None,
    document: str | None = None,
    kind: str | None = None,
    kinds: tuple[str, ...] | None = None,
    limit: int = 5,
    threshold: float = MATCH_THRESHOLD,
) -> Query:
    """What to ask the index for one name (more hits when ``kinds`` or list thresholds filter some out).

    Kinds are kept apart: a name given with a date of birth is a person's, screened against persons.
    """
    if kind is None and not kinds and date_of_birth:
        kind = "person"
    return Query(
        name,
        date_of_birth=date_of_birth or None,
        nationality=nationality or None,
        document=document or None,
        kind=kind,
        limit=limit * 3,
        threshold=threshold,
    )


def _hits(
    bundle: Bundle,
    name: str,
    matches: list[Match],
    *,
    kinds: tuple[str, ...] | None = None,
    limit: int = 5,
    field_name: str = "name",
    threshold: float | None = None,
) -> list[Hit]:
    """Matches as hits, each kept only at or above ``threshold`` (None: its own list's threshold)."""
    hits = []
    for m in matches:
        entry: StoredEntry = m.entry  # type: ignore[assignment]
        if kinds and entry.kind not in kinds:
            continue
        needed = bundle.lists[entry.watchlist_id].threshold if threshold is None else threshold
        if m.score < needed:
            continue
        hits.append(
            _hit(
                bundle,
                entry,
                alias=m.alias,
                score=m.score,
                name_score=m.name_score,
                reasons=list(m.reasons),
                subject_field=field_name,
                query=name,
                parts=[p.as_dict() for p in m.parts],
                threshold=needed,
            )
        )
    return hits[:limit]


def _screen(
    bundle: Bundle,
    name: str,
    *,
    kinds: tuple[str, ...] | None = None,
    limit: int = 5,
    field_name: str = "name",
    threshold: float | None = None,
    **kwargs: Any,
) -> list[Hit]:
    """One name through the per-name path (:meth:`ScreeningIndex.screen`); ``threshold`` None: each
    list's own."""
    if not name or not name.strip() or not bundle.size:
        return []
    asked = bundle.lowest_threshold if threshold is None else threshold
    q = _query(name, kinds=kinds, limit=limit, threshold=asked, **kwargs)
    matches = screen_one(bundle.index, q)
    return _hits(bundle, name, matches, kinds=kinds, limit=limit, field_name=field_name, threshold=threshold)


def screen_name(
    name: str,
    *,
    date_of_birth: Any = None,
    nationality: str | None = None,
    document: str | None = None,
    kind: str | None = None,
    list_ids: Iterable[int] | None = None,
    limit: int = 5,
    threshold: float | None = None,
) -> list[Hit]:
    """Best matches of one name against the live entries of ``list_ids`` (all lists when None).

    Each hit has reached its list's calibrated threshold, or ``threshold`` when one is given. No
    visibility check: the engine and commands call this; people go through :func:`screen_name_for`.
    """
    bundle = bundle_for(list_ids)
    return _screen(
        bundle,
        name,
        date_of_birth=date_of_birth,
        nationality=nationality,
        document=document,
        kind=kind,
        limit=limit,
        threshold=threshold,
    )


def visible_list_ids(user: Any) -> list[int]:
    """Ids of the lists ``user``'s agency may see (own and granted)."""
    return list(Watchlist.objects.visible_to(user).order_by("pk").values_list("pk", flat=True))


def screen_name_for(actor: User, name: str, **kwargs: Any) -> list[Hit]:
    """Screen a name for a person: only against the lists that person may see (``watchlist.view``)."""
    check(actor, "watchlist.view")
    kwargs.pop("list_ids", None)
    return screen_name(name, list_ids=visible_list_ids(actor), **kwargs)


# --- subjects -------------------------------------------------------------------------------------------


def _party_names(subject: Subject) -> list[tuple[str, str]]:
    """(field label, name) of the parties of a consignment: consignor, consignee, declared parties."""
    facts, details = subject.facts or {}, subject.details or {}
    names: list[tuple[str, str]] = []
    for key in ("consignor_name", "consignee_name", "importer_name", "exporter_name", "declarant_name"):
        if facts.get(key):
            names.append((key, str(facts[key])))
    parties = details.get("parties") if isinstance(details, dict) else None
    for party in parties if isinstance(parties, list) else []:
        if isinstance(party, dict) and party.get("name"):
            names.append((f"{party.get('role') or 'party'}_name", str(party["name"])))
    seen: set[str] = set()
    unique = []
    for label, name in names:
        if name.casefold() not in seen:
            seen.add(name.casefold())
            unique.append((label, name))
    return unique


@dataclass(slots=True)
class _Ask:
    """One name of a subject to screen, and how to turn its matches into hits."""

    query: Query
    field_name: str
    kinds: tuple[str, ...] | None = None
    limit: int = 5


def _asks(bundle: Bundle, subject: Subject) -> tuple[list[_Ask], list[Hit]]:
    """The names a subject is screened on, and its exact identifier hits (:func:`_exact_hits`)."""
    facts = subject.facts or {}
    asks: list[_Ask] = []
    exact: list[Hit] = _exact_hits(bundle, subject) if bundle.identifiers else []

    def ask(name: Any, field_name: str, *, kinds: tuple[str, ...] | None = None, **kwargs: Any) -> None:
        name = str(name or "")
        if name.strip():
            query = _query(name, kinds=kinds, threshold=bundle.lowest_threshold, **kwargs)
            asks.append(_Ask(query, field_name, kinds))

    if subject.kind == "traveller":
        name = facts.get("full_name") or " ".join(
            p for p in (facts.get("given_names"), facts.get("surname")) if p
        )
        ask(
            name,
            "traveller name",
            date_of_birth=facts.get("date_of_birth"),
            nationality=facts.get("nationality"),
            document=facts.get("document_number"),
            kind="person",
        )
    elif subject.kind == "consignment":
        for label, name in _party_names(subject):
            ask(name, label.replace("_", " "), kinds=PARTY_KINDS)
    elif subject.kind == "trader":
        # Intake writes ``trader_name`` (declarations, manifests, the register); ``name`` is kept for
        # subjects stored before it did.
        ask(facts.get("trader_name") or facts.get("name"), "trader name", kinds=PARTY_KINDS)
    elif subject.kind == "conveyance":
        ask(facts.get("vessel_name"), "vessel name", kind="vessel")
    return asks, exact


def _best_per_entry(hits: list[Hit]) -> list[Hit]:
    """One hit per entry: its best. An entry found both by name and by an exact key (a listed person's
    passport number) keeps the name match, with its evidence, and the key's reasons and strength added."""
    best: dict[int, Hit] = {}
    keyed: dict[int, list[Hit]] = {}
    for hit in hits:
        if hit.name_score == 0.0 and hit.score == 1.0 and hit.parts and hit.parts[0].get("key") in _KEY_WORDS:
            keyed.setdefault(hit.entry_pk, []).append(hit)
            continue
        if hit.entry_pk not in best or hit.score > best[hit.entry_pk].score:
            best[hit.entry_pk] = hit
    for entry_pk, found in keyed.items():
        named = best.get(entry_pk)
        if named is None:
            best[entry_pk] = found[0]
            named, found = found[0], found[1:]
        for key_hit in found:
            named.score = max(named.score, key_hit.score)
            named.reasons = [*named.reasons, *(r for r in key_hit.reasons if r not in named.reasons)]
            named.parts = [*named.parts, *key_hit.parts]
    return sorted(best.values(), key=lambda h: (-h.score, h.entry_pk))


def screen_subject(
    subject: Subject, *, list_ids: Iterable[int] | None = None, bundle: Bundle | None = None
) -> list[Hit]:
    """Screen one subject against every active list (or ``list_ids``), with the reasons of each match.

    Travellers: name with date of birth, nationality and document number, and exactly their document
    number, phones, e-mails and payment cards. Consignments: the names of their parties (consignor,
    consignee, declared parties, against persons and organisations), and exactly their containers and
    vessel IMO. Traders: their name, and exactly their operator id, phones and e-mails. Conveyances: the
    vessel name (against vessels), and the IMO number exactly. Results are *not* filtered for any agency: callers that show
    them to a person use :func:`visible_hits`. Many subjects at once: :func:`screen_subjects`.
    """
    bundle = bundle or bundle_for(list_ids)
    if not bundle.size:
        return []
    asks, hits = _asks(bundle, subject)
    for a in asks:
        matches = screen_one(bundle.index, a.query)
        hits += _hits(bundle, a.query.name, matches, kinds=a.kinds, limit=a.limit, field_name=a.field_name)
    return _best_per_entry(hits)


def screen_subjects(subjects: list[Subject], *, bundle: Bundle | None = None) -> dict[int, list[Hit]]:
    """:func:`screen_subject` for many subjects at once, through the bulk path (same hits).

    Every name of the batch goes to :func:`apps.watchlists.bulk.screen_many` in one call: repeated
    names are screened once, candidates are ranked for the whole batch, and only the candidates that
    may reach the threshold are scored in full. Returns hits per subject id (subjects without hits
    left out).
    """
    bundle = bundle or bundle_for(None)
    if not bundle.size or not subjects:
        return {}
    per_subject = [_asks(bundle, subject) for subject in subjects]
    queries = [a.query for asks, _exact in per_subject for a in asks]
    matches = iter(screen_many(bundle.index, queries))
    found: dict[int, list[Hit]] = {}
    for subject, (asks, exact) in zip(subjects, per_subject, strict=True):
        hits = list(exact)
        for a in asks:
            hits += _hits(
                bundle, a.query.name, next(matches), kinds=a.kinds, limit=a.limit, field_name=a.field_name
            )
        if hits:
            found[subject.pk] = _best_per_entry(hits)
    return found


def visible_hits(user: Any, hits: Iterable[Hit]) -> list[Hit]:
    """Only the hits on lists ``user``'s agency may see: the rest must not even be hinted at."""
    allowed = set(visible_list_ids(user))
    return [h for h in hits if h.watchlist_id in allowed]


# --- risk engine -----------------------------------------------------------------------------------------


def _component(hit: Hit, info: ListInfo) -> Component:
    from apps.risk.providers import Component

    # The explanation is copied into target reasons and shown without a visibility check by other
    # apps, so it names neither the list nor the entry; ``details`` carries them for pages that filter
    # with ``visible_components``.
    return Component(
        kind="watchlist",
        ref=f"watchlist-entry:{hit.entry_pk}",
        score=round(min(100.0, hit.score * info.weight), 2),
        risk_area=info.risk_area,
        explanation=f"Watchlist match on the {hit.subject_field} (strength {hit.score:.2f}); "
        f"handling restricted to agencies that may see the list.",
        label="Watchlist match",
        details=hit.as_dict() | {"restricted_to_list_viewers": True},
    )


def provider(subjects: list[Subject]) -> dict[int, list[Component]]:
    """Risk-engine provider (``apps.risk.providers`` contract): watchlist components per subject id.

    Reads only; the whole batch is screened at once (:func:`screen_subjects`) against every active list. Each component's ``details``
    carries ``watchlist_id`` and ``owner_agency_id`` so that pages show it only to agencies that may
    see that list (:func:`visible_components`).
    """
    if not subjects:
        return {}
    bundle = bundle_for(None)
    if not bundle.size:
        return {}
    found = screen_subjects(subjects, bundle=bundle)
    # A person ruled these a false match (on the entry as it still reads): not raised again.
    ruled_false = false_match_pairs(found) if found else set()
    components = {
        pk: [_component(h, bundle.lists[h.watchlist_id]) for h in hits if (pk, h.entry_pk) not in ruled_false]
        for pk, hits in found.items()
    }
    return {pk: found_here for pk, found_here in components.items() if found_here}


def visible_components(user: Any, components: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Stored components (``Assessment.explanation["components"]``) that ``user`` may see.

    Watchlist components on a list the user's agency may not see are dropped entirely; other kinds
    pass through. For the risk and targeting pages, before anything is drawn.
    """
    components = list(components)
    if not any(c.get("kind") == "watchlist" for c in components):
        return components
    allowed = set(visible_list_ids(user))
    return [
        c
        for c in components
        if c.get("kind") != "watchlist" or (c.get("details") or {}).get("watchlist_id") in allowed
    ]

"""Screening a subject: its parties' names and its identifiers, the best hit per entry."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from apps.core.collector import collector_paused
from apps.watchlists.bulk import Query, screen_many, screen_one

if TYPE_CHECKING:
    from apps.intake.models import Subject

from apps.watchlists.screening.bundle import PARTY_KINDS, Bundle, Hit, bundle_for
from apps.watchlists.screening.names import _KEY_WORDS, _exact_hits, _hits, _query, visible_list_ids


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
    # The batch's queries live until it ends, like what screen_many builds from them: built under the
    # same pause of the collector (``collector_paused``), whose collections would walk the whole heap
    # for nothing (more than half the CPU of building 500,000 queries in a worker).
    with collector_paused():
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

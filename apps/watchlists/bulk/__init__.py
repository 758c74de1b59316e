"""Bulk screening: many names against one :class:`~apps.watchlists.matching.ScreeningIndex` at once.

Gives exactly the hits of :meth:`ScreeningIndex.screen` called name by name (same candidates in the
same order, same scores, same threshold), at a small fraction of the cost, for the risk engine's
batches of thousands of travellers. Where the time goes in the per-name path, and what replaces it:

1. **Repeated names.** Manifests repeat names (frequent travellers, common names, "SMITH, JOHN" and
   "John Smith"). Names are screened once per distinct *normalised* token sequence; only the cheap
   secondary evidence (date of birth, nationality, document) is applied per traveller. The batch is
   read into columns: per traveller the row of its name set and of its evidence class, nothing more.
2. **Candidate generation.** Each distinct token's expansion (exact, phonetic, skeleton and trigram
   neighbours in the list vocabulary) is computed once per index, not once per name; the inverted
   lists of a whole batch are merged and ranked with a handful of numpy calls. Ranking reproduces
   the per-name arithmetic bit for bit (same weights, same summation order, ``argpartition`` on the
   same array), so the candidate list of every name is the one the per-name path would score.
3. **Full scoring.** The per-name path scores about forty candidates per name in Python; nearly all
   of them share one name part with the query and score far below the cut-off. For every (name,
   candidate) pair a vectorised *upper bound* of :func:`~apps.watchlists.matching.scoring.score_tokens` is
   computed: part-to-part similarities exactly as ``token_similarity`` gives them (edit distances by
   ``rapidfuzz.process.cpdist``, once per distinct pair of parts in a chunk, after a length and
   letter-set filter that can only drop pairs below MIN_TOKEN_SIM), then the best alignment the
   weights allow (every aligned part counted at its best similarity, every part that cannot align
   at its full cost), the joined-string rule through a letter-multiset bound and the acronym rule
   by its shape. The exact scorer runs only where the bound reaches the cut-off, so no pair the
   per-name path would keep is ever dropped (``tests/watchlists/test_bulk.py`` checks this on the
   real lists).
4. **Evidence.** Most pairs that score a fair name cannot reach the threshold once the traveller's
   other evidence meets the entry's: the per-name path still scores and ranks them. Here a name is
   scored only down to the floor its evidence could lift it from *given what the lists hold* (a
   document no entry lists, a nationality none has, a date that is no listed full date add nothing),
   and each (name, alias) row down to what the alias's entry allows (a listed birth year two or five
   years off weighs at most DOB_OFF or DOB_FAR; weak, single and short aliases always cost). A row
   asking for a name score above 1 is never bounded; after the merge no unreachable row is ranked.
   Names of several spellings re-score their few reachable aliases in every spelling (``_in_order``)
   so that the merge orders them as the per-name path does.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np

from apps.core.collector import collector_paused
from apps.watchlists.bulk.bounds import _survivors
from apps.watchlists.bulk.similarity import _QueryParts
from apps.watchlists.bulk.state import _candidates, _State, _state
from apps.watchlists.evidence import (
    DOB_EXACT,
    DOB_FAR,
    DOB_OFF,
    DOB_RANGE,
    DOB_SAME_YEAR_OTHER_DAY,
    DOB_SWAPPED,
    DOB_YEAR,
    DOCUMENT_MATCH,
    NAME_MIDPOINT,
    NAME_SLOPE,
    NATIONALITY_MATCH,
    REVIEW_THRESHOLD,
)
from apps.watchlists.importers.entries import BirthDate
from apps.watchlists.matching.index import CANDIDATES, SPELLING_CANDIDATES, ScreeningIndex, _key
from apps.watchlists.matching.names import Token, tokenize
from apps.watchlists.matching.query import Evidence, Match, _doc_key, merge_spellings
from apps.watchlists.matching.scoring import score_tokens

__all__ = ["Query", "screen_many", "screen_one"]

#: Candidates per name, as in :meth:`ScreeningIndex.screen` (its ``candidates`` default).
TOP_K = CANDIDATES
#: Unique names ranked together (bounds the size of the merged postings arrays).
CHUNK = 10_000


@dataclass(frozen=True, slots=True)
class Query:
    """One name to screen, with the evidence and options :meth:`ScreeningIndex.screen` takes."""

    name: str
    date_of_birth: str | date | BirthDate | None = None
    nationality: str | None = None
    document: str | None = None
    kind: str | None = None
    limit: int = 5
    threshold: float = REVIEW_THRESHOLD

    @property
    def evidence(self) -> Evidence:
        return Evidence.of(self.date_of_birth, self.nationality, self.document)


def screen_one(index: ScreeningIndex, q: Query) -> list[Match]:
    """One query through the per-name path: the reference :func:`screen_many` must agree with."""
    return index.screen(
        q.name,
        date_of_birth=q.date_of_birth,
        nationality=q.nationality,
        document=q.document,
        kind=q.kind,
        limit=q.limit,
        threshold=q.threshold,
    )


def screen_many(
    index: ScreeningIndex, queries: Sequence[Query], stages: dict[str, float] | None = None
) -> list[list[Match]]:
    """``[screen_one(index, q) for q in queries]``, computed in bulk; same hits, same order.

    ``stages``, when given, receives the CPU seconds spent in each stage (for the benches: CPU time, because
    the machines they run on are shared).
    """
    clock = _Clock(stages)
    if not queries or not len(index):
        return [[] for _ in queries]
    # The batch's groups, spellings and results all live until it ends: collections during it find
    # nothing to free (``collector_paused``).
    with collector_paused():
        results: list[list[Match]] = [[] for _ in queries]
        groups = _Groups(index, _state(index))
        groups.add_all(queries, clock)
        groups.score(clock)
        groups.rank(queries, results)  # most travellers' names score nothing: no hit, no rank
        # Freed now by reference counting, the groups are not walked by the collection that ends the
        # pause (millions of small tuples, keys and lists); only the results are.
        del groups
        clock.lap("rank")
    return results


class _Groups:
    """The batch's distinct names (by normalised tokens and person/organisation handling), each scored
    once, and for every query the groups it belongs to and the floor its evidence allows.

    A name's other spellings (``ScreeningIndex.spellings``) are groups of their own, scored against
    people's aliases only.
    """

    def __init__(self, index: ScreeningIndex, state: _State) -> None:
        self.index, self.state = index, state
        self.ids: dict[tuple, int] = {}
        # Per group, in columns (one tuple per group would be one more object per group for the
        # collector to walk): its tokens, the name as written, organisation handling, people only.
        self.tokens: list[tuple[Token, ...]] = []
        self.names: list[str] = []
        self.org: list[bool] = []
        self.person_only: list[bool] = []
        # Kinds per group as shared frozensets, and scored rows only for groups that scored: a batch
        # has hundreds of thousands of groups, and a container per group each is work for the collector.
        self.kinds_of: list[frozenset[str | None]] = []
        self.kind_sets: dict[frozenset[str | None], frozenset[str | None]] = {}
        self.several: set[int] = set()  # groups of names with several spellings
        self.seen: dict[tuple[str, bool, bool], tuple[int, ...]] = {}
        # The distinct (reach, floor, own floor) of the batch's evidence (``_bounded``), by evidence.
        self.bounds: dict[tuple, int] = {}
        self.bounded: list[tuple[tuple[float, ...] | None, float, float]] = []
        # The batch in columns: per query the row of ``sets`` (its groups) and of ``bounded`` it has.
        self.sets: list[tuple[int, ...]] = []
        self.q_set = np.zeros(0, dtype=np.int64)
        self.q_b = np.zeros(0, dtype=np.int64)
        self.evidence = _EvidenceKeys(state)
        # After ``score``: each group's (alias, score) rows, and the candidates of names of several spellings.
        self.scored: dict[int, list[tuple[int, float]]] = {}
        self.cands_of: dict[int, np.ndarray] = {}

    def _group(self, key: tuple, entry: tuple[tuple[Token, ...], str, bool, bool]) -> int:
        g = self.ids.get(key)
        if g is None:
            g = self.ids[key] = len(self.tokens)
            self.tokens.append(entry[0])
            self.names.append(entry[1])
            self.org.append(entry[2])
            self.person_only.append(entry[3])
            self.kinds_of.append(_NO_KINDS)
        return g

    def keyed(self, g: int) -> tuple[tuple[Token, ...], str, bool, bool]:
        """Group ``g``'s tokens, name as written, organisation handling and people-only flag."""
        return (self.tokens[g], self.names[g], self.org[g], self.person_only[g])

    def _groups_of(self, query: Query) -> tuple[int, ...]:
        org = query.kind is not None and query.kind != "person"
        raw = (query.name, org, query.kind is None)
        gs = self.seen.get(raw)
        if gs is not None:
            return gs
        spelled = self.index.keyed_spellings(query.name, org)  # a new spelling: normalise it once
        if not spelled:
            gs = ()
        else:
            key: tuple = (org, spelled[0][1])
            if query.kind is None:  # both tokenisations are scored (people's and organisations' aliases)
                key += (_key(tokenize(query.name, organisation=not org)),)
            key += tuple(k for _sp, k in spelled[1:])
            gs = (self._group(key, (spelled[0][0], query.name, org, False)),)
            gs += tuple(self._group(("spelling", k), (sp, query.name, False, True)) for sp, k in spelled[1:])
        self.seen[raw] = gs
        return gs

    def _bounded(self, found: Evidence, threshold: float) -> int:
        """The row of ``self.bounded`` holding the reach, floor and own floor of this evidence."""
        state = self.state
        listed = bool(found.document) and found.document in state.doc_keys
        known = bool(found.nationality) and found.nationality in state.nationalities
        ev_key = (found.dob, bool(found.nationality), known, bool(found.document), listed, threshold)
        b = self.bounds.get(ev_key)
        if b is None:
            reach = _reach(state, found, threshold)
            b = self.bounds[ev_key] = len(self.bounded)
            self.bounded.append((reach, _floor(found, threshold, reach), found.floor(threshold)))
        return b

    def add_all(self, queries: Sequence[Query], clock: _Clock) -> None:
        """Put every query in its groups, and give it its evidence bounds, as two integer columns.

        A name is scored only as far as the evidence the lists hold could lift it (``_reach``,
        ``_row_cutoffs``): a candidate below that cannot reach the threshold. A name of several spellings
        is merged at the query's own floor all the same (``_in_order``). Names, dates of birth and
        nationalities repeat: each distinct one is read once; a document only counts as listed or not.
        """
        n = len(queries)
        evidence = self.evidence
        q_b = np.empty(n, dtype=np.int64)
        keyed: dict[tuple, int] = {}  # (dob, nationality, document) classes -> row of ``bounded``
        for i, q in enumerate(queries):
            key = evidence.key(q)
            b = keyed.get(key)
            if b is None:
                b = keyed[key] = self._bounded(evidence.evidence(q), q.threshold)
            q_b[i] = b
        clock.lap("evidence")
        q_set = np.empty(n, dtype=np.int64)
        set_of: dict[tuple[str, str | None], int] = {}
        for i, q in enumerate(queries):
            raw = (q.name, q.kind)
            s = set_of.get(raw)
            if s is None:
                s = set_of[raw] = self._add_set(q)
            q_set[i] = s
        self.q_set, self.q_b = q_set, q_b
        clock.lap("normalise")

    def _add_set(self, query: Query) -> int:
        """A new (name, kind) of the batch: its groups, as a row of ``self.sets``."""
        gs = self._groups_of(query)
        for g in gs:
            kinds = self.kinds_of[g]
            if query.kind not in kinds:
                kinds = kinds | {query.kind}
                self.kinds_of[g] = self.kind_sets.setdefault(kinds, kinds)
        if len(gs) > 1:
            self.several.update(gs)
        self.sets.append(gs)
        return len(self.sets) - 1

    def _set_groups(self) -> tuple[np.ndarray, np.ndarray]:
        """Every set's groups flattened, and the set each belongs to."""
        sizes = np.fromiter((len(gs) for gs in self.sets), np.int64, len(self.sets))
        flat = np.fromiter((g for gs in self.sets for g in gs), np.int64, int(sizes.sum()))
        return flat, np.repeat(np.arange(len(self.sets), dtype=np.int64), sizes)

    def to_rank(self) -> np.ndarray:
        """The queries one of whose groups scored an alias, in batch order."""
        flat, owner = self._set_groups()
        hit = np.zeros(len(self.tokens), dtype=np.bool_)
        hit[np.fromiter((g for g, rows in self.scored.items() if rows), np.int64)] = True
        set_hit = np.bincount(owner, weights=hit[flat], minlength=len(self.sets)) > 0
        return np.flatnonzero(set_hit[self.q_set])

    def _combined(self) -> tuple[np.ndarray, np.ndarray]:
        """Per group, the lowest floor of its travellers, and their reach combined: the lowest aim, the
        most other evidence and date could add, the widest birth years, and 0.0 in the last column (no
        row bound) where a traveller has no reach (see ``_reach``)."""
        # Each distinct (set, evidence) pair of the batch once: min and max do not care how often.
        n_b = max(len(self.bounded), 1)
        pairs = np.unique(self.q_set * n_b + self.q_b)
        p_set, p_b = pairs // n_b, pairs % n_b
        flat, owner = self._set_groups()
        sizes = np.bincount(owner, minlength=len(self.sets))
        starts = np.cumsum(sizes) - sizes
        per = sizes[p_set]
        pair_b = np.repeat(p_b, per)
        groups = flat[
            np.arange(int(per.sum()), dtype=np.int64) - np.repeat(np.cumsum(per) - per - starts[p_set], per)
        ]
        rows = np.asarray(
            [(*r, 1.0, f) if r is not None else (*_NO_REACH, f) for r, f, _own in self.bounded]
        ).reshape(len(self.bounded), 8)[pair_b]
        combined = np.tile(np.asarray([*_NO_REACH[:6], 1.0, np.inf]), (len(self.tokens), 1))
        for col, how in enumerate(_COMBINE):
            how.at(combined[:, col], groups, rows[:, col])
        return combined[:, 7], combined[:, :7]

    def score(self, clock: _Clock) -> None:
        """Score every group against its candidates, a chunk of groups at a time."""
        self.scored = {}
        floor_of, reach_of = self._combined()
        parts = _QueryParts(self.state.text_ids, self.state.phon_ids)
        n = len(self.tokens)
        for start in range(0, n, CHUNK):
            chunk = range(start, min(start + CHUNK, n))
            cands = _candidates(
                self.index,
                self.state,
                self.tokens[start : chunk.stop],
                [SPELLING_CANDIDATES if only else TOP_K for only in self.person_only[start : chunk.stop]],
            )
            clock.lap("candidates")
            self.cands_of.update((g, cands[j]) for j, g in enumerate(chunk) if g in self.several)
            found = _score_chunk(
                self.index,
                self.state,
                [self.keyed(g) for g in chunk],
                [self.kinds_of[g] for g in chunk],
                cands,
                floor_of[chunk.start : chunk.stop],
                reach_of[chunk.start : chunk.stop],
                parts,
                clock,
            )
            self.scored.update((chunk.start + j, rows) for j, rows in found.items())

    def rank(self, queries: Sequence[Query], results: list[list[Match]]) -> None:
        """The hits of every query one of whose groups scored an alias (the others have none)."""
        todo = self.to_rank().tolist()
        merged_of, floors = self._merged(todo)
        for j, i in enumerate(todo):
            merged, gs, query = merged_of[j], self.sets[int(self.q_set[i])], queries[i]
            if merged and len(gs) > 1:
                spellings = [(self.keyed(g), self.cands_of[g], self.scored.get(g, [])) for g in gs]
                merged = _in_order(self.index, query, spellings, merged, floors[j])
            if merged:
                results[i] = self.index.rank(
                    merged, self.evidence.evidence(query), query.kind, query.limit, query.threshold,
                    self.tokens[gs[0]],
                )  # fmt: skip

    def _merged(self, todo: list[int]) -> tuple[list[list[tuple[int, float]]], list[float]]:
        """Per query of ``todo``, its groups' scores merged at its floor, less what cannot reach its
        threshold with its own evidence (a group is scored down to its lowest floor; the rest would
        rank below the threshold), and that floor. The row bounds of all of them in one numpy pass."""
        merged_of: list[list[tuple[int, float]]] = []
        floors: list[float] = []
        rows_q: list[int] = []
        rows_a: list[int] = []
        reaches: list[tuple[float, ...]] = []
        for j, i in enumerate(todo):
            gs = self.sets[int(self.q_set[i])]
            reach, floor, own_floor = self.bounded[int(self.q_b[i])]
            floor = floor if len(gs) == 1 else own_floor
            merged = merge_spellings([self.scored.get(g, []) for g in gs], floor)
            merged_of.append(merged)
            floors.append(floor)
            reaches.append((*reach, 1.0) if reach is not None else _NO_REACH)
            if merged and reach is not None:
                rows_q += [j] * len(merged)
                rows_a += [a for a, _s in merged]
        if rows_q:
            # Dropping, after the merge, what cannot reach the threshold leaves the others' order.
            cuts = _row_cutoffs(
                self.state, np.asarray(floors), np.asarray(reaches).reshape(len(todo), 7),
                np.asarray(rows_q, dtype=np.int64), np.asarray(rows_a, dtype=np.int64),
            ).tolist()  # fmt: skip
            at = 0
            for j, merged in enumerate(merged_of):
                if merged and self.bounded[int(self.q_b[todo[j]])][0] is not None:
                    mine = cuts[at : at + len(merged)]
                    at += len(merged)
                    merged_of[j] = [m for m, cut in zip(merged, mine, strict=True) if m[1] >= cut]
        return merged_of, floors


def _in_order(
    index: ScreeningIndex, query: Query,
    spellings: list[tuple[tuple[tuple[Token, ...], str, bool, bool], np.ndarray, list[tuple[int, float]]]],
    reachable: list[tuple[int, float]], floor: float,
) -> list[tuple[int, float]]:  # fmt: skip
    """The per-name path's merge of a name's spellings (``merge_spellings`` at the query's own ``floor``),
    restricted to the ``reachable`` aliases.

    The spellings were scored only where a row may reach the threshold, but the merge orders an alias by
    the first spelling that scored it at or above ``floor``, which may be one the row bound skipped, and
    the order decides ties between aliases of one entry. The few reachable aliases are therefore scored
    in every spelling that has them as candidates, in the per-name path's candidate order.
    """
    keep = {a for a, _s in reachable}
    lists = []
    for (tokens, name, org, person_only), cands, scored in spellings:
        known = dict(scored)
        found = []
        for a in cands.tolist():
            if a not in keep:
                continue
            is_org = bool(index.alias_org[a])
            if (person_only and is_org) or (
                query.kind is not None and index.entries[int(index.alias_entry[a])].kind != query.kind
            ):
                continue
            score = known.get(a)
            if score is None:
                variant = tokens if is_org == org else tokenize(name, organisation=is_org)
                score = score_tokens(variant, index.alias_tokens(a), not is_org)
            found.append((a, score))
        lists.append(found)
    return merge_spellings(lists, floor)


class _Clock:
    """Adds the CPU time since the last lap to a named stage (nothing when no ``stages`` dict is given)."""

    def __init__(self, stages: dict[str, float] | None) -> None:
        self.stages = stages
        self.last = time.process_time()

    def lap(self, stage: str) -> None:
        if self.stages is not None:
            now = time.process_time()
            self.stages[stage] = self.stages.get(stage, 0.0) + now - self.last
            self.last = now


def _score_chunk(
    index: ScreeningIndex, state: _State, keyed: list[tuple[tuple[Token, ...], str, bool, bool]],
    kinds: list[frozenset[str | None]], cands: list[np.ndarray], cutoff: np.ndarray, reach: np.ndarray,
    parts: _QueryParts, clock: _Clock,
) -> dict[int, list[tuple[int, float]]]:  # fmt: skip
    """Exact name scores of the candidates that may pass their group's ``cutoff``, in candidate order."""
    # Query variants: the person and organisation tokenisations of each name (score_tokens uses the
    # organisation one against organisations' aliases); other spellings meet people's aliases only.
    lengths = [len(c) for c in cands]
    if not sum(lengths):
        return {}
    ra = np.concatenate(cands).astype(np.int64)
    rg = np.repeat(np.arange(len(cands), dtype=np.int64), lengths)
    keep = np.ones(len(ra), dtype=np.bool_)
    for wanted in {frozenset(w) for w in kinds if None not in w}:
        of_group = np.fromiter((frozenset(w) == wanted for w in kinds), np.bool_, len(kinds))
        mine = of_group[rg]
        keep[mine] = state.of_kinds(wanted)[ra[mine]]
    person_only = np.asarray([k[3] for k in keyed], dtype=np.bool_)
    keep &= ~(person_only[rg] & index.alias_org[ra])
    ra, rg = ra[keep], rg[keep]
    # A name score is at most 1: a row whose entry's evidence asks for more (a listed birth date five
    # years off, say) is never scored; most rows of ordinary travellers end here.
    row_cut = _row_cutoffs(state, cutoff, reach, rg, ra)
    keep = row_cut <= 1.0
    ra, rg, row_cut = ra[keep], rg[keep], row_cut[keep]
    if not len(ra):
        return {}
    is_org = index.alias_org[ra]
    vkeys, rq = np.unique(rg * 2 + is_org, return_inverse=True)
    rq = rq.ravel().astype(np.int64)
    variants: list[tuple[Token, ...]] = []
    for vkey in vkeys.tolist():
        q, name, org, _person_only = keyed[vkey // 2]
        wants_org = bool(vkey % 2)
        variants.append(q if wants_org == org else tokenize(name, organisation=wants_org))
    ids = parts.rows(variants)
    q_ptr = np.concatenate(([0], np.cumsum([len(v) for v in variants]))).astype(np.int64)
    alive = _survivors(index, state, parts.table, parts.tokens, ids, q_ptr, rq, ra, row_cut)
    clock.lap("bound")
    # Survivors get the exact scorer; keep each name's candidate order (it decides ties between aliases).
    exact: dict[tuple[int, int], float] = {}
    for vid, a, g, cut in zip(
        rq[alive].tolist(), ra[alive].tolist(), rg[alive].tolist(), row_cut[alive].tolist(), strict=True
    ):
        score = score_tokens(variants[vid], index.alias_tokens(a), not index.alias_org[a])
        if score >= cut:
            exact[(g, a)] = score
    clock.lap("exact")
    if not exact:
        return {}
    by_group: dict[int, dict[int, float]] = {}
    for (g, a), score in exact.items():
        by_group.setdefault(g, {})[a] = score
    return {g: [(a, found[a]) for a in cands[g].tolist() if a in found] for g, found in by_group.items()}


class _EvidenceKeys:
    """What of a query's evidence its bounds depend on (``_Groups._bounded``), as a small key read from
    the raw values: its date of birth (each distinct value parsed once), whether it gives a nationality
    and one the lists hold, whether it gives a document number and one the lists hold."""

    def __init__(self, state: _State) -> None:
        self.doc_keys, self.nationalities = state.doc_keys, state.nationalities
        self.dob_ids: dict[object, int] = {}
        self.dobs: dict[BirthDate | None, int] = {}
        self.parsed: list[BirthDate | None] = []
        self.nats: dict[str | None, int] = {}
        self.codes: dict[str | None, str | None] = {}

    def key(self, q: Query) -> tuple[int, int, int, float]:
        dob = self.dob_ids.get(q.date_of_birth)
        if dob is None:
            parsed = Evidence.of(q.date_of_birth).dob
            dob = self.dob_ids[q.date_of_birth] = self.dobs.setdefault(parsed, len(self.dobs))
            if dob == len(self.parsed):
                self.parsed.append(parsed)
        nat = self.nats.get(q.nationality)
        if nat is None:
            code = self.codes[q.nationality] = Evidence.of(None, q.nationality).nationality
            nat = self.nats[q.nationality] = 0 if not code else 2 if code in self.nationalities else 1
        doc = 0
        if q.document:
            number = q.document
            # ``_doc_key`` keeps A-Z and 0-9 after upper-casing: an ASCII alphanumeric number loses nothing.
            found = number.upper() if number.isascii() and number.isalnum() else _doc_key(number)
            doc = 0 if not found else 2 if found in self.doc_keys else 1
        return (dob, nat, doc, q.threshold)

    def evidence(self, q: Query) -> Evidence:
        """``q.evidence`` from what ``key(q)`` read (a query already keyed)."""
        dob = self.parsed[self.dob_ids[q.date_of_birth]]
        return Evidence(dob, self.codes[q.nationality], _doc_key(q.document) if q.document else "")


_NO_KINDS: frozenset[str | None] = frozenset()
#: ``_reach``'s fields where a traveller has none: nothing to combine (and 0.0: no row bound).
_NO_REACH = (np.inf, -np.inf, -np.inf, np.inf, -np.inf, 0.0, 0.0)
#: How ``_Groups._combined`` combines each of them over a group's travellers, then the floor.
_COMBINE = (np.minimum, np.maximum, np.maximum, np.minimum, np.maximum, np.maximum, np.minimum, np.minimum)


#: ``ScreeningIndex.rank`` keeps a match whose combined score *rounded to four places* reaches the
#: threshold: the bounds below aim this much lower, so that rounding never lets through what they drop.
ROUNDING = 1e-4


def _reach(state: _State, found: Evidence, threshold: float) -> tuple[float, ...] | None:
    """The most the lists' evidence could add to a name match of this traveller, as the row bound of
    :func:`_row_cutoffs` needs it: (log-odds of the threshold less rounding, what a nationality and a
    document could add, what a date of birth could add, the traveller's birth years lo and hi (inf, -inf
    without), 1.0 when the traveller gave no date of birth, else 0.0). None for a threshold at 0 or 1.

    A document number no entry lists adds nothing, a nationality no entry has only conflicts, and a date
    of birth that is no entry's full date (nor that date with day and month swapped) adds at most what a
    year or a range agreeing gives (:func:`apps.watchlists.evidence.dob_part`).
    """
    aim = threshold - ROUNDING
    if aim <= 0.0 or threshold >= 1.0:
        return None
    other = 0.0
    if found.document and found.document in state.doc_keys:
        other += DOCUMENT_MATCH
    if found.nationality and found.nationality in state.nationalities:
        other += NATIONALITY_MATCH
    dob = found.dob
    if dob is None:
        return (math.log(aim / (1.0 - aim)), other, 0.0, np.inf, -np.inf, 1.0)
    dob_best = max(DOB_YEAR, DOB_RANGE, DOB_SAME_YEAR_OTHER_DAY, 0.0)
    if dob.is_full and (dob.year, dob.day, dob.month) in state.full_dobs:
        dob_best = max(dob_best, DOB_SWAPPED)
    if dob.is_full and (dob.year, dob.month, dob.day) in state.full_dobs:
        dob_best = max(dob_best, DOB_EXACT)
    years = dob.years()
    return (math.log(aim / (1.0 - aim)), other, dob_best, float(years[0]), float(years[-1]), 0.0)


def _floor(found: Evidence, threshold: float, reach: tuple[float, ...] | None) -> float:
    """The lowest name score that could reach ``threshold`` with the best evidence any listed entry can
    add (``reach``; None: the query's own floor, which assumes every piece it brings agrees)."""
    own = found.floor(threshold)
    if reach is None:
        return own
    return max(own, NAME_MIDPOINT + (reach[0] - reach[1] - reach[2]) / NAME_SLOPE - 1e-9)


def _row_cutoffs(
    state: _State, cutoff: np.ndarray, reach: np.ndarray, rg: np.ndarray, ra: np.ndarray
) -> np.ndarray:
    """Per (group, alias) row, the name score below which no traveller of the group can reach their
    threshold on that alias: the group's floor, raised by what the alias's entry and quality allow.

    A listed date of birth two or more years from every year a traveller gives weighs at most DOB_OFF,
    five or more at most DOB_FAR (``_one_dob``: off by one is DOB_NEAR, up to four DOB_OFF), whichever
    of the entry's dates is compared; an entry with no date adds nothing; the alias's weak grade,
    single name or short parts always count (``ScreeningIndex.rank``). Groups whose row reach is 0
    (thresholds at 0 or 1) keep their floor.
    """
    r = reach[rg]
    with np.errstate(invalid="ignore", over="ignore"):  # inf where a group has no row bound: not used
        gap = np.maximum(
            np.maximum(state.alias_year_lo[ra] - r[:, 4], r[:, 3] - state.alias_year_hi[ra]), 0.0
        )
        dated = state.alias_dated[ra] & np.isfinite(r[:, 3])
        dob = np.where(gap >= 5, DOB_FAR, np.where(gap >= 2, DOB_OFF, r[:, 2]))
        dob = np.where(dated, dob, 0.0)
        dob = np.where(r[:, 5] > 0, np.maximum(dob, 0.0), dob)  # a traveller without a date loses nothing
        raised = NAME_MIDPOINT + (r[:, 0] - r[:, 1] - dob - state.alias_quality[ra]) / NAME_SLOPE - 1e-9
    base = cutoff[rg]
    return np.where(r[:, 6] > 0, np.maximum(base, raised), base)

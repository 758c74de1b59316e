"""Bulk screening: many names against one :class:`~apps.watchlists.matching.ScreeningIndex` at once.

Gives exactly the hits of :meth:`ScreeningIndex.screen` called name by name (same candidates in the
same order, same scores, same threshold), at a small fraction of the cost, for the risk engine's
batches of thousands of travellers. Where the time goes in the per-name path, and what replaces it:

1. **Repeated names.** Manifests repeat names (frequent travellers, common names, "SMITH, JOHN" and
   "John Smith"). Names are screened once per distinct *normalised* token sequence; only the cheap
   secondary evidence (date of birth, nationality, document) is applied per traveller.
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
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np

from apps.watchlists.bulk.bounds import _survivors
from apps.watchlists.bulk.similarity import _TokenTable
from apps.watchlists.bulk.state import _candidates, _State, _state
from apps.watchlists.evidence import (
    DOB_EXACT,
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


def screen_many(index: ScreeningIndex, queries: Sequence[Query]) -> list[list[Match]]:
    """``[screen_one(index, q) for q in queries]``, computed in bulk; same hits, same order."""
    results: list[list[Match]] = [[] for _ in queries]
    if not queries or not len(index):
        return results
    state = _state(index)
    # Distinct names, by normalised tokens (and person/organisation handling). A name's other spellings
    # (``ScreeningIndex.spellings``) are groups of their own, scored against people's aliases only.
    groups: dict[tuple, int] = {}
    q_of: list[tuple[int, ...]] = []
    keyed: list[tuple[tuple[Token, ...], str, bool, bool]] = []
    kinds_of: list[set[str | None]] = []
    floor_of: list[float] = []
    seen: dict[tuple[str, bool, bool], tuple[int, ...]] = {}

    def group(key: tuple, entry: tuple[tuple[Token, ...], str, bool, bool]) -> int:
        g = groups.get(key)
        if g is None:
            g = groups[key] = len(keyed)
            keyed.append(entry)
            kinds_of.append(set())
            floor_of.append(np.inf)
        return g

    found_of = _evidence(queries)
    for query, found in zip(queries, found_of, strict=True):
        org = query.kind is not None and query.kind != "person"
        raw = (query.name, org, query.kind is None)
        gs = seen.get(raw)
        if gs is None:  # a new spelling: normalise it once
            spelled = index.spellings(query.name, org)
            if not spelled:
                gs = ()
            else:
                key: tuple = (org, _key(spelled[0]))
                if query.kind is None:  # both tokenisations are scored (people's and organisations' aliases)
                    key += (_key(tokenize(query.name, organisation=not org)),)
                key += tuple(_key(sp) for sp in spelled[1:])
                gs = (group(key, (spelled[0], query.name, org, False)),)
                gs += tuple(
                    group(("spelling", _key(sp)), (sp, query.name, False, True)) for sp in spelled[1:]
                )
            seen[raw] = gs
        q_of.append(gs)
        # A name of one spelling is scored only as far as the evidence the lists hold could lift it
        # (``evidence_floor``): a candidate below that cannot reach the threshold. A name of several
        # spellings keeps the query's own floor, because ``merge_spellings`` orders an alias by the first
        # spelling that scored it at or above the floor, and the order decides ties between aliases.
        floor = (
            evidence_floor(state, found, query.threshold) if len(gs) == 1 else found.floor(query.threshold)
        )
        for g in gs:
            kinds_of[g].add(query.kind)
            floor_of[g] = min(floor_of[g], floor)
    scored: list[list[tuple[int, float]]] = [[] for _ in keyed]
    for start in range(0, len(keyed), CHUNK):
        chunk = range(start, min(start + CHUNK, len(keyed)))
        cands = _candidates(
            index,
            state,
            [keyed[g][0] for g in chunk],
            [SPELLING_CANDIDATES if keyed[g][3] else TOP_K for g in chunk],
        )
        _score_chunk(
            index,
            state,
            [keyed[g] for g in chunk],
            [kinds_of[g] for g in chunk],
            cands,
            np.asarray([floor_of[g] for g in chunk]),
            [scored[g] for g in chunk],
        )
    for i, query in enumerate(queries):
        gs = q_of[i]
        if gs and any(scored[g] for g in gs):
            results[i] = _finish(index, query, found_of[i], [scored[g] for g in gs], keyed[gs[0]][0])
    return results


def _score_chunk(
    index: ScreeningIndex, state: _State, keyed: list[tuple[tuple[Token, ...], str, bool, bool]],
    kinds: list[set[str | None]], cands: list[np.ndarray], cutoff: np.ndarray,
    scored: list[list[tuple[int, float]]],
) -> None:  # fmt: skip
    """Exact name scores of the candidates that may pass their group's ``cutoff``, in candidate order."""
    # Query variants: the person and organisation tokenisations of each name (score_tokens uses the
    # organisation one against organisations' aliases); other spellings meet people's aliases only.
    lengths = [len(c) for c in cands]
    if not sum(lengths):
        return
    ra = np.concatenate(cands).astype(np.int64)
    rg = np.repeat(np.arange(len(cands), dtype=np.int64), lengths)
    keep = np.ones(len(ra), dtype=np.bool_)
    for wanted in {frozenset(w) for w in kinds if None not in w}:
        groups = np.asarray([g for g, w in enumerate(kinds) if frozenset(w) == wanted], dtype=np.int64)
        mine = np.isin(rg, groups)
        keep[mine] = np.isin(state.alias_kind[ra[mine]], [k for k in wanted if k is not None])
    person_only = np.asarray([k[3] for k in keyed], dtype=np.bool_)
    keep &= ~(person_only[rg] & index.alias_org[ra])
    ra, rg = ra[keep], rg[keep]
    if not len(ra):
        return
    is_org = index.alias_org[ra]
    vkeys, rq = np.unique(rg * 2 + is_org, return_inverse=True)
    rq = rq.ravel().astype(np.int64)
    variants: list[tuple[Token, ...]] = []
    for vkey in vkeys.tolist():
        q, name, org, _person_only = keyed[vkey // 2]
        wants_org = bool(vkey % 2)
        variants.append(q if wants_org == org else tokenize(name, organisation=wants_org))
    distinct: dict[tuple[str, bool], int] = {}
    q_tokens: list[Token] = []
    q_ids: list[int] = []
    for v in variants:
        for t in v:
            tid = distinct.get((t.text, t.abjad))
            if tid is None:
                tid = distinct[(t.text, t.abjad)] = len(q_tokens)
                q_tokens.append(t)
            q_ids.append(tid)
    q_ptr = np.concatenate(([0], np.cumsum([len(v) for v in variants]))).astype(np.int64)
    q_table = _TokenTable(q_tokens, state.text_ids, state.phon_ids)
    ids = np.asarray(q_ids, dtype=np.int64)
    alive = _survivors(index, state, q_table, q_tokens, ids, q_ptr, rq, ra, cutoff[rg])
    # Survivors get the exact scorer; keep each name's candidate order (it decides ties between aliases).
    exact: dict[tuple[int, int], float] = {}
    for vid, a, g in zip(rq[alive].tolist(), ra[alive].tolist(), rg[alive].tolist(), strict=True):
        score = score_tokens(variants[vid], index.alias_tokens(a), not index.alias_org[a])
        if score >= cutoff[g]:
            exact[(g, a)] = score
    if not exact:
        return
    by_group: dict[int, dict[int, float]] = {}
    for (g, a), score in exact.items():
        by_group.setdefault(g, {})[a] = score
    for g, found in by_group.items():
        scored[g].extend((a, found[a]) for a in cands[g].tolist() if a in found)


def _evidence(queries: Sequence[Query]) -> list[Evidence]:
    """``q.evidence`` for every query; dates of birth and nationalities repeat, and are read once each."""
    dobs: dict[object, BirthDate | None] = {}
    nats: dict[str | None, str | None] = {}
    out: list[Evidence] = []
    for q in queries:
        dob = dobs.get(q.date_of_birth, _UNSEEN)
        if dob is _UNSEEN:
            dob = dobs[q.date_of_birth] = Evidence.of(q.date_of_birth).dob
        nat = nats.get(q.nationality, _UNSEEN)
        if nat is _UNSEEN:
            nat = nats[q.nationality] = Evidence.of(None, q.nationality).nationality
        out.append(Evidence(dob, nat, _doc_key(q.document) if q.document else ""))  # type: ignore[arg-type]
    return out


_UNSEEN = object()


def evidence_floor(state: _State, found: Evidence, threshold: float) -> float:
    """The lowest name score that could reach ``threshold`` with the best evidence any listed entry can
    add to ``found``: never below ``found.floor(threshold)``, which assumes every piece agrees.

    A document number no entry lists adds nothing, a nationality no entry has only conflicts, and a date
    of birth that is no entry's full date (nor that date with day and month swapped) adds at most what a
    year or a range agreeing gives (:func:`apps.watchlists.evidence.dob_part`).
    """
    if threshold <= 0.0 or threshold >= 1.0:
        return found.floor(threshold)
    best = 0.0
    if found.document and found.document in state.doc_keys:
        best += DOCUMENT_MATCH
    if found.nationality and found.nationality in state.nationalities:
        best += NATIONALITY_MATCH
    dob = found.dob
    if dob is not None:
        dob_best = max(DOB_YEAR, DOB_RANGE, DOB_SAME_YEAR_OTHER_DAY, 0.0)
        if dob.is_full and (dob.year, dob.day, dob.month) in state.full_dobs:
            dob_best = max(dob_best, DOB_SWAPPED)
        if dob.is_full and (dob.year, dob.month, dob.day) in state.full_dobs:
            dob_best = max(dob_best, DOB_EXACT)
        best += dob_best
    logit = math.log(threshold / (1.0 - threshold))
    return max(found.floor(threshold), NAME_MIDPOINT + (logit - best) / NAME_SLOPE - 1e-9)


def _finish(
    index: ScreeningIndex, query: Query, found: Evidence, scored: list[list[tuple[int, float]]],
    tokens: tuple[Token, ...],
) -> list[Match]:  # fmt: skip
    """The tail of :meth:`ScreeningIndex.screen` for one query: spellings merged, evidence, best per entry."""
    merged = merge_spellings(scored, found.floor(query.threshold))
    return index.rank(merged, found, query.kind, query.limit, query.threshold, tokens)

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

import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
from rapidfuzz import process
from rapidfuzz.distance import OSA, Levenshtein

from apps.watchlists.evidence import REVIEW_THRESHOLD
from apps.watchlists.importers.entries import BirthDate
from apps.watchlists.matching.index import CANDIDATES, SPELLING_CANDIDATES, ScreeningIndex, _key
from apps.watchlists.matching.names import _LEGAL, Token, tokenize
from apps.watchlists.matching.query import Evidence, Match, merge_spellings
from apps.watchlists.matching.scoring import (
    EXTRA_CANDIDATE_COST,
    EXTRA_QUERY_COST,
    MIN_SKELETON,
    MIN_TOKEN_SIM,
    SHORT_SKELETON,
    SHORT_SKELETON_SIM,
    SINGLE_NAME_EXTRA_COST,
    SUBSTITUTION_COST,
    score_tokens,
)

__all__ = ["Query", "screen_many"]

#: Candidates per name, as in :meth:`ScreeningIndex.screen` (its ``candidates`` default).
TOP_K = CANDIDATES
#: Per-name postings above which the per-name path switches to a dense pass: done name by name here.
DENSE = 50_000
#: Unique names ranked together (bounds the size of the merged postings arrays).
CHUNK = 10_000
#: Slack on every bound comparison, so float rounding can only let more pairs through.
EPS = 1e-9
_ALPHABET = 27  # a-z and one bucket for digits (tokens are ASCII a-z0-9 after normalisation)


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


def _bag(text: str) -> np.ndarray:
    out = np.zeros(_ALPHABET, dtype=np.int16)
    for ch in text:
        o = ord(ch) - 97
        out[o if 0 <= o < 26 else 26] += 1
    return out


def _letter_set(text: str) -> int:
    """The letters of ``text`` as a bit set (digits share one bit)."""
    out = 0
    for ch in text:
        o = ord(ch) - 97
        out |= 1 << (o if 0 <= o < 26 else 26)
    return out


def _set_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Lower bound of the edit distance: one edit adds or removes at most one letter of either set."""
    return np.maximum(np.bitwise_count(a & ~b), np.bitwise_count(b & ~a))


class _TokenTable:
    """Comparison features of tokens as parallel arrays (the index vocabulary, or a batch's queries)."""

    def __init__(self, tokens: Sequence[Token], text_ids: dict[str, int], phon_ids: dict[str, int]) -> None:
        n = len(tokens)
        self.text_id = np.fromiter((text_ids.get(t.text, -1) for t in tokens), np.int32, n)
        self.phon_id = np.fromiter((phon_ids.get(t.phon, -1) for t in tokens), np.int32, n)
        self.first = np.fromiter((ord(t.text[0]) if t.text else 0 for t in tokens), np.int32, n)
        self.number = np.fromiter((t.number for t in tokens), np.bool_, n)
        self.initial = np.fromiter((t.initial for t in tokens), np.bool_, n)
        self.minor = np.fromiter((t.minor for t in tokens), np.bool_, n)
        self.abjad = np.fromiter((t.abjad for t in tokens), np.bool_, n)
        self.legal = np.fromiter((t.text in _LEGAL for t in tokens), np.bool_, n)
        self.weight = np.fromiter((t.weight for t in tokens), np.float64, n)
        self.len_phon = np.fromiter((len(t.phon) for t in tokens), np.int32, n)
        self.len_text = np.fromiter((len(t.text) for t in tokens), np.int32, n)
        self.set_phon = np.fromiter((_letter_set(t.phon) for t in tokens), np.uint32, n)
        self.set_text = np.fromiter((_letter_set(t.text) for t in tokens), np.uint32, n)
        self.phon = np.asarray([t.phon for t in tokens], dtype=object)
        self.text = np.asarray([t.text for t in tokens], dtype=object)
        self.skel = np.asarray([t.skel for t in tokens], dtype=object)
        self.len_skel = np.fromiter((len(t.skel) for t in tokens), np.int32, n)
        self.bag_phon = np.stack([_bag(t.phon) for t in tokens]) if n else np.zeros((n, _ALPHABET), np.int16)
        # "Major": counts for the alignment's "at least one real name part matched" rule.
        self.major = ~(self.minor | self.initial)


def _budget(length: np.ndarray) -> np.ndarray:
    """Vectorised :func:`apps.watchlists.matching.scoring._edit_budget`."""
    return np.select([length <= 3, length <= 6, length <= 10], [0, 1, 2], 3)


def _pair_similarity(
    q: _TokenTable, q_tokens: Sequence[Token], qi: np.ndarray, v: _TokenTable, v_tokens: Sequence[Token], vi: np.ndarray
) -> np.ndarray:  # fmt: skip
    """``token_similarity(q_tokens[qi], v_tokens[vi])`` for many pairs, 0 where below MIN_TOKEN_SIM.

    Follows :func:`~apps.watchlists.matching.scoring.token_similarity` branch by branch; edit distances come
    from rapidfuzz in one call, and only for pairs whose length difference leaves them a chance.
    """
    sim = np.zeros(len(qi))
    qt, vt = q.text_id[qi], v.text_id[vi]
    same_text = (qt == vt) & (qt >= 0)
    sim[same_text] = 1.0
    rest = ~same_text & ~(q.number[qi] | v.number[vi])
    initial = q.initial[qi] | v.initial[vi]
    sim[rest & initial & (q.first[qi] == v.first[vi])] = 0.8
    rest &= ~initial
    lq, lv = q.len_phon[qi], v.len_phon[vi]
    tq, tv = q.len_text[qi], v.len_text[vi]
    any_abjad = q.abjad[qi] | v.abjad[vi]
    # ``phonetic_comparable``: phonetic forms count only between parts of comparable length.
    phonetic = any_abjad | (np.abs(tq - tv) <= np.maximum(1, (np.maximum(tq, tv) - 2) // 2))
    qp = q.phon_id[qi]
    same_phon = rest & phonetic & (qp == v.phon_id[vi]) & (qp >= 0)
    sim[same_phon] = 0.95
    rest &= ~same_phon
    abjad = rest & any_abjad
    long_phon = np.maximum(np.maximum(lq, lv), 1)
    long_text = np.maximum(np.maximum(tq, tv), 1)
    budget_phon, budget_text = _budget(long_phon), _budget(long_text)
    # A three-letter name with two letters swapped is let through (``_edit_similarity``).
    swap3 = (tq == 3) & (tv == 3)
    budget_text = np.where(swap3, np.maximum(budget_text, 1), budget_text)
    # An edit distance is at least the length difference (and the letter-set difference): most pairs
    # stop here.
    edit = rest & ((np.abs(lq - lv) <= budget_phon) | (np.abs(tq - tv) <= budget_text))
    edit[edit] &= (_set_distance(q.set_phon[qi[edit]], v.set_phon[vi[edit]]) <= budget_phon[edit]) | (
        _set_distance(q.set_text[qi[edit]], v.set_text[vi[edit]]) <= budget_text[edit]
    )
    idx = np.flatnonzero(edit)
    if len(idx):
        a, b = qi[idx], vi[idx]
        d_phon = process.cpdist(q.phon[a], v.phon[b], scorer=OSA.distance, score_cutoff=3, dtype=np.int32)
        d_text = process.cpdist(q.text[a], v.text[b], scorer=OSA.distance, score_cutoff=3, dtype=np.int32)
        ok_phon = (d_phon <= budget_phon[idx]) & phonetic[idx]
        ok_text = d_text <= _budget(long_text[idx])
        swapped = np.flatnonzero(swap3[idx] & (d_text == 1) & ~ok_text)
        if len(swapped):  # a substitution is not a swap: the letters must be the same
            ok_text[swapped] = [
                sorted(x) == sorted(y) for x, y in zip(q.text[a[swapped]], v.text[b[swapped]], strict=True)
            ]
        sim_phon = np.where(ok_phon, 1.0 - d_phon / long_phon[idx], 0.0)
        sim_text = np.where(ok_text, 1.0 - d_text / long_text[idx], 0.0)
        sim[idx] = np.maximum(sim_phon, sim_text)
    idx = np.flatnonzero(abjad)
    if len(idx):  # abjad scripts: consonant skeletons (equal: 0.9, else 0.85 x their similarity)
        a, b = qi[idx], vi[idx]
        qs, vs = q.skel[a], v.skel[b]
        shortest = np.minimum(q.len_skel[a], v.len_skel[b])
        both = shortest >= MIN_SKELETON
        skel = np.where(
            (shortest >= SHORT_SKELETON) & (qs == vs), np.where(both, 0.9, SHORT_SKELETON_SIM), 0.0
        )
        near = np.flatnonzero(both & (skel == 0))
        if len(near):
            ratio = process.cpdist(
                qs[near], vs[near], scorer=Levenshtein.normalized_similarity, dtype=np.float64
            )
            skel[near] = 0.85 * ratio
        sim[idx] = np.maximum(sim[idx], skel)
    sim[sim < MIN_TOKEN_SIM - EPS] = 0.0
    return sim


class _State:
    """What the bulk path keeps per index: vocabulary features and per-token expansions."""

    def __init__(self, index: ScreeningIndex) -> None:
        self.text_ids: dict[str, int] = {}
        self.phon_ids: dict[str, int] = {}
        for t in index.tokens:
            self.text_ids.setdefault(t.text, len(self.text_ids))
            self.phon_ids.setdefault(t.phon, len(self.phon_ids))
        self.vocab = _TokenTable(index.tokens, self.text_ids, self.phon_ids)
        ptr, tok = index.alias_ptr, index.alias_tok
        self.alias_len = np.diff(ptr).astype(np.int32)
        owner = np.repeat(np.arange(len(self.alias_len)), self.alias_len)
        v = self.vocab
        w = v.weight[tok]

        def per_alias(values: np.ndarray, how: np.ufunc = np.add) -> np.ndarray:
            out = np.zeros(len(self.alias_len), dtype=values.dtype)
            how.at(out, owner, values)
            return out

        self.alias_weight = per_alias(w)
        self.alias_wmax = per_alias(w, np.maximum)
        self.alias_nonminor = per_alias((~v.minor[tok]).astype(np.int32))
        # A person's single listed name makes the query's other parts cheap (``_align``'s single-name rule).
        real = ~(v.minor | v.initial | v.number)
        single = (per_alias(real[tok].astype(np.int32)) == 1) & ~index.alias_org.astype(np.bool_)
        self.extra_query_cost = np.where(single, SINGLE_NAME_EXTRA_COST, EXTRA_QUERY_COST)
        # Joined phonetic strings (all tokens, and without legal forms), for score_tokens' joined rule.
        keep = ~v.legal[tok]
        self.joined_bag = np.zeros((len(self.alias_len), _ALPHABET), np.int32)
        self.joined_bag_nolegal = np.zeros((len(self.alias_len), _ALPHABET), np.int32)
        np.add.at(self.joined_bag, owner, v.bag_phon[tok])
        np.add.at(self.joined_bag_nolegal, owner[keep], v.bag_phon[tok][keep])
        self.joined_len = per_alias(v.len_phon[tok])
        self.joined_len_nolegal = per_alias(np.where(keep, v.len_phon[tok], 0))
        self.alias_single_short = (self.alias_len == 1) & np.isin(
            np.arange(len(self.alias_len)), owner[(v.len_text[tok] >= 2) & (v.len_text[tok] <= 6)]
        )
        self.entry_kind = np.asarray([e.kind for e in index.entries], dtype=object)
        self.alias_kind = (
            self.entry_kind[index.alias_entry] if len(index.alias_entry) else self.entry_kind[:0]
        )
        self.segments: dict[tuple[str, bool], tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    def token_segments(self, index: ScreeningIndex, t: Token) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Posting ranges and gains of one query token, exactly as ``ScreeningIndex._candidates`` makes them."""
        key = (t.text, t.abjad)
        found = self.segments.get(key)
        if found is None:
            starts, ends, gains = index.postings(t)
            found = (
                np.asarray(starts, dtype=np.int64),
                np.asarray(ends, dtype=np.int64),
                np.asarray(gains, dtype=np.float32),
            )
            self.segments[key] = found
        return found


_states: weakref.WeakKeyDictionary[ScreeningIndex, _State] = weakref.WeakKeyDictionary()


def _state(index: ScreeningIndex) -> _State:
    state = _states.get(index)
    if state is None:
        state = _states[index] = _State(index)
    return state


def _candidates(
    index: ScreeningIndex, state: _State, names: list[tuple[Token, ...]], top_ks: list[int]
) -> list[np.ndarray]:
    """``ScreeningIndex._candidates(q, k)`` for every ``q``, ``k`` in ``names``, ``top_ks``, merged into one
    numpy pass."""
    seg_lo: list[np.ndarray] = []
    seg_hi: list[np.ndarray] = []
    seg_gain: list[np.ndarray] = []
    seg_name: list[np.ndarray] = []
    for k, q in enumerate(names):
        for t in q:
            lo, hi, gain = state.token_segments(index, t)
            if len(lo):
                seg_lo.append(lo)
                seg_hi.append(hi)
                seg_gain.append(gain)
                seg_name.append(np.full(len(lo), k, dtype=np.int64))
    out = [np.zeros(0, dtype=np.int32) for _ in names]
    if not seg_lo:
        return out
    lo = np.concatenate(seg_lo)
    lengths = np.concatenate(seg_hi) - lo
    gains = np.concatenate(seg_gain)
    owner = np.concatenate(seg_name)
    n_ids = np.bincount(owner, weights=lengths, minlength=len(names)).astype(np.int64)
    dense = np.flatnonzero(n_ids > DENSE)
    if len(dense):  # the per-name path takes another route for these: take it too
        for k in dense.tolist():
            out[k] = index._candidates(names[k], top_ks[k])
        keep = ~np.isin(owner, dense)
        lo, lengths, gains, owner = lo[keep], lengths[keep], gains[keep], owner[keep]
    total = int(lengths.sum())
    if not total:
        return out
    seg_start = np.cumsum(lengths) - lengths
    positions = np.arange(total, dtype=np.int64) - np.repeat(seg_start - lo, lengths)
    ids = index.post_ids[positions].astype(np.int64)
    who = np.repeat(owner, lengths)
    weights = np.repeat(gains, lengths)
    n_alias = len(index.alias_entry)
    # One sort for the whole chunk; within a name, contributions keep their order, so bincount adds
    # the same float32 gains in the same sequence as the per-name path does.
    keys, inverse = np.unique(who * n_alias + ids, return_inverse=True)
    key_name = keys // n_alias
    key_alias = (keys % n_alias).astype(np.int32)
    totals = np.bincount(inverse.ravel(), weights=weights) - index.length_tie[key_alias]
    bounds = np.searchsorted(key_name, np.arange(len(names) + 1))
    group_max = np.zeros(len(names))
    nonempty = bounds[1:] > bounds[:-1]
    group_max[nonempty] = np.maximum.reduceat(totals, bounds[:-1][nonempty])
    keep_rel = totals >= 0.3 * group_max[key_name]
    for k in np.flatnonzero(nonempty).tolist():
        if n_ids[k] > DENSE:
            continue
        s, e = bounds[k], bounds[k + 1]
        top_k = top_ks[k]
        if n_ids[k] <= top_k:
            out[k] = key_alias[s:e]
        elif e - s > top_k:
            g_tot = totals[s:e]
            top = np.argpartition(-g_tot, top_k)[:top_k]
            g_uniq, g_tot = key_alias[s:e][top], g_tot[top]
            out[k] = g_uniq[g_tot >= 0.3 * g_tot.max()]
        else:
            out[k] = key_alias[s:e][keep_rel[s:e]]
    return out


def _bag_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Lower bound of the edit distance between strings with letter multisets ``a`` and ``b``."""
    d = a.astype(np.int32) - b
    return np.maximum(np.maximum(d, 0).sum(axis=1), np.maximum(-d, 0).sum(axis=1))


#: Query parts up to which the alignment bound enumerates subsets; longer names are scored exactly.
MAX_PARTS = 6


def _alignment_bound(
    m: np.ndarray, wq: np.ndarray, nonminor_q: np.ndarray, q_len: np.ndarray, a_len: np.ndarray,
    w_lo: np.ndarray, w_hi: np.ndarray, c_weight: np.ndarray, c_matchable_weight: np.ndarray,
    c_nonminor: np.ndarray, c_nonminor_unmatchable: np.ndarray, parts: int, xq: np.ndarray,
) -> np.ndarray:  # fmt: skip
    """Upper bound of ``_align``'s score, rows of ``parts`` query parts, best part similarities ``m``.

    For every set S of query parts that could be aligned (each has some listed part at or above
    MIN_TOKEN_SIM), the alignment scores at most
    Σ_S hi·m / (Σ_S lo + xq·w(query parts outside S) + 0.3·w(listed parts left over)), minus the
    substitution cost of the parts certainly left over on both sides; the bound is the best S.
    """
    n = len(m)
    best = np.full(n, -1.0)
    matchable = m > 0
    fixed_q = xq * np.where(matchable, 0.0, wq).sum(axis=1)
    nonminor_total = nonminor_q.sum(axis=1)
    for mask in range(1, 1 << parts):
        bits = [i for i in range(parts) if mask >> i & 1]
        size = len(bits)
        valid = matchable[:, bits].all(axis=1) & (size <= np.minimum(q_len, a_len))
        if not valid.any():
            continue
        others = [i for i in range(parts) if not mask >> i & 1]
        num = (0.5 * (wq[:, bits] + w_hi[:, None]) * m[:, bits]).sum(axis=1)
        den = (0.5 * (wq[:, bits] + w_lo[:, None])).sum(axis=1) + fixed_q
        if others:
            den += xq * np.where(matchable[:, others], wq[:, others], 0.0).sum(axis=1)
        used_c = np.minimum(size * w_hi, c_matchable_weight)
        den += EXTRA_CANDIDATE_COST * np.maximum(c_weight - used_c, 0.0)
        ratio = np.divide(num, den, out=np.ones(n), where=den > 0)
        extra_q = nonminor_total - nonminor_q[:, bits].sum(axis=1)
        extra_c = np.maximum(c_nonminor_unmatchable, c_nonminor - size)
        value = ratio - SUBSTITUTION_COST * np.minimum(extra_q, extra_c)
        best = np.where(valid, np.maximum(best, value), best)
    return best


def _survivors(
    index: ScreeningIndex, state: _State, q_table: _TokenTable, q_tokens: list[Token], q_ids: np.ndarray,
    q_ptr: np.ndarray, rows_q: np.ndarray, rows_a: np.ndarray, cutoff: np.ndarray,
) -> np.ndarray:  # fmt: skip
    """Mask of (query variant, alias) rows whose name score *may* reach ``cutoff`` (per row; upper bound).

    ``q_ids[q_ptr[v]:q_ptr[v + 1]]`` are the rows of ``q_table`` holding the parts of variant ``v``.
    """
    n_rows = len(rows_q)
    if not n_rows:
        return np.zeros(0, dtype=np.bool_)
    vocab = state.vocab
    a_len = state.alias_len[rows_a]
    q_len = (q_ptr[rows_q + 1] - q_ptr[rows_q]).astype(np.int32)
    parts = min(int(q_len.max()), MAX_PARTS)
    # Expand rows to (row, listed part) pairs, then to (row, listed part, query part) triples.
    pair_row = np.repeat(np.arange(n_rows), a_len)
    row_start = np.cumsum(a_len) - a_len
    offsets = np.arange(len(pair_row)) - np.repeat(row_start, a_len)
    pair_tok = index.alias_tok[offsets + np.repeat(index.alias_ptr[rows_a], a_len)]
    sims = np.zeros((len(pair_row), parts))
    triple_pair: list[np.ndarray] = []
    triple_pos: list[np.ndarray] = []
    triple_q: list[np.ndarray] = []
    for pos in range(parts):
        sel = np.flatnonzero((q_len > pos)[pair_row])
        triple_pair.append(sel)
        triple_pos.append(np.full(len(sel), pos))
        triple_q.append(q_ids[q_ptr[rows_q[pair_row[sel]]] + pos])
    tp, tpos, tq = np.concatenate(triple_pair), np.concatenate(triple_pos), np.concatenate(triple_q)
    # Each distinct (query part, listed part) pair is compared once per chunk.
    codes, uniques = pd.factorize(tq.astype(np.int64) * len(vocab.weight) + pair_tok[tp])
    uq, ut = uniques // len(vocab.weight), uniques % len(vocab.weight)
    sims[tp, tpos] = _pair_similarity(q_table, q_tokens, uq, vocab, index.tokens, ut)[codes]
    ok = sims > 0
    best = np.maximum.reduceat(sims, row_start, axis=0)  # (rows, parts): best listed part per query part
    c_ok = ok.any(axis=1)
    w_c = vocab.weight[pair_tok]
    major_pair = ok & vocab.major[pair_tok][:, None]
    q_major = np.zeros((n_rows, parts), np.bool_)
    wq = np.zeros((n_rows, parts))
    nonminor_q = np.zeros((n_rows, parts), np.int32)
    for pos in range(parts):
        has = q_len > pos
        qi = q_ids[np.where(has, q_ptr[rows_q] + pos, 0)]
        q_major[:, pos] = has & q_table.major[qi]
        wq[:, pos] = np.where(has, q_table.weight[qi], 0.0)
        nonminor_q[:, pos] = has & ~q_table.minor[qi]
    major = (np.logical_or.reduceat(major_pair, row_start, axis=0) & q_major).any(axis=1)
    w_hi = np.maximum.reduceat(np.where(c_ok, w_c, 0.0), row_start)
    w_lo = np.minimum.reduceat(np.where(c_ok, w_c, np.inf), row_start)
    w_lo = np.where(np.isfinite(w_lo), w_lo, 0.0)
    c_matchable_weight = np.add.reduceat(np.where(c_ok, w_c, 0.0), row_start)
    c_nonminor_unmatchable = np.add.reduceat((~c_ok & ~vocab.minor[pair_tok]).astype(np.int32), row_start)
    bound = np.full(n_rows, -1.0)
    for length in np.unique(np.minimum(q_len, parts)).tolist():
        rows = np.flatnonzero(np.minimum(q_len, parts) == length)
        bound[rows] = _alignment_bound(
            best[rows, :length], wq[rows, :length], nonminor_q[rows, :length], q_len[rows], a_len[rows],
            w_lo[rows], w_hi[rows], state.alias_weight[rows_a[rows]], c_matchable_weight[rows],
            state.alias_nonminor[rows_a[rows]], c_nonminor_unmatchable[rows], length,
            state.extra_query_cost[rows_a[rows]],
        )  # fmt: skip
    alive = major & (bound >= cutoff - EPS)
    alive |= q_len > MAX_PARTS
    # Joined-string rule (split or merged words): similarity >= 0.9 on the joined phonetic forms.
    for with_legal in (False, True):
        keep = np.ones(len(q_table.legal), np.bool_) if with_legal else ~q_table.legal
        keep_q = keep[q_ids]
        q_bag = np.add.reduceat(np.where(keep_q[:, None], q_table.bag_phon[q_ids], 0), q_ptr[:-1], axis=0)
        q_jlen = np.add.reduceat(np.where(keep_q, q_table.len_phon[q_ids], 0), q_ptr[:-1])
        a_jlen = (state.joined_len if with_legal else state.joined_len_nolegal)[rows_a]
        ql = q_jlen[rows_q]
        longest = np.maximum(np.maximum(ql, a_jlen), 1)
        # Cheap test first: the length difference alone is an edit-distance lower bound.
        near = np.flatnonzero(
            (np.minimum(ql, a_jlen) >= 6) & (1.0 - np.abs(ql - a_jlen) / longest >= 0.9 - EPS)
        )
        if len(near):
            a_bag = (state.joined_bag if with_legal else state.joined_bag_nolegal)[rows_a[near]]
            lower = _bag_distance(q_bag[rows_q[near]], a_bag)
            alive[near] |= 1.0 - lower / longest[near] >= 0.9 - EPS
    # Acronym rule: one short token on one side, two or more on the other.
    first_len = q_table.len_text[q_ids[q_ptr[rows_q]]]
    q_short = (q_len == 1) & (first_len >= 2) & (first_len <= 6)
    alive |= (q_short & (a_len >= 2)) | (state.alias_single_short[rows_a] & (q_len >= 2))
    return alive


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

    for query in queries:
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
        floor = query.evidence.floor(query.threshold)
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
            results[i] = _finish(index, query, [scored[g] for g in gs], keyed[gs[0]][0])
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
        keep[mine] = np.isin(state.alias_kind[ra[mine]], list(wanted))
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


def _finish(
    index: ScreeningIndex, query: Query, scored: list[list[tuple[int, float]]], tokens: tuple[Token, ...]
) -> list[Match]:
    """The tail of :meth:`ScreeningIndex.screen` for one query: spellings merged, evidence, best per entry."""
    found = query.evidence
    merged = merge_spellings(scored, found.floor(query.threshold))
    return index.rank(merged, found, query.kind, query.limit, query.threshold, tokens)

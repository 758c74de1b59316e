"""The upper bound of a name score that lets the bulk path run the exact scorer only where a hit is
possible: the best alignment the weights allow, the joined-string rule and the acronym rule."""

from __future__ import annotations

import numpy as np
import pandas as pd

from apps.watchlists.bulk.similarity import EPS, _pair_similarity, _TokenTable
from apps.watchlists.bulk.state import _State
from apps.watchlists.matching.index import ScreeningIndex
from apps.watchlists.matching.names import Token
from apps.watchlists.matching.scoring import EXTRA_CANDIDATE_COST, SUBSTITUTION_COST


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
    a_len = state.alias_len[rows_a]
    q_len = (q_ptr[rows_q + 1] - q_ptr[rows_q]).astype(np.int32)
    parts = min(int(q_len.max()), MAX_PARTS)
    sims, pair_tok, row_start = _part_similarities(
        index, state, q_table, q_tokens, q_ids, q_ptr, rows_q, rows_a, a_len, q_len, parts
    )
    alive = _aligned(
        state, q_table, q_ids, q_ptr, rows_q, rows_a, a_len, q_len, parts, sims, pair_tok, row_start, cutoff
    )
    alive |= q_len > MAX_PARTS
    _joined(alive, state, q_table, q_ids, q_ptr, rows_q, rows_a)
    # Acronym rule: one short token on one side, two or more on the other.
    first_len = q_table.len_text[q_ids[q_ptr[rows_q]]]
    q_short = (q_len == 1) & (first_len >= 2) & (first_len <= 6)
    alive |= (q_short & (a_len >= 2)) | (state.alias_single_short[rows_a] & (q_len >= 2))
    return alive


def _part_similarities(
    index: ScreeningIndex, state: _State, q_table: _TokenTable, q_tokens: list[Token], q_ids: np.ndarray,
    q_ptr: np.ndarray, rows_q: np.ndarray, rows_a: np.ndarray, a_len: np.ndarray, q_len: np.ndarray, parts: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """Similarity of every (row, listed part) pair to each of the row's first ``parts`` query parts.

    Returns the similarities, the listed part (vocabulary row) of each pair and each row's first pair.
    """
    vocab = state.vocab
    n_rows = len(rows_q)
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
    return sims, pair_tok, row_start


def _aligned(
    state: _State, q_table: _TokenTable, q_ids: np.ndarray, q_ptr: np.ndarray, rows_q: np.ndarray,
    rows_a: np.ndarray, a_len: np.ndarray, q_len: np.ndarray, parts: int, sims: np.ndarray,
    pair_tok: np.ndarray, row_start: np.ndarray, cutoff: np.ndarray,
) -> np.ndarray:  # fmt: skip
    """Rows that match a real name part and whose alignment bound reaches ``cutoff``."""
    vocab = state.vocab
    n_rows = len(rows_q)
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
    return alive


def _joined(
    alive: np.ndarray, state: _State, q_table: _TokenTable, q_ids: np.ndarray, q_ptr: np.ndarray,
    rows_q: np.ndarray, rows_a: np.ndarray,
) -> None:  # fmt: skip
    """Marks ``alive`` the rows the joined-string rule may let through."""
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

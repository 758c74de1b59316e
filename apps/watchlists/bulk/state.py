"""What the bulk path keeps per index (vocabulary features, per-token postings) and its candidate
generation: ``ScreeningIndex._candidates`` for a whole chunk of names in one numpy pass."""

from __future__ import annotations

import threading
import weakref

import numpy as np

from apps.watchlists.bulk.similarity import _ALPHABET, _TokenTable
from apps.watchlists.evidence import SHORT_NAME, SINGLE_NAME, WEAK_ALIAS
from apps.watchlists.matching.index import ScreeningIndex
from apps.watchlists.matching.names import Token
from apps.watchlists.matching.postings import POSTINGS_CACHE
from apps.watchlists.matching.query import _doc_key
from apps.watchlists.matching.scoring import EXTRA_QUERY_COST, SINGLE_NAME_EXTRA_COST, short_name, single_name

#: Per-name postings above which the per-name path switches to a dense pass: done name by name here.
DENSE = 50_000


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
        self.kind_masks: dict[frozenset[str | None], np.ndarray] = {}
        self.segments = _Segments()
        # What the lists hold as secondary evidence, for ``evidence_floor``: a traveller's document,
        # date or nationality that no entry carries can add nothing to any match.
        self.doc_keys = {_doc_key(d.number) for e in index.entries for d in e.documents}
        self.full_dobs = {
            (d.year, d.month, d.day) for e in index.entries for d in e.dates_of_birth if d.is_full
        }
        self.nationalities = {n for e in index.entries for n in e.nationalities}
        # Per alias, for the row bound of ``apps.watchlists.bulk._row_cutoffs``: the hull of its entry's
        # birth years (a "circa" date two years wider each way), and what the alias's own quality takes
        # off every match on it (``ScreeningIndex.rank``: weak alias, single name, short parts).
        lo = np.full(len(index.entries), np.inf)
        hi = np.full(len(index.entries), -np.inf)
        for e_idx, e in enumerate(index.entries):
            for d in e.dates_of_birth:
                slack = 2 if d.approximate else 0
                lo[e_idx] = min(lo[e_idx], d.year - slack)
                hi[e_idx] = max(hi[e_idx], (d.year_to or d.year) + slack)
        self.alias_year_lo = lo[index.alias_entry]
        self.alias_year_hi = hi[index.alias_entry]
        self.alias_dated = np.isfinite(self.alias_year_lo)
        quality = np.where(index.alias_weak, WEAK_ALIAS, 0.0)
        for a in range(len(index.alias_entry)):
            if not index.alias_org[a]:
                tokens = index.alias_tokens(a)
                if single_name(tokens):
                    quality[a] += SINGLE_NAME
                elif short_name(tokens):
                    quality[a] += SHORT_NAME
        self.alias_quality = quality

    def of_kinds(self, kinds: frozenset[str | None]) -> np.ndarray:
        """Per alias, whether its entry is of one of ``kinds`` (kept per set of kinds: a batch asks for
        the same few in every chunk)."""
        found = self.kind_masks.get(kinds)
        if found is None:
            found = self.kind_masks[kinds] = np.isin(self.alias_kind, [k for k in kinds if k is not None])
        return found

    def token_segments(self, index: ScreeningIndex, t: Token) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Posting ranges and gains of one query token, exactly as ``ScreeningIndex._candidates`` makes them."""
        starts, ends, gains = index.postings(t)
        return (
            np.asarray(starts, dtype=np.int64),
            np.asarray(ends, dtype=np.int64),
            np.asarray(gains, dtype=np.float32),
        )


_states: weakref.WeakKeyDictionary[ScreeningIndex, _State] = weakref.WeakKeyDictionary()


def _state(index: ScreeningIndex) -> _State:
    state = _states.get(index)
    if state is None:
        state = _states[index] = _State(index)
    return state


class _Segments:
    """Every query token's posting segments (``_State.token_segments``) in flat columns, a token's in one
    run: a chunk's (name, part) occurrences then find theirs by index arithmetic, with no per-chunk
    concatenation of thousands of small arrays. By token object (identity hash; tokens are interned): a
    token made twice only takes two runs of equal segments. Starts afresh past POSTINGS_CACHE tokens.

    Threads of a process share the index: runs are numbered and the columns grown under a lock, and each
    chunk reads the columns it was numbered against (they are replaced, never changed in place)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._reset()

    def _reset(self) -> None:
        self.run: dict[Token, int] = {}  # token -> its run
        self.first = np.zeros(0, dtype=np.int64)  # per run: its first segment, and how many
        self.count = np.zeros(0, dtype=np.int64)
        self.lo = np.zeros(0, dtype=np.int64)  # per segment: postings start and length, gain
        self.length = np.zeros(0, dtype=np.int64)
        self.gain = np.zeros(0, dtype=np.float32)

    def runs(
        self, index: ScreeningIndex, state: _State, names: list[tuple[Token, ...]]
    ) -> tuple[list[int], list[int], tuple[np.ndarray, ...]]:
        """The run of every (name, part) occurrence of ``names``, in order, the name of each, and the
        columns (first, count, lo, length, gain) they index; the runs of tokens not seen yet are added."""
        with self._lock:
            return self._runs(index, state, names)

    def _runs(
        self, index: ScreeningIndex, state: _State, names: list[tuple[Token, ...]]
    ) -> tuple[list[int], list[int], tuple[np.ndarray, ...]]:
        if len(self.run) >= POSTINGS_CACHE:
            self._reset()
        run, known = self.run, len(self.run)
        new: list[Token] = []
        occ_run: list[int] = []
        occ_name: list[int] = []
        for k, q in enumerate(names):
            for t in q:
                r = run.get(t)
                if r is None:
                    r = run[t] = known + len(new)
                    new.append(t)
                occ_run.append(r)
                occ_name.append(k)
        if new:
            tables = [state.token_segments(index, t) for t in new]
            count = np.fromiter((len(lo) for lo, _hi, _gain in tables), np.int64, len(tables))
            self.first = np.concatenate((self.first, len(self.lo) + np.cumsum(count) - count))
            self.count = np.concatenate((self.count, count))
            lo = np.concatenate([self.lo[:0], *(lo for lo, _hi, _gain in tables)])
            hi = np.concatenate([self.lo[:0], *(hi for _lo, hi, _gain in tables)])
            self.lo = np.concatenate((self.lo, lo))
            self.length = np.concatenate((self.length, hi - lo))
            self.gain = np.concatenate([self.gain, *(gain for _lo, _hi, gain in tables)])
        return occ_run, occ_name, (self.first, self.count, self.lo, self.length, self.gain)


def _occurrences(
    index: ScreeningIndex, state: _State, names: list[tuple[Token, ...]]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """The posting segments of every (name, part) occurrence of the chunk: their starts, lengths, gains
    and owning name, or None when no part has any posting."""
    # In the order of the names and of their parts, as the per-name path adds them up.
    occ_run, occ_name, (run_first, run_count, lo, length, gain) = state.segments.runs(index, state, names)
    if not occ_run:
        return None
    occ = np.asarray(occ_run, dtype=np.int64)
    occ_n = run_count[occ]
    total = int(occ_n.sum())
    if not total:
        return None
    first = np.cumsum(occ_n) - occ_n
    seg = np.arange(total, dtype=np.int64) - np.repeat(first - run_first[occ], occ_n)
    owner = np.repeat(np.asarray(occ_name, dtype=np.int64), occ_n)
    return lo[seg], length[seg], gain[seg], owner


def _candidates(
    index: ScreeningIndex, state: _State, names: list[tuple[Token, ...]], top_ks: list[int]
) -> list[np.ndarray]:
    """``ScreeningIndex._candidates(q, k)`` for every ``q``, ``k`` in ``names``, ``top_ks``, merged into one
    numpy pass."""
    out = [np.zeros(0, dtype=np.int32) for _ in names]
    found = _occurrences(index, state, names)
    if found is None:
        return out
    lo, lengths, gains, owner = found
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
    # One stable sort for the whole chunk: the keys come as sorted runs (names in order, each posting
    # list sorted), which a stable sort merges several times faster than ``np.unique`` sorts them; and
    # within a (name, alias) key, contributions keep their order, so bincount adds the same float32
    # gains in the same sequence as the per-name path does.
    flat = who * n_alias + ids
    order = np.argsort(flat, kind="stable")
    flat = flat[order]
    new = np.empty(len(flat), dtype=np.bool_)
    new[0] = True
    np.not_equal(flat[1:], flat[:-1], out=new[1:])
    keys = flat[new]
    key_name = keys // n_alias
    key_alias = (keys % n_alias).astype(np.int32)
    totals = np.bincount(np.cumsum(new) - 1, weights=weights[order]) - index.length_tie[key_alias]
    bounds = np.searchsorted(key_name, np.arange(len(names) + 1))
    group_max = np.zeros(len(names))
    nonempty = bounds[1:] > bounds[:-1]
    group_max[nonempty] = np.maximum.reduceat(totals, bounds[:-1][nonempty])
    keep_rel = totals >= 0.3 * group_max[key_name]
    # Names with no more postings than candidates keep every alias (``np.unique`` in the per-name path),
    # names with no more aliases than candidates those within 0.3 of the best: both at once. The rest
    # partition their totals name by name, exactly as the per-name path does (it decides ties).
    k_top = np.asarray(top_ks, dtype=np.int64)
    n_unique = bounds[1:] - bounds[:-1]
    every = n_ids <= k_top
    simple = nonempty & (n_ids <= DENSE) & (every | (n_unique <= k_top))
    take = np.flatnonzero(simple[key_name] & (every[key_name] | keep_rel))
    ends = np.searchsorted(key_name[take], np.arange(1, len(names) + 1)).tolist()
    for k in np.flatnonzero(simple).tolist():
        out[k] = key_alias[take[ends[k - 1] if k else 0 : ends[k]]]
    # The partition's best always holds the name's best total: its 0.3 cut is ``keep_rel``'s.
    neg, starts = -totals, bounds.tolist()
    for k in np.flatnonzero(nonempty & (n_ids <= DENSE) & ~simple).tolist():
        # On the name's own slices (views): fewer numpy calls, for some 200,000 names of a million.
        first, last, top_k = starts[k], starts[k + 1], top_ks[k]
        top = neg[first:last].argpartition(top_k)[:top_k]
        out[k] = key_alias[first:last][top[keep_rel[first:last][top]]]
    return out

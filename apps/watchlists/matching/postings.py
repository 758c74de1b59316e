"""The screening index's data and candidate search: every alias of a set of entries as token ids, and
inverted lists on exact tokens, phonetic keys, skeletons, letters swapped and character trigrams of the
token vocabulary, held in numpy arrays; candidates are ranked by IDF-weighted overlap.

:class:`~apps.watchlists.matching.index.ScreeningIndex` adds spellings, scoring and ranking on top.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Self

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import OSA

from apps.watchlists.importers.entries import WatchlistEntry
from apps.watchlists.matching.names import Token, tokenize
from apps.watchlists.matching.scoring import (
    MIN_TOKEN_SIM,
    SHORT_SKELETON,
    _edit_budget,
    joined_forms,
    token_similarity,
)

#: Weight per listed part that breaks ties between candidates sharing the same parts with a name.
LENGTH_TIE = 1e-3
#: Name parts whose expansion an index keeps (then it starts afresh); the aliases of the common ones
#: (HITS_CACHE_MIN or more), up to HITS_CACHE_SIZE in all (about 8 bytes each).
POSTINGS_CACHE = 100_000
#: Aliases whose joined forms are kept (``ScreeningIndex.alias_joined``): about 100 bytes each.
JOINED_CACHE = 200_000
HITS_CACHE_MIN = 2_000
HITS_CACHE_SIZE = 10_000_000


class AliasPostings:
    """Every alias of a set of watchlist entries, and the inverted lists that find candidates for a name.

    Inverted lists are held as numpy arrays (CSR layout: one offsets array, one ids array) on exact
    tokens, phonetic keys and consonant skeletons, plus a character-trigram index over the token
    *vocabulary* for typos.
    """

    def __init__(self) -> None:
        self.entries: list[WatchlistEntry] = []
        self.alias_names: list[str] = []
        self.alias_entry = np.zeros(0, dtype=np.int32)
        self.alias_weak = np.zeros(0, dtype=np.bool_)
        self.alias_org = np.zeros(0, dtype=np.bool_)
        self.alias_ptr = np.zeros(1, dtype=np.int64)
        self.alias_tok = np.zeros(0, dtype=np.int32)
        self.vocab: dict[str, int] = {}
        self.tokens: list[Token] = []
        self.post_ptr = np.zeros(1, dtype=np.int64)
        self.post_ids = np.zeros(0, dtype=np.int32)
        self.idf = np.zeros(0, dtype=np.float32)
        self.by_phon: dict[str, list[int]] = {}
        self.by_skel: dict[str, list[int]] = {}
        self.by_sorted: dict[str, list[int]] = {}
        self.by_skel_abjad: dict[str, list[int]] = {}
        self.length_tie = np.zeros(0)
        self._postings: dict[tuple[str, bool], tuple[list[int], list[int], list[float]]] = {}
        self._joined: dict[int, tuple[str, str]] = {}
        self._hits: dict[tuple[str, bool], tuple[np.ndarray, np.ndarray]] = {}
        self._hits_size = 0
        self._nearest: dict[tuple[str, bool], float] = {}
        self.max_tie = 0.0
        self.tri_ptr = np.zeros(1, dtype=np.int64)
        self.tri_ids = np.zeros(0, dtype=np.int32)
        self.trigram: dict[str, int] = {}
        self.vocab_phon: list[str] = []
        self.vocab_phon_arr = np.zeros(0, dtype=object)
        self.vocab_len = np.zeros(0, dtype=np.int16)

    # -- building ---------------------------------------------------------------------------

    @classmethod
    def build(cls, entries: Iterable[WatchlistEntry]) -> Self:
        """Index every name and alias of ``entries`` (all kinds; filter with ``kind=`` at query time)."""
        self = cls()
        alias_entry: list[int] = []
        alias_weak: list[bool] = []
        alias_org: list[bool] = []
        alias_ptr = [0]
        alias_tok: list[int] = []
        vocab = self.vocab
        tokens = self.tokens
        for e_idx, entry in enumerate(entries):
            self.entries.append(entry)
            org = entry.kind != "person"
            weak = {a.name.casefold() for a in entry.aliases if a.quality == "weak"}
            for name in entry.all_names():
                toks = tokenize(name, organisation=org)
                if not toks:
                    continue
                for t in toks:
                    key = t.text if not t.abjad else t.text + "\x00a"
                    tid = vocab.get(key)
                    if tid is None:
                        tid = vocab[key] = len(tokens)
                        tokens.append(t)
                    alias_tok.append(tid)
                alias_ptr.append(len(alias_tok))
                alias_entry.append(e_idx)
                alias_weak.append(name.casefold() in weak)
                alias_org.append(org)
                self.alias_names.append(name)
        self.alias_entry = np.asarray(alias_entry, dtype=np.int32)
        self.alias_weak = np.asarray(alias_weak, dtype=np.bool_)
        self.alias_org = np.asarray(alias_org, dtype=np.bool_)
        self.alias_ptr = np.asarray(alias_ptr, dtype=np.int64)
        self.alias_tok = np.asarray(alias_tok, dtype=np.int32)
        self._build_postings()
        return self

    def _build_postings(self) -> None:
        n_alias = len(self.alias_entry)
        owner = np.repeat(np.arange(n_alias, dtype=np.int32), np.diff(self.alias_ptr))
        order = np.argsort(self.alias_tok, kind="stable")
        self.post_ids = owner[order]
        counts = np.bincount(self.alias_tok, minlength=len(self.tokens))
        self.post_ptr = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
        self.idf = np.log1p(n_alias / np.maximum(counts, 1)).astype(np.float32)
        # Among aliases that share the same parts with a name, the shorter ones rank first ("Muhammad
        # Ali" before "Muhammad Ali Hasan Yusuf"): a tie-break far smaller than any part's weight.
        self.length_tie = np.diff(self.alias_ptr) * LENGTH_TIE
        self.max_tie = float(self.length_tie.max()) if len(self.length_tie) else 0.0
        by_sorted: dict[str, list[int]] = defaultdict(list)
        by_phon: dict[str, list[int]] = defaultdict(list)
        by_skel: dict[str, list[int]] = defaultdict(list)
        by_skel_abjad: dict[str, list[int]] = defaultdict(list)
        tri_pairs: dict[str, list[int]] = defaultdict(list)
        for tid, t in enumerate(self.tokens):
            by_phon[t.phon].append(tid)
            if t.skel:
                by_skel[t.skel].append(tid)
                if t.abjad:
                    by_skel_abjad[t.skel].append(tid)
            if len(t.text) >= 3 and not t.minor:
                by_sorted["".join(sorted(t.text))].append(tid)
            if len(t.phon) >= 4 and not t.minor:
                for g in _trigrams(t.phon):
                    tri_pairs[g].append(tid)
        self.by_phon = dict(by_phon)
        self.by_skel = dict(by_skel)
        self.by_skel_abjad = dict(by_skel_abjad)
        self.by_sorted = dict(by_sorted)
        self.vocab_phon = [t.phon for t in self.tokens]
        self.vocab_phon_arr = np.asarray(self.vocab_phon, dtype=object)
        self.vocab_len = np.fromiter(
            (len(p) for p in self.vocab_phon), dtype=np.int16, count=len(self.vocab_phon)
        )
        self.trigram = {g: i for i, g in enumerate(tri_pairs)}
        lengths = [len(v) for v in tri_pairs.values()]
        self.tri_ptr = np.concatenate(([0], np.cumsum(lengths))).astype(np.int64)
        self.tri_ids = np.fromiter(
            (x for v in tri_pairs.values() for x in v), dtype=np.int32, count=sum(lengths)
        )

    def __len__(self) -> int:
        return len(self.alias_entry)

    # -- querying ---------------------------------------------------------------------------

    def _expand(self, q: Token) -> dict[int, float]:
        """Vocabulary tokens that may stand for query token ``q``, with a similarity estimate."""
        found: dict[int, float] = {}
        for key in (q.text, q.text + "\x00a"):
            tid = self.vocab.get(key)
            if tid is not None:
                found[tid] = 1.0
        for tid in self.by_phon.get(q.phon, ()):
            found.setdefault(tid, 0.95)
        if len(q.skel) >= SHORT_SKELETON:  # skeletons compare a script without vowels to any other
            for tid in (self.by_skel if q.abjad else self.by_skel_abjad).get(q.skel, ()):
                found.setdefault(tid, 0.85)
        if len(q.text) >= 3 and not q.minor:  # letters swapped: the trigrams miss these, the letters do not
            for tid in self.by_sorted.get("".join(sorted(q.text)), ()):
                if tid not in found and (sim := token_similarity(q, self.tokens[tid])) >= MIN_TOKEN_SIM:
                    found[tid] = sim
        if len(q.phon) >= 4 and not q.minor:
            grams = _trigrams(q.phon)
            rows = [self.trigram[g] for g in grams if g in self.trigram]
            if rows:
                ids = np.concatenate([self.tri_ids[self.tri_ptr[g] : self.tri_ptr[g + 1]] for g in rows])
                # q-gram lemma: k edits destroy at most 3k trigrams.
                k = _edit_budget(len(q.phon) + 1)
                need = max(1, len(grams) - 3 * k)
                if len(ids) * 16 > len(self.tokens):  # common trigrams: counting beats sorting
                    cand = np.flatnonzero(np.bincount(ids, minlength=len(self.tokens)) >= need)
                else:
                    uniq, cnt = np.unique(ids, return_counts=True)
                    cand = uniq[cnt >= need]
                cand = cand[np.abs(self.vocab_len[cand] - len(q.phon)) <= k]
                if len(cand):
                    choices = self.vocab_phon_arr[cand].tolist()
                    for _c, _d, pos in process.extract(
                        q.phon, choices, scorer=OSA.distance, score_cutoff=k, limit=None
                    ):
                        tid = int(cand[pos])
                        if tid not in found:
                            sim = token_similarity(q, self.tokens[tid])
                            if sim >= MIN_TOKEN_SIM:
                                found[tid] = sim
        return found

    def postings(self, t: Token) -> tuple[list[int], list[int], list[float]]:
        """Where the aliases holding ``t`` or a neighbour of it lie in the postings (start, end), and what
        each range adds to an alias's candidate score; shared with the bulk path.

        Kept per index (it never changes once built): names repeat their parts, and the common parts
        ("Muhammad", "Ali") are the costly ones to expand.
        """
        key = (t.text, t.abjad)
        cached = self._postings.get(key)
        if cached is None:
            if len(self._postings) >= POSTINGS_CACHE:
                self._postings.clear()
                self._nearest.clear()
            cached = self._postings[key] = self._postings_of(t)
        return cached

    def nearest(self, t: Token) -> float:
        """How alike ``t`` is to the nearest listed word of its own script family (0 when none is near).

        Skeleton neighbours (Latin against Arabic script) are left out: they say a consonant frame is
        shared, not that the word is listed nearly as written.
        """
        self.postings(t)
        return self._nearest.get((t.text, t.abjad), 0.0)

    def _postings_of(self, t: Token) -> tuple[list[int], list[int], list[float]]:
        starts: list[int] = []
        ends: list[int] = []
        gains: list[float] = []
        found = self._expand(t)
        self._nearest[(t.text, t.abjad)] = max(
            (sim for tid, sim in found.items() if self.tokens[tid].abjad == t.abjad), default=0.0
        )
        # A rare spelling of a common name ("Muhammmad") is no rarer a name: no neighbour weighs more
        # than the name as written (or, when the list never writes it so, its most common neighbour).
        exact = [tid for tid, sim in found.items() if sim >= 1.0]
        pool = exact or list(found)
        ceiling = float(min(self.idf[tid] for tid in pool)) if pool else 0.0
        for tid, sim in found.items():
            lo, hi = int(self.post_ptr[tid]), int(self.post_ptr[tid + 1])
            if hi > lo:
                starts.append(lo)
                ends.append(hi)
                gains.append(min(float(self.idf[tid]), ceiling) * sim * (0.3 if t.minor else 1.0))
        return starts, ends, gains

    def _token_hits(self, t: Token) -> tuple[np.ndarray, np.ndarray]:
        """The aliases holding ``t`` or a neighbour (``postings``), one per occurrence, with their gains."""
        key = (t.text, t.abjad)
        cached = self._hits.get(key)
        if cached is None:
            starts, ends, gains = self.postings(t)
            if starts:
                ids = np.concatenate([self.post_ids[lo:hi] for lo, hi in zip(starts, ends, strict=True)])
                weights = np.repeat(np.asarray(gains, dtype=np.float32), np.subtract(ends, starts))
            else:
                ids, weights = np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float32)
            cached = (ids, weights)
            if len(ids) >= HITS_CACHE_MIN:  # only common parts are worth keeping (and costly to rebuild)
                self._hits_size += len(ids)
                if self._hits_size > HITS_CACHE_SIZE:
                    self._hits.clear()
                    self._hits_size = len(ids)
                self._hits[key] = cached
        return cached

    def _candidates(self, q: Sequence[Token], top_k: int) -> np.ndarray:
        parts = [self._token_hits(t) for t in q]
        parts = [p for p in parts if len(p[0])]
        if not parts:
            return np.zeros(0, dtype=np.int32)
        ids = np.concatenate([p[0] for p in parts]) if len(parts) > 1 else parts[0][0]
        weights = np.concatenate([p[1] for p in parts]) if len(parts) > 1 else parts[0][1]
        if len(ids) <= top_k:
            return np.unique(ids)
        if len(ids) > 50_000:  # dense: one pass over all aliases beats sorting the postings
            totals = np.bincount(ids, weights=weights, minlength=len(self.alias_entry))
            # Only aliases within reach of the best can be kept: the length tie-break and the partition
            # are applied to those, not to the whole index.
            near = np.flatnonzero(totals >= 0.3 * totals.max() - self.max_tie)
            scores = totals[near] - self.length_tie[near]
            keep = scores >= 0.3 * scores.max()
            near, scores = near[keep], scores[keep]
            if len(near) > top_k:
                near = near[np.argpartition(-scores, top_k)[:top_k]]
            return near.astype(np.int32)
        uniq, inverse = np.unique(ids, return_inverse=True)
        totals = np.bincount(inverse, weights=weights) - self.length_tie[uniq]
        if len(uniq) > top_k:
            top = np.argpartition(-totals, top_k)[:top_k]
            uniq, totals = uniq[top], totals[top]
        return uniq[totals >= 0.3 * totals.max()]

    def alias_joined(self, alias_idx: int) -> tuple[str, str]:
        """``joined_forms`` of one alias, kept: the same aliases come back for names that share a part."""
        found = self._joined.get(alias_idx)
        if found is None:
            if len(self._joined) >= JOINED_CACHE:
                self._joined.clear()
            found = self._joined[alias_idx] = joined_forms(self.alias_tokens(alias_idx))
        return found

    def alias_tokens(self, alias_idx: int) -> list[Token]:
        """The normalised tokens of one indexed alias."""
        lo, hi = self.alias_ptr[alias_idx], self.alias_ptr[alias_idx + 1]
        return [self.tokens[t] for t in self.alias_tok[lo:hi].tolist()]


def _trigrams(text: str) -> list[str]:
    padded = f"^{text}$"
    return [padded[i : i + 3] for i in range(len(padded) - 2)]

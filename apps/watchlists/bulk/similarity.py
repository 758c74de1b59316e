"""Part-to-part similarity for many (query part, listed part) pairs at once: the vectorised
:func:`~apps.watchlists.matching.scoring.token_similarity` the bulk bound is built on."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import OSA, Levenshtein

from apps.watchlists.matching.names import _LEGAL, Token
from apps.watchlists.matching.scoring import MIN_SKELETON, MIN_TOKEN_SIM, SHORT_SKELETON, SHORT_SKELETON_SIM

#: Slack on every bound comparison, so float rounding can only let more pairs through.
EPS = 1e-9
_ALPHABET = 27  # a-z and one bucket for digits (tokens are ASCII a-z0-9 after normalisation)


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

    def extend(self, other: _TokenTable) -> None:
        """Append ``other``'s rows (same features, computed with the same vocabulary ids)."""
        for name, column in vars(self).items():
            setattr(self, name, np.concatenate((column, getattr(other, name))))


class _QueryParts:
    """A batch's query parts in one :class:`_TokenTable`, grown chunk by chunk: the chunks of a batch
    share most of their parts, whose features are then computed once per batch, not once per chunk."""

    def __init__(self, text_ids: dict[str, int], phon_ids: dict[str, int]) -> None:
        self.text_ids, self.phon_ids = text_ids, phon_ids
        # By token object: tokens are interned (``_make_token``), and an object hashes by identity, far
        # cheaper than a (text, script) key; a token made twice only takes two rows of equal features.
        self.row: dict[Token, int] = {}
        self.tokens: list[Token] = []
        self.table = _TokenTable([], text_ids, phon_ids)

    def rows(self, names: Sequence[Sequence[Token]]) -> np.ndarray:
        """The table rows of every part of ``names``, name after name, adding the parts not seen yet."""
        new: list[Token] = []
        out: list[int] = []
        for name in names:
            for t in name:
                r = self.row.get(t)
                if r is None:
                    r = self.row[t] = len(self.tokens)
                    self.tokens.append(t)
                    new.append(t)
                out.append(r)
        if new:
            self.table.extend(_TokenTable(new, self.text_ids, self.phon_ids))
        return np.asarray(out, dtype=np.int64)


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

"""Pair scoring: how alike two names are, part by part and as a whole (0-1).

Tokens of the two names are aligned one-to-one by best similarity (exact, phonetic, initials,
edit distance via rapidfuzz, consonant skeletons); matched weight is set against unmatched weight
(extra parts in the *query* cost more than extra parts in the listed name, because lists carry long
patronymic chains that a traveller's document omits); a joined-string comparison catches split and
merged words and an acronym rule catches "PLA" for "People's Liberation Army".
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from functools import lru_cache

from rapidfuzz.distance import OSA, Levenshtein

from apps.watchlists.matching.names import _LEGAL, Token, tokenize

#: *Name* score at or above which two names are called alike (:func:`name_similarity`). Fixed here
#: (0.68-0.76 is a plateau on the labelled pairs); bench/screening.py also reports a 5-fold
#: cross-validated threshold for honesty. Screening thresholds apply to the combined score instead
#: (:mod:`apps.watchlists.evidence`: ``MATCH_THRESHOLD``, and each list's calibrated threshold).
DEFAULT_THRESHOLD = 0.70

#: Consonants a skeleton needs to count in full; two count for less, one ("l" of Ali) for nothing.
MIN_SKELETON = 3
SHORT_SKELETON = 2
SHORT_SKELETON_SIM = 0.75

EXTRA_QUERY_COST = 0.8  # weight of a query token that found no partner
#: ... when the listed name is a single name that matched: a list that knows one name of a person says
#: nothing of the others a traveller's document carries (the evidence rules ask for more instead).
SINGLE_NAME_EXTRA_COST = 0.25
EXTRA_CANDIDATE_COST = 0.3  # weight of a listed token that found no partner
MIN_TOKEN_SIM = 0.6  # below this, two tokens are not aligned at all
NUMBER_MISMATCH = 0.15  # subtracted when both names carry numbers and they differ
SUBSTITUTION_COST = 0.12  # per name part replaced by another (not just added or dropped)
ORDER_COST = 0.03  # aligned parts in a different order ("Hans Friedrich" / "Friedrich Hans")


def _edit_budget(length: int) -> int:
    """Edits tolerated in a name part of ``length`` letters."""
    return 0 if length <= 3 else 1 if length <= 6 else 2 if length <= 10 else 3


def _edit_similarity(x: str, y: str) -> float:
    """1 - edits/length, halved beyond the edit budget; a swap of two letters in a three-letter name
    ("Kim"/"Kmi") is let through as the one slip it is."""
    dist = OSA.distance(x, y)
    longest = max(len(x), len(y), 1)
    sim = 1.0 - dist / longest
    if dist > _edit_budget(longest) and not (dist == 1 and len(x) == len(y) == 3 and sorted(x) == sorted(y)):
        sim *= 0.5
    return sim


def phonetic_comparable(len_a: int, len_b: int, abjad: bool) -> bool:
    """Whether two Latin-script parts of these lengths may be compared by their phonetic forms.

    The folding merges letters a transliteration alternates (j/y, y/i, doubled letters), which can fold
    a longer part onto a much shorter one ("Yijun" and "Yun", "Jie" and "Yi" in Pinyin, where j, y and
    zh are different sounds). Spellings of one name differ in length by a letter or two at most, more
    only in long names ("Tschernow"/"Chernov"); beyond that only the written forms are compared. Parts
    from an abjad script are exempt: their vowels are unwritten and their skeletons decide.
    """
    return abjad or abs(len_a - len_b) <= max(1, (max(len_a, len_b) - 2) // 2)


@lru_cache(maxsize=1 << 18)
def token_similarity(a: Token, b: Token) -> float:
    """Similarity of two name parts, 0-1: exact, phonetic variant, initial, skeleton or edit distance."""
    if a.text == b.text:
        return 1.0
    if a.number or b.number:
        return 0.0
    if a.initial or b.initial:
        return 0.8 if a.text[0] == b.text[0] else 0.0
    # ``phonetic_comparable``, inlined: this is the scorer's innermost call.
    la, lb = len(a.text), len(b.text)
    phonetic = a.abjad or b.abjad or abs(la - lb) <= max(1, (max(la, lb) - 2) // 2)
    if phonetic and a.phon == b.phon:
        return 0.95
    # A budget of edits that grows with length: one letter in "Putin" may be a typo, one letter in
    # "Kim" is another name. Outside the budget the parts do not align at all.
    # Optimal string alignment: two neighbouring letters swapped ("Aliyev"/"Ailyev") are one slip, not
    # two. Spelt and phonetic forms are each held to the budget of their own length.
    sim = _edit_similarity(a.text, b.text)
    if phonetic:
        sim = max(sim, _edit_similarity(a.phon, b.phon))
    if (a.abjad or b.abjad) and min(len(a.skel), len(b.skel)) >= SHORT_SKELETON:
        if a.skel == b.skel:  # two consonants ("Aswad": s-d) say less than three or more
            sim = max(sim, 0.9 if len(a.skel) >= MIN_SKELETON else SHORT_SKELETON_SIM)
        elif min(len(a.skel), len(b.skel)) >= MIN_SKELETON:
            sim = max(sim, 0.85 * Levenshtein.normalized_similarity(a.skel, b.skel))
    return sim


def _align(
    q: Sequence[Token], c: Sequence[Token], person: bool = True
) -> tuple[float, list[tuple[int, int, float]]]:
    """Greedy one-to-one alignment by best similarity; returns the weighted score and pairs."""
    pairs = []
    for i, a in enumerate(q):
        for j, b in enumerate(c):
            s = token_similarity(a, b)
            if s >= MIN_TOKEN_SIM:
                pairs.append((s, i, j))
    pairs.sort(reverse=True)
    used_q: set[int] = set()
    used_c: set[int] = set()
    chosen = []
    matched = total = 0.0
    major_matched = False
    for s, i, j in pairs:
        if i in used_q or j in used_c:
            continue
        used_q.add(i)
        used_c.add(j)
        chosen.append((i, j, s))
        w = (q[i].weight + c[j].weight) / 2
        matched += w * s
        total += w
        major_matched |= not (q[i].minor or c[j].minor or q[i].initial or c[j].initial)
    if not major_matched:
        return 0.0, chosen
    # What is left over on each side, in one pass per side (this runs for every candidate).
    left_q = 0.0
    extra_q = 0
    for i, t in enumerate(q):
        if i not in used_q:
            left_q += t.weight
            extra_q += not t.minor
    left_c = 0.0
    extra_c = real_c = 0
    for j, t in enumerate(c):
        real_c += not (t.minor or t.initial or t.number)
        if j not in used_c:
            left_c += t.weight
            extra_c += not t.minor
    # ``single_name(c)``: a person listed under one real name part makes the query's others cheap.
    extra_cost = SINGLE_NAME_EXTRA_COST if person and real_c == 1 else EXTRA_QUERY_COST
    total += extra_cost * left_q
    total += EXTRA_CANDIDATE_COST * left_c
    score = matched / total if total else 0.0
    # A name part replaced by a different one (father, clan, given name) is a different person far
    # more often than a typo: each such substitution costs extra.
    score -= SUBSTITUTION_COST * min(extra_q, extra_c)
    order = [j for _i, j, _s in sorted(chosen)]
    if any(x > y for x, y in itertools.pairwise(order)):
        score -= ORDER_COST
    return score, chosen


def single_name(tokens: Sequence[Token]) -> bool:
    """One real name part (particles and initials aside): "WALIJAN", "al-Hakim"."""
    return sum(1 for t in tokens if not (t.minor or t.initial or t.number)) == 1


def short_name(tokens: Sequence[Token]) -> bool:
    """Every real name part three letters or fewer ("Li Na", "Kim Il"): such names recur by chance."""
    major = [t for t in tokens if not (t.minor or t.initial or t.number)]
    return bool(major) and all(len(t.text) <= 3 for t in major)


def _acronym(q: Sequence[Token], c: Sequence[Token]) -> bool:
    """'PLA' vs 'Peoples Liberation Army' (either way round)."""
    for short, long_ in ((q, c), (c, q)):
        if len(short) == 1 and 2 <= len(short[0].text) <= 6 and len(long_) >= 2:
            letters = "".join(t.text[0] for t in long_ if t.text not in _LEGAL)
            letters_all = "".join(t.text[0] for t in long_)
            if short[0].text in (letters, letters_all):
                return True
    return False


#: What the joined rule of ``score_tokens`` can give at most.
JOINED_CEILING = 0.95


def joined_forms(tokens: Sequence[Token]) -> tuple[str, str]:
    """The phonetic forms of a name run together, without and with legal forms ("ltd", "co")."""
    everything = "".join(t.phon for t in tokens)
    if not any(t.text in _LEGAL for t in tokens):
        return everything, everything
    return "".join(t.phon for t in tokens if t.text not in _LEGAL), everything


def score_tokens(
    q: Sequence[Token],
    c: Sequence[Token],
    person: bool = True,
    q_joined: tuple[str, str] | None = None,
    c_joined: tuple[str, str] | None = None,
) -> float:
    """Name score 0-1 of query tokens ``q`` against listed tokens ``c`` (``person``: a person's name).

    ``q_joined``/``c_joined``: ``joined_forms`` of each side, when the caller keeps them (a query is
    compared with many aliases, an alias with many queries).
    """
    if not q or not c:
        return 0.0
    score, _pairs = _align(q, c, person)
    # The joined rule ("Abdulrahman" / "Abdul Rahman") gives at most 0.95, and only between strings whose
    # lengths are within 10 % of each other (a normalised similarity of 0.9 allows no more).
    if score < JOINED_CEILING:
        qf = q_joined or joined_forms(q)
        cf = c_joined or joined_forms(c)
        for k in (0, 1):
            qj, cj = qf[k], cf[k]
            if k and qj == qf[0] and cj == cf[0]:
                break  # no legal form on either side: the same comparison again
            short, long_ = sorted((len(qj), len(cj)))
            if short >= 6 and short >= 0.9 * long_:
                joined = Levenshtein.normalized_similarity(qj, cj)
                if joined >= 0.9:
                    score = max(score, joined * JOINED_CEILING)
    if not person and _acronym(q, c):  # "PLA" is an army; "Kim" is not Kamal Ibrahim Mustafa
        score = max(score, 0.85)
    qn = {t.text for t in q if t.number}
    cn = {t.text for t in c if t.number}
    if qn and cn and qn != cn:
        score -= NUMBER_MISMATCH
    return max(0.0, min(1.0, score))


def name_similarity(a: str, b: str, kind: str | None = None) -> float:
    """Similarity 0-1 of two names; ``a`` is the query, ``b`` the listed name.

    ``kind`` ("person", "organisation", "vessel"...) switches on legal-form handling for
    non-persons. Scores at or above :data:`DEFAULT_THRESHOLD` are meant to be treated as matches.
    """
    org = kind is not None and kind != "person"
    return score_tokens(tokenize(a, organisation=org), tokenize(b, organisation=org), not org)

"""Fuzzy, transliteration-aware name screening against watchlists (pure Python, no Django).

Three layers, each usable on its own:

1. **Normalisation** (:func:`tokenize`): any script to Latin with ``anyascii``, case and accents
   folded, honorifics dropped, legal forms and particles ("al", "bin", "LLC") kept but given little
   weight, dotted abbreviations joined. Each token carries a *phonetic* form that folds common
   transliteration variants (Mohammed/Muhammad, -off/-ov, kh/h, j/y, ou/u, w/v...) and a consonant
   *skeleton* used for abjad scripts (Arabic, Hebrew, Persian), which write few vowels.
2. **Pair scoring** (:func:`name_similarity`): tokens of the two names are aligned one-to-one by
   best similarity (exact, phonetic, initials, Levenshtein/Jaro-Winkler via rapidfuzz), matched
   weight is set against unmatched weight (extra tokens in the *query* cost more than extra tokens
   in the listed name, because lists carry long patronymic chains that a traveller's document
   omits); a joined-string comparison catches split/merged words and an acronym rule catches
   "PLA" for "People's Liberation Army".
3. **Screening** (:class:`ScreeningIndex`): an in-memory blocking index over every alias (inverted
   lists on exact tokens, phonetic keys, skeletons, letters swapped, and character trigrams of the
   token vocabulary for typos), held in numpy arrays; candidates are ranked by IDF-weighted overlap,
   the best sixty are scored in full. A name is screened under each of its spellings (as written,
   other romanisations of Arabic, Persian and Chinese names, parts run together or split). The best
   name score per entry then meets the other evidence - date of birth, nationality, document, the
   alias's own quality - in one combined score (:mod:`apps.watchlists.evidence`), and a name given
   with a date of birth is matched against persons only. Every :class:`Match` explains itself, part
   by part, in ``parts`` (and as sentences in ``reasons``).
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any

import numpy as np
from anyascii import anyascii
from rapidfuzz import process
from rapidfuzz.distance import OSA, Levenshtein

from apps.watchlists import evidence, scripts
from apps.watchlists.evidence import MATCH_THRESHOLD, REVIEW_THRESHOLD, Part
from apps.watchlists.importers import BirthDate, WatchlistEntry, country_code, parse_date_of_birth

__all__ = [
    "DEFAULT_THRESHOLD",
    "MATCH_THRESHOLD",
    "Match",
    "ScreeningIndex",
    "Token",
    "name_similarity",
    "normalize_name",
    "tokenize",
]

#: *Name* score at or above which two names are called alike (:func:`name_similarity`). Fixed here
#: (0.68-0.76 is a plateau on the labelled pairs); bench/screening.py also reports a 5-fold
#: cross-validated threshold for honesty. Screening thresholds apply to the combined score instead
#: (:mod:`apps.watchlists.evidence`: ``MATCH_THRESHOLD``, and each list's calibrated threshold).
DEFAULT_THRESHOLD = 0.70

# --------------------------------------------------------------------------------------------
# Normalisation
# --------------------------------------------------------------------------------------------


def _words(text: str) -> list[str]:
    """Split a whitespace-separated word table (kept as one string so the tables stay compact)."""
    return text.split()


_HONORIFICS = frozenset(
    _words(
        "mr mrs ms miss mx dr prof sir herr frau mme mlle monsieur madame president prasident praesident hon rev excellency his her "
        # titles and degrees travellers' records carry in many languages (Latin script)
        "dra sr sra srta dott dottssa ing dipl mag mba msc bsc phd jr snr jnr pan pani bay bayan doc uzm drg ir ssos skom sh mh "
        "ssi shri smt"
    )
)
_PARTICLES = frozenset(
    _words(
        "al el ul ad ar as ash at az bin ibn ben bint bent binti abd de da di del della dos das do du van von der den ter la le los las of the and y e et und haji hajji sheikh shaikh shaykh mullah mawlawi maulawi"
    )
)
_LEGAL_PHRASES = [
    ("open joint stock company", "ojsc"),
    ("closed joint stock company", "cjsc"),
    ("public joint stock company", "pjsc"),
    ("joint stock company", "jsc"),
    ("limited liability company", "llc"),
    ("limited liability partnership", "llp"),
    ("limited partnership", "lp"),
    ("public limited company", "plc"),
    ("societatea cu raspundere limitata", "srl"),
    ("societa a responsabilita limitata", "srl"),
    ("gesellschaft mit beschrankter haftung", "gmbh"),
    ("sociedad anonima", "sa"),
    ("societe anonyme", "sa"),
    ("sp z o o", "spzoo"),
    ("spolka z ograniczona odpowiedzialnoscia", "spzoo"),
    ("private limited", "pte ltd"),
]
_LEGAL_WORDS = {
    "limited": "ltd",
    "corporation": "corp",
    "company": "co",
    "incorporated": "inc",
    "aktiengesellschaft": "ag",
    "oao": "ojsc",
    "zao": "cjsc",
    "ooo": "llc",
    "pao": "pjsc",
    "tov": "llc",
    "private": "pte",
}
_LEGAL = frozenset(
    _words(
        "ltd llc inc corp co plc jsc ojsc cjsc pjsc sa ag gmbh bv nv srl spa sarl pt lp llp kg ab as oy spzoo bvba pte pty sas se oood ead eood cv de sl"
    )
)
_NUMBER_WORDS = {
    w: str(i)
    for i, w in enumerate(
        _words(
            "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen twenty"
        )
    )
}
_NUMBER_WORDS.update(
    {
        w: str(i)
        for i, w in enumerate(_words("_ first second third fourth fifth sixth seventh eighth ninth tenth"))
    }
)
_NUMBER_WORDS.update(
    {
        w: str(i)
        for i, w in enumerate(_words("_ _ ii iii iv _ vi vii viii ix _ xi xii xiii xiv xv"))
        if w != "_"
    }
)
_ABJAD = re.compile(r"[\u0590-\u05FF\u0600-\u06FF\u0750-\u077F\u08A0-\u08FF\uFB1D-\uFDFF\uFE70-\uFEFF]")
_CJK = re.compile(r"[\u1100-\u11FF\u3040-\u30FF\u3130-\u318F\u3400-\u4DBF\u4E00-\u9FFF\uAC00-\uD7AF]")
_MUHAMMAD = re.compile(r"^m[ou]h[ae]?m+[ae]?[dt]$")


@dataclass(frozen=True, slots=True, eq=False)  # identity hash: tokens are interned, hashing is hot
class Token:
    """One normalised name part with the forms and weight used for comparison."""

    text: str  # ASCII, lower case
    phon: str  # transliteration variants folded
    skel: str  # consonant skeleton (for abjad scripts)
    weight: float
    abjad: bool = False  # came from Arabic/Hebrew/Persian script (vowels mostly unwritten)
    initial: bool = False
    number: bool = False
    minor: bool = False  # particle or legal form: little weight, never enough to match alone


def _phonetic(t: str) -> str:
    """Fold spelling variants that transliterations of the same name produce."""
    if _MUHAMMAD.match(t):
        return "muhamad"
    for a, b in (
        ("tsch", "ch"),
        ("sch", "sh"),
        ("tch", "ch"),
        ("dzh", "j"),
        ("dj", "j"),
        ("zh", "j"),
        ("kh", "h"),
        ("gh", "g"),
        ("ph", "f"),
        ("th", "t"),
        ("dh", "d"),
        ("ck", "k"),
        ("q", "k"),
        ("x", "ks"),
        ("w", "v"),
        ("ou", "u"),
        ("oo", "u"),
        ("ee", "i"),
        ("ie", "i"),
        ("ae", "e"),
        ("ue", "u"),
        ("oe", "o"),
        ("j", "y"),
        ("y", "i"),
    ):
        t = t.replace(a, b)
    t = re.sub(r"c(?=[eiy])", "s", t).replace("c", "k")
    t = re.sub(r"(off|ow)$", "ov", t)
    t = re.sub(r"eff$", "ev", t)
    return re.sub(r"(.)\1+", r"\1", t)


_SKEL_DIGRAPHS = (("sh", "S"), ("ch", "S"), ("kh", "K"), ("gh", "G"), ("th", "T"), ("dh", "D"), ("ph", "F"),
                  ("zh", "J"))  # fmt: skip
_SKEL_MAP = str.maketrans("bvfpFckqgKGszxSJtdTDjlmnrh", "bbbbbkkkkkksssssttttylmnrh", "aeiouyw'`")
#: Consonants a skeleton needs to count in full; two count for less, one ("l" of Ali) for nothing.
MIN_SKELETON = 3
SHORT_SKELETON = 2
SHORT_SKELETON_SIM = 0.75
#: Weight per listed part that breaks ties between candidates sharing the same parts with a name.
LENGTH_TIE = 1e-3


def _skeleton(t: str) -> str:
    """Consonant skeleton: vowels, w and y dropped, similar consonants merged, h kept (Arabic writes
    h as a letter of its own: Hasan, Ahmad, Mohammed keep it in every spelling)."""
    if len(t) > 4 and t[:2] in ("al", "el"):
        t = t[2:]
    for digraph, letter in _SKEL_DIGRAPHS:
        t = t.replace(digraph, letter)
    s = t.translate(_SKEL_MAP)
    return re.sub(r"(.)\1+", r"\1", s)


@lru_cache(maxsize=200_000)
def _make_token(text: str, abjad: bool) -> Token:
    number = text.isdigit()
    if abjad and len(text) > 3 and text[0] == "l":  # "al-" was written without its alif
        skel = _skeleton(text[1:])
    elif abjad and text.endswith("h") and len(text) > 3:  # ta marbuta
        skel = _skeleton(text[:-1])
    else:
        skel = _skeleton(text)
    minor = text in _PARTICLES or text in _LEGAL
    initial = len(text) == 1 and not number
    patronymic = len(text) > 6 and text.endswith(("ovich", "evich", "ovna", "evna", "ovych", "ivna", "itch"))
    weight = 0.3 if minor else 0.5 if (initial or patronymic) else 1.0
    return Token(text, _phonetic(text), skel, weight, abjad, initial, number, minor)


def _to_latin(name: str) -> tuple[str, bool]:
    """Transliterate to ASCII; split CJK/Hangul names into surname + given name.

    Titles written in the name's own script are dropped first; Arabic and Persian letters are folded
    (:func:`apps.watchlists.scripts.fold_arabic`) so two Arabic-script spellings compare letter for letter.
    """
    name = scripts.strip_titles(name)
    abjad = bool(_ABJAD.search(name))
    if scripts.has_arabic(name):
        name = scripts.arabic_vowel_letters(scripts.fold_arabic(name))
    if _CJK.search(name):
        # Written as one word, family name first: split it off. Written with spaces: as written.
        single = len(name.split()) == 1
        words = []
        for word in name.split():
            han = scripts.split_han(word) if single else None
            if han is not None:
                words.append(anyascii(han[0]) + " " + anyascii(han[1]))
            elif single and _CJK.search(word) and 2 <= len(word) <= 4:
                words.append(anyascii(word[0]) + " " + anyascii(word[1:]))
            else:
                words.append(anyascii(word))
        return " ".join(words), abjad
    return anyascii(unicodedata.normalize("NFKC", name)), abjad


_TENS = {
    w: 10 * i
    for i, w in enumerate(
        ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"], 0
    )
}
_TENS["fourty"] = 40


def _numbers(words: list[str]) -> list[str]:
    """Number words to digits: 'three' -> '3', 'forty four'/'forty 4' -> '44', 'III' -> '3'."""
    out: list[str] = []
    for w in words:
        w = _NUMBER_WORDS.get(w, w)
        if w in _TENS and w != "_":
            w = str(_TENS[w])
        if (
            w.isdigit()
            and len(w) == 1
            and out
            and out[-1].isdigit()
            and out[-1].endswith("0")
            and len(out[-1]) == 2
        ):
            out[-1] = out[-1][0] + w
        else:
            out.append(w)
    return out


def normalize_name(name: str, *, organisation: bool = False) -> str:
    """Normalised text of a name (tokens joined by spaces), for display and equality tests."""
    return " ".join(t.text for t in tokenize(name, organisation=organisation))


def tokenize(name: str, *, organisation: bool = False) -> tuple[Token, ...]:
    """Split a name in any script into weighted :class:`Token` objects.

    ``organisation`` turns on legal-form folding and joins runs of single letters ("A B C" ->
    "abc"); for people, single letters stay initials.
    """
    if not organisation and name.count(",") == 1:
        last, first = name.split(",")
        if first.strip() and last.strip():
            name = f"{first} {last}"  # "MALKEVICH, Alexander" -> "Alexander MALKEVICH"
    text, abjad = _to_latin(name)
    text = text.casefold().replace("&", " and ")
    text = re.sub(r"\b(?:[a-z]\.){2,}[a-z]?\b\.?", lambda m: m.group(0).replace(".", ""), text)
    text = re.sub(r"['`\u2019\u02bc\u02bb]", "", text)
    text = re.sub(r"[^a-z0-9]+", " ", text)
    words = [w for w in text.split() if w not in _HONORIFICS]
    if organisation or any(w in _LEGAL_WORDS or w in _LEGAL for w in words[1:]):
        joined = " " + " ".join(words) + " "
        for phrase, short in _LEGAL_PHRASES:
            joined = joined.replace(f" {phrase} ", f" {short} ")
        words = [_LEGAL_WORDS.get(w, w) for w in joined.split()]
        out: list[str] = []
        in_run = False
        for w in words:  # "a b c" -> "abc"
            single = len(w) == 1 and w.isalpha()
            if single and in_run:
                out[-1] += w
            else:
                out.append(w)
            in_run = single or (in_run and single)
        words = out
    words = _numbers(words)
    words = [w for k, w in enumerate(words) if w not in words[:k]]  # "Sergey Sergey Shoigu"
    if not words and text.strip():
        words = text.split()  # a name made only of honorifics: keep it rather than lose it
    return tuple(_make_token(w, abjad) for w in words)


# --------------------------------------------------------------------------------------------
# Pair scoring
# --------------------------------------------------------------------------------------------

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


# --------------------------------------------------------------------------------------------
# Screening index
# --------------------------------------------------------------------------------------------


#: Candidates the name as written scores in full: the best by shared, IDF-weighted parts.
CANDIDATES = 60


@dataclass(slots=True)
class Match:
    """One screening hit: which entry, on which alias, how strongly and why.

    ``score`` is the combined score (:mod:`apps.watchlists.evidence`); ``parts`` the evidence it was
    made of, each with its weight; ``reasons`` the same parts as sentences, the name first.
    """

    entry_id: str
    entry: WatchlistEntry
    alias: str
    score: float
    name_score: float
    reasons: list[str] = field(default_factory=list)
    parts: list[Part] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Evidence:
    """What a query brings besides its name, in the form the evidence rules compare."""

    dob: BirthDate | None = None
    nationality: str | None = None
    document: str = ""

    @classmethod
    def of(
        cls, date_of_birth: Any = None, nationality: str | None = None, document: str | None = None
    ) -> Evidence:
        nat = country_code(nationality) or (
            nationality.strip().upper() if nationality and nationality.strip() else None
        )
        return cls(_as_birthdate(date_of_birth), nat, _doc_key(document) if document else "")

    def floor(self, threshold: float) -> float:
        """The lowest name score that may still reach ``threshold`` with this evidence."""
        return evidence.name_floor(
            threshold,
            dob=self.dob is not None,
            nationality=bool(self.nationality),
            document=bool(self.document),
        )


def _as_birthdate(value: str | date | BirthDate | None) -> BirthDate | None:
    if value is None or value == "":
        return None
    if isinstance(value, BirthDate):
        return value
    if isinstance(value, date):
        return BirthDate(value.year, value.month, value.day)
    parsed = parse_date_of_birth(str(value))
    return parsed[0] if parsed else None


def _doc_key(number: str) -> str:
    return re.sub(r"[^0-9A-Z]", "", number.upper())


def merge_spellings(lists: Sequence[Iterable[tuple[int, float]]], floor: float) -> list[tuple[int, float]]:
    """(alias, name score) pairs of several spellings of one name: the best score per alias at or above
    ``floor``, in order of first appearance (shared by the per-name and the bulk paths, so both agree)."""
    if len(lists) == 1:
        return [(a, s) for a, s in lists[0] if s >= floor]
    best: dict[int, float] = {}
    for scored in lists:
        for a, s in scored:
            if s >= floor and s > best.get(a, -1.0):
                best[a] = s
    return list(best.items())


class ScreeningIndex:
    """In-memory blocking index over every alias of a set of watchlist entries.

    Build once (``ScreeningIndex.build(entries)``), screen many names. Candidate generation uses
    inverted lists held as numpy arrays (CSR layout: one offsets array, one ids array) on exact
    tokens, phonetic keys and consonant skeletons, plus a character-trigram index over the token
    *vocabulary* for typos; candidates are ranked by IDF-weighted overlap and only the top
    ``CANDIDATES`` (sixty) are scored in full.
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
    def build(cls, entries: Iterable[WatchlistEntry]) -> ScreeningIndex:
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

    def spellings(self, name: str, organisation: bool = False) -> list[tuple[Token, ...]]:
        """The token sequences a name is screened as: as written first, then other spellings of it.

        Other spellings (people only): the further romanisations of an Arabic, Persian or Chinese
        name (:func:`apps.watchlists.scripts.romanisations`), and the name with two parts run
        together or one part split where the list's vocabulary writes it so ("Abdulrahman" /
        "Abdul Rahman", "Xiaoming" / "Xiao Ming").
        """
        base = tokenize(name, organisation=organisation)
        if not base or organisation:
            return [base] if base else []
        out = [base]
        seen = {_key(base)}

        def add(tokens: tuple[Token, ...]) -> None:
            if tokens and _key(tokens) not in seen and len(out) < MAX_SPELLINGS:
                seen.add(_key(tokens))
                out.append(tokens)

        for alt in scripts.romanisations(name):
            add(tokenize(alt))
        for tokens in list(out):
            for other in self._rejoined(tokens):
                add(other)
        return out

    def _rejoined(self, tokens: tuple[Token, ...]) -> list[tuple[Token, ...]]:
        """``tokens`` with two neighbours joined, or one split, where the list has the other form."""
        out = []
        real = [not (t.minor or t.initial or t.number) for t in tokens]
        for i in range(len(tokens) - 1):
            if real[i] and real[i + 1]:
                joined = tokens[i].text + tokens[i + 1].text
                if joined in self.vocab:
                    out.append((*tokens[:i], _make_token(joined, False), *tokens[i + 2 :]))
        for i, t in enumerate(tokens):
            if not real[i] or t.abjad or len(t.text) < 6 or t.text in self.vocab:
                continue  # a part the list writes as it is needs no splitting
            # Both halves listed words; or one half a listed word and the other left for the scorer to
            # compare (it may carry a typo): in a long run-together name (ten letters or more, both
            # halves of five or more), or in one of seven or more that is near no listed word at all
            # (halves of three or more: "Naimqasmi" is "naim" + "qasmi", to meet "Naim Qasim"). A part
            # the list writes nearly so ("Elisabeth", a letter or two apart: NEAR_SIM) is cut only where
            # both halves are listed words: each further spelling is screened in full, and most such
            # cuts find nothing.
            cuts = [
                c for c in range(3, len(t.text) - 2) if t.text[:c] in self.vocab and t.text[c:] in self.vocab
            ]
            if not cuts and len(t.text) >= 10:
                cuts = [
                    c
                    for c in range(5, len(t.text) - 4)
                    if t.text[:c] in self.vocab or t.text[c:] in self.vocab
                ]
            if not cuts and len(t.text) >= 7 and self.nearest(t) < NEAR_SIM:
                cuts = [
                    c
                    for c in range(3, len(t.text) - 2)
                    if t.text[:c] in self.vocab or t.text[c:] in self.vocab
                ]

            def known(c: int, text: str = t.text) -> int:  # the longer listed half first
                return max(len(h) if h in self.vocab else 0 for h in (text[:c], text[c:]))

            for cut in sorted(cuts, key=lambda c: -known(c))[:2]:
                parts = (_make_token(t.text[:cut], False), _make_token(t.text[cut:], False))
                out.append((*tokens[:i], *parts, *tokens[i + 1 :]))
        return out

    def screen(
        self,
        name: str,
        *,
        date_of_birth: str | date | BirthDate | None = None,
        nationality: str | None = None,
        document: str | None = None,
        kind: str | None = None,
        limit: int = 5,
        threshold: float = REVIEW_THRESHOLD,
        candidates: int = CANDIDATES,
    ) -> list[Match]:
        """Best matches for one name, at most ``limit``, each with a combined score >= ``threshold``.

        Every spelling of the name (:meth:`spellings`) finds and scores its candidates; the best name
        score per alias then meets the other evidence (date of birth, nationality, document, the
        alias's own quality) in one combined score (:mod:`apps.watchlists.evidence`). ``kind``
        restricts hits to entries of that kind ("person", "organisation", "vessel"...).
        """
        org = kind is not None and kind != "person"
        spelled = self.spellings(name, org)
        if not spelled:
            return []
        q = spelled[0]
        q_person = tokenize(name) if org else q
        q_org = q if org else tokenize(name, organisation=True)
        found = Evidence.of(date_of_birth, nationality, document)
        floor = found.floor(threshold)

        joined: dict[int, tuple[str, str]] = {}  # per query form (alive for the whole call)

        def scored(k: int, spelling: tuple[Token, ...]) -> Iterator[tuple[int, float]]:
            for a_idx in self._candidates(spelling, SPELLING_CANDIDATES if k else candidates).tolist():
                if kind is not None and self.entries[int(self.alias_entry[a_idx])].kind != kind:
                    continue  # before scoring: the scorer is the expensive part
                is_org = bool(self.alias_org[a_idx])
                if is_org and k:
                    continue  # other spellings are spellings of a person's name
                qt = q_org if is_org else (spelling if k else q_person)
                qj = joined.get(id(qt))
                if qj is None:
                    qj = joined[id(qt)] = joined_forms(qt)
                yield (
                    a_idx,
                    score_tokens(qt, self.alias_tokens(a_idx), not is_org, qj, self.alias_joined(a_idx)),
                )

        merged = merge_spellings([list(scored(k, sp)) for k, sp in enumerate(spelled)], floor)
        return self.rank(merged, found, kind, limit, threshold, q)

    def rank(
        self,
        scored: Iterable[tuple[int, float]],
        found: Evidence,
        kind: str | None,
        limit: int,
        threshold: float,
        query: Sequence[Token] = (),
    ) -> list[Match]:
        """The best match per entry among ``(alias index, name score)`` pairs, after the other evidence
        (date of birth, nationality, document, quality) made each a combined score; shared by the bulk path."""
        floor = found.floor(threshold)
        query_single = single_name(query) if query else False
        query_short = short_name(query) if query else False
        best: dict[int, Match] = {}
        for a_idx, name_score in scored:
            e_idx = int(self.alias_entry[a_idx])
            entry = self.entries[e_idx]
            if (kind is not None and entry.kind != kind) or name_score < floor:
                continue
            weak = bool(self.alias_weak[a_idx])
            person = not self.alias_org[a_idx]
            alias = self.alias_names[a_idx]
            alias_tokens = self.alias_tokens(a_idx)
            parts = [evidence.name_part(name_score, alias, weak=weak)]
            parts += evidence.quality_parts(
                weak=weak,
                single=person and (query_single or single_name(alias_tokens)),
                short=person and (query_short or short_name(alias_tokens)),
            )
            parts += self._secondary(entry, found)
            score = evidence.combine(parts)
            current = best.get(e_idx)
            if current is None or score > current.score:
                best[e_idx] = Match(
                    entry.external_id,
                    entry,
                    alias,
                    round(score, 4),
                    name_score,
                    [p.text for p in parts],
                    parts,
                )
        hits = [m for m in best.values() if m.score >= threshold]
        hits.sort(key=lambda m: (-m.score, m.entry_id))
        return hits[:limit]

    @staticmethod
    def _secondary(entry: WatchlistEntry, found: Evidence) -> list[Part]:
        """Date of birth, nationality and document evidence of one entry against the query's."""
        parts = []
        if (dob := evidence.dob_part(found.dob, entry.dates_of_birth)) is not None:
            parts.append(dob)
        if (nat := evidence.nationality_part(found.nationality, entry.nationalities)) is not None:
            parts.append(nat)
        if found.document:
            doc = next(
                ((d.doc_type, d.number) for d in entry.documents if _doc_key(d.number) == found.document),
                None,
            )
            if (part := evidence.document_part(doc)) is not None:
                parts.append(part)
        return parts


#: Similarity to a listed word above which a part counts as listed nearly as written (a letter or two
#: off), and is not cut in two on a guess.
NEAR_SIM = 0.8
#: Spellings of one name screened at most (as written, romanisations, joined or split parts), and the
#: candidates each further spelling scores (the name as written scores ``CANDIDATES``).
MAX_SPELLINGS = 8
SPELLING_CANDIDATES = 20
#: Name parts whose expansion an index keeps (then it starts afresh); the aliases of the common ones
#: (HITS_CACHE_MIN or more), up to HITS_CACHE_SIZE in all (about 8 bytes each).
POSTINGS_CACHE = 100_000
#: Aliases whose joined forms are kept (``ScreeningIndex.alias_joined``): about 100 bytes each.
JOINED_CACHE = 200_000
HITS_CACHE_MIN = 2_000
HITS_CACHE_SIZE = 10_000_000


def _key(tokens: Sequence[Token]) -> tuple[tuple[str, bool], ...]:
    return tuple((t.text, t.abjad) for t in tokens)


def _trigrams(text: str) -> list[str]:
    padded = f"^{text}$"
    return [padded[i : i + 3] for i in range(len(padded) - 2)]

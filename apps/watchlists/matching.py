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
   lists on exact tokens, phonetic keys, skeletons, and character trigrams of the token vocabulary
   for typos), held in numpy arrays; candidates are ranked by IDF-weighted overlap, the best few
   hundred are scored in full, and secondary keys (date of birth, nationality, document number)
   raise or lower the score. Every :class:`Match` explains itself in ``reasons``.
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
from rapidfuzz.distance import Levenshtein

from apps.watchlists.importers import BirthDate, WatchlistEntry, country_code, parse_date_of_birth

__all__ = [
    "DEFAULT_THRESHOLD",
    "Match",
    "ScreeningIndex",
    "Token",
    "name_similarity",
    "normalize_name",
    "tokenize",
]

#: Name score at or above which a pair is called a match. Fixed here (0.68-0.76 is a plateau on the
#: labelled pairs); bench/screening.py also reports a 5-fold cross-validated threshold for honesty.
DEFAULT_THRESHOLD = 0.70

# --------------------------------------------------------------------------------------------
# Normalisation
# --------------------------------------------------------------------------------------------


def _words(text: str) -> list[str]:
    """Split a whitespace-separated word table (kept as one string so the tables stay compact)."""
    return text.split()


_HONORIFICS = frozenset(
    _words(
        "mr mrs ms miss mx dr prof sir herr frau mme mlle monsieur madame president prasident praesident hon rev excellency his her"
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


_SKEL_MAP = str.maketrans("bvfpckqgszxtdjlmnr", "bbbbkkkksssttylmnr", "aeiouyhw'`")


def _skeleton(t: str) -> str:
    """Consonant skeleton: vowels and h/w/y dropped, similar consonants merged."""
    if len(t) > 4 and t[:2] in ("al", "el"):
        t = t[2:]
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
    """Transliterate to ASCII; split CJK/Hangul names into surname + given name."""
    abjad = bool(_ABJAD.search(name))
    if _CJK.search(name):
        words = []
        for word in name.split():
            if _CJK.search(word) and 2 <= len(word) <= 4:
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
EXTRA_CANDIDATE_COST = 0.3  # weight of a listed token that found no partner
MIN_TOKEN_SIM = 0.6  # below this, two tokens are not aligned at all
NUMBER_MISMATCH = 0.15  # subtracted when both names carry numbers and they differ
SUBSTITUTION_COST = 0.12  # per name part replaced by another (not just added or dropped)
ORDER_COST = 0.03  # aligned parts in a different order ("Hans Friedrich" / "Friedrich Hans")


def _edit_budget(length: int) -> int:
    """Edits tolerated in a name part of ``length`` letters."""
    return 0 if length <= 3 else 1 if length <= 6 else 2 if length <= 10 else 3


@lru_cache(maxsize=1 << 18)
def token_similarity(a: Token, b: Token) -> float:
    """Similarity of two name parts, 0-1: exact, phonetic variant, initial, skeleton or edit distance."""
    if a.text == b.text:
        return 1.0
    if a.number or b.number:
        return 0.0
    if a.initial or b.initial:
        return 0.8 if a.text[0] == b.text[0] else 0.0
    if a.phon == b.phon:
        return 0.95
    # A budget of edits that grows with length: one letter in "Putin" may be a typo, one letter in
    # "Kim" is another name. Outside the budget the parts do not align at all.
    dist = min(Levenshtein.distance(a.phon, b.phon), Levenshtein.distance(a.text, b.text))
    longest = max(len(a.phon), len(b.phon), 1)
    allowed = _edit_budget(longest)
    sim = 1.0 - dist / longest
    if dist > allowed:
        sim *= 0.5
    if a.abjad or b.abjad:
        if a.skel and a.skel == b.skel:
            sim = max(sim, 0.9)
        elif a.skel and b.skel:
            sim = max(sim, 0.85 * Levenshtein.normalized_similarity(a.skel, b.skel))
    return sim


def _align(q: Sequence[Token], c: Sequence[Token]) -> tuple[float, list[tuple[int, int, float]]]:
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
    total += EXTRA_QUERY_COST * sum(t.weight for i, t in enumerate(q) if i not in used_q)
    total += EXTRA_CANDIDATE_COST * sum(t.weight for j, t in enumerate(c) if j not in used_c)
    score = matched / total if total else 0.0
    # A name part replaced by a different one (father, clan, given name) is a different person far
    # more often than a typo: each such substitution costs extra.
    extra_q = sum(1 for i, t in enumerate(q) if i not in used_q and not t.minor)
    extra_c = sum(1 for j, t in enumerate(c) if j not in used_c and not t.minor)
    score -= SUBSTITUTION_COST * min(extra_q, extra_c)
    order = [j for _i, j, _s in sorted(chosen)]
    if any(x > y for x, y in itertools.pairwise(order)):
        score -= ORDER_COST
    return score, chosen


def _acronym(q: Sequence[Token], c: Sequence[Token]) -> bool:
    """'PLA' vs 'Peoples Liberation Army' (either way round)."""
    for short, long_ in ((q, c), (c, q)):
        if len(short) == 1 and 2 <= len(short[0].text) <= 6 and len(long_) >= 2:
            letters = "".join(t.text[0] for t in long_ if t.text not in _LEGAL)
            letters_all = "".join(t.text[0] for t in long_)
            if short[0].text in (letters, letters_all):
                return True
    return False


def score_tokens(q: Sequence[Token], c: Sequence[Token]) -> float:
    """Name score 0-1 of query tokens ``q`` against listed tokens ``c``."""
    if not q or not c:
        return 0.0
    score, _pairs = _align(q, c)
    for legal in (False, True):
        qj = "".join(t.phon for t in q if legal or t.text not in _LEGAL)
        cj = "".join(t.phon for t in c if legal or t.text not in _LEGAL)
        if min(len(qj), len(cj)) >= 6:
            joined = Levenshtein.normalized_similarity(qj, cj)
            if joined >= 0.9:
                score = max(score, joined * 0.95)
    if _acronym(q, c):
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
    return score_tokens(tokenize(a, organisation=org), tokenize(b, organisation=org))


# --------------------------------------------------------------------------------------------
# Screening index
# --------------------------------------------------------------------------------------------

DOB_EXACT_BONUS = 0.08
DOB_YEAR_BONUS = 0.04
DOB_CONFLICT_PENALTY = 0.2
DOB_DAY_CONFLICT_PENALTY = 0.06
NATIONALITY_BONUS = 0.03
NATIONALITY_PENALTY = 0.07
DOCUMENT_BONUS = 0.2
WEAK_ALIAS_FACTOR = 0.92


@dataclass(slots=True)
class Match:
    """One screening hit: which entry, on which alias, how strongly and why."""

    entry_id: str
    entry: WatchlistEntry
    alias: str
    score: float
    name_score: float
    reasons: list[str] = field(default_factory=list)


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


def _dob_adjustment(query: BirthDate, listed: Sequence[BirthDate]) -> tuple[float, str]:
    """Bonus or penalty for a query date of birth against the listed ones, with the reason."""
    if not listed:
        return 0.0, ""
    for d in listed:
        if query.is_full and d.is_full and (d.year, d.month, d.day) == (query.year, query.month, query.day):
            return DOB_EXACT_BONUS, "date of birth matches"
    q_years = set(query.years())
    year_hit = [
        d
        for d in listed
        if q_years & set(range(d.year - d.approximate, (d.year_to or d.year) + 1 + d.approximate))
    ]
    if year_hit:
        if query.is_full and all(d.is_full for d in year_hit):
            return -DOB_DAY_CONFLICT_PENALTY, f"same year of birth but different date (listed {year_hit[0]})"
        return DOB_YEAR_BONUS, f"year of birth matches ({year_hit[0]})"
    shown = ", ".join(str(d) for d in listed[:3])
    return -DOB_CONFLICT_PENALTY, f"date of birth differs (listed {shown})"


class ScreeningIndex:
    """In-memory blocking index over every alias of a set of watchlist entries.

    Build once (``ScreeningIndex.build(entries)``), screen many names. Candidate generation uses
    inverted lists held as numpy arrays (CSR layout: one offsets array, one ids array) on exact
    tokens, phonetic keys and consonant skeletons, plus a character-trigram index over the token
    *vocabulary* for typos; candidates are ranked by IDF-weighted overlap and only the top few
    hundred are scored in full.
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
        by_phon: dict[str, list[int]] = defaultdict(list)
        by_skel: dict[str, list[int]] = defaultdict(list)
        tri_pairs: dict[str, list[int]] = defaultdict(list)
        for tid, t in enumerate(self.tokens):
            by_phon[t.phon].append(tid)
            if t.skel:
                by_skel[t.skel].append(tid)
            if len(t.phon) >= 4 and not t.minor:
                for g in _trigrams(t.phon):
                    tri_pairs[g].append(tid)
        self.by_phon = dict(by_phon)
        self.by_skel = dict(by_skel)
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
        if q.skel and len(q.skel) >= 2:
            for tid in self.by_skel.get(q.skel, ()):
                if q.abjad or self.tokens[tid].abjad:
                    found.setdefault(tid, 0.85)
        if len(q.phon) >= 4 and not q.minor:
            grams = _trigrams(q.phon)
            rows = [self.trigram[g] for g in grams if g in self.trigram]
            if rows:
                ids = np.concatenate([self.tri_ids[self.tri_ptr[g] : self.tri_ptr[g + 1]] for g in rows])
                uniq, cnt = np.unique(ids, return_counts=True)
                # q-gram lemma: k edits destroy at most 3k trigrams.
                k = _edit_budget(len(q.phon) + 1)
                cand = uniq[cnt >= max(1, len(grams) - 3 * k)]
                cand = cand[np.abs(self.vocab_len[cand] - len(q.phon)) <= k]
                if len(cand):
                    choices = self.vocab_phon_arr[cand].tolist()
                    for _c, _d, pos in process.extract(
                        q.phon, choices, scorer=Levenshtein.distance, score_cutoff=k, limit=None
                    ):
                        tid = int(cand[pos])
                        if tid not in found:
                            sim = token_similarity(q, self.tokens[tid])
                            if sim >= MIN_TOKEN_SIM:
                                found[tid] = sim
        return found

    def postings(self, t: Token) -> tuple[list[int], list[int], list[float]]:
        """Where the aliases holding ``t`` or a neighbour of it lie in the postings (start, end), and what
        each range adds to an alias's candidate score; shared with the bulk path, which caches it."""
        starts: list[int] = []
        ends: list[int] = []
        gains: list[float] = []
        for tid, sim in self._expand(t).items():
            lo, hi = int(self.post_ptr[tid]), int(self.post_ptr[tid + 1])
            if hi > lo:
                starts.append(lo)
                ends.append(hi)
                gains.append(float(self.idf[tid]) * sim * (0.3 if t.minor else 1.0))
        return starts, ends, gains

    def _candidates(self, q: Sequence[Token], top_k: int) -> np.ndarray:
        starts: list[int] = []
        ends: list[int] = []
        gains: list[float] = []
        for t in q:
            more = self.postings(t)
            starts += more[0]
            ends += more[1]
            gains += more[2]
        if not starts:
            return np.zeros(0, dtype=np.int32)
        ids = np.concatenate([self.post_ids[lo:hi] for lo, hi in zip(starts, ends, strict=True)])
        weights = np.repeat(np.asarray(gains, dtype=np.float32), np.subtract(ends, starts))
        if len(ids) <= top_k:
            return np.unique(ids)
        if len(ids) > 50_000:  # dense: one pass over all aliases beats sorting the postings
            totals = np.bincount(ids, weights=weights, minlength=len(self.alias_entry))
            top = np.argpartition(-totals, top_k)[:top_k]
            return top[totals[top] >= 0.3 * totals[top].max()].astype(np.int32)
        uniq, inverse = np.unique(ids, return_inverse=True)
        totals = np.bincount(inverse, weights=weights)
        if len(uniq) > top_k:
            top = np.argpartition(-totals, top_k)[:top_k]
            uniq, totals = uniq[top], totals[top]
        return uniq[totals >= 0.3 * totals.max()]

    def alias_tokens(self, alias_idx: int) -> list[Token]:
        """The normalised tokens of one indexed alias."""
        lo, hi = self.alias_ptr[alias_idx], self.alias_ptr[alias_idx + 1]
        return [self.tokens[t] for t in self.alias_tok[lo:hi].tolist()]

    def screen(
        self,
        name: str,
        *,
        date_of_birth: str | date | BirthDate | None = None,
        nationality: str | None = None,
        document: str | None = None,
        kind: str | None = None,
        limit: int = 5,
        threshold: float = DEFAULT_THRESHOLD,
        candidates: int = 100,
    ) -> list[Match]:
        """Best matches for one name, at most ``limit``, each with score >= ``threshold``.

        The name score decides candidacy; secondary keys then adjust it: a matching date of birth
        or document raises it, a conflicting date of birth or nationality lowers it. ``kind``
        restricts hits to entries of that kind ("person", "organisation", "vessel"...).
        """
        org = kind is not None and kind != "person"
        q = tokenize(name, organisation=org)
        if not q:
            return []
        q_person = tokenize(name) if org else q
        q_org = q if org else tokenize(name, organisation=True)

        def scored() -> Iterator[tuple[int, float]]:
            for a_idx in self._candidates(q, candidates).tolist():
                if kind is not None and self.entries[int(self.alias_entry[a_idx])].kind != kind:
                    continue  # before scoring: the scorer is the expensive part
                qt = q_org if self.alias_org[a_idx] else q_person
                yield a_idx, score_tokens(qt, self.alias_tokens(a_idx))

        return self.rank(scored(), date_of_birth, nationality, document, kind, limit, threshold)

    def rank(
        self,
        scored: Iterable[tuple[int, float]],
        date_of_birth: Any,
        nationality: str | None,
        document: str | None,
        kind: str | None,
        limit: int,
        threshold: float,
    ) -> list[Match]:
        """The best match per entry among ``(alias index, name score)`` pairs, after the secondary
        evidence (date of birth, nationality, document) moved each score; shared by the bulk path."""
        q_dob = _as_birthdate(date_of_birth)
        q_nat = country_code(nationality) or (nationality.strip().upper() if nationality else None)
        q_doc = _doc_key(document) if document else ""
        floor = threshold - DOCUMENT_BONUS - DOB_EXACT_BONUS
        best: dict[int, Match] = {}
        for a_idx, name_score in scored:
            e_idx = int(self.alias_entry[a_idx])
            entry = self.entries[e_idx]
            if (kind is not None and entry.kind != kind) or name_score < floor:
                continue
            weak = bool(self.alias_weak[a_idx])
            alias = self.alias_names[a_idx]
            score = name_score * (WEAK_ALIAS_FACTOR if weak else 1.0)
            reasons = [f"name {name_score:.2f} on {'weak ' if weak else ''}alias {alias!r}"]
            score = self._secondary(entry, score, reasons, q_dob, q_nat, q_doc)
            score = max(0.0, min(1.0, score))
            current = best.get(e_idx)
            if current is None or score > current.score:
                best[e_idx] = Match(entry.external_id, entry, alias, round(score, 4), name_score, reasons)
        hits = [m for m in best.values() if m.score >= threshold]
        hits.sort(key=lambda m: (-m.score, m.entry_id))
        return hits[:limit]

    @staticmethod
    def _secondary(
        entry: WatchlistEntry,
        score: float,
        reasons: list[str],
        q_dob: BirthDate | None,
        q_nat: str | None,
        q_doc: str,
    ) -> float:
        """Apply date of birth, nationality and document evidence to a name score."""
        if q_dob is not None:
            delta, why = _dob_adjustment(q_dob, entry.dates_of_birth)
            if why:
                score += delta
                reasons.append(why)
        if q_nat and entry.nationalities:
            if q_nat in entry.nationalities:
                score += NATIONALITY_BONUS
                reasons.append(f"nationality matches ({q_nat})")
            else:
                score -= NATIONALITY_PENALTY
                reasons.append(f"nationality differs (listed {', '.join(entry.nationalities[:3])})")
        if q_doc:
            for doc in entry.documents:
                if _doc_key(doc.number) == q_doc:
                    score += DOCUMENT_BONUS
                    reasons.append(f"{doc.doc_type} number {doc.number} matches")
                    break
        return score


def _trigrams(text: str) -> list[str]:
    padded = f"^{text}$"
    return [padded[i : i + 3] for i in range(len(padded) - 2)]

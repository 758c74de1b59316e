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

One module per layer; this package is their face: :mod:`.names` (normalisation, tokens,
transliteration), :mod:`.scoring` (pair scoring), :mod:`.query` (what a screening query brings and
gets back), :mod:`.postings` (the aliases and their inverted lists) and :mod:`.index` (:class:`ScreeningIndex`).
"""

from __future__ import annotations

from apps.watchlists.evidence import MATCH_THRESHOLD, REVIEW_THRESHOLD
from apps.watchlists.matching.index import CANDIDATES, SPELLING_CANDIDATES, ScreeningIndex
from apps.watchlists.matching.names import Token, normalize_name, tokenize
from apps.watchlists.matching.query import Evidence, Match, merge_spellings
from apps.watchlists.matching.scoring import (
    DEFAULT_THRESHOLD,
    EXTRA_CANDIDATE_COST,
    EXTRA_QUERY_COST,
    MIN_SKELETON,
    MIN_TOKEN_SIM,
    SHORT_SKELETON,
    SHORT_SKELETON_SIM,
    SINGLE_NAME_EXTRA_COST,
    SUBSTITUTION_COST,
    joined_forms,
    name_similarity,
    score_tokens,
    short_name,
    single_name,
    token_similarity,
)

__all__ = [
    "CANDIDATES",
    "DEFAULT_THRESHOLD",
    "EXTRA_CANDIDATE_COST",
    "EXTRA_QUERY_COST",
    "MATCH_THRESHOLD",
    "MIN_SKELETON",
    "MIN_TOKEN_SIM",
    "REVIEW_THRESHOLD",
    "SHORT_SKELETON",
    "SHORT_SKELETON_SIM",
    "SINGLE_NAME_EXTRA_COST",
    "SPELLING_CANDIDATES",
    "SUBSTITUTION_COST",
    "Evidence",
    "Match",
    "ScreeningIndex",
    "Token",
    "joined_forms",
    "merge_spellings",
    "name_similarity",
    "normalize_name",
    "score_tokens",
    "short_name",
    "single_name",
    "token_similarity",
    "tokenize",
]

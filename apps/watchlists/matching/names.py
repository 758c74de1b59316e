"""Name normalisation: any script to Latin tokens, each with its phonetic form and consonant skeleton.

:func:`tokenize` transliterates with ``anyascii`` (Arabic and Persian letters folded first, CJK names
split into family and given name), folds case and accents, drops honorifics, keeps particles and
legal forms at a low weight, joins dotted abbreviations and turns number words into digits. Each
:class:`Token` carries a *phonetic* form that folds transliteration variants (Mohammed/Muhammad,
-off/-ov, kh/h...) and a consonant *skeleton* for abjad scripts, which write few vowels.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from anyascii import anyascii

from apps.watchlists import scripts


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
_LEGAL_ANY = _LEGAL | frozenset(_LEGAL_WORDS)  # a word of either: the name has a legal form
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
# ``tokenize``'s patterns, compiled once: it runs once per distinct name of a batch.
_DOTTED = re.compile(r"\b(?:[a-z]\.){2,}[a-z]?\b\.?")
_APOSTROPHES = re.compile(r"['`\u2019\u02bc\u02bb]")
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")


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


#: Words ``tokenize`` drops or rewrites in a person's name (a name of plain letters without any of them
#: takes its shortcut).
_REWRITTEN = _HONORIFICS | _LEGAL_ANY | frozenset(_NUMBER_WORDS) | frozenset(_TENS)


def normalize_name(name: str, *, organisation: bool = False) -> str:
    """Normalised text of a name (tokens joined by spaces), for display and equality tests."""
    return " ".join(t.text for t in tokenize(name, organisation=organisation))


def tokenize(name: str, *, organisation: bool = False) -> tuple[Token, ...]:
    """Split a name in any script into weighted :class:`Token` objects.

    ``organisation`` turns on legal-form folding and joins runs of single letters ("A B C" ->
    "abc"); for people, single letters stay initials.
    """
    if not organisation and name.isascii() and name.replace(" ", "").isalpha():
        # Plain letters and spaces (most travellers' names, as passports print them): nothing to
        # transliterate, fold or join; unless a word is one the steps below drop or rewrite, the
        # tokens are the lower-cased words, each once, in order (the steps below give the same).
        words = name.lower().split()
        if _REWRITTEN.isdisjoint(words):
            return tuple([_make_token(w, False) for w in dict.fromkeys(words)])
    if not organisation and name.count(",") == 1:
        last, first = name.split(",")
        if first.strip() and last.strip():
            name = f"{first} {last}"  # "MALKEVICH, Alexander" -> "Alexander MALKEVICH"
    text, abjad = _to_latin(name)
    text = text.casefold().replace("&", " and ")
    if "." in text:  # dotted abbreviations: "U.S.A." -> "usa"
        text = _DOTTED.sub(_undotted, text)
    text = _APOSTROPHES.sub("", text)
    text = _NOT_ALNUM.sub(" ", text)
    words = [w for w in text.split() if w not in _HONORIFICS]
    if organisation or not _LEGAL_ANY.isdisjoint(words[1:]):
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
    return tuple([_make_token(w, abjad) for w in words])


def _undotted(m: re.Match[str]) -> str:
    return m.group(0).replace(".", "")

"""Screening benchmark: recall on names never seen, 1M-alias latency, throughput, pair-level F1.

Run from the repository root: ``python -m bench.screening`` (prints one JSON object; ``--quick`` leaves out
the run through the product's database). ``figures`` holds each goal with its value, its goal, the
baselines measured in the same run and whether it is met; the top-level ``met`` says whether all are.

* ``unseen_names``: an evaluation built from the shared lists the product does not fit to. Positives:
  listed persons under generated variants (typos, swapped letters, reordered, dropped or run-together
  parts, other romanisations, the name written in Cyrillic or Arabic script where the listed nationality
  writes so), with their listed date of birth and nationality. Negatives: ordinary travellers of 39 Faker
  locales in 13 scripts, with a date of birth and nationality. Hard negatives: namesakes of listed persons
  born a decade or more apart. Each row goes through the code behind ``manage.py screen``; recall is
  counted at the threshold that keeps both false-hit rates (0.1 % ordinary, 2 % namesakes), for ours,
  plain rapidfuzz + birth year, and nomenklatura's logic-v2 matcher, on the same rows.

* ``names_per_second``: every primary name of UN + OFAC screened against an index of all their
  aliases (including the query's own entry, as in production re-screening).
* ``p50_ms``/``p95_ms``: one name against an index inflated to one million aliases. The synthetic
  aliases are made (seeded) by recombining given names and surnames of real listed persons and
  perturbing them (typos, transliteration variants, dropped or swapped parts), so token frequencies
  look like a real list's. Single process, one core.
* ``ours``/``nomenklatura``: precision, recall and F1 on the labelled pairs, ours at the threshold
  fixed in code (``DEFAULT_THRESHOLD``) and, separately, with the threshold chosen by 5-fold
  cross-validation (threshold picked on four folds, scored on the fifth). nomenklatura's
  ``logic-v2`` is run on the same pairs in the same process at its default 0.7 cut-off.
"""

# ruff: noqa: RUF001 -- letters of other scripts are data here (transliteration tables), not look-alikes.
from __future__ import annotations

import csv
import itertools
import json
import os
import random
import re
import statistics
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from apps.watchlists.importers import WatchlistEntry, load_ofac_sdn, load_un_consolidated
from apps.watchlists.matching import DEFAULT_THRESHOLD, ScreeningIndex, name_similarity

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "watchlists"
PAIRS = DATA / "name_pairs_nomenklatura.csv"
KINDS = {"Person": "person", "Vessel": "vessel"}


def _prf(scores: list[tuple[float, bool]], threshold: float) -> dict[str, float]:
    tp = sum(1 for s, g in scores if s >= threshold and g)
    fp = sum(1 for s, g in scores if s >= threshold and not g)
    fn = sum(1 for s, g in scores if s < threshold and g)
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4), "threshold": threshold}


def _best_threshold(scores: list[tuple[float, bool]]) -> float:
    grid = [x / 100 for x in range(50, 96)]
    return max(grid, key=lambda t: (_prf(scores, t)["f1"], -abs(t - DEFAULT_THRESHOLD)))


def _cross_validated(scores: list[tuple[float, bool]], folds: int = 5, seed: int = 7) -> dict[str, object]:
    order = list(range(len(scores)))
    random.Random(seed).shuffle(order)
    predictions: list[tuple[float, bool]] = []
    chosen = []
    for k in range(folds):
        test = set(order[k::folds])
        train = [scores[i] for i in order if i not in test]
        t = _best_threshold(train)
        chosen.append(t)
        predictions += [(1.0 if scores[i][0] >= t else 0.0, scores[i][1]) for i in test]
    result = _prf(predictions, 0.5)
    result.pop("threshold")
    return {**result, "fold_thresholds": chosen}


def pair_scores() -> tuple[list[dict[str, str]], list[tuple[float, bool]]]:
    with PAIRS.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    ours = [
        (
            name_similarity(r["name1"], r["name2"], KINDS.get(r["schema"], "organisation")),
            r["is_match"] == "true",
        )
        for r in rows
    ]
    return rows, ours


def nomenklatura_scores(rows: list[dict[str, str]]) -> list[tuple[float, bool]] | str:
    try:
        from followthemoney.entity import ValueEntity
        from nomenklatura.matching import get_algorithm
        from nomenklatura.matching.types import ScoringConfig
    except ImportError as exc:
        return f"nomenklatura not importable: {exc}"
    algo = get_algorithm("logic-v2")
    if algo is None:
        return "nomenklatura has no logic-v2 algorithm"
    config = ScoringConfig.defaults()
    out = []
    for i, r in enumerate(rows):
        # Unique ids per pair: nomenklatura caches comparisons by entity id.
        a = ValueEntity.from_dict(
            {"id": f"q{i}", "schema": r["schema"], "properties": {"name": [r["name1"]]}}
        )
        b = ValueEntity.from_dict(
            {"id": f"r{i}", "schema": r["schema"], "properties": {"name": [r["name2"]]}}
        )
        out.append((algo.compare(a, b, config).score, r["is_match"] == "true"))
    return out


def synthetic_aliases(entries: list[WatchlistEntry], target: int, seed: int = 42) -> list[WatchlistEntry]:
    """Inflate the real lists to ``target`` aliases with realistic recombinations and perturbations."""
    rng = random.Random(seed)
    firsts: list[str] = []
    lasts: list[str] = []
    mids: list[str] = []
    org_words: list[str] = []
    for e in entries:
        for n in e.all_names():
            parts = n.replace(",", " ").split()
            if e.kind == "person" and len(parts) >= 2:
                firsts.append(parts[0])
                lasts.append(parts[-1])
                mids.extend(parts[1:-1])
            elif e.kind != "person":
                org_words.extend(parts)
    mids = mids or firsts

    def typo(word: str) -> str:
        if len(word) < 4:
            return word
        i = rng.randrange(1, len(word) - 1)
        op = rng.random()
        if op < 0.33:
            return word[:i] + word[i + 1 :]
        if op < 0.66:
            return word[:i] + rng.choice("aeioubdklmnrst") + word[i + 1 :]
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]

    variants = [("MOHAMMED", "MUHAMMAD"), ("OV", "OFF"), ("KH", "H"), ("J", "Y"), ("OU", "U"), ("EI", "AY")]
    out: list[WatchlistEntry] = []
    total = 0
    n = 0
    while total < target:
        n += 1
        aliases_here = []
        for _ in range(rng.choice((1, 2, 3, 4))):
            if rng.random() < 0.8:
                parts = [rng.choice(firsts)] + [rng.choice(mids) for _ in range(rng.choice((0, 0, 1, 2)))]
                parts.append(rng.choice(lasts))
            else:
                parts = [rng.choice(org_words) for _ in range(rng.choice((2, 3, 4)))]
            parts = [typo(p) if rng.random() < 0.15 else p for p in parts]
            name = " ".join(parts)
            if rng.random() < 0.2:
                a, b = rng.choice(variants)
                name = name.replace(a, b)
            aliases_here.append(name)
        from apps.watchlists.importers import Alias

        out.append(
            WatchlistEntry(
                source="SYNTH",
                external_id=f"SYNTH-{n}",
                kind="person",
                name=aliases_here[0],
                aliases=[Alias(a) for a in aliases_here[1:]],
            )
        )
        total += len(aliases_here)
    return out


# ---------------------------------------------------------------------------------------------------------
# Evaluation on names the product has never seen: listed people under generated variants (positives),
# ordinary travellers of many scripts and nationalities (negatives, Faker), and namesakes of listed
# people born decades apart (hard negatives). Every perturbation below is a generic rule about how names
# get mistyped, reordered or transliterated; none looks at a particular listed entry.
# ---------------------------------------------------------------------------------------------------------

#: Faker locales of the ordinary travellers, with the nationality their documents carry (13 scripts).
ORDINARY_LOCALES = {
    "en_US": "US", "en_GB": "GB", "fr_FR": "FR", "de_DE": "DE", "es_ES": "ES", "es_MX": "MX", "it_IT": "IT",
    "pl_PL": "PL", "nl_NL": "NL", "pt_BR": "BR", "tr_TR": "TR", "vi_VN": "VN", "id_ID": "ID", "en_NG": "NG",
    "yo_NG": "NG", "sw": "KE", "en_PK": "PK", "fr_DZ": "DZ", "az_AZ": "AZ", "uz_UZ": "UZ", "ro_RO": "RO",
    "ru_RU": "RU", "uk_UA": "UA", "bg_BG": "BG", "el_GR": "GR", "ka_GE": "GE", "hy_AM": "AM",
    "ar_AA": "EG", "ar_SA": "SA", "ar_PS": "PS", "fa_IR": "IR", "he_IL": "IL",
    "zh_CN": "CN", "zh_TW": "TW", "ja_JP": "JP", "ko_KR": "KR", "hi_IN": "IN", "bn_BD": "BD", "th_TH": "TH",
}  # fmt: skip
#: A passport-style (ICAO 9303) romanisation of Cyrillic and Greek, as travel documents print names.
_ICAO = {
    **dict(zip("абвгдезийклмнопрстуфыэ", "abvgdeziiklmnoprstufye", strict=True)),
    "ж": "zh", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch", "ю": "iu", "я": "ia", "ё": "e",
    "ъ": "ie", "ь": "", "і": "i", "ї": "i", "є": "ie", "ґ": "g",
    **dict(zip("αβγδεζηικλμνξοπρστυφω", "avgdeziiklmnxoprstyfo", strict=True)), "χ": "ch", "ς": "s", "θ": "th",
    "ψ": "ps",
}  # fmt: skip
_COUNTRIES = ["US", "GB", "FR", "DE", "RU", "IR", "SY", "IQ", "AF", "PK", "CN", "NG", "MX", "CO", "TR", "AE"]


def _icao(text: str) -> str:
    import unicodedata

    text = unicodedata.normalize("NFD", text.casefold())
    return "".join(_ICAO.get(ch, ch) for ch in text if not unicodedata.combining(ch)).upper()


def ordinary_travellers(n: int, seed: int = 2718) -> list[dict[str, str]]:
    """``n`` ordinary travellers: names from Faker's locales (native script, sometimes as their passport
    prints them in Latin), a date of birth and the locale's nationality."""
    from faker import Faker

    rng = random.Random(seed)
    fakers = {}
    for loc in ORDINARY_LOCALES:
        f = Faker(loc)
        f.seed_instance(rng.randrange(1 << 30))
        fakers[loc] = f
    rows = []
    locales = list(ORDINARY_LOCALES)
    for i in range(n):
        loc = locales[i % len(locales)]
        f = fakers[loc]
        r = rng.random()
        if r < 0.25:
            name = f.name()  # with the locale's titles and suffixes now and then
        elif loc in ("zh_CN", "zh_TW", "ja_JP") and r < 0.55 and hasattr(f, "romanized_name"):
            name = f.romanized_name()
        elif loc in ("zh_CN", "zh_TW", "ja_JP", "ko_KR"):
            name = f.last_name() + f.first_name()  # family name first, no space, as written
        else:
            name = f"{f.first_name()} {f.last_name()}"
            if r > 0.8 and rng.random() < 0.5:
                name = f"{f.first_name()} {name}"  # a second given name
        if loc in ("ru_RU", "uk_UA", "bg_BG", "el_GR") and rng.random() < 0.4:
            name = _icao(name)
        dob = date(rng.randint(1935, 2008), rng.randint(1, 12), rng.randint(1, 28))
        rows.append({"id": f"O{i}", "name": name, "date_of_birth": dob.isoformat(),
                     "nationality": ORDINARY_LOCALES[loc], "locale": loc})  # fmt: skip
    return rows


_RESPELL = [  # (pattern, replacement): alternations that different romanisations of one name produce
    ("ou", "u"), ("u", "ou"), ("oo", "u"), ("u", "oo"), ("ee", "i"), ("i", "ee"), ("i", "y"), ("y", "i"),
    ("kh", "h"), ("h", "kh"), ("j", "dj"), ("dj", "j"), ("j", "zh"), ("zh", "j"), ("q", "k"), ("k", "q"),
    ("sh", "ch"), ("ch", "tch"), ("ov", "off"), ("ev", "eff"), ("ya", "ia"), ("yu", "iu"), ("iy", "y"),
    ("ei", "ay"), ("ai", "ay"), ("e", "a"), ("a", "e"), ("o", "u"), ("u", "o"), ("ph", "f"), ("f", "ph"),
    ("w", "v"), ("v", "w"), ("c", "k"), ("ss", "s"), ("s", "ss"), ("mm", "m"), ("m", "mm"), ("dd", "d"),
    ("tt", "t"), ("ll", "l"), ("l", "ll"), ("ie", "i"), ("x", "ks"), ("gh", "g"), ("th", "t"), ("dh", "d"),
]  # fmt: skip
_TO_CYRILLIC = [
    ("shch", "щ"), ("zh", "ж"), ("kh", "х"), ("ts", "ц"), ("ch", "ч"), ("sh", "ш"), ("yu", "ю"), ("ya", "я"),
    ("yo", "ё"), ("iy", "ий"), ("yy", "ый"), ("x", "кс"),
    *zip("abvgdezijklmnoprstufhcwyq", "абвгдезийклмнопрстуфхцвык", strict=True),
]  # fmt: skip
_TO_ARABIC = [
    ("sh", "ش"), ("kh", "خ"), ("th", "ث"), ("dh", "ذ"), ("gh", "غ"), ("ch", "تش"), ("aa", "ا"), ("ee", "ي"),
    ("ii", "ي"), ("ou", "و"), ("oo", "و"), ("uu", "و"),
    *zip("bcdfghjklmnpqrstvwxyz", "بكدفجهجكلمنبقرستفوكيز", strict=True),
]  # fmt: skip


def _render(word: str, table: list[tuple[str, str]], drop_vowels: float, rng: random.Random) -> str:
    """``word`` written in another script by a letter table; short vowels dropped at ``drop_vowels``."""
    word = word.casefold()
    out = []
    i = 0
    while i < len(word):
        for src, dst in table:
            if word.startswith(src, i):
                out.append(dst)
                i += len(src)
                break
        else:
            ch = word[i]
            if ch in "aeiou":
                if i == 0:
                    out.append("ا")
                elif (
                    ch in "iu"
                    and rng.random() > drop_vowels
                    and (i + 1 >= len(word) or word[i + 1] not in "aeiou")
                ):
                    out.append("ي" if ch == "i" else "و")
                elif ch == "o" and rng.random() > drop_vowels:
                    out.append("و")
                elif i == len(word) - 1 and ch in "ae":
                    out.append(rng.choice(["ة", "ا", "ه"]))
            i += 1
    return "".join(out)


def _to_script(name: str, nationality: str, rng: random.Random) -> str | None:
    """The name written in its likely native script (Cyrillic or Arabic), as some records carry it."""
    words = [w for w in name.replace(",", " ").replace("-", " ").split() if w.isalpha()]
    if not words:
        return None
    if nationality in {"RU", "UA", "BY", "KZ", "KG", "TJ", "UZ", "BG", "RS"}:
        return " ".join(_render(w, _TO_CYRILLIC, 0.0, rng) for w in words)
    if nationality in {"SY", "IQ", "IR", "AF", "YE", "SA", "LB", "JO", "EG", "LY", "SD", "SO", "KW", "AE",
                       "PS", "QA", "BH", "OM", "DZ", "TN", "MA", "PK", "MR"}:  # fmt: skip
        out = []
        for w in words:
            low = re.sub(r"([^aeiou])\1", r"\1", w.casefold())  # a doubled consonant is written once
            if low in ("al", "el"):
                out.append("ال")
                continue
            if low.startswith(("al", "el")) and len(low) > 4 and rng.random() < 0.5:
                out.append("ال" + _render(low[2:], _TO_ARABIC, 0.6, rng))
            else:
                out.append(_render(low, _TO_ARABIC, 0.6, rng))
        return " ".join(out)
    return None


def _typo(word: str, rng: random.Random) -> str:
    if len(word) < 3:
        return word
    i = rng.randrange(1, len(word))
    op = rng.random()
    if op < 0.3:
        return word[:i] + word[i + 1 :]
    if op < 0.6:
        return word[:i] + rng.choice("aeioulnrstmkdh") + word[i + 1 :]
    if op < 0.8:
        return word[:i] + rng.choice("aeioulnrstmkdh") + word[i:]
    i = min(i, len(word) - 2)
    return word[:i] + word[i + 1] + word[i] + word[i + 2 :]


def _respell(name: str, rng: random.Random) -> str:
    low = name.casefold()
    done = 0
    for old, new in rng.sample(_RESPELL, len(_RESPELL)):
        if old in low:
            spots = [k for k in range(len(low)) if low.startswith(old, k)]
            k = rng.choice(spots)
            low = low[:k] + new + low[k + len(old) :]
            done += 1
            if done >= rng.choice((1, 1, 2, 3)):
                break
    return low.title()


def _person_words(name: str) -> list[str]:
    if name.count(",") == 1:
        last, first = name.split(",")
        name = f"{first} {last}"
    return name.split()


def variant(name: str, nationality: str, rng: random.Random) -> tuple[str, str]:
    """A generated variant of a listed name, and the kind of change made."""
    words = _person_words(name)
    kinds = ["typo", "swap", "reorder", "drop", "join", "respell", "script", "two", "exact"]
    kind = rng.choices(kinds, weights=[16, 12, 12, 8, 8, 18, 10, 10, 6])[0]
    if kind == "two":
        first, second = rng.sample(["typo", "swap", "reorder", "drop", "join", "respell"], 2)
        mid, _ = _apply(words, first, nationality, rng)
        out, _ = _apply(mid.split(), second, nationality, rng)
        return out, f"{first}+{second}"
    out, kind = _apply(words, kind, nationality, rng)
    return out, kind


def _apply(words: list[str], kind: str, nationality: str, rng: random.Random) -> tuple[str, str]:
    words = list(words)
    if kind == "typo":
        k = rng.randrange(len(words))
        words[k] = _typo(words[k], rng)
    elif kind == "swap":  # two neighbouring letters swapped, often in a short family name
        k = len(words) - 1 if rng.random() < 0.6 else rng.randrange(len(words))
        w = words[k]
        if len(w) >= 3:
            i = rng.randrange(1, len(w) - 1)
            words[k] = w[:i] + w[i + 1] + w[i] + w[i + 2 :]
    elif kind == "reorder":
        if len(words) >= 2:
            words = [words[-1], *words[:-1]] if rng.random() < 0.7 else list(reversed(words))
    elif kind == "drop":
        if len(words) >= 3:
            keep = {0, len(words) - 1}
            words = [w for i, w in enumerate(words) if i in keep or rng.random() < 0.3]
    elif kind == "join":
        if len(words) >= 2:
            k = rng.randrange(len(words) - 1)
            words[k : k + 2] = [words[k] + words[k + 1].casefold()]
    elif kind == "respell":
        return _respell(" ".join(words), rng), kind
    elif kind == "script":
        out = _to_script(" ".join(words), nationality, rng)
        if out:
            return out, kind
        return _respell(" ".join(words), rng), "respell"
    return " ".join(words), kind


def _dob_for(entry: WatchlistEntry, rng: random.Random) -> date:
    """A traveller's full date of birth consistent with the entry's (random when it has none)."""
    if not entry.dates_of_birth:
        return date(rng.randint(1935, 2005), rng.randint(1, 12), rng.randint(1, 28))
    d = rng.choice(entry.dates_of_birth)
    if d.is_full:
        return date(d.year, d.month, d.day)  # type: ignore[arg-type]
    year = rng.randint(d.year, d.year_to or d.year)
    return date(year, d.month or rng.randint(1, 12), rng.randint(1, 28))


def listed_variants(entries: list[WatchlistEntry], n: int, seed: int = 1618) -> list[dict[str, str]]:
    """``n`` listed persons under generated variants, with their listed date of birth and nationality."""
    rng = random.Random(seed)
    persons = [e for e in entries if e.kind == "person"]
    rows = []
    for i, e in enumerate(rng.sample(persons, min(n, len(persons)))):
        names = [e.name] + [a.name for a in e.aliases if a.quality != "weak"]
        nat = e.nationalities[0] if e.nationalities else rng.choice(_COUNTRIES)
        source = names[0] if rng.random() < 0.6 else rng.choice(names)
        name, kind = variant(source, e.nationalities[0] if e.nationalities else "", rng)
        rows.append({"id": f"P{i}", "name": name, "date_of_birth": _dob_for(e, rng).isoformat(),
                     "nationality": nat if rng.random() < 0.9 else "", "entry": e.external_id,
                     "change": kind})  # fmt: skip
    return rows


def namesakes(entries: list[WatchlistEntry], n: int, seed: int = 1414) -> list[dict[str, str]]:
    """``n`` namesakes of listed persons: the listed name, a birth date a decade or more away."""
    rng = random.Random(seed)
    persons = [e for e in entries if e.kind == "person" and e.dates_of_birth]
    rows = []
    for i, e in enumerate(rng.sample(persons, min(n, len(persons)))):
        years = [y for d in e.dates_of_birth for y in d.years()]
        while True:
            year = rng.choice(years) + rng.choice((-1, 1)) * rng.randint(10, 40)
            if 1920 <= year <= 2008 and all(abs(year - y) >= 8 for y in years):
                break
        names = [e.name] + [a.name for a in e.aliases if a.quality != "weak"]
        name = rng.choice(names)
        if rng.random() < 0.3:
            name = _respell(" ".join(_person_words(name)), rng)
        nat = e.nationalities[0] if e.nationalities and rng.random() < 0.6 else rng.choice(_COUNTRIES)
        rows.append({"id": f"H{i}", "name": name, "nationality": nat, "entry": e.external_id,
                     "date_of_birth": date(year, rng.randint(1, 12), rng.randint(1, 28)).isoformat()})  # fmt: skip
    return rows


def same_person_groups(entries: list[WatchlistEntry]) -> dict[str, int]:
    """Entries that list one person twice (UN and OFAC): same normalised name and a shared birth year.

    A variant of a UN entry answered with the OFAC entry of the same person is found, not missed.
    """
    from apps.watchlists.matching import normalize_name

    parent = list(range(len(entries)))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    by_key: dict[str, list[int]] = {}
    for i, e in enumerate(entries):
        for name in e.all_names():
            key = " ".join(sorted(normalize_name(name, organisation=e.kind != "person").split()))
            by_key.setdefault(f"{e.kind}:{key}", []).append(i)
    for members in by_key.values():
        for a, b in itertools.pairwise(members):
            ya = {y for d in entries[a].dates_of_birth for y in d.years()}
            yb = {y for d in entries[b].dates_of_birth for y in d.years()}
            if not ya or not yb or ya & yb:
                parent[find(a)] = find(b)
    # The same person spelt differently by two lists: alike names (any name of one against any of the
    # other: "HARZI, Ali" is listed by one list with the other's full name among its aliases) and the
    # same full date of birth.
    from apps.watchlists.matching import name_similarity

    def alike(a: WatchlistEntry, b: WatchlistEntry) -> bool:
        return any(name_similarity(x, y, "person") >= 0.8 for x in a.all_names() for y in b.all_names())

    by_date: dict[tuple, list[int]] = {}
    for i, e in enumerate(entries):
        for d in e.dates_of_birth:
            if e.kind == "person" and d.is_full:
                by_date.setdefault((d.year, d.month, d.day), []).append(i)
    for members in by_date.values():
        if len(members) > 40:
            continue  # "1 Jan" placeholders: a date shared by many says nothing
        for a, b in itertools.combinations(members, 2):
            if find(a) != find(b) and alike(entries[a], entries[b]):
                parent[find(a)] = find(b)
    return {e.external_id: find(i) for i, e in enumerate(entries)}


def _threshold_for(scores: list[float], rate: float) -> float:
    """The lowest threshold at which at most ``rate`` of ``scores`` reach it (a hit is score >= t)."""
    allowed = int(rate * len(scores) + 1e-9)
    ranked = sorted(scores, reverse=True)
    if allowed >= len(ranked):
        return 0.0
    return float(np.nextafter(ranked[allowed], np.inf))


def recall_at_rates(
    positives: list[tuple[float, bool]], ordinary: list[float], hard: list[float],
    ordinary_rate: float = 0.001, hard_rate: float = 0.02,
) -> dict[str, float]:  # fmt: skip
    """Recall of the listed (score, right entry) at the threshold that keeps both false-hit rates."""
    t = max(_threshold_for(ordinary, ordinary_rate), _threshold_for(hard, hard_rate))
    found = sum(1 for s, right in positives if right and s >= t)
    return {
        "recall": round(found / len(positives), 4),
        "threshold": round(t, 4),
        "ordinary_false_hit_rate": round(sum(1 for s in ordinary if s >= t) / len(ordinary), 5),
        "hard_false_hit_rate": round(sum(1 for s in hard if s >= t) / len(hard), 4),
        "right_entry_anywhere": round(sum(1 for _s, right in positives if right) / len(positives), 4),
    }


def _ours(index: ScreeningIndex, rows: list[dict[str, str]]) -> list[tuple[float, str]]:
    """The product's answer per row, through the code behind ``manage.py screen`` (threshold 0)."""
    from apps.watchlists.screen_csv import screen_rows

    out = []
    for r in screen_rows(index, ({k: r[k] for k in ("id", "name", "date_of_birth", "nationality")} for r in rows),
                         threshold=0.0):  # fmt: skip
        out.append((float(r["score"] or 0.0), r["entry_id"]))
    return out


def _plain_key(name: str) -> str:
    from anyascii import anyascii

    words = re.sub(r"[^a-z0-9 ]+", " ", anyascii(name.replace(",", " ")).casefold()).split()
    return " ".join(sorted(words))


def _rapidfuzz_baseline(entries: list[WatchlistEntry], rows: list[dict[str, str]]) -> list[tuple[float, str]]:
    """Plain rapidfuzz: best token-sorted ratio over every person's alias, plus the birth year.

    Score = 0.85 x name ratio + 0.15 x year term (1 when a listed birth year matches, 0.5 when the list
    gives none, 0 when it differs). The strongest simple recipe we found that needs no name knowledge.
    """
    from rapidfuzz import fuzz, process

    persons = [e for e in entries if e.kind == "person"]
    keys, owner = [], []
    for i, e in enumerate(persons):
        for n in e.all_names():
            keys.append(_plain_key(n))
            owner.append(i)
    owner_arr = np.asarray(owner)
    years = [{y for d in e.dates_of_birth for y in d.years()} for e in persons]
    out = []
    queries = [_plain_key(r["name"]) for r in rows]
    for start in range(0, len(queries), 500):
        chunk = queries[start : start + 500]
        sims = process.cdist(chunk, keys, scorer=fuzz.ratio, dtype=np.uint8, workers=1)
        for k, row in enumerate(rows[start : start + 500]):
            year = int(row["date_of_birth"][:4]) if row.get("date_of_birth") else None
            s = sims[k].astype(np.float32) / 100.0
            top = np.argpartition(-s, 50)[:50]
            best, best_entry = 0.0, ""
            for a in top.tolist():
                e_years = years[owner_arr[a]]
                term = 0.5 if (year is None or not e_years) else (1.0 if year in e_years else 0.0)
                score = 0.85 * float(s[a]) + 0.15 * term
                if score > best:
                    best, best_entry = score, persons[owner_arr[a]].external_id
            out.append((best, best_entry))
    return out


def _nomenklatura_matcher(
    entries: list[WatchlistEntry], rows: list[dict[str, str]], candidates: int = 5
) -> list[tuple[float, str]] | str:
    """nomenklatura's logic-v2 on Person entities (name, birth date, nationality), on the best
    ``candidates`` aliases by plain rapidfuzz (it has no index of its own for this)."""
    try:
        from followthemoney.entity import ValueEntity
        from nomenklatura.matching import get_algorithm
        from nomenklatura.matching.types import ScoringConfig
    except ImportError as exc:
        return f"nomenklatura not importable: {exc}"
    from rapidfuzz import fuzz, process

    algo = get_algorithm("logic-v2")
    if algo is None:
        return "nomenklatura has no logic-v2 algorithm"
    config = ScoringConfig.defaults()
    persons = [e for e in entries if e.kind == "person"]
    keys, owner = [], []
    for i, e in enumerate(persons):
        for n in e.all_names():
            keys.append(_plain_key(n))
            owner.append(i)
    listed = {}

    def listed_entity(i: int) -> ValueEntity:
        if i not in listed:
            e = persons[i]
            props: dict[str, list[str]] = {"name": e.all_names()}
            if e.dates_of_birth:
                props["birthDate"] = [str(d).lstrip("~").split("..")[0] for d in e.dates_of_birth]
            if e.nationalities:
                props["nationality"] = [c.lower() for c in e.nationalities if len(c) == 2]
            listed[i] = ValueEntity.from_dict({"id": f"e{i}", "schema": "Person", "properties": props})
        return listed[i]

    out = []
    queries = [_plain_key(r["name"]) for r in rows]
    for start in range(0, len(queries), 500):
        sims = process.cdist(queries[start : start + 500], keys, scorer=fuzz.ratio, dtype=np.uint8, workers=1)
        for k, row in enumerate(rows[start : start + 500]):
            row_sims = sims[k].astype(np.int16)  # uint8 would wrap when negated
            top = np.argpartition(-row_sims, 4 * candidates)[: 4 * candidates]
            ranked = sorted(top.tolist(), key=lambda a: -int(row_sims[a]))
            seen: list[int] = []
            for a in ranked:
                if owner[a] not in seen:
                    seen.append(owner[a])
                if len(seen) == candidates:
                    break
            props = {"name": [row["name"]]}
            if row.get("date_of_birth"):
                props["birthDate"] = [row["date_of_birth"]]
            if row.get("nationality"):
                props["nationality"] = [row["nationality"].lower()]
            q = ValueEntity.from_dict({"id": f"q{start + k}", "schema": "Person", "properties": props})
            best, best_entry = 0.0, ""
            for i in seen:
                score = algo.compare(q, listed_entity(i), config).score
                if score > best:
                    best, best_entry = score, persons[i].external_id
            out.append((best, best_entry))
    return out


#: Sizes of the unseen-names evaluation (10,000 ordinary travellers resolve a 0.1 % rate to 10 hits).
EVAL_POSITIVES = 2000
EVAL_ORDINARY = 10000
EVAL_HARD = 1000


def unseen_names_evaluation(entries: list[WatchlistEntry], index: ScreeningIndex) -> dict[str, object]:
    """Recall at <= 0.1 % ordinary and <= 2 % namesake false hits: ours, plain rapidfuzz + birth year and
    nomenklatura, on the same generated travellers, in the same run."""
    t0 = time.perf_counter()
    positives = listed_variants(entries, EVAL_POSITIVES)
    ordinary = ordinary_travellers(EVAL_ORDINARY)
    hard = namesakes(entries, EVAL_HARD)
    group = same_person_groups(entries)
    generated_s = time.perf_counter() - t0
    rows = positives + ordinary + hard

    def measure(answers: list[tuple[float, str]]) -> dict[str, object]:
        pos = answers[: len(positives)]
        ordi = [s for s, _e in answers[len(positives) : len(positives) + len(ordinary)]]
        hrd = [s for s, _e in answers[len(positives) + len(ordinary) :]]
        scored = [
            (s, bool(e) and group.get(e, -1) == group.get(p["entry"], -2))
            for (s, e), p in zip(pos, positives, strict=True)
        ]
        result = recall_at_rates(scored, ordi, hrd)
        t = result["threshold"]
        by_change: dict[str, list[int]] = {}
        for (s, right), p in zip(scored, positives, strict=True):
            counts = by_change.setdefault(
                p["change"].split("+")[0] if "+" in p["change"] else p["change"], [0, 0]
            )
            counts[0] += int(right and s >= t)
            counts[1] += 1
        result["recall_by_change"] = {k: round(a / b, 3) for k, (a, b) in sorted(by_change.items())}
        by_locale: dict[str, int] = {}
        for s, r in zip(ordi, ordinary, strict=True):
            if s >= t:
                by_locale[r["locale"]] = by_locale.get(r["locale"], 0) + 1
        result["ordinary_false_hits_by_locale"] = by_locale
        return result

    out: dict[str, object] = {
        "positives": len(positives),
        "ordinary": len(ordinary),
        "ordinary_locales": len(ORDINARY_LOCALES),
        "hard_namesakes": len(hard),
        "generate_s": round(generated_s, 1),
    }
    t0 = time.perf_counter()
    out["ours"] = measure(_ours(index, rows)) | {"seconds": round(time.perf_counter() - t0, 1)}
    t0 = time.perf_counter()
    out["rapidfuzz_birth_year"] = measure(_rapidfuzz_baseline(entries, rows)) | {
        "seconds": round(time.perf_counter() - t0, 1)
    }
    t0 = time.perf_counter()
    nk = _nomenklatura_matcher(entries, rows)
    if isinstance(nk, str):
        out["nomenklatura"] = {"error": nk}
    else:
        out["nomenklatura"] = measure(nk) | {"seconds": round(time.perf_counter() - t0, 1)}
    return out


def through_product(entries: list[WatchlistEntry], travellers: int = 20_000, assessed: int = 3_000) -> dict:
    """Screening through the product (database, cache, provider, risk engine) on stored travellers.

    Traveller names recombine given names and surnames of listed persons (a hard case: every name
    shares tokens with the lists), 1% are listed persons with their listed date of birth.
    """
    import tempfile

    tmp = tempfile.mkdtemp(prefix="ratc-bench-")
    for var in ("DATABASE_URL", "REDIS_URL"):  # never touch a real database or broker
        os.environ.pop(var, None)
    os.environ["SQLITE_PATH"] = str(Path(tmp) / "bench.sqlite3")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ratc_ops.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    from apps.agencies.models import Agency, AgencyKind
    from apps.intake.models import DataSource, SourceKind, Subject
    from apps.watchlists import screening
    from apps.watchlists.services import create_watchlist, import_path

    out: dict[str, object] = {"travellers": travellers, "database": "sqlite (throwaway)"}
    call_command("migrate", verbosity=0)
    agency = Agency.objects.create(code="CUS", name="Customs", kind=AgencyKind.CUSTOMS)
    t0 = time.perf_counter()
    for name, fmt, path in (("UN", "un", DATA / "un_consolidated.xml"), ("OFAC", "ofac", DATA / "ofac_sdn")):
        wl = create_watchlist(actor=None, owner_agency=agency, name=name)
        import_path(actor=None, watchlist=wl, fmt=fmt, path=path)
    out["import_s"] = round(time.perf_counter() - t0, 2)
    t0 = time.perf_counter()
    import_again = import_path(actor=None, watchlist=wl, fmt="ofac", path=DATA / "ofac_sdn")
    out["reimport_unchanged_ofac_s"] = round(time.perf_counter() - t0, 2)
    assert import_again.counts["unchanged"] == import_again.counts["read"]

    rng = random.Random(11)
    persons = [e for e in entries if e.kind == "person"]
    firsts = [e.name.replace(",", " ").split()[0] for e in persons if len(e.name.split()) > 1]
    lasts = [e.name.replace(",", " ").split()[-1] for e in persons if len(e.name.split()) > 1]
    source = DataSource.objects.create(
        name="API bench", kind=SourceKind.API, owner_agency=agency, legal_basis="bench"
    )
    now = timezone.now()
    rows = []
    for i in range(travellers):
        if rng.random() < 0.01:
            listed = rng.choice(persons)
            name, dob = listed.name, str(listed.dates_of_birth[0]) if listed.dates_of_birth else ""
        else:
            name, dob = (
                f"{rng.choice(firsts)} {rng.choice(lasts)}",
                f"19{rng.randint(40, 99)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}",
            )
        facts = {"full_name": name, "date_of_birth": dob, "nationality": rng.choice(["GB", "FR", "RU", "IR", "SY"]),
                 "document_number": f"P{rng.randrange(10**8):08d}"}  # fmt: skip
        rows.append(
            Subject(
                kind="traveller",
                source=source,
                owner_agency=agency,
                external_id=f"T{i}",
                title=name,
                facts=facts,
                received_at=now,
            )
        )
    Subject.objects.bulk_create(rows, batch_size=2000)
    t0 = time.perf_counter()
    bundle = screening.bundle_for(None)
    out["index_build_s"] = round(time.perf_counter() - t0, 2)
    out["indexed_entries"] = bundle.size
    hits = 0
    t0 = time.perf_counter()
    ids = list(Subject.objects.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), 2000):
        batch = list(Subject.objects.filter(pk__in=ids[start : start + 2000]))
        hits += len(screening.provider(batch))
    took = time.perf_counter() - t0
    out["provider_names_per_second"] = round(travellers / took, 1)
    out["travellers_with_a_match"] = hits
    # The same names straight on the matcher, same moment, same core: the product's own overhead.
    sample = [r.facts for r in rows[:2000]]
    t0 = time.perf_counter()
    for f in sample:
        bundle.index.screen(
            f["full_name"],
            date_of_birth=f["date_of_birth"] or None,
            nationality=f["nationality"],
            document=f["document_number"],
            kind="person",
        )
    out["raw_index_names_per_second_same_names"] = round(len(sample) / (time.perf_counter() - t0), 1)
    try:
        from apps.risk.services import assess_subjects

        t0 = time.perf_counter()
        for start in range(0, assessed, 1000):
            assess_subjects(ids[start : start + 1000])
        rate = assessed / (time.perf_counter() - t0)
        out["assess_subjects_per_second"] = round(rate, 1)
        out["one_million_travellers_rules_and_screening"] = {
            "measured": False,
            "extrapolated_hours_one_core": round(1_000_000 / rate / 3600, 2),
            "note": f"extrapolated from assess_subjects on {assessed} stored travellers (rules + watchlist "
            "provider + storing assessments and nominations, SQLite, one core); a real 1M run needs the "
            "PostgreSQL stack and Celery workers in parallel, not run here",
        }
    except Exception as exc:  # the risk engine is another engineer's work in progress
        out["one_million_travellers_rules_and_screening"] = {"measured": False, "error": repr(exc)[:300]}
    return out


def _latency(index: ScreeningIndex, calls: list[tuple[str, dict[str, str]]]) -> dict[str, float]:
    """p50/p95 in ms of ``index.screen`` over ``calls`` (name, keyword arguments), after a warm-up.

    Both the wall time and the CPU time of this process: on a machine shared with other work the wall
    time also counts the waits for a core, which the CPU time does not.
    """
    for name, kwargs in calls[:20]:
        index.screen(name, **kwargs)
    wall, cpu = [], []
    for name, kwargs in calls:
        t0, c0 = time.perf_counter(), time.process_time()
        index.screen(name, **kwargs)
        cpu.append((time.process_time() - c0) * 1000)
        wall.append((time.perf_counter() - t0) * 1000)
    wall.sort()
    cpu.sort()
    k = int(0.95 * len(wall)) - 1
    return {
        "queries": len(wall),
        "p50_ms": round(statistics.median(wall), 2),
        "p95_ms": round(wall[k], 2),
        "cpu_p50_ms": round(statistics.median(cpu), 2),
        "cpu_p95_ms": round(cpu[k], 2),
    }


def _plain_latency(entries: list[WatchlistEntry], names: list[str]) -> dict[str, float]:
    """Baseline: plain rapidfuzz (``process.extractOne``, one core) over the same million alias strings."""
    from rapidfuzz import fuzz, process

    keys = [_plain_key(n) for e in entries for n in e.all_names()]
    wall, cpu = [], []
    for name in names:
        t0, c0 = time.perf_counter(), time.process_time()
        process.extractOne(_plain_key(name), keys, scorer=fuzz.ratio)
        cpu.append((time.process_time() - c0) * 1000)
        wall.append((time.perf_counter() - t0) * 1000)
    wall.sort()
    cpu.sort()
    k = int(0.95 * len(wall)) - 1
    return {"queries": len(wall), "p95_ms": round(wall[k], 2), "cpu_p95_ms": round(cpu[k], 2)}


def _figure(value: float, goal: str, met: bool, baseline: object) -> dict[str, object]:
    return {"value": value, "goal": goal, "baseline": baseline, "met": bool(met)}


def main() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core, as the goal is stated
    if not DATA.is_dir():
        sys.exit(f"watchlist data not found at {DATA}")
    result: dict[str, object] = {}
    entries = list(load_un_consolidated(DATA / "un_consolidated.xml")) + list(
        load_ofac_sdn(DATA / "ofac_sdn")
    )
    if "--product-only" in sys.argv:
        print(json.dumps({"through_product": through_product(entries)}))
        return
    t0 = time.perf_counter()
    index = ScreeningIndex.build(entries)
    result["real_index"] = {
        "entries": len(entries),
        "aliases": len(index),
        "build_s": round(time.perf_counter() - t0, 2),
    }
    unseen = unseen_names_evaluation(entries, index)
    result["unseen_names"] = unseen
    queries = [e.name for e in entries]
    t0 = time.perf_counter()
    for q in queries:
        index.screen(q)
    result["names_per_second"] = round(len(queries) / (time.perf_counter() - t0), 1)

    rows, ours = pair_scores()
    result["pairs"] = len(rows)
    result["ours"] = {
        "fixed_threshold": _prf(ours, DEFAULT_THRESHOLD),
        "cross_validated_5fold": _cross_validated(ours),
        "note": "rules were developed while looking at these pairs; the CV figure only guards the threshold",
    }
    nk = nomenklatura_scores(rows)
    if isinstance(nk, str):
        result["nomenklatura"] = {"error": nk}
    else:
        result["nomenklatura"] = {"logic_v2_default_threshold": _prf(nk, 0.7), "published_f1": 0.79}

    target = 1_000_000
    synth = synthetic_aliases(entries, target - len(index))
    t0 = time.perf_counter()
    big = ScreeningIndex.build(entries + synth)
    build_s = time.perf_counter() - t0
    rng = random.Random(3)
    sample = rng.sample(queries, 300) + [a.name for e in rng.sample(synth, 200) for a in e.aliases[:1]]
    sample += [f"{rng.choice(queries).split()[0]} Testperson" for _ in range(100)]
    # Travellers as the engine screens them: a person's name with a date of birth and a nationality.
    travellers = listed_variants(entries, 300, seed=99) + ordinary_travellers(300, seed=98)
    result["million"] = {
        "aliases": len(big),
        "build_s": round(build_s, 1),
        "names": _latency(big, [(q, {}) for q in sample]),
        "travellers": _latency(
            big,
            [
                (
                    r["name"],
                    {"date_of_birth": r["date_of_birth"], "nationality": r["nationality"], "kind": "person"},
                )
                for r in travellers
            ],
        ),
        "baseline_plain_rapidfuzz": _plain_latency(entries + synth, rng.sample(sample, 40)),
    }
    million = result["million"]
    # The goal is one core's time per name: CPU time, which waits for a shared core do not inflate (the
    # wall times are reported beside it).
    p95 = max(million["names"]["cpu_p95_ms"], million["travellers"]["cpu_p95_ms"])  # type: ignore[index]
    p95_wall = max(million["names"]["p95_ms"], million["travellers"]["p95_ms"])  # type: ignore[index]
    del big, synth

    f1_ours = result["ours"]["fixed_threshold"]["f1"]  # type: ignore[index]
    measured_nk = result["nomenklatura"].get("logic_v2_default_threshold")  # type: ignore[union-attr]
    ours_unseen = unseen["ours"]  # type: ignore[index]
    figures = {
        "recall_at_0.1pct_ordinary_2pct_namesake_false_hits": _figure(
            ours_unseen["recall"],  # type: ignore[index]
            ">= 0.99",
            ours_unseen["recall"] >= 0.99,  # type: ignore[index]
            {
                "rapidfuzz_birth_year": unseen["rapidfuzz_birth_year"]["recall"],  # type: ignore[index]
                "nomenklatura_logic_v2": unseen["nomenklatura"].get(
                    "recall", unseen["nomenklatura"].get("error")
                ),  # type: ignore[union-attr,index]
            },
        ),
        "p95_ms_one_name_1M_aliases": _figure(
            p95,
            "< 25 (CPU time of one core; wall time beside it)",
            p95 < 25,
            {"plain_rapidfuzz_extractOne": million["baseline_plain_rapidfuzz"]["cpu_p95_ms"]},  # type: ignore[index]
        )
        | {"wall_p95_ms": p95_wall},
        "pairs_f1": _figure(
            f1_ours,
            "> nomenklatura logic-v2 on the same pairs",
            bool(measured_nk) and f1_ours > measured_nk["f1"],
            {"nomenklatura_logic_v2": measured_nk["f1"] if measured_nk else result["nomenklatura"]},
        ),
    }
    result["figures"] = figures
    result["met"] = all(f["met"] for f in figures.values())
    if "--quick" not in sys.argv:
        result["through_product"] = through_product(entries)
    print(json.dumps(result))


if __name__ == "__main__":
    main()

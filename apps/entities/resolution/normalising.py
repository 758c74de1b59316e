"""Step 1 of entity resolution: each record normalised once (names transliterated and folded, name
skeletons, company names without their legal form, addresses spelt one way)."""

from __future__ import annotations

import functools
import re

import numpy as np
import pandas as pd
from anyascii import anyascii

from apps.intake.normalise import fold

#: The fields of a record each kind is linked on ('' when unknown).
PERSON_FIELDS = ("surname", "given", "dob", "doc", "nationality", "trip")
TRADER_FIELDS = ("tid", "name", "address", "country")

#: Legal-form words dropped from a company's name before it is compared ("ACME LTD" is "ACME LIMITED").
LEGAL_FORMS = frozenset(
    [
        "LTD",
        "LIMITED",
        "GMBH",
        "CO",
        "COMPANY",
        "LLC",
        "INC",
        "INCORPORATED",
        "CORP",
        "CORPORATION",
        "SA",
        "SAS",
        "SARL",
        "SRL",
        "SPA",
        "BV",
        "NV",
        "AG",
        "PLC",
        "LLP",
        "OY",
        "AB",
        "AS",
        "KG",
        "PTY",
        "PVT",
        "PRIVATE",
        "THE",
        "AND",
        "OOO",
        "ZAO",
        "OAO",
        "JSC",
        "PJSC",
        "SL",
        "SDN",
        "BHD",
        "KFT",
        "SRO",
        "EURL",
    ]
)
ADDRESS_WORDS = {
    "STREET": "ST", "STR": "ST", "STRASSE": "ST", "ROAD": "RD", "AVENUE": "AVE", "AV": "AVE",
    "BOULEVARD": "BLVD", "BUILDING": "BLDG", "FLOOR": "FL", "SUITE": "STE", "LANE": "LN", "DRIVE": "DR",
    "SQUARE": "SQ", "HOUSE": "HSE", "INDUSTRIAL": "IND", "ESTATE": "EST", "UNIT": "", "NO": "", "NUMBER": "",
}  # fmt: skip

#: Transliteration variants spelt one way in a skeleton, longest first (ICAO and popular schemes,
#: Pinyin and Wade-Giles, the Latin spellings of Arabic names).
_SKELETON_STEPS = (
    ("SHCH", "S"), ("SCH", "S"), ("TCH", "C"), ("HS", "X"), ("ZH", "CH"), ("X", "KS"), ("PH", "F"), ("CK", "K"), ("Q", "K"),
    ("C", "K"), ("Z", "S"), ("W", "V"), ("J", "I"), ("Y", "I"), ("OU", "U"), ("EE", "I"), ("OO", "U"),
)  # fmt: skip
_VOWELS_AND_H = re.compile(r"[AEIOUH]")
_REPEATS = re.compile(r"(.)\1+")


def _plain(text: str) -> str:
    """``translit`` without its cache."""
    if not text:
        return ""
    return fold(anyascii(text) if not text.isascii() else text)


@functools.lru_cache(maxsize=1 << 20)
def translit(text: str) -> str:
    """Latin, upper case, no accents or punctuation: 'Жуков' and 'ZHUKOV' and 'Žukov' compare."""
    if not text:
        return ""
    return fold(anyascii(text) if not text.isascii() else text)


@functools.lru_cache(maxsize=1 << 20)
def skeleton(token: str) -> str:
    """A token's consonant skeleton: MOHAMMED, MUHAMMAD and MOHAMAD are all MHMD; ALEXANDER and
    ALEKSANDR are ALKSNDR. Coarse on purpose: it blocks and confirms, it never decides alone."""
    s = token
    for old, new in _SKELETON_STEPS:
        s = s.replace(old, new)
    s = _REPEATS.sub(r"\1", _VOWELS_AND_H.sub("", s))
    return s or token[:1]


def _skeleton_name(text: str) -> str:
    return " ".join(skeleton(t) for t in text.split())


def _join_letters(tokens: list[str]) -> list[str]:
    """'L T D' (from 'L.T.D.') is 'LTD': runs of single letters are one word."""
    out: list[str] = []
    run = ""
    for token in tokens:
        if len(token) == 1:
            run += token
            continue
        if run:
            out.append(run)
            run = ""
        out.append(token)
    if run:
        out.append(run)
    return out


@functools.lru_cache(maxsize=1 << 20)
def company_core(name: str) -> str:
    tokens = _join_letters(translit(name).split())
    core = [t for t in tokens if t not in LEGAL_FORMS]
    return " ".join(core or tokens)


@functools.lru_cache(maxsize=1 << 20)
def address_norm(address: str) -> str:
    tokens = [ADDRESS_WORDS.get(t, t) for t in translit(address).split()]
    return " ".join(t for t in tokens if t)


def _column(frame: pd.DataFrame, name: str) -> list[str]:
    if name not in frame:
        return [""] * len(frame)
    return ["" if v is None or v != v else str(v) for v in frame[name].tolist()]  # NaN != NaN


def prepare(records: pd.DataFrame, kind: str) -> pd.DataFrame:
    """The normalised columns of each record (indexed by its ``rid``), computed once and reused when the
    records are later linked against a new batch."""
    columns: dict[str, list[str]] = {}
    if kind == "person":
        surname = [translit(v) for v in _column(records, "surname")]
        given = [translit(v) for v in _column(records, "given")]
        columns["sn"], columns["gn"] = surname, given
        columns["sk_sn"] = [_skeleton_name(v) for v in surname]
        columns["sk_gn"] = [_skeleton_name(v) for v in given]
        columns["dob"] = [v[:10] for v in _column(records, "dob")]
        # Not through ``translit``'s cache: a document number is seldom seen twice, and a million of
        # them kept there was most of a long intake's growing memory.
        columns["doc"] = [_plain(v).replace(" ", "") for v in _column(records, "doc")]
        columns["nat"] = [v.upper() for v in _column(records, "nationality")]
        columns["trip"] = _column(records, "trip")
    elif kind == "trader":
        columns["tid"] = [translit(v).replace(" ", "") for v in _column(records, "tid")]
        columns["core"] = [company_core(v) for v in _column(records, "name")]
        columns["sk_core"] = [_skeleton_name(v) for v in columns["core"]]
        columns["addr"] = [address_norm(v) for v in _column(records, "address")]
        columns["country"] = [v.upper() for v in _column(records, "country")]
    else:
        raise ValueError(f"unknown kind {kind!r}")
    index = pd.Index(records["rid"].to_numpy(dtype=np.int64), name="rid")
    # Object columns: pandas' default Arrow strings are slow to hash and to hand to rapidfuzz.
    return pd.DataFrame({k: pd.Series(v, dtype=object, index=index) for k, v in columns.items()}, index=index)

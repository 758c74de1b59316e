"""The entity-resolution engine: which records are the same person, or the same trader.

Pure computation over pandas frames, no database: the intake service (``apps.entities.services``) and the
benchmark (``bench.resolution``) call the same functions.

How it works, in three vectorised steps, never a Python loop over pairs of records:

1. **Normalise** each record once: names transliterated to Latin (``anyascii``) and folded, a
   *skeleton* of each name token that absorbs the usual transliteration variants (KH/H, X/KS, J/I/Y,
   doubled letters, vowels), company names without their legal-form suffix, addresses with their
   abbreviations spelt one way. Names repeat a great deal, so each distinct string is normalised once.
2. **Block**: every record gets a few blocking keys (its document; its date of birth with each name
   token's skeleton; its flight with each token; its nationality with the whole skeleton name; a trader's
   id, name and address number keys). Only records sharing a key are compared: a self-join of the key
   table. A key held by too many records (a placeholder document, a very common name without a birth
   date) blocks nothing: it would compare thousands of strangers.
3. **Score** each candidate pair with weights of evidence (log-odds, Fellegi-Sunter style): name
   similarity (Jaro-Winkler per part, both name orders, over the spelling and its skeleton), date of
   birth (same, one typo, different, missing), document, nationality, the same flight; for traders the
   operator id, the name without its legal form, the address and the country. The string scores come
   from ``rapidfuzz.process.cpdist`` (one C call for all pairs, on every core). A pair whose evidence
   sums above zero is a link; its probability and its reasons are kept.

Two people of one family share the surname, the nationality, the address and often the booking, and are
still two people: the name weight needs *both* name parts to agree, so a shared surname alone counts
against a link.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from anyascii import anyascii
from rapidfuzz import fuzz, process
from rapidfuzz.distance import JaroWinkler, Levenshtein

from apps.intake.normalise import fold

__all__ = [
    "PERSON_FIELDS",
    "TRADER_FIELDS",
    "Links",
    "block_keys",
    "candidate_pairs",
    "clusters",
    "link",
    "prepare",
    "score",
]

#: The fields of a record each kind is linked on ('' when unknown).
PERSON_FIELDS = ("surname", "given", "dob", "doc", "nationality", "trip")
TRADER_FIELDS = ("tid", "name", "address", "country")

#: A blocking key held by more records than this blocks nothing (see the module's docstring).
MAX_BLOCK = 250

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
        columns["doc"] = [translit(v).replace(" ", "") for v in _column(records, "doc")]
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


def block_keys(prepared: pd.DataFrame, kind: str) -> pd.DataFrame:
    """Blocking keys as a two-column frame (``key``, ``rid``): plain strings here; the intake service
    stores them as keyed hashes, so that the table reveals no name or birth date."""
    keys: list[str] = []
    rids: list[int] = []
    add_key, add_rid = keys.append, rids.append
    if kind == "person":
        columns = zip(
            prepared.index.tolist(),
            prepared["sk_sn"].tolist(),
            prepared["sk_gn"].tolist(),
            prepared["dob"].tolist(),
            prepared["doc"].tolist(),
            prepared["nat"].tolist(),
            prepared["trip"].tolist(),
            strict=True,
        )
        for rid, sk_sn, sk_gn, dob, doc, nat, trip in columns:
            tokens = (sk_sn + " " + sk_gn).split()
            if doc:
                add_key("d|" + doc)
                add_rid(rid)
            for token in set(tokens):
                if dob:
                    add_key(f"b|{dob}|{token[:3]}")
                    add_rid(rid)
                if trip:
                    add_key(f"t|{trip}|{token[:2]}")
                    add_rid(rid)
            if tokens:
                add_key(f"n|{nat}|{' '.join(sorted(tokens))}")
                add_rid(rid)
    else:
        columns = zip(
            prepared.index.tolist(),
            prepared["tid"].tolist(),
            prepared["sk_core"].tolist(),
            prepared["addr"].tolist(),
            prepared["country"].tolist(),
            strict=True,
        )
        for rid, tid, sk_core, addr, country in columns:
            if tid:
                add_key("i|" + tid)
                add_rid(rid)
            tokens = sk_core.split()
            if tokens:
                add_key(f"c|{country}|{tokens[0][:4]}")
                add_rid(rid)
                add_key(f"s|{country}|{' '.join(sorted(tokens))}")
                add_rid(rid)
            numbers = sorted(t for t in addr.split() if any(c.isdigit() for c in t))
            if numbers:
                add_key(f"a|{country}|{' '.join(numbers)}")
                add_rid(rid)
    frame = pd.DataFrame({"key": pd.Series(keys, dtype=object), "rid": np.asarray(rids, dtype=np.int64)})
    return frame.drop_duplicates(ignore_index=True)


def candidate_pairs(new_keys: pd.DataFrame, stored_keys: pd.DataFrame | None = None) -> np.ndarray:
    """Pairs (a, b), a < b, of records sharing a blocking key: among the new ones, and each new one with
    the stored ones. An (n, 2) int64 array, each pair once.

    Keys become integer codes first (one hash of each string); everything after is integer work.
    """
    new_key = new_keys["key"].to_numpy(dtype=object)
    if stored_keys is not None and len(stored_keys):
        stored_key = stored_keys["key"].to_numpy(dtype=object)
        # Only the stored keys the batch has matter: one hash lookup each, then a small problem.
        wanted = pd.Index(new_key).unique()
        mask = wanted.get_indexer(stored_key) >= 0
        key = np.concatenate([stored_key[mask], new_key])
        rid = np.concatenate(
            [stored_keys["rid"].to_numpy(dtype=np.int64)[mask], new_keys["rid"].to_numpy(dtype=np.int64)]
        )
        is_new = np.zeros(len(key), dtype=bool)
        is_new[int(mask.sum()) :] = True
    else:
        key, rid = new_key, new_keys["rid"].to_numpy(dtype=np.int64)
        is_new = np.ones(len(key), dtype=bool)
    if not len(key):
        return np.empty((0, 2), dtype=np.int64)
    codes, _ = pd.factorize(key)
    sizes = np.bincount(codes)
    usable = ((sizes >= 2) & (sizes <= MAX_BLOCK))[codes]
    left = pd.DataFrame({"code": codes[usable & is_new], "a": rid[usable & is_new]})
    right = pd.DataFrame({"code": codes[usable], "b": rid[usable]})
    joined = left.merge(right, on="code")
    a = joined["a"].to_numpy()
    b = joined["b"].to_numpy()
    keep = a != b
    low, high = np.minimum(a[keep], b[keep]), np.maximum(a[keep], b[keep])
    if not len(low):
        return np.empty((0, 2), dtype=np.int64)
    # One int64 per pair (record ids are far below 2**31), so that unique works on a flat array.
    shift = np.int64(int(high.max()) + 1)
    flat = np.unique(low * shift + high)
    return np.stack([flat // shift, flat % shift], axis=1)


@dataclass
class Links:
    """Scored pairs: ``a``, ``b`` record ids, ``weight`` (log2 odds), ``score`` (probability),
    ``linked`` (weight above zero) and, for the linked ones, their reasons."""

    a: np.ndarray
    b: np.ndarray
    weight: np.ndarray
    score: np.ndarray
    linked: np.ndarray
    reasons: dict[tuple[int, int], list[str]]

    def linked_pairs(self) -> np.ndarray:
        return np.stack([self.a[self.linked], self.b[self.linked]], axis=1)


def _cp(scorer, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    if not len(left):
        return np.zeros(0, dtype=np.float32)
    return process.cpdist(left, right, scorer=scorer, workers=-1, dtype=np.float32)


def _steps(values: np.ndarray, edges: Iterable[tuple[float, float]], otherwise: float) -> np.ndarray:
    """Weights by thresholds: the first ``(at_least, weight)`` that holds, else ``otherwise``."""
    out = np.full(values.shape, otherwise, dtype=np.float32)
    done = np.zeros(values.shape, dtype=bool)
    for at_least, weight in edges:
        hit = (values >= at_least) & ~done
        out[hit] = weight
        done |= hit
    return out


def _dates_close(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """One digit wrong, or day and month swapped, in ISO dates of the same year."""
    both = (np.char.str_len(a.astype(str)) == 10) & (np.char.str_len(b.astype(str)) == 10)
    left = np.frombuffer(np.asarray(np.where(both, a, "0000-00-00"), dtype="S10").tobytes(), np.uint8)
    right = np.frombuffer(np.asarray(np.where(both, b, "0000-00-00"), dtype="S10").tobytes(), np.uint8)
    left, right = left.reshape(-1, 10), right.reshape(-1, 10)
    one_digit = (left != right).sum(axis=1) == 1
    swapped = (
        (left[:, :4] == right[:, :4]).all(axis=1)
        & (left[:, 5:7] == right[:, 8:10]).all(axis=1)
        & (left[:, 8:10] == right[:, 5:7]).all(axis=1)
    )
    return both & (one_digit | swapped)


def score(prepared: pd.DataFrame, pairs: np.ndarray, kind: str, *, explain: bool = True) -> Links:
    """Weights of evidence for each candidate pair (see the module's docstring), and reasons for the links."""
    if not len(pairs):
        empty = np.zeros(0)
        return Links(empty.astype(np.int64), empty.astype(np.int64), empty, empty, empty.astype(bool), {})
    pos_a = prepared.index.get_indexer(pairs[:, 0])
    pos_b = prepared.index.get_indexer(pairs[:, 1])
    col = {name: prepared[name].to_numpy(dtype=object) for name in prepared.columns}

    def both(name: str) -> tuple[np.ndarray, np.ndarray]:
        return col[name][pos_a], col[name][pos_b]

    parts: dict[str, np.ndarray] = {}
    if kind == "person":
        weight, parts = _person_weights(both)
        prior = -10.0
    else:
        weight, parts = _trader_weights(both)
        prior = -8.0
    total = weight + prior
    linked = total > 0
    probability = 1.0 / (1.0 + np.exp2(-np.clip(total, -60, 60)))
    reasons = _reasons(pairs, linked, parts, kind) if explain else {}
    return Links(pairs[:, 0], pairs[:, 1], total, probability, linked, reasons)


def _person_weights(both) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    jw = JaroWinkler.normalized_similarity
    sn_a, sn_b = both("sn")
    gn_a, gn_b = both("gn")
    ks_a, ks_b = both("sk_sn")
    kg_a, kg_b = both("sk_gn")

    def alike(x_a, x_b, k_a, k_b, *, surname: bool) -> np.ndarray:
        """Spelling similarity, raised when the skeletons agree (a transliteration): always for a surname
        (XIE and HSIEH), for a given name only when the spellings are near too (JOHN and JANE share the
        skeleton JN; they are two people)."""
        raw = _cp(jw, x_a, x_b)
        same = (k_a == k_b) & (k_a != "")
        if not surname:
            same &= raw >= 0.8
        return np.where(same, np.maximum(raw, 0.93), raw)

    straight = np.minimum(
        alike(sn_a, sn_b, ks_a, ks_b, surname=True), alike(gn_a, gn_b, kg_a, kg_b, surname=False)
    )
    swapped = np.minimum(
        alike(sn_a, gn_b, ks_a, kg_b, surname=True), alike(gn_a, sn_b, kg_a, ks_b, surname=False)
    )
    name = np.maximum(straight, swapped)
    w_name = _steps(name, [(0.95, 7.0), (0.9, 5.0), (0.85, 3.0), (0.8, 1.5), (0.75, 0.0)], -8.0)

    dob_a, dob_b = both("dob")
    dob_known = (dob_a != "") & (dob_b != "")
    dob_same = dob_known & (dob_a == dob_b)
    dob_close = np.zeros(len(dob_a), dtype=bool)
    differ = np.flatnonzero(dob_known & ~dob_same)  # only these can be one typo apart
    dob_close[differ] = _dates_close(dob_a[differ], dob_b[differ])
    w_dob = np.where(dob_same, 7.0, np.where(dob_close, 2.0, np.where(dob_known, -8.0, 0.0)))

    doc_a, doc_b = both("doc")
    doc_known = (doc_a != "") & (doc_b != "")
    doc_same = doc_known & (doc_a == doc_b)
    doc_close = doc_known & ~doc_same & (_cp(Levenshtein.distance, doc_a, doc_b) <= 1)
    w_doc = np.where(doc_same, 9.0, np.where(doc_close, 5.0, np.where(doc_known, -3.0, 0.0)))

    nat_a, nat_b = both("nat")
    nat_known = (nat_a != "") & (nat_b != "")
    w_nat = np.where(nat_known & (nat_a == nat_b), 1.0, np.where(nat_known, -3.0, 0.0))

    trip_a, trip_b = both("trip")
    trip_same = (trip_a != "") & (trip_a == trip_b)
    # One flight carries a few hundred people: a near name on the same flight is the same passenger
    # (an API list and a PNR of one trip), unless both name parts do not agree (a family).
    w_trip = np.where(trip_same, 9.0, 0.0)

    parts = {
        "name": name,
        "swapped": swapped > straight,
        "dob_same": dob_same,
        "dob_close": dob_close,
        "dob_missing": ~dob_known,
        "doc_same": doc_same,
        "doc_close": doc_close,
        "doc_differs": doc_known & ~doc_same & ~doc_close,
        "nat_same": nat_known & (nat_a == nat_b),
        "trip_same": trip_same,
    }
    return (w_name + w_dob + w_doc + w_nat + w_trip).astype(np.float32), parts


def _trader_weights(both) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    tid_a, tid_b = both("tid")
    tid_known = (tid_a != "") & (tid_b != "")
    tid_same = tid_known & (tid_a == tid_b)
    # An operator id names one legal person: the same id links, a different one separates.
    w_tid = np.where(tid_same, 20.0, np.where(tid_known, -10.0, 0.0))

    core_a, core_b = both("core")
    name = _cp(fuzz.token_sort_ratio, core_a, core_b) / 100.0
    sk_a, sk_b = both("sk_core")
    name = np.where((sk_a == sk_b) & (sk_a != "") & (name >= 0.8), np.maximum(name, 0.93), name)
    w_name = _steps(name, [(0.95, 6.0), (0.88, 4.0), (0.8, 1.0)], -8.0)

    addr_a, addr_b = both("addr")
    addr_known = (addr_a != "") & (addr_b != "")
    address = np.where(addr_known, _cp(fuzz.token_set_ratio, addr_a, addr_b) / 100.0, 0.0)
    w_addr = np.where(addr_known, _steps(address, [(0.9, 4.0), (0.8, 2.0), (0.6, 0.0)], -3.0), 0.0)

    country_a, country_b = both("country")
    country_known = (country_a != "") & (country_b != "")
    w_country = np.where(country_known & (country_a == country_b), 1.0, np.where(country_known, -4.0, 0.0))
    parts = {
        "tid_same": tid_same,
        "tid_missing": ~tid_known,
        "name": name,
        "address": np.where(addr_known, address, -1.0),
        "country_same": country_known & (country_a == country_b),
    }
    return (w_tid + w_name + w_addr + w_country).astype(np.float32), parts


def _reasons(
    pairs: np.ndarray, linked: np.ndarray, parts: dict[str, np.ndarray], kind: str
) -> dict[tuple[int, int], list[str]]:
    """Why each linked pair is a link, in words an analyst reads on the link (only the links: few)."""
    out: dict[tuple[int, int], list[str]] = {}
    for i in np.flatnonzero(linked):
        why: list[str] = []
        if kind == "person":
            order = ", name order swapped" if parts["swapped"][i] else ""
            why.append(f"name {parts['name'][i]:.2f} alike{order}")
            if parts["doc_same"][i]:
                why.append("same travel document")
            elif parts["doc_close"][i]:
                why.append("travel document one character apart")
            elif parts["doc_differs"][i]:
                why.append("different travel documents")
            if parts["dob_same"][i]:
                why.append("same date of birth")
            elif parts["dob_close"][i]:
                why.append("date of birth one typo apart")
            elif parts["dob_missing"][i]:
                why.append("date of birth missing on one record")
            if parts["nat_same"][i]:
                why.append("same nationality")
            if parts["trip_same"][i]:
                why.append("same flight")
        else:
            if parts["tid_same"][i]:
                why.append("same operator id")
            elif parts["tid_missing"][i]:
                why.append("operator id missing on one record")
            why.append(f"name {parts['name'][i]:.2f} alike (legal form ignored)")
            if parts["address"][i] >= 0:
                why.append(f"address {parts['address'][i]:.2f} alike")
            if parts["country_same"][i]:
                why.append("same country")
        out[(int(pairs[i, 0]), int(pairs[i, 1]))] = why
    return out


def link(
    new: pd.DataFrame,
    kind: str,
    *,
    stored: pd.DataFrame | None = None,
    stored_keys: pd.DataFrame | None = None,
    explain: bool = True,
) -> tuple[Links, pd.DataFrame, pd.DataFrame]:
    """Link a batch of records (with ``rid`` and the kind's fields) among themselves and against records
    already prepared and keyed (``stored``, ``stored_keys``: what an earlier call returned, concatenated).

    Returns the scored pairs, the batch prepared and its keys, to be kept for the next batch.
    ``explain=False`` leaves out the reasons (words for each link; the benchmark has no reader).
    """
    prepared = prepare(new, kind)
    keys = block_keys(prepared, kind)
    pairs = candidate_pairs(keys, stored_keys)
    every = prepared if stored is None else pd.concat([stored, prepared])
    if stored is not None:
        every = every[~every.index.duplicated(keep="last")]
    return score(every, pairs, kind, explain=explain), prepared, keys


def clusters(rids: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    """Connected components: for each of ``rids``, the id of its identity (the same for linked records)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n = len(rids)
    if not len(pairs):
        return np.arange(n)
    order = np.argsort(rids)
    a = order[np.searchsorted(rids, pairs[:, 0], sorter=order)]
    b = order[np.searchsorted(rids, pairs[:, 1], sorter=order)]
    graph = coo_matrix((np.ones(len(a), dtype=np.int8), (a, b)), shape=(n, n))
    return connected_components(graph, directed=False)[1]

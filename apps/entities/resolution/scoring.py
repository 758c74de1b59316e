"""Step 3 of entity resolution: weights of evidence for each candidate pair, and the reasons of the links."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process
from rapidfuzz.distance import JaroWinkler, Levenshtein


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

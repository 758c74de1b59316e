"""The entity-resolution engine: which records are the same person, or the same trader.

Pure computation over pandas frames, no database: the intake service (``apps.entities.services``) and the
benchmark (``bench.resolution``) call the same functions.

How it works, in three vectorised steps, never a Python loop over pairs of records:

1. **Normalise** each record once: names transliterated to Latin (``anyascii``) and folded, a
   *skeleton* of each name token that absorbs the usual transliteration variants (KH/H, X/KS, J/I/Y,
   doubled letters, vowels), company names without their legal-form suffix, addresses with their
   abbreviations spelt one way. Names repeat a great deal, so each distinct string is normalised once.
2. **Block**: every record gets a few blocking keys (its document; its date of birth with each name
   token's skeleton; its flight with each token; its nationality and whole skeleton name with either end
   of its document; a trader's id, name and address number keys). Only records sharing a key are compared: a self-join of the key
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

import numpy as np
import pandas as pd

from apps.entities.resolution.blocking import MAX_BLOCK, block_keys, candidate_pairs
from apps.entities.resolution.normalising import PERSON_FIELDS, TRADER_FIELDS, prepare
from apps.entities.resolution.scoring import Links, score

__all__ = [
    "MAX_BLOCK",
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

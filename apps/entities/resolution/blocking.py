"""Step 2 of entity resolution: blocking keys per record, and the candidate pairs of records that share one."""

from __future__ import annotations

import numpy as np
import pandas as pd

#: A blocking key held by more records than this blocks nothing (see the module's docstring).
MAX_BLOCK = 250
#: Characters of each end of a document in a name key (see ``block_keys``): one edit leaves an end intact
#: in a document of twice as many characters or more.
DOC_END = 3


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
            if tokens and doc:
                # Nationality and whole name, with either end of the document. Records that share
                # neither a document, nor a birth date and a name token, nor a flight, only score as a
                # link when their documents are known and one character apart (the weights: a near
                # birth date or none cannot outweigh the prior with the name alone). One edit leaves
                # the first or the last three characters of a document as they were, so these keys
                # find every such pair; the whole name alone held hundreds of strangers a key once a
                # few hundred thousand travellers were stored, all read and scored with each batch.
                name = " ".join(sorted(tokens))
                add_key(f"n|{nat}|{name}|{doc[:DOC_END]}")
                add_rid(rid)
                add_key(f"n|{nat}|{name}|~{doc[-DOC_END:]}")
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

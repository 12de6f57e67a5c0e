"""LSH banding on signature matrices.

A view's signature (``num_perm`` values) is cut into ``bands`` bands of ``rows`` values; each band
is reduced to one 64-bit bucket key (band number mixed in, so equal values in different bands never
collide).  Two documents are candidates when they share a key in any band of any view.  The
probability of that, for Jaccard similarity *s*, is ``1 - (1 - s**rows)**bands``
(:meth:`dedupe.config.LSHParams.probability`).
"""

from __future__ import annotations

import numpy as np

from dedupe.config import LSHParams
from dedupe.shingle import _M1, mix64, sorted_unique

EMPTY = np.uint32(0xFFFFFFFF)

#: Buckets larger than this contribute a chain (each member paired with the next and with the
#: bucket's first member) instead of every pair, which keeps mass duplicates linear.
MAX_BUCKET_PAIRS = 64


def band_keys(signatures: np.ndarray, params: LSHParams) -> np.ndarray:
    """``(n, bands)`` ``uint64`` bucket keys of an ``(n, num_perm)`` signature matrix.

    Rows whose band is entirely empty (the signature of an empty set) get key 0, which
    :func:`candidate_pairs` ignores: empty documents are never candidates of each other.
    """
    n = signatures.shape[0]
    used = params.bands * params.rows
    if used > signatures.shape[1]:
        raise ValueError(f"{params} needs {used} permutations, signatures have {signatures.shape[1]}")
    sig = signatures[:, :used].reshape(n, params.bands, params.rows).astype(np.uint64)
    with np.errstate(over="ignore"):
        acc = np.broadcast_to(np.arange(1, params.bands + 1, dtype=np.uint64), (n, params.bands)).copy()
        for r in range(params.rows):
            acc = mix64(acc * _M1 + sig[:, :, r])
    empty = np.all(signatures[:, :used].reshape(n, params.bands, params.rows) == EMPTY, axis=2)
    acc[empty] = 0
    acc[acc == 0] = 1  # 0 is reserved for "no key"
    acc[empty] = 0
    return acc


def candidate_pairs(keys: list[np.ndarray], block_cells: int = 1 << 23) -> np.ndarray:
    """Unique candidate pairs ``(i, j)`` with ``i < j`` from the bucket keys of one or more views.

    ``keys`` is a list of ``(n, bands_v)`` arrays for the same ``n`` documents.  Returns an
    ``(m, 2)`` ``int64`` array sorted lexicographically.  Vectorised: buckets are grouped by size,
    so the Python work is one loop over distinct bucket sizes, not over buckets.  On large inputs
    the keys are split by their top bits into parts of about ``block_cells`` entries (equal keys
    always land in the same part), which keeps memory bounded.
    """
    if not keys:
        return np.empty((0, 2), dtype=np.int64)
    n = keys[0].shape[0]
    total = sum(k.size for k in keys)
    bits = 0
    while (total >> bits) > block_cells and bits < 12:
        bits += 1
    codes: list[np.ndarray] = []
    pending = 0
    for part in range(1 << bits):
        flats, docs = [], []
        for k in keys:
            if bits:
                rows, cols = np.nonzero((k >> np.uint64(64 - bits)) == np.uint64(part))
                flats.append(k[rows, cols])
                docs.append(rows.astype(np.int64))
            else:
                flats.append(k.reshape(-1))
                docs.append(np.repeat(np.arange(n, dtype=np.int64), k.shape[1]))
        found = _block_pairs(np.concatenate(flats), np.concatenate(docs), n)
        del flats, docs
        if len(found):
            codes.append(found)
            pending += len(found)
        if pending > 4 * block_cells and len(codes) > 1:  # fold duplicates as we go
            codes = [sorted_unique(np.concatenate(codes))]
            pending = len(codes[0])
    if not codes:
        return np.empty((0, 2), dtype=np.int64)
    code = sorted_unique(np.concatenate(codes))
    return np.stack((code // n, code % n), axis=1)


def _block_pairs(flat: np.ndarray, docs: np.ndarray, n: int) -> np.ndarray:
    """Pair codes ``i * n + j`` of the buckets among ``(key, doc)`` entries (unsorted, may repeat)."""
    keep = flat != 0
    flat, docs = flat[keep], docs[keep]
    if len(flat) == 0:
        return np.empty(0, dtype=np.int64)
    flat, docs = _group(flat, docs, n)
    # one entry per (bucket, document)
    fresh = np.ones(len(flat), dtype=bool)
    fresh[1:] = (flat[1:] != flat[:-1]) | (docs[1:] != docs[:-1])
    flat, docs = flat[fresh], docs[fresh]
    starts = np.flatnonzero(np.concatenate(([True], flat[1:] != flat[:-1])))
    sizes = np.diff(np.append(starts, len(flat)))
    out = []
    small = (sizes >= 2) & (sizes <= MAX_BUCKET_PAIRS)
    # the buckets grouped by size (one sort, not a scan of every bucket per size)
    small_at = np.flatnonzero(small)
    by_size = small_at[np.argsort(sizes[small_at], kind="stable")]
    size_sorted = sizes[by_size]
    cuts = np.flatnonzero(np.diff(size_sorted)) + 1
    for lo, hi in zip(np.concatenate(([0], cuts)), np.concatenate((cuts, [len(by_size)]))):
        if lo == hi:
            continue
        m = int(size_sorted[lo])
        s = starts[by_size[lo:hi]]
        members = docs[s[:, None] + np.arange(m)]          # (buckets, m), each row sorted
        i, j = np.triu_indices(m, 1)
        out.append((members[:, i] * np.int64(n) + members[:, j]).ravel())
    big = sizes > MAX_BUCKET_PAIRS
    if big.any():
        # a chain (each member with the next) and a star (the first member with every other)
        bs, bz = starts[big], sizes[big]
        idx = np.repeat(bs, bz - 1) + (np.arange(int((bz - 1).sum())) - np.repeat(np.cumsum(bz - 1) - (bz - 1), bz - 1))
        out.append(docs[idx] * np.int64(n) + docs[idx + 1])
        first = np.repeat(docs[bs], bz - 2)
        idx2 = np.repeat(bs, bz - 2) + 2 + (np.arange(int((bz - 2).sum())) - np.repeat(np.cumsum(bz - 2) - (bz - 2), bz - 2))
        out.append(first * np.int64(n) + docs[idx2])
    if not out:
        return np.empty(0, dtype=np.int64)
    return np.concatenate(out)


def _group(flat: np.ndarray, docs: np.ndarray, n: int):
    """``(bucket, doc)`` entries sorted by bucket, then document.  Buckets are identified by a
    bijective remix of their key (``mix64``), so equal buckets stay equal and distinct ones
    distinct; the order of the buckets is irrelevant to the pairs.

    When no two buckets share their top ``64 - b`` bits (``b`` bits hold a document number),
    one plain sort of ``top bits | doc`` words does the work of a two-key ``lexsort``, about six
    times faster; that is checked on the sorted keys, and otherwise the lexsort runs."""
    h = mix64(flat)
    b = max(1, int(n - 1).bit_length())
    if b <= 32:
        shift = np.uint64(b)
        hs = np.sort(h)
        distinct = np.count_nonzero(hs[1:] != hs[:-1]) + 1
        top = hs >> shift
        if np.count_nonzero(top[1:] != top[:-1]) + 1 == distinct:
            del hs
            packed = ((h >> shift) << shift) | docs.astype(np.uint64)
            packed.sort()
            return packed >> shift, (packed & np.uint64((1 << b) - 1)).astype(np.int64)
    order = np.lexsort((docs, h))
    return h[order], docs[order]


def candidate_pairs_reference(keys: list[np.ndarray]) -> np.ndarray:
    """The straightforward per-bucket implementation :func:`candidate_pairs` is tested against."""
    if not keys:
        return np.empty((0, 2), dtype=np.int64)
    n = keys[0].shape[0]
    flat = np.concatenate([k.reshape(-1) for k in keys])
    docs = np.concatenate([np.repeat(np.arange(n, dtype=np.int64), k.shape[1]) for k in keys])
    keep = flat != 0
    flat, docs = flat[keep], docs[keep]
    order = np.lexsort((docs, flat))
    flat, docs = flat[order], docs[order]
    if len(flat) == 0:
        return np.empty((0, 2), dtype=np.int64)
    starts = np.flatnonzero(np.concatenate(([True], flat[1:] != flat[:-1])))
    ends = np.concatenate((starts[1:], [len(flat)]))
    out = []
    for s, e in zip(starts, ends):
        members = np.unique(docs[s:e])
        m = len(members)
        if m < 2:
            continue
        if m <= MAX_BUCKET_PAIRS:
            i, j = np.triu_indices(m, 1)
            out.append(np.stack((members[i], members[j]), axis=1))
        else:
            chain = np.stack((members[:-1], members[1:]), axis=1)
            star = np.stack((np.full(m - 2, members[0]), members[2:]), axis=1)
            out.append(np.concatenate((chain, star)))
    if not out:
        return np.empty((0, 2), dtype=np.int64)
    return np.unique(np.concatenate(out), axis=0)

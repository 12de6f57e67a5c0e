"""Batched MinHash signatures, bit-identical to datasketch's.

:class:`Signer` turns many documents' hashed sets (:class:`dedupe.shingle.DocFeatures`) into
``(n_docs, num_perm)`` ``uint32`` matrices at once, with numpy and no per-shingle Python work.
The arithmetic is datasketch 2.x's default ``affine32`` scheme: each 32-bit input hash is
pre-mixed with the MurmurHash3 finaliser, then permutation *k* maps it to
``a_k * h + b_k mod 2**32`` (``a_k`` odd), with ``a`` and ``b`` drawn from
``numpy.random.RandomState(seed)`` exactly as ``datasketch.MinHash(num_perm, seed)`` draws them.
So a row of a signature matrix equals ``MinHash(num_perm, seed, hashfunc=lambda v: v)`` updated
with the same hash values, and :func:`to_minhash` converts a row into a datasketch ``LeanMinHash``
for code that expects one.  An empty set gives the all-``0xFFFFFFFF`` row, as in datasketch.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from dedupe.config import Config, MinHashConfig

EMPTY = np.uint32(0xFFFFFFFF)
#: Views that get MinHash signatures (the ``pairs`` set is verified exactly instead).
SIGNED_VIEWS = ("shingles", "terms")

_F1 = np.uint32(0x85EBCA6B)
_F2 = np.uint32(0xC2B2AE35)


def fmix32(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finaliser (datasketch's pre-mix), element-wise, wrapping."""
    h = h.astype(np.uint32, copy=True)
    with np.errstate(over="ignore"):
        h ^= h >> np.uint32(16)
        h *= _F1
        h ^= h >> np.uint32(13)
        h *= _F2
        h ^= h >> np.uint32(16)
    return h


@lru_cache(maxsize=16)
def permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``(a, b)`` parameters datasketch's ``affine32`` MinHash draws for ``(num_perm, seed)``."""
    gen = np.random.RandomState(seed)
    a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    a.setflags(write=False)
    b.setflags(write=False)
    return a, b


def minhash_matrix(sets: list[np.ndarray], config: MinHashConfig | None = None,
                   chunk_elements: int = 1 << 18, threads: int = 1) -> np.ndarray:
    """MinHash signatures of many hashed sets: an ``(len(sets), num_perm)`` ``uint32`` matrix."""
    lengths = np.fromiter((len(s) for s in sets), dtype=np.int64, count=len(sets))
    offsets = np.zeros(len(sets) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    parts = [np.asarray(s, dtype=np.uint32) for s in sets if len(s)]
    values = np.concatenate(parts) if parts else np.empty(0, dtype=np.uint32)
    return minhash_csr(values, offsets, config, chunk_elements, threads)


def minhash_csr(values: np.ndarray, offsets: np.ndarray, config: MinHashConfig | None = None,
                chunk_elements: int = 1 << 18, threads: int = 1) -> np.ndarray:
    """MinHash signatures of sets stored as one flat ``uint32`` array and ``n + 1`` offsets.

    Works in chunks of about ``chunk_elements`` shingle x permutation cells (small enough to stay
    in cache), so memory stays bounded whatever the batch size; with ``threads > 1`` the chunks
    are spread over threads (numpy releases the GIL inside the arithmetic).
    """
    config = config or MinHashConfig()
    a, b = permutations(config.num_perm, config.seed)
    n = len(offsets) - 1
    out = np.full((n, config.num_perm), EMPTY, dtype=np.uint32)
    if n == 0:
        return out
    lengths = np.diff(offsets)
    budget = max(1, chunk_elements // config.num_perm)
    # chunk boundaries: consecutive documents whose sets add up to about ``budget`` values
    cuts = [0]
    ends = np.searchsorted(offsets, offsets[:-1] + budget, side="right") - 1
    while cuts[-1] < n:
        s = cuts[-1]
        cuts.append(max(s + 1, min(n, int(ends[s]))))

    def work(k: int) -> None:
        start, stop = cuts[k], cuts[k + 1]
        idx = np.flatnonzero(lengths[start:stop]) + start
        if not len(idx):
            return
        flat = fmix32(values[offsets[start]:offsets[stop]])
        local = offsets[idx] - offsets[start]
        # permutations along rows, shingles along columns: the reduction then runs over
        # contiguous memory (about 4x faster than the transposed layout)
        with np.errstate(over="ignore"):
            cells = np.multiply.outer(a, flat)
            cells += b[:, None]
        out[idx] = np.minimum.reduceat(cells, local, axis=1).T

    chunks = range(len(cuts) - 1)
    if threads > 1 and len(chunks) > 1:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(work, chunks))
    else:
        for k in chunks:
            work(k)
    return out


def to_minhash(row: np.ndarray, config: MinHashConfig | None = None):
    """A datasketch ``LeanMinHash`` holding one signature row (imports datasketch lazily)."""
    from datasketch import LeanMinHash, MinHash

    config = config or MinHashConfig()
    if len(row) != config.num_perm:
        raise ValueError(f"signature has {len(row)} values, config says num_perm={config.num_perm}")
    mh = MinHash(num_perm=config.num_perm, seed=config.seed, scheme="affine32",
                 hashvalues=np.asarray(row, dtype=np.uint32))
    return LeanMinHash(mh)


def estimate_jaccard(row_a: np.ndarray, row_b: np.ndarray) -> float:
    """MinHash estimate of the Jaccard similarity of two signature rows."""
    if len(row_a) != len(row_b):
        raise ValueError("signatures of different lengths")
    return float(np.count_nonzero(row_a == row_b)) / len(row_a)


class Signer:
    """Signatures of every signed view for a batch of features."""

    def __init__(self, config: Config | None = None, threads: int = 1):
        self.config = config or Config()
        self.threads = threads

    def sign(self, features, views=SIGNED_VIEWS) -> dict[str, np.ndarray]:
        """``{view: (n, num_perm) uint32}`` for a :class:`dedupe.shingle.FeatureBatch` or a list
        of :class:`DocFeatures`, for each of ``views`` (set-valued views: ``shingles``, ``terms``,
        ``rare``, ``pairs``)."""
        if hasattr(features, "view"):
            return {view: minhash_csr(*features.view(view), self.config.minhash, threads=self.threads)
                    for view in views}
        return {view: minhash_matrix([getattr(f, view) for f in features], self.config.minhash,
                                     threads=self.threads)
                for view in views}

"""An in-memory map from LSH bucket keys to document numbers, for the SQLite backend.

Why it exists: an on-disk ``(key, num)`` B-tree costs, at 1,000,000 documents of 47 keys, about
7 microseconds per key probe from Python (0.3 ms per document just to read) and one random page
write per key on insert (~190 KB of WAL traffic per document).  The keys of every document are
already stored with it (``docs.keys``), so the SQLite backend keeps the key -> number map in
memory, built from the file when first needed and brought up to date from the rows other
processes appended (``docs.num`` only grows), and the file holds each document once.

Layout: a small dict for the newest documents (``TAIL`` of them) and a few sorted runs of
``uint64`` values ``key << 32 | num``, merged size-tiered (a run is merged into the one before it
once it reaches a quarter of its size), so adding a document costs amortised O(log n) array work
and a lookup searches a handful of runs.  Measured at 1,000,000 documents: a fold of the dict
into a run costs ~25 ms once per 2,048 documents; the merge into the main run (once a newer run
holds a quarter of it, i.e. after ~250,000 more documents) sorts ~60 million values, a few
seconds for that one call.  Each run has a directory on the top bits of the key
(about eight entries per slot), so a batch of lookups is a few vectorised gathers instead of a
binary search per key.

The map may hold numbers of documents removed since (by this or another process): it is a
candidate generator, and the caller keeps only the candidates still stored whose stored keys
really share a key with the query.  :meth:`KeyMap.prune` drops the numbers of removed documents.
"""

from __future__ import annotations

import numpy as np

_EMPTY_U64 = np.empty(0, np.uint64)
_EMPTY_U32 = np.empty(0, np.uint32)


def sorted_unique(a: np.ndarray) -> np.ndarray:
    """``np.unique`` for 1-d integer arrays, by sorting (numpy 2.3+'s hash-based ``np.unique``
    is 2x slower on 47 keys and 20x on the first call)."""
    s = np.sort(a)
    if len(s) > 1:
        return s[np.concatenate(([True], s[1:] != s[:-1]))]
    return s


class _Run:
    """A sorted array of ``key << 32 | num`` with a directory on the top bits of the key."""

    __slots__ = ("packed", "shift", "starts")

    def __init__(self, packed: np.ndarray):
        self.packed = packed
        bits = max(4, min(26, int(np.log2(max(len(packed), 1) / 8)) if len(packed) >= 16 else 4))
        self.shift = 32 - bits
        slot = (packed >> np.uint64(32 + self.shift)).astype(np.int64)
        counts = np.bincount(slot, minlength=1 << bits)
        self.starts = np.zeros((1 << bits) + 1, dtype=np.int64)
        np.cumsum(counts, out=self.starts[1:])

    def __len__(self) -> int:
        return len(self.packed)

    def find(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(key, num)`` pairs stored under any of ``keys`` (unique ``uint32``)."""
        if not len(self.packed) or not len(keys):
            return _EMPTY_U32, _EMPTY_U64
        slot = (keys >> np.uint32(self.shift)).astype(np.int64)
        lo = self.starts[slot]
        n = self.starts[slot + 1] - lo
        hit = n > 0
        if not hit.any():
            return _EMPTY_U32, _EMPTY_U64
        lo, n, q = lo[hit], n[hit], keys[hit]
        ends = np.cumsum(n)
        pos = np.arange(int(ends[-1]), dtype=np.int64) + np.repeat(lo - (ends - n), n)
        vals = self.packed[pos]
        q = np.repeat(q, n)
        match = (vals >> np.uint64(32)).astype(np.uint32) == q
        return q[match], vals[match] & np.uint64(0xFFFFFFFF)


class KeyMap:
    """Bucket key (``uint32``, non-zero) -> document numbers (``1 <= num < 2**32``)."""

    #: Documents kept in the dict before they are sorted into a run.
    TAIL = 2048

    def __init__(self):
        self.runs: list[_Run] = []
        self.tail: dict[int, list[int]] = {}
        self.tail_docs = 0
        self.upto = 0  # the largest document number added

    def __len__(self) -> int:
        return sum(len(r) for r in self.runs) + sum(len(v) for v in self.tail.values())

    @staticmethod
    def pack(nums: np.ndarray, keys: np.ndarray) -> np.ndarray:
        return (keys.astype(np.uint64) << np.uint64(32)) | nums.astype(np.uint64)

    def load(self, nums: np.ndarray, keys: np.ndarray) -> None:
        """Replace the content with ``(num, key)`` pairs (parallel arrays; zero keys ignored)."""
        keys = np.asarray(keys, dtype=np.uint32)
        nums = np.asarray(nums, dtype=np.uint64)
        keep = keys != 0
        # np.sort, not np.unique: numpy 2.3's hash-based unique is ~6x slower here, and a
        # repeated pair would only repeat a number that find() de-duplicates anyway
        packed = np.sort(self.pack(nums[keep], keys[keep]))
        self.runs = [_Run(packed)] if len(packed) else []
        self.tail = {}
        self.tail_docs = 0
        self.upto = int(nums.max()) if len(nums) else 0

    def add(self, num: int, keys: np.ndarray) -> None:
        """Add one document (numbers must grow: ``num > upto``)."""
        tail = self.tail
        for k in sorted_unique(np.asarray(keys, dtype=np.uint32)).tolist():
            if k:
                bucket = tail.get(k)
                if bucket is None:
                    tail[k] = [num]
                else:
                    bucket.append(num)
        self.tail_docs += 1
        self.upto = max(self.upto, int(num))
        if self.tail_docs >= self.TAIL:
            self._fold()

    def _fold(self) -> None:
        if not self.tail:
            self.tail_docs = 0
            return
        keys = np.fromiter(self.tail.keys(), dtype=np.uint32, count=len(self.tail))
        lens = np.fromiter((len(v) for v in self.tail.values()), dtype=np.int64, count=len(self.tail))
        nums = np.fromiter((n for v in self.tail.values() for n in v), dtype=np.uint64, count=int(lens.sum()))
        packed = np.sort(self.pack(nums, np.repeat(keys, lens)))
        self.tail = {}
        self.tail_docs = 0
        self.runs.append(_Run(packed))
        while len(self.runs) >= 2 and 4 * len(self.runs[-1]) >= len(self.runs[-2]):
            b, a = self.runs.pop(), self.runs.pop()
            # two sorted runs: the stable sort is a linear merge
            self.runs.append(_Run(np.sort(np.concatenate([a.packed, b.packed]), kind="stable")))

    def find_pairs(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(key, num)`` for every document number stored under one of ``keys`` (parallel
        arrays; a pair may repeat)."""
        keys = sorted_unique(np.asarray(keys, dtype=np.uint32))
        keys = keys[keys != 0]
        found = [r.find(keys) for r in self.runs]
        tail = self.tail
        if tail:
            extra = [(k, n) for k in tail.keys() & set(keys.tolist()) for n in tail[k]]
            if extra:
                found.append((np.array([k for k, _ in extra], dtype=np.uint32),
                              np.array([n for _, n in extra], dtype=np.uint64)))
        if not found:
            return _EMPTY_U32, _EMPTY_U64
        return np.concatenate([k for k, _ in found]), np.concatenate([n for _, n in found])

    def find(self, keys: np.ndarray) -> np.ndarray:
        """Sorted unique numbers of the documents sharing any of ``keys``."""
        return sorted_unique(self.find_pairs(keys)[1])

    def prune(self, live: np.ndarray) -> int:
        """Keep only the numbers in ``live`` (sorted numbers of the documents still stored);
        returns how many entries were dropped."""
        self._fold()
        live = np.asarray(live, dtype=np.uint64)
        before = len(self)
        if not self.runs:
            return 0
        packed = np.sort(np.concatenate([r.packed for r in self.runs]), kind="stable")
        packed = packed[np.isin(packed & np.uint64(0xFFFFFFFF), live, assume_unique=False)]
        self.runs = [_Run(packed)] if len(packed) else []
        return before - len(packed)

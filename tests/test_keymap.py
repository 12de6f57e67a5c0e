"""The SQLite backend's in-memory bucket key -> document number map (dedupe.index.keymap)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from dedupe.index.keymap import KeyMap, sorted_unique


def brute(docs: dict[int, list[int]], query) -> list[int]:
    q = {k for k in query if k}
    return sorted(n for n, keys in docs.items() if q & set(keys))


def test_sorted_unique_matches_numpy():
    rng = np.random.default_rng(3)
    for n in (0, 1, 2, 47, 1000):
        a = rng.integers(0, 50, size=n, dtype=np.uint32)
        assert sorted_unique(a).tolist() == np.unique(a).tolist()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.integers(1, 300), min_size=0, max_size=12), min_size=0, max_size=60),
       st.integers(0, 59), st.lists(st.integers(0, 300), max_size=20))
def test_find_equals_a_scan_whatever_was_loaded_or_added(key_lists, split, query):
    """Part loaded at once, the rest added one by one through tail folds and run merges."""
    KeyMap.TAIL = 3  # fold often (class attribute; restored below)
    try:
        docs = {i + 1: keys for i, keys in enumerate(key_lists)}
        m = KeyMap()
        first = [(n, k) for n, keys in docs.items() if n <= split for k in keys]
        m.load(np.array([n for n, _ in first], dtype=np.uint64), np.array([k for _, k in first], dtype=np.uint32))
        for n, keys in docs.items():
            if n > split:
                m.add(n, np.array(keys, dtype=np.uint32))
        assert m.find(np.array(query, dtype=np.uint32)).tolist() == brute(docs, query)
        assert len(m.runs) <= 1 + int(np.log(max(len(docs), 1) * 12 + 1) / np.log(4)) + 2
    finally:
        KeyMap.TAIL = 2048


def test_large_runs_use_their_directory():
    rng = np.random.default_rng(7)
    n_docs = 20000
    keys = rng.integers(1, 1 << 32, size=(n_docs, 47), dtype=np.uint64).astype(np.uint32)
    m = KeyMap()
    m.load(np.repeat(np.arange(1, n_docs + 1, dtype=np.uint64), 47), keys.ravel())
    assert len(m.runs) == 1 and len(m.runs[0].starts) > 1 << 16
    for d in (0, 4999, 19999):
        found = m.find(keys[d]).tolist()
        assert d + 1 in found
    assert m.find(np.array([0], dtype=np.uint32)).tolist() == []
    m.add(n_docs + 1, keys[5])  # a copy of document 6
    assert m.find(keys[5][:1]).tolist() == [6, n_docs + 1]
    assert m.upto == n_docs + 1


def test_prune_keeps_only_live_numbers():
    m = KeyMap()
    m.load(np.array([1, 1, 2, 3], dtype=np.uint64), np.array([10, 11, 10, 12], dtype=np.uint32))
    m.add(4, np.array([10], dtype=np.uint32))
    assert m.find(np.array([10], dtype=np.uint32)).tolist() == [1, 2, 4]
    assert m.prune(np.array([2, 3, 4], dtype=np.uint64)) == 2
    assert m.find(np.array([10, 11], dtype=np.uint32)).tolist() == [2, 4]
    assert len(m) == 3

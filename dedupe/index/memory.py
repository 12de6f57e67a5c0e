"""In-memory index backend (``memory://`` or ``memory://name``).

``memory://`` is a fresh, private index; ``memory://name`` is shared by every ``open_index`` of the
same name in this process (gone when the process exits).  Thread-safe: one lock makes
``check_and_add`` atomic.
"""

from __future__ import annotations

import sys
import threading
from collections import defaultdict
from typing import Iterable, Sequence

import numpy as np

from dedupe.index.store import Entry, IndexStore, _unique_keys, check_meta

_NAMED: dict[str, "_Data"] = {}
_NAMED_LOCK = threading.Lock()


class _Data:
    def __init__(self):
        self.meta: dict | None = None
        self.entries: dict[str, Entry] = {}
        self.buckets: dict[int, set[str]] = defaultdict(set)
        self.lock = threading.RLock()


class MemoryStore(IndexStore):
    def __init__(self, url: str, data: _Data):
        self.url = url
        self._d = data
        self.meta = data.meta

    @classmethod
    def _data(cls, url: str, create: bool) -> _Data | None:
        name = url[len("memory://"):]
        if not name:
            return _Data() if create else None
        with _NAMED_LOCK:
            if name not in _NAMED:
                if not create:
                    return None
                _NAMED[name] = _Data()
            return _NAMED[name]

    @classmethod
    def open(cls, url: str, meta: dict, create: bool = True) -> "MemoryStore":
        data = cls._data(url, create)
        if data is None:
            from dedupe.errors import ConfigError
            raise ConfigError(f"no index at {url}", hint="add documents first with `dedupe index add`")
        with data.lock:
            check_meta(data.meta, meta, url)
            if data.meta is None:
                data.meta = meta
        return cls(url, data)

    @classmethod
    def peek(cls, url: str) -> dict | None:
        data = cls._data(url, create=False)
        return None if data is None else data.meta

    # -- internals (call with the lock held) ---------------------------------------------------
    def _lookup(self, doc_id: str, keys) -> tuple[Entry | None, list[Entry]]:
        d = self._d
        ids: set[str] = set()
        for k in _unique_keys(keys):
            members = d.buckets.get(k)
            if members:
                ids.update(members)
        ids.discard(doc_id)
        return d.entries.get(doc_id), [d.entries[i] for i in sorted(ids)]

    def _add(self, entry: Entry) -> None:
        d = self._d
        if entry.id in d.entries:
            self._remove(entry.id)
        d.entries[entry.id] = entry
        for k in _unique_keys(entry.keys):
            d.buckets[k].add(entry.id)

    def _remove(self, doc_id: str) -> bool:
        d = self._d
        entry = d.entries.pop(doc_id, None)
        if entry is None:
            return False
        for k in _unique_keys(entry.keys):
            members = d.buckets.get(k)
            if members is not None:
                members.discard(doc_id)
                if not members:
                    del d.buckets[k]
        return True

    # -- interface -----------------------------------------------------------------------------
    def check_and_add(self, entry: Entry, judge):
        with self._d.lock:
            known, candidates = self._lookup(entry.id, entry.keys)
            verdict = judge(entry, known, candidates)
            if verdict.admit:
                self._add(entry)
            return verdict

    def check_and_add_many(self, entries: Sequence[Entry], judge) -> list:
        with self._d.lock:
            return [self.check_and_add(e, judge) for e in entries]

    def lookup(self, doc_id: str, keys: np.ndarray):
        with self._d.lock:
            return self._lookup(doc_id, keys)

    def add_many(self, entries: Iterable[Entry]) -> int:
        n = 0
        with self._d.lock:
            for e in entries:
                self._add(e)
                n += 1
        return n

    def get(self, doc_id: str) -> Entry | None:
        return self._d.entries.get(doc_id)

    def remove(self, ids: Iterable[str]) -> int:
        with self._d.lock:
            return sum(self._remove(i) for i in ids)

    def evict(self, before_ts: int) -> int:
        with self._d.lock:
            old = [i for i, e in self._d.entries.items() if e.ts < before_ts]
            for i in old:
                self._remove(i)
            return len(old)

    def count(self) -> int:
        return len(self._d.entries)

    def stats(self) -> dict:
        with self._d.lock:
            entries = self._d.entries.values()
            size = sum(len(e.payload) + 4 * len(e.keys) + sys.getsizeof(e.id) for e in entries)
            return {
                "url": self.url, "backend": "memory", "documents": len(self._d.entries),
                "bucket_entries": sum(len(m) for m in self._d.buckets.values()),
                "bytes": size,
                "oldest": min((e.ts for e in entries), default=None),
                "newest": max((e.ts for e in entries), default=None),
                "meta": self.meta,
            }

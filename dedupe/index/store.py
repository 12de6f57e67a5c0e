"""The small storage interface behind the pre-ingest filter, and :func:`open_index`.

An index holds one :class:`Entry` per admitted document: its id, a timestamp (for time-window
eviction), its LSH bucket keys (``uint32``, 0 never used) and an opaque ``payload`` (the
verification data the filter stores; see :mod:`dedupe.pipeline.stream`).  Backends only store and
look up entries; every decision is made by the caller, so verdicts are identical whatever the
backend.

Backends, chosen by URL:

``memory://``
    a process-local dict (tests, one-shot runs).
``sqlite:///path/to/index.db``
    one SQLite file in WAL mode, the embedded default; safe for several processes on one machine.
``redis://host:port/db``
    a Redis server, for many workers on many machines (``pip install 'dedupe-news[redis]'``).

Stored format (every backend): a metadata record ``{"format": "dedupe-index", "version": 2,
"fingerprint": ..., "settings": {...}}`` as JSON, entries as raw little-endian bytes.  No pickle.
Opening an index whose fingerprint differs from the caller's is refused with
:class:`~dedupe.errors.FingerprintMismatch`.

Atomicity: :meth:`IndexStore.check_and_add` runs ``judge(entry, known, candidates)`` and stores the entry
only when the judge admits it, as one atomic step with respect to every other ``check_and_add`` on
the same index (SQLite: one ``BEGIN IMMEDIATE`` transaction; Redis: an optimistic commit by a Lua
script that retries when a bucket changed; memory: a lock).  Two workers sending the same new
story at the same moment admit it once.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from typing import Iterable, Protocol, Sequence

import numpy as np

from dedupe.errors import ConfigError, FingerprintMismatch

FORMAT = "dedupe-index"
#: Version of the stored layout (entries, buckets, metadata); bumped on any incompatible change.
#: 2: the SQLite backend no longer stores bucket rows (see :mod:`dedupe.index.sqlite`); entries,
#: metadata and the Redis and memory layouts are those of version 1, so version 1 indexes are read
#: (and SQLite ones upgraded when opened), while older dedupe refuses version 2 files.
FORMAT_VERSION = 2
#: Versions this code opens.
READABLE_VERSIONS = (1, 2)


@dataclass(frozen=True)
class Entry:
    """One indexed document.  ``keys`` is a ``uint32`` array of bucket keys (no zeros)."""

    id: str
    ts: int
    keys: np.ndarray
    payload: bytes

    def keys_bytes(self) -> bytes:
        return np.asarray(self.keys, dtype="<u4").tobytes()

    def to_bytes(self) -> bytes:
        """``<q ts><I nkeys><keys uint32 LE...><payload>`` (the Redis and export record)."""
        keys = self.keys_bytes()
        return struct.pack("<qI", int(self.ts), len(keys) // 4) + keys + self.payload

    @classmethod
    def from_bytes(cls, doc_id: str, blob: bytes) -> "Entry":
        ts, n = struct.unpack_from("<qI", blob)
        keys = np.frombuffer(blob, dtype="<u4", count=n, offset=12).astype(np.uint32)
        return cls(doc_id, ts, keys, bytes(blob[12 + 4 * n:]))


class Judge(Protocol):
    """Decides on one document: sees its entry, the entry already stored under its id (or ``None``)
    and the entries sharing a bucket with it; returns a verdict with a boolean ``admit`` attribute."""

    def __call__(self, entry: Entry, known: Entry | None, candidates: list[Entry]): ...


def new_meta(fingerprint: str, settings: dict) -> dict:
    return {"format": FORMAT, "version": FORMAT_VERSION, "fingerprint": fingerprint, "settings": settings}


def check_meta(stored: dict | None, wanted: dict, url: str) -> None:
    """Refuse an index of another format, version or fingerprint (one-line message)."""
    if stored is None:
        return
    if stored.get("format") != FORMAT:
        raise ConfigError(f"{url} is not a dedupe index", hint="give a new or a dedupe index URL")
    if stored.get("version") not in READABLE_VERSIONS:
        raise ConfigError(f"{url} has index format version {stored.get('version')}, this dedupe reads "
                          f"version {FORMAT_VERSION}", hint="rebuild the index with `dedupe index add`")
    if stored.get("fingerprint") != wanted["fingerprint"] or stored.get("settings") != wanted["settings"]:
        raise FingerprintMismatch(
            f"{url} was built with other settings (fingerprint {stored.get('fingerprint')}, "
            f"now {wanted['fingerprint']})",
            hint="use the settings it was built with, or build a new index")


class IndexStore:
    """Interface of the backends (see the module docstring)."""

    url: str
    meta: dict

    def check_and_add(self, entry: Entry, judge: Judge):
        """Atomically: ``verdict = judge(entry, known, candidates)``; store ``entry`` iff ``verdict.admit``."""
        raise NotImplementedError

    def check_and_add_many(self, entries: Sequence[Entry], judge: Judge) -> list:
        """:meth:`check_and_add` for each entry in order (backends may share one transaction)."""
        return [self.check_and_add(e, judge) for e in entries]

    def lookup(self, doc_id: str, keys: np.ndarray) -> tuple[Entry | None, list[Entry]]:
        """The entry stored under ``doc_id`` and the entries sharing any of ``keys`` (sorted by id,
        ``doc_id`` itself excluded).  Read-only, not atomic with later writes."""
        raise NotImplementedError

    def lookup_many(self, items: Sequence[tuple[str, np.ndarray]]) -> list[tuple[Entry | None, list[Entry]]]:
        """:meth:`lookup` for several ``(doc_id, keys)`` (backends may read them in one query)."""
        return [self.lookup(doc_id, keys) for doc_id, keys in items]

    def add_many(self, entries: Iterable[Entry]) -> int:
        """Store entries without checking them (replacing any with the same id); returns the count."""
        raise NotImplementedError

    def get(self, doc_id: str) -> Entry | None:
        raise NotImplementedError

    def remove(self, ids: Iterable[str]) -> int:
        """Forget documents by id; returns how many were indexed."""
        raise NotImplementedError

    def evict(self, before_ts: int) -> int:
        """Forget every document with ``ts < before_ts``; returns how many."""
        raise NotImplementedError

    def count(self) -> int:
        raise NotImplementedError

    def stats(self) -> dict:
        """``documents``, ``bucket_entries``, ``bytes`` (on disk or in memory, when known), ``oldest``,
        ``newest`` and the metadata."""
        raise NotImplementedError

    def prepare(self) -> None:
        """Load what the first lookup would otherwise load (the SQLite key map); optional."""

    def compact(self) -> dict:
        """Reclaim space; returns :meth:`stats` afterwards."""
        return self.stats()

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _unique_keys(keys: np.ndarray) -> list[int]:
    u = np.unique(np.asarray(keys, dtype=np.uint32))
    return u[u != 0].tolist()


@dataclass
class Judged:
    """One entry of a batch judged by :func:`judge_batch`: its verdict and the ids of the
    candidates the judge saw (what a backend's optimistic commit checks against)."""

    entry: Entry
    verdict: object
    seen: list[str]


def _earlier_sharing(entries: Sequence[Entry]) -> list[list[int]]:
    """For each entry of a batch, the positions of the earlier entries sharing a bucket key with
    it (one numpy sort of the batch's keys; Python only for the keys that repeat)."""
    out: list[list[int]] = [[] for _ in entries]
    if len(entries) < 2:
        return out
    keys = [np.asarray(e.keys, dtype=np.uint32) for e in entries]
    flat = np.concatenate(keys)
    owner = np.repeat(np.arange(len(entries)), [len(k) for k in keys])
    keep = flat != 0
    flat, owner = flat[keep], owner[keep]
    order = np.lexsort((owner, flat))
    flat, owner = flat[order], owner[order]
    same = np.flatnonzero(flat[1:] == flat[:-1])
    if not len(same):
        return out
    pairs: set[tuple[int, int]] = set()
    starts = same[np.concatenate(([True], np.diff(same) > 1))]  # first position of each run of a key
    for s0 in starts.tolist():
        k = flat[s0]
        group = []
        i = s0
        while i < len(flat) and flat[i] == k:
            group.append(int(owner[i]))
            i += 1
        group = sorted(set(group))
        for a in range(len(group)):
            for b in range(a + 1, len(group)):
                pairs.add((group[a], group[b]))
    for a, b in sorted(pairs):
        out[b].append(a)
    return out


def judge_batch(entries: Sequence[Entry], judge: Judge, known: dict[str, Entry],
                candidates: Sequence[list[Entry]]) -> list[Judged]:
    """Judge a batch in order against one read of the index, as if each admitted entry had been
    stored before the next one is judged.

    ``known`` maps the batch's ids to their stored entries (absent: not stored) and
    ``candidates`` gives, per entry, the stored entries sharing a bucket with it, read once for
    the whole batch.  Each entry sees the entry stored under its id (or admitted earlier in the
    batch) and the candidates sharing a bucket with it (sorted by id, itself excluded; an entry
    admitted earlier in the batch replaces the stored one of its id), exactly what
    :meth:`IndexStore.check_and_add` would show it one entry at a time.  The earlier entries of
    the batch sharing a key come from :func:`_earlier_sharing`.  A judge with a
    ``prepare(entries, candidates)`` method is first shown every entry's stored candidates (the
    ones admitted earlier in the batch come later, one entry at a time), so it can work on them in
    one vectorised step; the verdicts must not depend on it.
    """
    prepare = getattr(judge, "prepare", None)
    if prepare is not None:
        prepare(entries, candidates)
    earlier = _earlier_sharing(entries)
    added: dict[str, Entry] = {}
    out: list[Judged] = []
    for i, e in enumerate(entries):
        prior = added.get(e.id)
        k = prior if prior is not None else known.get(e.id)
        cands: dict[str, Entry] = {}
        for c in candidates[i]:
            if c.id not in added:
                cands[c.id] = c
        for j in earlier[i]:
            ej = entries[j]
            if added.get(ej.id) is ej:  # (still the admitted version of its id)
                cands[ej.id] = ej
        cands.pop(e.id, None)
        verdict = judge(e, k, [cands[c] for c in sorted(cands)])
        admit = bool(verdict.admit)
        out.append(Judged(e, verdict, list(cands) if admit else []))
        if admit:
            added[e.id] = e
    return out


def index_url(url: str) -> str:
    """``url`` with a plain file path (no ``scheme://``) read as a SQLite file: ``seen.db`` is
    ``sqlite:///seen.db``, ``/data/seen.db`` is ``sqlite:////data/seen.db``."""
    return url if "://" in url else "sqlite:///" + url


def open_index(url: str, fingerprint: str, settings: dict, create: bool = True) -> IndexStore:
    """Open (or create) the index at ``url`` for documents signed with ``fingerprint``/``settings``.

    ``settings`` is a JSON-able dict of everything else that changes stored bytes (the filter's LSH
    bands, payload layout).  Raises :class:`~dedupe.errors.FingerprintMismatch` for an index built
    with other settings and :class:`~dedupe.errors.ConfigError` for an unknown URL scheme.
    """
    json.dumps(settings)  # must be JSON
    meta = new_meta(fingerprint, settings)
    url = index_url(url)
    if url.startswith("memory://"):
        from dedupe.index.memory import MemoryStore
        return MemoryStore.open(url, meta, create)
    if url.startswith("sqlite://"):
        from dedupe.index.sqlite import SQLiteStore
        return SQLiteStore.open(url, meta, create)
    if url.startswith(("redis://", "rediss://", "unix://")):
        from dedupe.index.redis import RedisStore
        return RedisStore.open(url, meta, create)
    raise ConfigError(f"unknown index URL {url!r}",
                      hint="use memory://, sqlite:///path/to/index.db (or a plain file path) or redis://host:port/db")


def read_meta(url: str) -> dict | None:
    """The metadata of an existing index without checking it against any settings (``None`` if empty)."""
    url = index_url(url)
    if url.startswith("memory://"):
        from dedupe.index.memory import MemoryStore
        return MemoryStore.peek(url)
    if url.startswith("sqlite://"):
        from dedupe.index.sqlite import SQLiteStore
        return SQLiteStore.peek(url)
    if url.startswith(("redis://", "rediss://", "unix://")):
        from dedupe.index.redis import RedisStore
        return RedisStore.peek(url)
    raise ConfigError(f"unknown index URL {url!r}",
                      hint="use memory://, sqlite:///path/to/index.db (or a plain file path) or redis://host:port/db")


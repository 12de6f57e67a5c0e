"""SQLite index backend: one file, WAL mode, the embedded default.

URL: ``sqlite:///relative/path.db`` or ``sqlite:////absolute/path.db`` (SQLAlchemy's convention:
what follows ``sqlite:///`` is the path).

Layout (index format version 2)::

    meta(key TEXT PRIMARY KEY, value TEXT)                 -- 'meta' -> JSON metadata,
                                                           -- 'next_num' -> next document number
    docs(num INTEGER PRIMARY KEY, id TEXT UNIQUE, ts INTEGER,
         keys BLOB,      -- bucket keys, uint32 little-endian
         payload BLOB)   -- the filter's verification data, raw bytes

Document numbers only grow (``next_num``; a number is never reused, even after removals), so a
process knows which rows it has not seen yet.  The bucket key -> document map is not stored as
rows: each process keeps it in memory (:class:`~dedupe.index.keymap.KeyMap`, built from
``docs.keys`` on first use, about 8 bytes per key, ~380 MB for 1,000,000 documents of 47 keys) and
at the start of every transaction reads the rows appended since (``num > last seen``).  The map
only proposes candidates; which stored document shares a bucket with which new one is decided
from the rows read back, so a stale map (documents removed by another process) cannot change a
verdict.

Why not a ``(key, num)`` table, as format version 1 had: 47 rows per document at random keys make
every admitted document dirty ~47 B-tree pages (~190 KB of WAL and checkpoint writes) and every
lookup 47 B-tree probes (~0.3 ms per document at 1,000,000 documents); that capped check-and-add
near 500 documents/s.  Version 1 files are upgraded when opened (the bucket table is dropped; the
documents are kept as they are).

Every ``check_and_add`` (or batch of them) is one ``BEGIN IMMEDIATE`` transaction: the write lock
is taken before the candidates are read, so concurrent processes on the same file are serialised
and a document is never admitted twice.  A batch costs one catch-up read, one read of its ids,
one read of its candidates and one ``executemany`` of the admitted documents, whatever its size;
it is judged in order in between (:func:`~dedupe.index.store.judge_batch`).

``synchronous=NORMAL``: a killed process (even SIGKILL) never corrupts the file or loses a
committed transaction; a power cut may lose the last ones.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from dedupe.errors import BackendError, ConfigError
from dedupe.index.keymap import KeyMap, sorted_unique
from dedupe.index.store import FORMAT_VERSION, Entry, IndexStore, check_meta, judge_batch

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS docs(num INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, ts INTEGER NOT NULL,
                                keys BLOB NOT NULL, payload BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS docs_ts ON docs(ts);
"""


def path_of(url: str) -> str:
    if not url.startswith("sqlite:///") or len(url) <= len("sqlite:///"):
        raise ConfigError(f"bad SQLite index URL {url!r}",
                          hint="use sqlite:///relative/path.db or sqlite:////absolute/path.db")
    return url[len("sqlite:///"):]


class SQLiteStore(IndexStore):
    #: The WAL is copied back into the database by a background thread (its own connection,
    #: PASSIVE checkpoints: never blocks the writer), not by the committing writer: in-line
    #: auto-checkpoints made the p99 latency of check-and-add 3-4x worse.
    CHECKPOINT_EVERY = 0.2  # seconds
    #: When more than this much of the WAL is not yet copied back (the background thread fell
    #: behind), the writer checkpoints itself.  Measured from the checkpoint's own frame counts:
    #: the WAL *file* keeps its high-water size after a reset, so its size says nothing (using it
    #: made every commit checkpoint once the file had grown, the "64 per transaction is slower" bug).
    WAL_LIMIT = 256 << 20
    #: The WAL file is truncated to this size when it is reset (bounds disk use after bursts).
    WAL_KEEP = 64 << 20
    #: The in-memory key map drops the numbers of removed documents when it holds more than this
    #: many entries per stored document's key (checked when documents are removed or evicted).
    PRUNE_RATIO = 1.5

    def __init__(self, url: str, conn: sqlite3.Connection, meta: dict):
        self.url = url
        self.path = path_of(url)
        self._c = conn
        self.meta = meta
        self._stop = threading.Event()
        self._checkpointer: threading.Thread | None = None
        self._page = conn.execute("PRAGMA page_size").fetchone()[0]
        self._backlog = 0  # WAL frames not yet copied back, as of the last checkpoint
        self._map: KeyMap | None = None  # built on first use (see the module docstring)
        self._synced = False  # the map is up to date within the current write transaction
        self._lock = threading.RLock()

    def _checkpoint(self, conn: sqlite3.Connection) -> None:
        busy, frames, done = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        self._backlog = max(0, frames - done) if frames >= 0 else 0

    def _start_checkpointer(self) -> None:
        if self._checkpointer is not None:
            return
        self._c.execute("PRAGMA wal_autocheckpoint=0")

        def loop(path=self.path, stop=self._stop, every=self.CHECKPOINT_EVERY):
            try:
                conn = sqlite3.connect(path, timeout=1.0, isolation_level=None, check_same_thread=False)
            except sqlite3.Error:
                return
            try:
                while not stop.wait(every):
                    try:
                        self._checkpoint(conn)
                    except sqlite3.Error:
                        pass
            finally:
                conn.close()

        self._checkpointer = threading.Thread(target=loop, name="dedupe-sqlite-checkpoint", daemon=True)
        self._checkpointer.start()

    @staticmethod
    def _connect(path: str) -> sqlite3.Connection:
        conn = sqlite3.connect(path, timeout=60.0, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA cache_size=-131072")  # 128 MiB of page cache
        conn.execute("PRAGMA mmap_size=4294967296")
        conn.execute(f"PRAGMA journal_size_limit={SQLiteStore.WAL_KEEP}")
        return conn

    @classmethod
    def open(cls, url: str, meta: dict, create: bool = True) -> "SQLiteStore":
        path = path_of(url)
        if not create and not os.path.exists(path):
            raise ConfigError(f"no index at {url}", hint="add documents first with `dedupe index add`")
        parent = Path(path).resolve().parent
        if not parent.is_dir():
            raise ConfigError(f"cannot create {url}: directory {parent} does not exist")
        try:
            conn = cls._connect(path)
            conn.execute("BEGIN IMMEDIATE")
            try:
                for stmt in _SCHEMA.split(";"):
                    if stmt.strip():
                        conn.execute(stmt)
                row = conn.execute("SELECT value FROM meta WHERE key='meta'").fetchone()
                stored = json.loads(row[0]) if row else None
                check_meta(stored, meta, url)
                if stored is None:
                    conn.execute("INSERT INTO meta(key, value) VALUES ('meta', ?)", (json.dumps(meta),))
                elif stored.get("version") != FORMAT_VERSION:
                    stored = cls._upgrade(conn, stored)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                conn.close()
                raise
        except sqlite3.DatabaseError as exc:
            raise ConfigError(f"cannot open {url}: {exc}",
                              hint="is it a dedupe SQLite index? give a new path to create one") from exc
        return cls(url, conn, stored or meta)

    @staticmethod
    def _upgrade(conn: sqlite3.Connection, stored: dict) -> dict:
        """Version 1 -> 2 (inside the opening transaction): drop the bucket rows, number new
        documents after every number used so far."""
        conn.execute("DROP TABLE IF EXISTS buckets")
        conn.execute("INSERT OR IGNORE INTO meta(key, value) "
                      "SELECT 'next_num', coalesce(max(num), 0) + 1 FROM docs")
        stored = dict(stored, version=FORMAT_VERSION)
        conn.execute("UPDATE meta SET value=? WHERE key='meta'", (json.dumps(stored),))
        return stored

    @classmethod
    def peek(cls, url: str) -> dict | None:
        path = path_of(url)
        if not os.path.exists(path):
            return None
        try:
            conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            try:
                row = conn.execute("SELECT value FROM meta WHERE key='meta'").fetchone()
            finally:
                conn.close()
        except sqlite3.DatabaseError as exc:
            raise ConfigError(f"cannot open {url}: {exc}", hint="is it a dedupe SQLite index?") from exc
        return json.loads(row[0]) if row else None

    # -- internals (inside a transaction) ------------------------------------------------------
    def _select(self, sql: str, values: list, chunk: int = 900) -> list:
        """Rows of ``sql`` (with one ``{marks}`` placeholder list) for every chunk of ``values``."""
        c = self._c
        rows: list = []
        for i in range(0, len(values), chunk):
            part = values[i:i + chunk]
            rows.extend(c.execute(sql.format(marks=",".join("?" * len(part))), part).fetchall())
        return rows

    def _sync(self) -> KeyMap:
        """The key map, brought up to date with the documents committed so far (call inside a
        transaction, so what it reads is what the rest of the transaction sees)."""
        m = self._map
        if m is None:
            m = KeyMap()
            rows = self._c.execute("SELECT num, keys FROM docs").fetchall()
            if rows:
                nums = np.fromiter((r[0] for r in rows), dtype=np.uint64, count=len(rows))
                sizes = np.fromiter((len(r[1]) for r in rows), dtype=np.int64, count=len(rows))
                if (sizes % 4).any():
                    self._damaged(rows[int(np.flatnonzero(sizes % 4)[0])][0])
                keys = np.frombuffer(b"".join(r[1] for r in rows), dtype="<u4")
                m.load(np.repeat(nums, sizes // 4), keys)
            self._map = m
            return m
        for num, kb in self._c.execute("SELECT num, keys FROM docs WHERE num > ? ORDER BY num", (m.upto,)):
            if len(kb) % 4:
                self._damaged(num)
            m.add(num, np.frombuffer(kb, "<u4"))
        return m

    def _damaged(self, num: int):
        raise BackendError(f"{self.url}: document row {num} has a damaged key list (not whole uint32 values)",
                           hint="remove that document (`dedupe index remove`) or rebuild the index")

    def _read(self, ids: list[str], keys: list[np.ndarray]):
        """One read for a whole batch: ``({id: Entry}, [[Entry...] per item])``: the stored
        entries under ``ids`` and, for each item, the stored entries sharing one of its ``keys``.
        The key map gives the ``(key, num)`` pairs of the batch's keys; the rows of those numbers
        are read in one query (a number whose row is gone, removed by any process, drops out
        there: a number's keys never change and numbers are never reused, so the pairs of the
        numbers still stored are exact) and joined to the items on the key with numpy."""
        known: dict[str, Entry] = {}
        for doc_id, ts, kb, payload in self._select(
                "SELECT id, ts, keys, payload FROM docs WHERE id IN ({marks})", list(dict.fromkeys(ids))):
            known[doc_id] = Entry(doc_id, ts, np.frombuffer(kb, "<u4"), payload)
        per_item: list[list[Entry]] = [[] for _ in keys]
        mine = [sorted_unique(np.asarray(k, dtype=np.uint32)) for k in keys]
        mine = [k[k != 0] for k in mine]
        item_keys = np.concatenate(mine) if mine else np.empty(0, np.uint32)
        if not len(item_keys):
            return known, per_item
        keymap = self._map if self._synced else self._sync()
        pair_keys, pair_nums = keymap.find_pairs(item_keys)
        if not len(pair_nums):
            return known, per_item
        rows = self._select("SELECT num, id, ts, keys, payload FROM docs WHERE num IN ({marks})",
                            sorted_unique(pair_nums).astype(np.int64).tolist())
        if not rows:
            return known, per_item
        stored = {num: Entry(doc_id, ts, np.frombuffer(kb, "<u4"), payload)
                  for num, doc_id, ts, kb, payload in rows}
        # join (key, item) with (key, num) on the key
        item_of = np.repeat(np.arange(len(mine)), [len(k) for k in mine])
        order = np.argsort(item_keys, kind="stable")
        item_keys, item_of = item_keys[order], item_of[order]
        lo = np.searchsorted(item_keys, pair_keys, side="left")
        hi = np.searchsorted(item_keys, pair_keys, side="right")
        counts = hi - lo
        ends = np.cumsum(counts)
        pos = np.arange(int(ends[-1])) + np.repeat(lo - (ends - counts), counts)
        width = np.uint64(1 << 32)
        pairs = sorted_unique(item_of[pos].astype(np.uint64) * width + np.repeat(pair_nums, counts))
        for item, num in zip((pairs // width).tolist(), (pairs % width).tolist()):
            e = stored.get(num)
            if e is not None:
                per_item[item].append(e)
        return known, per_item

    def _lookup_many(self, items) -> list[tuple[Entry | None, list[Entry]]]:
        known, per_item = self._read([i for i, _ in items], [k for _, k in items])
        out = []
        for (doc_id, _), cands in zip(items, per_item):
            k = known.get(doc_id)
            out.append((k, sorted((c for c in cands if c.id != doc_id),
                                                            key=lambda c: c.id)))
        return out

    def _insert(self, entries: list[Entry]) -> list[tuple[int, np.ndarray]]:
        """Store new entries (their ids not stored) in one statement; returns ``(num, keys)`` of
        each, for the key map once the transaction has committed."""
        if not entries:
            return []
        c = self._c
        row = c.execute("SELECT value FROM meta WHERE key='next_num'").fetchone()
        first = int(row[0]) if row else c.execute("SELECT coalesce(max(num), 0) + 1 FROM docs").fetchone()[0]
        c.executemany("INSERT INTO docs(num, id, ts, keys, payload) VALUES (?,?,?,?,?)",
                      [(first + i, e.id, int(e.ts), e.keys_bytes(), e.payload) for i, e in enumerate(entries)])
        c.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('next_num', ?)", (str(first + len(entries)),))
        return [(first + i, np.asarray(e.keys, dtype=np.uint32)) for i, e in enumerate(entries)]

    def _remove_ids(self, ids: list[str]) -> int:
        n = 0
        for i in range(0, len(ids), 900):
            part = ids[i:i + 900]
            n += self._c.execute(f"DELETE FROM docs WHERE id IN ({','.join('?' * len(part))})", part).rowcount
        return n

    def _write(self, fn):
        """Run ``fn()`` in one IMMEDIATE transaction (after bringing the key map up to date);
        translate SQLite errors.  ``fn`` returns ``(result, added)``: the documents it inserted
        go into the key map only once the transaction has committed."""
        self._start_checkpointer()
        with self._lock:
            try:
                self._c.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise BackendError(f"{self.url}: cannot start a write: {exc}") from exc
            try:
                if self._map is not None:
                    self._sync()  # so that the numbers added below come after every one it holds
                    self._synced = True
                result, added = fn()
                self._c.execute("COMMIT")
            except BaseException as exc:
                self._synced = False
                try:
                    self._c.execute("ROLLBACK")
                except sqlite3.Error:
                    pass
                if isinstance(exc, sqlite3.Error):
                    raise BackendError(f"{self.url}: {exc}") from exc
                raise
            self._synced = False
            if self._map is not None and added:
                for num, keys in added:
                    if num > self._map.upto:
                        self._map.add(num, keys)
            if self._backlog * self._page > self.WAL_LIMIT:
                try:
                    self._checkpoint(self._c)
                except sqlite3.Error:
                    pass
            return result

    def _maybe_prune(self) -> None:
        """After removals: drop removed documents' numbers from the key map once they are a
        large share of it (inside a transaction)."""
        m = self._map
        if m is None:
            return
        keys = self._c.execute("SELECT coalesce(sum(length(keys)), 0) / 4 FROM docs").fetchone()[0]
        if len(m) > self.PRUNE_RATIO * keys + 100_000:
            live = np.array([r[0] for r in self._c.execute("SELECT num FROM docs ORDER BY num")], dtype=np.uint64)
            m.prune(live)

    # -- interface -----------------------------------------------------------------------------
    def check_and_add(self, entry: Entry, judge):
        return self.check_and_add_many([entry], judge)[0]

    def check_and_add_many(self, entries: Sequence[Entry], judge) -> list:
        """The whole batch in one ``BEGIN IMMEDIATE`` transaction: one read of the ids and
        candidates of every entry, judged in order (:func:`~dedupe.index.store.judge_batch`: each
        entry sees the earlier admitted ones), then one write of the admitted entries.

        (An optimistic variant, reading and judging outside the write lock and judging again
        under it when a row committed in between shares a key with the batch, was measured and
        dropped: two processes sharing a 1,000,000-document index did 1,650 docs/s against 2,490
        for one, since a quarter of the batches of a news stream conflicted, every process also
        has to add the other's documents to its key map, and the re-judging runs under the lock.)"""
        entries = list(entries)

        def run():
            known, per_entry = self._read([e.id for e in entries], [e.keys for e in entries])
            judged = judge_batch(entries, judge, known, candidates=per_entry)
            admitted: dict[str, Entry] = {}
            for j in judged:
                if j.verdict.admit:
                    admitted[j.entry.id] = j.entry
            self._remove_ids([doc_id for doc_id in admitted if doc_id in known])
            return [j.verdict for j in judged], self._insert(list(admitted.values()))
        return self._write(run)

    def lookup(self, doc_id: str, keys: np.ndarray):
        return self.lookup_many([(doc_id, keys)])[0]

    def lookup_many(self, items):
        """Read-only, in one read transaction (a consistent view of the file)."""
        with self._lock:
            try:
                self._c.execute("BEGIN")
                try:
                    return self._lookup_many(list(items))
                finally:
                    self._c.execute("COMMIT")
            except sqlite3.Error as exc:
                raise BackendError(f"{self.url}: {exc}") from exc

    def add_many(self, entries: Iterable[Entry], batch: int = 5000) -> int:
        n = 0
        chunk: list[Entry] = []

        def flush():
            final = {e.id: e for e in chunk}
            self._remove_ids(list(final))
            return None, self._insert(list(final.values()))

        for e in entries:
            chunk.append(e)
            if len(chunk) >= batch:
                self._write(flush)
                n += len(chunk)
                chunk = []
        if chunk:
            self._write(flush)
            n += len(chunk)
        return n

    def get(self, doc_id: str) -> Entry | None:
        with self._lock:
            try:
                row = self._c.execute("SELECT ts, keys, payload FROM docs WHERE id=?", (doc_id,)).fetchone()
            except sqlite3.Error as exc:
                raise BackendError(f"{self.url}: {exc}") from exc
        return None if row is None else Entry(doc_id, row[0], np.frombuffer(row[1], "<u4"), row[2])

    def remove(self, ids: Iterable[str]) -> int:
        ids = list(dict.fromkeys(ids))

        def run():
            n = self._remove_ids(ids)
            if n:
                self._maybe_prune()
            return n, None
        return self._write(run)

    def evict(self, before_ts: int) -> int:
        def run():
            n = self._c.execute("DELETE FROM docs WHERE ts < ?", (int(before_ts),)).rowcount
            if n:
                self._maybe_prune()
            return n, None
        return self._write(run)

    def prepare(self) -> None:
        """Build the key map now rather than in the first lookup (its cost is about 6 s per
        1,000,000 documents, once per process)."""
        with self._lock:
            try:
                self._c.execute("BEGIN")
                try:
                    self._sync()
                finally:
                    self._c.execute("COMMIT")
            except sqlite3.Error as exc:
                raise BackendError(f"{self.url}: {exc}") from exc

    def count(self) -> int:
        return self._c.execute("SELECT count(*) FROM docs").fetchone()[0]

    def file_bytes(self) -> int:
        return sum(os.path.getsize(p) for p in (self.path, self.path + "-wal") if os.path.exists(p))

    def stats(self) -> dict:
        try:
            c = self._c
            n, oldest, newest, buckets = c.execute(
                "SELECT count(*), min(ts), max(ts), coalesce(sum(length(keys)), 0) / 4 FROM docs").fetchone()
        except sqlite3.Error as exc:
            raise BackendError(f"{self.url}: {exc}") from exc
        return {"url": self.url, "backend": "sqlite", "documents": n, "bucket_entries": buckets,
                "bytes": self.file_bytes(), "oldest": oldest, "newest": newest, "meta": self.meta}

    def compact(self) -> dict:
        try:
            self._c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self._c.execute("VACUUM")
            self._c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.Error as exc:
            raise BackendError(f"{self.url}: compaction failed: {exc}") from exc
        self._map = None  # rebuilt without the removed documents on next use
        return self.stats()

    def close(self) -> None:
        if self._checkpointer is not None:
            self._stop.set()
            self._checkpointer.join()
            self._checkpointer = None
        try:
            self._c.execute("PRAGMA wal_checkpoint(PASSIVE)")
        except sqlite3.Error:
            pass
        try:
            self._c.close()
        except sqlite3.Error:
            pass

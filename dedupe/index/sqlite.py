"""SQLite index backend: one file, WAL mode, the embedded default.

URL: ``sqlite:///relative/path.db`` or ``sqlite:////absolute/path.db`` (SQLAlchemy's convention:
what follows ``sqlite:///`` is the path).

Layout (format version 1)::

    meta(key TEXT PRIMARY KEY, value TEXT)                 -- 'meta' -> JSON metadata
    docs(num INTEGER PRIMARY KEY, id TEXT UNIQUE, ts INTEGER,
         keys BLOB,      -- bucket keys, uint32 little-endian
         payload BLOB)   -- the filter's verification data, raw bytes
    buckets(key INTEGER, num INTEGER, PRIMARY KEY(key, num)) WITHOUT ROWID
                         -- bucket key (uint32 stored as signed int32) -> docs.num

Every ``check_and_add`` (or batch of them) is one ``BEGIN IMMEDIATE`` transaction: the write lock
is taken before the candidates are read, so concurrent processes on the same file are serialised
and a document is never admitted twice.  A batch costs two reads (the ids; the documents sharing
a bucket with any document of the batch) and two writes (``executemany`` of the documents and of
the bucket rows, sorted by key), whatever its size; it is judged in order in between
(:func:`~dedupe.index.store.judge_batch`).  What bounds the speed is the bucket rows: 47 per
document at random keys, so each admitted document dirties ~47 B-tree pages that the commit
writes to the WAL and the checkpoint copies back (~190 KB of page writes per document).

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
from dedupe.index.store import Entry, IndexStore, check_meta, judge_batch

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS docs(num INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, ts INTEGER NOT NULL,
                                keys BLOB NOT NULL, payload BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS docs_ts ON docs(ts);
CREATE TABLE IF NOT EXISTS buckets(key INTEGER NOT NULL, num INTEGER NOT NULL, PRIMARY KEY(key, num))
    WITHOUT ROWID;
"""


def path_of(url: str) -> str:
    if not url.startswith("sqlite:///") or len(url) <= len("sqlite:///"):
        raise ConfigError(f"bad SQLite index URL {url!r}",
                          hint="use sqlite:///relative/path.db or sqlite:////absolute/path.db")
    return url[len("sqlite:///"):]


def _signed(keys: np.ndarray) -> list[int]:
    """Unique non-zero uint32 keys as signed int32 Python ints (4 bytes each in SQLite)."""
    k = np.unique(np.asarray(keys, dtype=np.uint32))
    k = k[k != 0]
    return k.view(np.int32).tolist()


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

    def __init__(self, url: str, conn: sqlite3.Connection, meta: dict):
        self.url = url
        self.path = path_of(url)
        self._c = conn
        self.meta = meta
        self._stop = threading.Event()
        self._checkpointer: threading.Thread | None = None
        self._page = conn.execute("PRAGMA page_size").fetchone()[0]
        self._backlog = 0  # WAL frames not yet copied back, as of the last checkpoint

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
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                conn.close()
                raise
        except sqlite3.DatabaseError as exc:
            raise ConfigError(f"cannot open {url}: {exc}",
                              hint="is it a dedupe SQLite index? give a new path to create one") from exc
        return cls(url, conn, stored or meta)

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

    def _read(self, ids: list[str], keys: list[np.ndarray]):
        """One read for a whole batch: ``({id: (num, Entry)}, [[Entry...] per item])``: the stored
        entries under ``ids`` and, for each item, the stored entries sharing one of its ``keys``
        (two queries, whatever the batch size; more only beyond 900 ids or keys).  Which stored
        entry shares a bucket with which item is worked out with numpy from the keys stored with
        each entry, not with a Python loop per key."""
        known: dict[str, tuple[int, Entry]] = {}
        for num, doc_id, ts, kb, payload in self._select(
                "SELECT num, id, ts, keys, payload FROM docs WHERE id IN ({marks})", list(dict.fromkeys(ids))):
            known[doc_id] = (num, Entry(doc_id, ts, np.frombuffer(kb, "<u4"), payload))
        per_item: list[list[Entry]] = [[] for _ in keys]
        mine = [np.unique(np.asarray(k, dtype=np.uint32)) for k in keys]
        mine = [k[k != 0] for k in mine]
        item_keys = np.concatenate(mine) if mine else np.empty(0, np.uint32)
        if not len(item_keys):
            return known, per_item
        skeys = np.unique(item_keys).view(np.int32).tolist()
        rows = self._select("SELECT num, id, ts, keys, payload FROM docs WHERE num IN "
                            "(SELECT num FROM buckets WHERE key IN ({marks}))", skeys)
        if not rows:
            return known, per_item
        stored: list[Entry] = []
        nums: set[int] = set()
        for num, doc_id, ts, kb, payload in rows:
            if num not in nums:  # (the same document can come back from two chunks)
                nums.add(num)
                stored.append(Entry(doc_id, ts, np.frombuffer(kb, "<u4"), payload))
        # join (key, item) with (key, stored entry) on the key
        item_of = np.repeat(np.arange(len(mine)), [len(k) for k in mine])
        order = np.argsort(item_keys, kind="stable")
        item_keys, item_of = item_keys[order], item_of[order]
        their = [np.asarray(e.keys, dtype=np.uint32) for e in stored]
        stored_keys = np.concatenate(their)
        stored_of = np.repeat(np.arange(len(stored)), [len(k) for k in their])
        lo = np.searchsorted(item_keys, stored_keys, side="left")
        hi = np.searchsorted(item_keys, stored_keys, side="right")
        counts = hi - lo
        hit = counts > 0
        lo, counts, stored_of = lo[hit], counts[hit], stored_of[hit]
        if not len(lo):
            return known, per_item
        ends = np.cumsum(counts)
        pos = np.arange(int(ends[-1])) + np.repeat(lo - (ends - counts), counts)
        pairs = np.unique(item_of[pos].astype(np.int64) * len(stored) + np.repeat(stored_of, counts))
        for item, j in zip((pairs // len(stored)).tolist(), (pairs % len(stored)).tolist()):
            per_item[item].append(stored[j])
        return known, per_item

    def _lookup(self, doc_id: str, keys) -> tuple[Entry | None, list[Entry]]:
        return self._lookup_many([(doc_id, keys)])[0]

    def _lookup_many(self, items) -> list[tuple[Entry | None, list[Entry]]]:
        known, per_item = self._read([i for i, _ in items], [k for _, k in items])
        out = []
        for (doc_id, _), cands in zip(items, per_item):
            k = known.get(doc_id)
            out.append((None if k is None else k[1], sorted((c for c in cands if c.id != doc_id),
                                                            key=lambda c: c.id)))
        return out

    def _insert(self, entries: list[Entry]) -> None:
        """Store new entries (their ids not stored): one statement for the documents, one for
        the bucket rows (sorted by key, so neighbouring rows share B-tree pages)."""
        if not entries:
            return
        c = self._c
        first = c.execute("SELECT coalesce(max(num), 0) + 1 FROM docs").fetchone()[0]
        c.executemany("INSERT INTO docs(num, id, ts, keys, payload) VALUES (?,?,?,?,?)",
                      [(first + i, e.id, int(e.ts), e.keys_bytes(), e.payload) for i, e in enumerate(entries)])
        keys = [np.unique(np.asarray(e.keys, dtype=np.uint32)) for e in entries]
        counts = np.array([len(k) for k in keys], dtype=np.int64)
        flat = np.concatenate(keys)
        nums = np.repeat(np.arange(first, first + len(entries), dtype=np.int64), counts)
        keep = flat != 0
        flat, nums = flat[keep].view(np.int32), nums[keep]
        order = np.lexsort((nums, flat))
        c.executemany("INSERT OR IGNORE INTO buckets(key, num) VALUES (?,?)",
                      zip(flat[order].tolist(), nums[order].tolist()))

    def _add(self, entry: Entry) -> None:
        self._remove(entry.id)
        self._insert([entry])

    def _remove(self, doc_id: str) -> bool:
        c = self._c
        row = c.execute("SELECT num, keys FROM docs WHERE id=?", (doc_id,)).fetchone()
        if row is None:
            return False
        num = row[0]
        c.executemany("DELETE FROM buckets WHERE key=? AND num=?",
                      [(k, num) for k in _signed(np.frombuffer(row[1], "<u4"))])
        c.execute("DELETE FROM docs WHERE num=?", (num,))
        return True

    def _write(self, fn):
        """Run ``fn()`` in one IMMEDIATE transaction; translate SQLite errors."""
        self._start_checkpointer()
        try:
            self._c.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise BackendError(f"{self.url}: cannot start a write: {exc}") from exc
        try:
            result = fn()
            self._c.execute("COMMIT")
            if self._backlog * self._page > self.WAL_LIMIT:
                try:
                    self._checkpoint(self._c)
                except sqlite3.Error:
                    pass
            return result
        except BaseException as exc:
            try:
                self._c.execute("ROLLBACK")
            except sqlite3.Error:
                pass
            if isinstance(exc, sqlite3.Error):
                raise BackendError(f"{self.url}: {exc}") from exc
            raise

    # -- interface -----------------------------------------------------------------------------
    def check_and_add(self, entry: Entry, judge):
        return self.check_and_add_many([entry], judge)[0]

    def check_and_add_many(self, entries: Sequence[Entry], judge) -> list:
        """The whole batch in one ``BEGIN IMMEDIATE`` transaction: one read of the ids and buckets
        of every entry, judged in order (:func:`~dedupe.index.store.judge_batch`: each entry sees
        the earlier admitted ones), then one write of the admitted entries."""
        entries = list(entries)

        def run():
            known, per_entry = self._read([e.id for e in entries], [e.keys for e in entries])
            judged = judge_batch(entries, judge, {i: k[1] for i, k in known.items()}, candidates=per_entry)
            admitted: dict[str, Entry] = {}
            for j in judged:
                if j.verdict.admit:
                    admitted[j.entry.id] = j.entry
            for doc_id in admitted:
                if doc_id in known:
                    self._remove(doc_id)
            self._insert(list(admitted.values()))
            return [j.verdict for j in judged]
        return self._write(run)

    def lookup(self, doc_id: str, keys: np.ndarray):
        return self.lookup_many([(doc_id, keys)])[0]

    def lookup_many(self, items):
        try:
            return self._lookup_many(list(items))
        except sqlite3.Error as exc:
            raise BackendError(f"{self.url}: {exc}") from exc

    def add_many(self, entries: Iterable[Entry], batch: int = 5000) -> int:
        n = 0
        chunk: list[Entry] = []

        def flush():
            final = {e.id: e for e in chunk}
            for doc_id in final:
                self._remove(doc_id)
            self._insert(list(final.values()))

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
        return self.lookup(doc_id, np.empty(0, np.uint32))[0]

    def remove(self, ids: Iterable[str]) -> int:
        ids = list(ids)
        return self._write(lambda: sum(self._remove(i) for i in ids))

    def evict(self, before_ts: int) -> int:
        def run():
            old = [r[0] for r in self._c.execute("SELECT id FROM docs WHERE ts < ?", (int(before_ts),))]
            for i in old:
                self._remove(i)
            return len(old)
        return self._write(run)

    def count(self) -> int:
        return self._c.execute("SELECT count(*) FROM docs").fetchone()[0]

    def file_bytes(self) -> int:
        return sum(os.path.getsize(p) for p in (self.path, self.path + "-wal") if os.path.exists(p))

    def stats(self) -> dict:
        try:
            c = self._c
            n, oldest, newest = c.execute("SELECT count(*), min(ts), max(ts) FROM docs").fetchone()
            buckets = c.execute("SELECT count(*) FROM buckets").fetchone()[0]
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

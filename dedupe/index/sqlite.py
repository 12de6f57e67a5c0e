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
and a document is never admitted twice.  ``synchronous=NORMAL``: a killed process (even SIGKILL)
never corrupts the file or loses a committed transaction; a power cut may lose the last ones.
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
from dedupe.index.store import Entry, IndexStore, check_meta

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
    CHECKPOINT_EVERY = 0.5  # seconds
    #: Above this WAL size the writer checkpoints itself (the background thread fell behind).
    WAL_LIMIT = 256 << 20

    def __init__(self, url: str, conn: sqlite3.Connection, meta: dict):
        self.url = url
        self.path = path_of(url)
        self._c = conn
        self.meta = meta
        self._stop = threading.Event()
        self._checkpointer: threading.Thread | None = None

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
                        conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
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
    def _lookup(self, doc_id: str, keys) -> tuple[Entry | None, list[Entry]]:
        c = self._c
        row = c.execute("SELECT ts, keys, payload FROM docs WHERE id=?", (doc_id,)).fetchone()
        known = None if row is None else Entry(doc_id, row[0], np.frombuffer(row[1], "<u4"), row[2])
        skeys = _signed(keys)
        if not skeys:
            return known, []
        marks = ",".join("?" * len(skeys))
        rows = c.execute(
            f"SELECT id, ts, keys, payload FROM docs WHERE num IN "
            f"(SELECT num FROM buckets WHERE key IN ({marks})) AND id != ? ORDER BY id",
            (*skeys, doc_id)).fetchall()
        return known, [Entry(r[0], r[1], np.frombuffer(r[2], "<u4"), r[3]) for r in rows]

    def _add(self, entry: Entry) -> None:
        c = self._c
        self._remove(entry.id)
        cur = c.execute("INSERT INTO docs(id, ts, keys, payload) VALUES (?,?,?,?)",
                        (entry.id, int(entry.ts), entry.keys_bytes(), entry.payload))
        num = cur.lastrowid
        c.executemany("INSERT OR IGNORE INTO buckets(key, num) VALUES (?,?)",
                      [(k, num) for k in _signed(entry.keys)])

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
            try:
                if os.path.getsize(self.path + "-wal") > self.WAL_LIMIT:
                    self._c.execute("PRAGMA wal_checkpoint(PASSIVE)")
            except OSError:
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
        def run():
            out = []
            for entry in entries:
                known, candidates = self._lookup(entry.id, entry.keys)
                verdict = judge(entry, known, candidates)
                if verdict.admit:
                    self._add(entry)
                out.append(verdict)
            return out
        return self._write(run)

    def lookup(self, doc_id: str, keys: np.ndarray):
        try:
            return self._lookup(doc_id, keys)
        except sqlite3.Error as exc:
            raise BackendError(f"{self.url}: {exc}") from exc

    def add_many(self, entries: Iterable[Entry], batch: int = 5000) -> int:
        n = 0
        chunk: list[Entry] = []

        def flush():
            for e in chunk:
                self._add(e)

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

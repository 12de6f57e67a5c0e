"""The index storage contract, run against every backend: memory, SQLite and a real Redis.

Redis: ``DEDUPE_TEST_REDIS_URL`` (default ``redis://127.0.0.1:6379/15``; ``.ci/run`` starts that
server).  Without a reachable server the Redis cases are skipped, unless ``CI`` is set, in which
case they fail.
"""

from __future__ import annotations

import os
import threading
import uuid

import numpy as np
import pytest

from dedupe.errors import BackendError, ConfigError, FingerprintMismatch
from dedupe.index.store import FORMAT_VERSION, Entry, open_index, read_meta

REDIS_URL = os.environ.get("DEDUPE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
SETTINGS = {"lsh": {"shingles": [18, 2]}, "payload": "test"}


def redis_or_skip(base: str = REDIS_URL) -> None:
    try:
        import redis

        redis.Redis.from_url(base, socket_connect_timeout=2).ping()
    except Exception as exc:  # noqa: BLE001 - any failure means "no server"
        message = f"no Redis server at {base} ({exc}); start one or set DEDUPE_TEST_REDIS_URL"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(params=["memory", "sqlite", "redis"])
def url(request, tmp_path):
    """A fresh index URL of each backend (Redis: a unique key prefix, deleted afterwards)."""
    kind = request.param
    if kind == "memory":
        yield f"memory://{uuid.uuid4().hex}"
    elif kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'index.db'}"
    else:
        redis_or_skip()
        sep = "&" if "?" in REDIS_URL else "?"
        u = f"{REDIS_URL}{sep}prefix=dedupe-test-{uuid.uuid4().hex}"
        yield u
        store = open_index(u, "fp", SETTINGS)
        store.drop_all()
        store.close()


def entry(doc_id: str, keys, ts: int = 100, payload: bytes | None = None) -> Entry:
    return Entry(doc_id, ts, np.array(keys, dtype=np.uint32), payload if payload is not None else doc_id.encode() * 3)


class Verdict:
    def __init__(self, admit, known, candidates):
        self.admit = admit
        self.known = known
        self.candidates = candidates


def admit_if_alone(e, known, candidates):
    """Admit a document sharing no bucket with another one and not yet indexed."""
    return Verdict(known is None and not candidates, known, candidates)


def test_empty_index(url):
    with open_index(url, "fp", SETTINGS) as store:
        assert store.count() == 0
        assert store.get("a") is None
        assert store.lookup("a", np.array([1, 2], np.uint32)) == (None, [])
        assert store.stats()["documents"] == 0
        assert store.meta["version"] == FORMAT_VERSION
        assert store.meta["fingerprint"] == "fp"


def test_round_trip_of_entries(url):
    with open_index(url, "fp", SETTINGS) as store:
        payload = bytes(range(256)) + b"\x00\xff"
        assert store.add_many([entry("a", [5, 7, 0xFFFFFFFF], ts=1234, payload=payload)]) == 1
        got = store.get("a")
        assert got.id == "a" and got.ts == 1234 and got.payload == payload
        assert sorted(got.keys.tolist()) == [5, 7, 0xFFFFFFFF]


def test_lookup_finds_shared_buckets_only(url):
    with open_index(url, "fp", SETTINGS) as store:
        store.add_many([entry("c", [1, 2]), entry("b", [2, 3]), entry("x", [9]), entry("é-ü", [0x80000001])])
        known, cands = store.lookup("new", np.array([2, 0x80000001], np.uint32))
        assert known is None
        assert [c.id for c in cands] == ["b", "c", "é-ü"]  # sorted by id, unrelated "x" absent
        known, cands = store.lookup("b", np.array([2, 3], np.uint32))
        assert known.id == "b"
        assert [c.id for c in cands] == ["c"]  # itself excluded


def test_check_and_add_admits_only_what_the_judge_admits(url):
    with open_index(url, "fp", SETTINGS) as store:
        v = store.check_and_add(entry("a", [1, 2]), admit_if_alone)
        assert v.admit and store.count() == 1
        v = store.check_and_add(entry("b", [2, 3]), admit_if_alone)
        assert not v.admit and [c.id for c in v.candidates] == ["a"]
        assert store.get("b") is None and store.count() == 1
        v = store.check_and_add(entry("a", [40]), admit_if_alone)
        assert not v.admit and v.known.id == "a"  # the judge sees the entry under the same id
        assert store.get("a").keys.tolist() == [1, 2]


def test_check_and_add_many_sees_earlier_documents_of_the_batch(url):
    with open_index(url, "fp", SETTINGS) as store:
        out = store.check_and_add_many([entry("a", [1]), entry("b", [1]), entry("c", [2])], admit_if_alone)
        assert [v.admit for v in out] == [True, False, True]
        assert store.count() == 2


def test_remove_forgets_document_and_buckets(url):
    with open_index(url, "fp", SETTINGS) as store:
        store.add_many([entry("a", [1, 2]), entry("b", [2])])
        assert store.remove(["a", "missing"]) == 1
        assert store.get("a") is None and store.count() == 1
        assert [c.id for c in store.lookup("q", np.array([1, 2], np.uint32))[1]] == ["b"]
        assert store.remove(["a"]) == 0


def test_re_adding_an_id_replaces_its_buckets(url):
    with open_index(url, "fp", SETTINGS) as store:
        store.add_many([entry("a", [1])])
        store.add_many([entry("a", [2], ts=200)])
        assert store.count() == 1
        assert store.lookup("q", np.array([1], np.uint32))[1] == []
        assert [c.ts for c in store.lookup("q", np.array([2], np.uint32))[1]] == [200]


def test_evict_by_timestamp(url):
    with open_index(url, "fp", SETTINGS) as store:
        store.add_many([entry("old", [1], ts=10), entry("edge", [1], ts=50), entry("new", [1], ts=90)])
        assert store.evict(50) == 1
        assert [c.id for c in store.lookup("q", np.array([1], np.uint32))[1]] == ["edge", "new"]
        stats = store.stats()
        assert (stats["documents"], stats["oldest"], stats["newest"]) == (2, 50, 90)


def test_reopen_keeps_data_and_refuses_other_settings(url):
    with open_index(url, "fp", SETTINGS) as store:
        store.add_many([entry("a", [1])])
    with open_index(url, "fp", SETTINGS) as store:
        assert store.get("a") is not None
    assert read_meta(url)["fingerprint"] == "fp"
    with pytest.raises(FingerprintMismatch, match="built with other settings"):
        open_index(url, "other-fp", SETTINGS)
    with pytest.raises(FingerprintMismatch):
        open_index(url, "fp", {**SETTINGS, "payload": "changed"})


def test_compact_keeps_documents(url):
    with open_index(url, "fp", SETTINGS) as store:
        store.add_many([entry(f"d{i}", [i + 1]) for i in range(50)])
        store.remove([f"d{i}" for i in range(25)])
        stats = store.compact()
        assert stats["documents"] == 25
        assert store.get("d30") is not None and store.get("d3") is None


def test_concurrent_check_and_add_admits_once(url):
    """Eight threads, each with its own connection, send the same new story at once."""
    if url.startswith("memory://"):
        stores = [open_index(url, "fp", SETTINGS) for _ in range(8)]
    else:
        open_index(url, "fp", SETTINGS).close()
        stores = [open_index(url, "fp", SETTINGS) for _ in range(8)]
    barrier = threading.Barrier(len(stores))
    results: list = []

    def work(store, n):
        for story in range(10):
            barrier.wait()
            # same story, different ids: they share bucket keys
            results.append(store.check_and_add(entry(f"s{story}-w{n}", [story + 1, 1000 + story]),
                                               admit_if_alone).admit)

    threads = [threading.Thread(target=work, args=(s, n)) for n, s in enumerate(stores)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(results) == 10
    assert stores[0].count() == 10
    for s in stores:
        s.close()


def test_concurrent_batches_admit_each_story_once(url):
    """Four threads send the same stories in batches (the batched read-judge-write path): each
    story is admitted once, and a batch still sees its own earlier documents."""
    open_index(url, "fp", SETTINGS).close()
    stores = [open_index(url, "fp", SETTINGS) for _ in range(4)]
    barrier = threading.Barrier(len(stores))
    results: list = []

    def work(store, n):
        for round_ in range(3):
            stories = range(round_ * 12, round_ * 12 + 12)
            barrier.wait()
            for lo in range(0, 12, 4):
                batch = [entry(f"s{s}-w{n}", [s + 1, 1000 + s]) for s in list(stories)[lo:lo + 4]]
                # a copy of the batch's first story inside the batch: never admitted
                batch.append(entry(f"s{stories[lo]}-w{n}-copy", [stories[lo] + 1]))
                results.extend(v.admit for v in store.check_and_add_many(batch, admit_if_alone))

    threads = [threading.Thread(target=work, args=(s, n)) for n, s in enumerate(stores)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(results) == 36 and len(results) == 4 * 3 * 3 * 5
    assert stores[0].count() == 36
    for s in stores:
        s.close()


def test_unknown_scheme_and_bad_paths(tmp_path):
    with pytest.raises(ConfigError, match="unknown index URL"):
        open_index("postgres://x", "fp", SETTINGS)
    with pytest.raises(ConfigError, match="does not exist"):
        open_index(f"sqlite:///{tmp_path}/no/such/dir/x.db", "fp", SETTINGS)
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not a database at all" * 100)
    with pytest.raises(ConfigError, match="cannot open"):
        open_index(f"sqlite:///{junk}", "fp", SETTINGS)
    with pytest.raises(ConfigError, match="no index at"):
        open_index(f"sqlite:///{tmp_path}/absent.db", "fp", SETTINGS, create=False)


def test_unreachable_redis_is_a_backend_error():
    pytest.importorskip("redis")
    with pytest.raises(BackendError, match="cannot reach Redis"):
        open_index("redis://127.0.0.1:1/0", "fp", SETTINGS)


# -- SQLite layout (format version 2): in-memory key map, numbers never reused, v1 upgrade -------

def test_sqlite_processes_see_each_others_additions_and_removals(tmp_path):
    """Two stores on one file (as two processes would be): each one's in-memory key map catches up
    with the other's writes, removals included, and document numbers are never reused (removing
    the newest document and adding another must not hide the new one from the first store)."""
    u = f"sqlite:///{tmp_path / 'shared.db'}"
    a, b = open_index(u, "fp", SETTINGS), open_index(u, "fp", SETTINGS)
    try:
        a.add_many([entry("x", [1, 2]), entry("y", [3])])
        assert [c.id for c in a.lookup("q", np.array([3], np.uint32))[1]] == ["y"]  # a's map is built
        assert [c.id for c in b.lookup("q", np.array([1], np.uint32))[1]] == ["x"]
        assert b.remove(["y"]) == 1
        b.add_many([entry("z", [4])])
        assert a.lookup("q", np.array([3], np.uint32))[1] == []
        assert [c.id for c in a.lookup("q", np.array([3, 4], np.uint32))[1]] == ["z"]
        verdict = a.check_and_add(entry("w", [4, 5]), admit_if_alone)
        assert not verdict.admit and [c.id for c in verdict.candidates] == ["z"]
        assert b.check_and_add(entry("v", [5]), admit_if_alone).admit
        assert [c.id for c in a.lookup("q", np.array([5], np.uint32))[1]] == ["v"]
    finally:
        a.close()
        b.close()


def test_sqlite_prunes_removed_documents_from_its_key_map(tmp_path):
    from dedupe.index.sqlite import SQLiteStore

    u = f"sqlite:///{tmp_path / 'p.db'}"
    with open_index(u, "fp", SETTINGS) as store:
        store.add_many([entry(f"d{i}", [i + 1, 10_000 + i]) for i in range(300)])
        store.prepare()
        assert len(store._map) == 600
        old = SQLiteStore.PRUNE_RATIO
        try:
            store.PRUNE_RATIO = 0.0  # (instance attribute) prune at any removal
            store.remove([f"d{i}" for i in range(200)])
        finally:
            store.PRUNE_RATIO = old
        assert store.stats()["bucket_entries"] == 200
        assert [c.id for c in store.lookup("q", np.array([1, 250], np.uint32))[1]] == ["d249"]


def test_sqlite_version_1_index_is_upgraded_when_opened(tmp_path):
    """A file in the version 1 layout (bucket rows in a table) opens, keeps its documents, loses
    the bucket table and numbers new documents after the old ones."""
    import json
    import sqlite3

    from dedupe.index.store import new_meta

    path = tmp_path / "v1.db"
    conn = sqlite3.connect(path)
    conn.executescript("""
        CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE docs(num INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, ts INTEGER NOT NULL,
                          keys BLOB NOT NULL, payload BLOB NOT NULL);
        CREATE INDEX docs_ts ON docs(ts);
        CREATE TABLE buckets(key INTEGER NOT NULL, num INTEGER NOT NULL, PRIMARY KEY(key, num)) WITHOUT ROWID;
    """)
    conn.execute("INSERT INTO meta VALUES ('meta', ?)", (json.dumps({**new_meta("fp", SETTINGS), "version": 1}),))
    for num, (doc_id, keys) in enumerate([("a", [1, 2]), ("b", [2, 3])], start=7):
        e = entry(doc_id, keys)
        conn.execute("INSERT INTO docs VALUES (?,?,?,?,?)", (num, e.id, e.ts, e.keys_bytes(), e.payload))
        conn.executemany("INSERT INTO buckets VALUES (?,?)", [(k, num) for k in keys])
    conn.commit()
    conn.close()
    u = f"sqlite:///{path}"
    assert read_meta(u)["version"] == 1
    with open_index(u, "fp", SETTINGS) as store:
        assert store.meta["version"] == FORMAT_VERSION == 2
        assert [c.id for c in store.lookup("q", np.array([2], np.uint32))[1]] == ["a", "b"]
        store.add_many([entry("c", [3])])
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT name FROM sqlite_master WHERE name='buckets'").fetchone() is None
    assert conn.execute("SELECT num FROM docs WHERE id='c'").fetchone() == (9,)
    conn.close()
    assert read_meta(u)["version"] == 2


def test_index_of_an_unknown_version_is_refused(tmp_path):
    import json
    import sqlite3

    from dedupe.index.store import new_meta

    path = tmp_path / "v9.db"
    open_index(f"sqlite:///{path}", "fp", SETTINGS).close()
    conn = sqlite3.connect(path)
    conn.execute("UPDATE meta SET value=? WHERE key='meta'", (json.dumps({**new_meta("fp", SETTINGS), "version": 9}),))
    conn.commit()
    conn.close()
    with pytest.raises(ConfigError, match="has index format version 9, this dedupe reads version 2"):
        open_index(f"sqlite:///{path}", "fp", SETTINGS)


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from dedupe.index.store import judge_batch  # noqa: E402


def reference_judge_batch(entries, judge, known, members):
    """judge_batch written the plain way, from the stored members of each bucket key and one
    key -> admitted-entries dict for the batch (what the SQLite and Redis backends did before)."""
    added, added_keys, added_members, out = {}, {}, {}, []
    for e in entries:
        keys = list(dict.fromkeys(k for k in e.keys.tolist() if k))
        prior = added.get(e.id)
        k = prior if prior is not None else known.get(e.id)
        cands = {}
        for key in keys:
            for c in members.get(key, ()):
                if c.id not in added:
                    cands[c.id] = c
            cands.update(added_members.get(key, {}))
        cands.pop(e.id, None)
        verdict = judge(e, k, [cands[i] for i in sorted(cands)])
        out.append((e.id, sorted(cands) if verdict.admit else []))
        if verdict.admit:
            for key in added_keys.get(e.id, ()):
                added_members[key].pop(e.id, None)
            added[e.id] = e
            added_keys[e.id] = keys
            for key in keys:
                added_members.setdefault(key, {})[e.id] = e
    return out


@settings(max_examples=80, deadline=None)
@given(st.lists(st.lists(st.integers(1, 12), max_size=4), max_size=6),
       st.lists(st.tuples(st.integers(0, 5), st.lists(st.integers(1, 12), max_size=4)), min_size=1, max_size=8),
       st.integers(0, 2**31))
def test_judge_batch_equals_the_plain_per_key_version(stored_keys, batch, seed):
    """judge_batch (per-entry candidate lists, earlier batch entries found by one sort) shows every
    entry the same known entry and candidates as the plain per-key version, repeated ids in the
    batch included."""
    import random

    stored = [entry(f"s{i}", keys) for i, keys in enumerate(stored_keys)]
    entries = [entry(f"s{i}" if i < len(stored) and i % 2 else f"b{i}", keys) for i, keys in batch]
    known = {e.id: s for e in entries for s in stored if s.id == e.id}
    members: dict[int, list[Entry]] = {}
    for s in stored:
        for k in set(s.keys.tolist()):
            members.setdefault(k, []).append(s)
    cands = [[s for s in stored if set(s.keys.tolist()) & set(e.keys.tolist())] for e in entries]
    rng = random.Random(seed)
    coin = [rng.random() < 0.6 for _ in entries]

    def judge_with(log):
        def judge(e, k, candidates):
            log.append((e.id, k.id if k else None, [c.id for c in candidates]))
            return Verdict(coin[len(log) - 1], k, candidates)
        return judge

    by_reference, by_candidates = [], []
    a = reference_judge_batch(entries, judge_with(by_reference), known, members)
    b = judge_batch(entries, judge_with(by_candidates), known, cands)
    assert by_reference == by_candidates
    assert a == [(j.entry.id, sorted(j.seen)) for j in b]


def test_sqlite_row_with_a_damaged_key_list_is_a_clear_error(tmp_path):
    import sqlite3

    u = f"sqlite:///{tmp_path / 'bad.db'}"
    with open_index(u, "fp", SETTINGS) as store:
        store.add_many([entry("a", [1, 2]), entry("b", [3])])
    conn = sqlite3.connect(tmp_path / "bad.db")
    conn.execute("UPDATE docs SET keys = x'010203' WHERE id = 'b'")
    conn.commit()
    conn.close()
    with open_index(u, "fp", SETTINGS) as store:
        with pytest.raises(BackendError, match=r"document row 2 has a damaged key list .*dedupe index remove"):
            store.check_and_add(entry("c", [1]), admit_if_alone)
        assert store.remove(["b"]) == 1
        assert not store.check_and_add(entry("c", [1]), admit_if_alone).admit

"""Benchmark of the pre-ingest filter (issue 5).  Prints figures; asserts nothing.

    python benchmarks/filter.py --docs 1000000            # the issue's size (SQLite fill ~ minutes)
    python benchmarks/filter.py --docs 100000 --measure 3000 --redis-url redis://127.0.0.1:6379/14

What it does:

1. builds a stream of ``--measure`` real news articles (BBC corpus at ../shared/data/bbc-news when
   present, else synthetic text) with edited copies mixed in, and featurises + signs it once
   (timed: the per-document cost of normalising, shingling and MinHash, the same on every backend);
2. SQLite: fills an index with ``--docs`` unrelated documents (random bucket keys and signatures;
   not timed; ``--template FILE`` copies a pre-filled index instead), then, each phase on its own
   copy of that index and with the whole stream: times check-and-add with ``--batches`` documents
   per transaction (default 1, 4, 8, 16, 64: docs/s and each document's latency, the time of the
   call that returns its verdict, p50/p99), and end to end (featurise, sign and check-and-add in
   batches of 64, what `dedupe filter` does; with ``--workers N`` half of it with featurising in N
   worker processes), and with ``--sqlite-workers`` processes sharing the index (SQLite serialises
   their transactions, so this shows what sharing costs, not a speed-up); prints the time to open
   the index and build its in-memory key map (once per process, not in the figures) and the file
   size per indexed document;
3. Redis: fills ``--redis-docs`` documents, then runs 2 worker processes that send the same
   stories at the same time (ids differ per worker), one document per call and then 64 per call,
   and counts documents admitted twice;
4. checks that memory, SQLite and Redis give identical verdicts on the same stream.

``--baseline DIR --template FILE`` first runs the SQLite phases for an older dedupe (in DIR) and
for this tree, one after the other on copies of the same pre-filled index: a before/after ratio
measured under the same machine load.  FILE must be in a format both read: an index format
version 1 file (filled by the older code) is read by an older dedupe and upgraded by this tree.

Targets from the issue (for comparison, not asserted): SQLite with 1,000,000 documents
>= 3,000 docs/s, p99 <= 5 ms, <= 1.5 KB/doc; Redis >= 2,000 docs/s with 2 workers, 0 admitted twice.
"""

from __future__ import annotations

import argparse
import dataclasses
import glob
import multiprocessing as mp
import os
import random
import shutil
import sqlite3
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
# --ab-code DIR (internal, see --baseline): measure the dedupe package found in DIR instead
CODE = Path(sys.argv[sys.argv.index("--ab-code") + 1]).resolve() if "--ab-code" in sys.argv else ROOT
sys.path.insert(0, str(CODE))

from dedupe.index.store import Entry  # noqa: E402
from dedupe.model import Document  # noqa: E402
from dedupe.pipeline.stream import _HEAD, RARE_K, StreamFilter  # noqa: E402


def bbc_files() -> list[str]:
    """The BBC News articles of the shared data directory (empty when it is absent)."""
    return sorted(glob.glob(str(ROOT.parent / "shared" / "data" / "bbc-news" / "bbc" / "*" / "*.txt")))


def corpus_texts(synthetic_seed: int | None = None) -> list[str]:
    if synthetic_seed is not None:
        rng = random.Random(synthetic_seed)
        vocab = [f"w{i}" for i in range(20000)]
        return [" ".join(rng.choice(vocab) for _ in range(350)) for _ in range(2000)]
    files = bbc_files()
    texts = []
    for f in files:
        data = Path(f).read_bytes()
        try:
            texts.append(data.decode("utf-8"))
        except UnicodeDecodeError:
            texts.append(data.decode("latin-1"))
    if texts:
        return texts
    rng = random.Random(0)
    vocab = [f"w{i}" for i in range(20000)]
    return [" ".join(rng.choice(vocab) for _ in range(350)) for _ in range(2000)]


def edited(text: str, rng: random.Random) -> str:
    """A syndicated copy: a paragraph dropped, a few words changed, a new sign-off."""
    paras = [p for p in text.split("\n") if p.strip()]
    if len(paras) > 3:
        del paras[rng.randrange(1, len(paras))]
    words = " ".join(paras).split()
    for _ in range(max(1, len(words) // 50)):
        words[rng.randrange(len(words))] = "edited"
    return " ".join(words) + " (Reporting by the wire desk)"


def make_stream(n: int, seed: int = 0, synthetic_seed: int | None = None, tag: str = "") -> list[Document]:
    """``n`` documents: corpus articles in random order with ~25% edited copies of earlier ones."""
    rng = random.Random(seed)
    texts = corpus_texts(synthetic_seed)
    order = list(range(len(texts)))
    rng.shuffle(order)
    docs, seen, k = [], [], 0
    while len(docs) < n:
        if seen and rng.random() < 0.25:
            i = rng.choice(seen)
            docs.append(Document(f"{tag}copy-{len(docs)}-of-{i}", edited(texts[i], rng)))
        else:
            i = order[k % len(order)]
            lap = k // len(order)
            k += 1
            text = texts[i] if lap == 0 else edited(texts[i], random.Random(lap * 100003 + i)) + f" lap{lap}"
            docs.append(Document(f"{tag}a{i}-{lap}", text))
            seen.append(i)
    return docs


def random_entries(n: int, n_keys: int, num_perm: int, seed: int = 1, start: int = 0):
    """Unrelated filler documents: random keys and signatures, realistic sizes and timestamps."""
    rng = np.random.default_rng(seed)
    now = int(time.time())
    chunk = 10000
    for lo in range(0, n, chunk):
        m = min(chunk, n - lo)
        keys = rng.integers(1, 1 << 32, size=(m, n_keys), dtype=np.uint64).astype(np.uint32)
        sigs = rng.integers(0, 256, size=(m, 2 * num_perm), dtype=np.uint8)
        digests = rng.integers(0, 1 << 63, size=m, dtype=np.int64)
        sizes = rng.integers(150, 700, size=(m, 2))
        for j in range(m):
            n_rare = int(rng.integers(10, 80))
            rare = np.sort(rng.choice(1 << 32, size=min(n_rare, RARE_K), replace=False)).astype("<u4")
            payload = (_HEAD.pack(int(digests[j]), int(sizes[j, 0]), int(sizes[j, 1]), n_rare)
                       + sigs[j].tobytes() + rare.tobytes())
            yield Entry(f"filler-{start + lo + j:09d}", now - int(rng.integers(0, 86400 * 30)),
                        np.unique(keys[j]), payload)


def fill_sqlite(path: str, entries, batch: int = 20000) -> None:
    """Bulk insert in the store's own layout (the rows the store writes, without its per-row
    Python overhead), in arrival order."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-524288")
    row = conn.execute("SELECT value FROM meta WHERE key='next_num'").fetchone()
    num = int(row[0]) - 1 if row else conn.execute("SELECT coalesce(max(num), 0) FROM docs").fetchone()[0]
    rows = []

    def flush():
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO docs(num, id, ts, keys, payload) VALUES (?,?,?,?,?)", rows)
        conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('next_num', ?)", (str(num + 1),))
        conn.execute("COMMIT")
        rows.clear()

    for e in entries:
        num += 1
        rows.append((num, e.id, e.ts, e.keys_bytes(), e.payload))
        if len(rows) >= batch:
            flush()
    if rows:
        flush()
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def pct(values, q):
    return float(np.percentile(np.asarray(values), q)) if len(values) else float("nan")


def _remove_db(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(str(path) + suffix):
            os.remove(str(path) + suffix)


def _copy_db(src: Path, dst: Path) -> None:
    """A copy of a closed SQLite file (a stale -wal beside ``dst`` would be replayed into it),
    written out to disk before it is used: the kernel flushing ~700 MB of dirty pages in the
    background stalled the timed commits by up to 400 ms."""
    _remove_db(dst)
    shutil.copyfile(src, dst)
    with open(dst, "rb+") as f:
        os.fsync(f.fileno())


def bench_sqlite(args, docs, signed, n_keys, num_perm):
    """Every phase starts from its own copy of the same filled index and checks the same stream,
    so the phases differ only in how the documents are sent."""
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="dedupe-bench-"))
    pristine = workdir / f"filter-{args.docs}.db"
    work = workdir / f"filter-{args.docs}-run.db"
    url = f"sqlite:///{work}"
    if not (args.reuse and pristine.exists()):
        t = time.perf_counter()
        if args.template:
            _copy_db(Path(args.template), pristine)
            print(f"sqlite: copied the pre-filled {args.template} in {time.perf_counter() - t:.0f} s (setup)")
        else:
            _remove_db(pristine)
            StreamFilter(f"sqlite:///{pristine}").close()
            fill_sqlite(str(pristine), random_entries(args.docs, n_keys, num_perm))
            print(f"sqlite: filled {args.docs:,} documents in {time.perf_counter() - t:.0f} s (setup, not a figure)")

    def fresh() -> StreamFilter:
        _copy_db(pristine, work)
        flt = StreamFilter(url)
        t = time.perf_counter()
        flt.store.prepare()
        return flt, time.perf_counter() - t

    rows = []
    decisions = {}
    for bsize in args.batches:
        # check-and-add of the signed stream, `bsize` per transaction.  A document's latency is
        # the time of the call that returns its verdict: its whole batch.
        flt, load = fresh()
        base = flt.store.count()
        lat = []
        counts = {"keep": 0, "drop": 0}
        t0 = time.perf_counter()
        for i in range(0, len(signed), bsize):
            t = time.perf_counter()
            verdicts = flt.check_and_add_signed(signed[i:i + bsize])
            lat.extend([time.perf_counter() - t] * len(verdicts))
            for v in verdicts:
                counts[v.decision] += 1
        rows.append((bsize, len(signed) / (time.perf_counter() - t0), pct(lat, 50), pct(lat, 99), max(lat)))
        decisions[bsize] = counts
        flt.close()
    single = rows[0][1]
    batched = rows[-1][1]
    pair_rows = bench_sqlite_workers(args, signed, pristine, work) if args.sqlite_workers > 1 else []
    # end to end: featurise + sign + check-and-add, batches of 64 (StreamFilter.check_and_add_many)
    flt, _ = fresh()
    t0 = time.perf_counter()
    last = docs
    if args.workers:
        last, pooled = last[:len(last) // 2], last[len(last) // 2:]
    for i in range(0, len(last), 64):
        flt.check_and_add_many(last[i:i + 64])
    e2e = len(last) / (time.perf_counter() - t0)
    if args.workers:
        # featurising in worker processes, ahead of the index; timed from the first verdict
        # (worker start-up and the first batch's signing excluded), i.e. the steady state
        first = None
        for n, _ in enumerate(flt.check_and_add_stream(pooled, batch=64, workers=args.workers)):
            if first is None:
                first, skip = time.perf_counter(), n
        pooled_rate = (len(pooled) - 1 - skip) / (time.perf_counter() - first)
    total = flt.store.count()
    flt.close()  # stops the background checkpointer, so the TRUNCATE below is not refused as busy
    conn = sqlite3.connect(str(work))
    busy = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
    conn.close()
    size = sum(os.path.getsize(str(work) + x) for x in ("", "-wal") if os.path.exists(str(work) + x))
    if busy:
        print("sqlite: (the WAL could not be truncated; the size below includes it)")
    same = len({tuple(sorted(c.items())) for c in decisions.values()}) == 1
    print(f"sqlite: index of {base:,} documents; each phase on its own copy, the same {len(signed):,}-doc stream: "
          f"verdicts {decisions[args.batches[0]]}{' in every phase' if same else ', differing: ' + str(decisions)}")
    print(f"sqlite: opening the index and building its in-memory key map: {load:.1f} s "
          f"(once per process; not in the figures below)")
    for bsize, rate, p50, p99, worst in rows:
        ok = "met" if rate >= 3000 and p99 <= 0.005 else "not met"
        print(f"sqlite: check-and-add, {bsize:>3} doc(s)/transaction: {rate:8,.0f} docs/s   latency per document "
              f"p50 {p50 * 1e3:6.2f} ms   p99 {p99 * 1e3:6.2f} ms   max {worst * 1e3:7.1f} ms   "
              f"[>= 3,000 docs/s with p99 <= 5 ms: {ok}]")
    for bsize, rate, p50, p99, worst, keep in pair_rows:
        ok = "met" if rate >= 3000 and p99 <= 0.005 else "not met"
        print(f"sqlite: check-and-add by {args.sqlite_workers} processes sharing the index, {bsize:>3} doc(s)/transaction: "
              f"{rate:8,.0f} docs/s   latency per document p50 {p50 * 1e3:6.2f} ms   p99 {p99 * 1e3:6.2f} ms   "
              f"max {worst * 1e3:7.1f} ms   ({keep:,} kept)   [>= 3,000 docs/s with p99 <= 5 ms: {ok}]")
    print(f"sqlite: end to end in one process (featurise + sign + check-and-add, 64 docs/transaction): "
          f"{e2e:8,.0f} docs/s")
    if args.workers:
        print(f"sqlite: end to end, featurising in {args.workers} worker process(es) "
              f"(StreamFilter.check_and_add_stream): {pooled_rate:8,.0f} docs/s")
    print(f"sqlite: index size {size / 1e6:,.1f} MB = {size / total:,.0f} bytes/doc   [target <= 1,536 bytes/doc]")
    if args.compact:
        t = time.perf_counter()
        flt = StreamFilter(url)
        flt.store.compact()
        size = flt.store.file_bytes()
        flt.close()
        print(f"sqlite: after `dedupe index compact` ({time.perf_counter() - t:.0f} s): "
              f"{size / total:,.0f} bytes/doc")
    return single, batched


def _sqlite_worker(url, signed, worker, workers, batch, barrier, queue):
    """One of ``workers`` processes sharing an index: takes every ``workers``-th batch of the
    stream, so the processes work on the same stretch of news at the same time."""
    flt = StreamFilter(url)
    flt.store.prepare()
    barrier.wait()
    t0 = time.perf_counter()
    lat, counts = [], {"keep": 0, "drop": 0}
    for n, i in enumerate(range(0, len(signed), batch)):
        if n % workers != worker:
            continue
        t = time.perf_counter()
        verdicts = flt.check_and_add_signed(signed[i:i + batch])
        lat.extend([time.perf_counter() - t] * len(verdicts))
        for v in verdicts:
            counts[v.decision] += 1
    queue.put((t0, time.perf_counter(), lat, counts))
    flt.close()


def bench_sqlite_workers(args, signed, pristine: Path, work: Path) -> list:
    """Check-and-add by ``args.sqlite_workers`` processes on one copy of the index, ``bsize`` per
    transaction: docs/s from the common start to the last one done, latency per document."""
    ctx = mp.get_context("fork")
    rows = []
    for bsize in args.worker_batches:
        _copy_db(pristine, work)
        n = args.sqlite_workers
        barrier, queue = ctx.Barrier(n), ctx.Queue()
        procs = [ctx.Process(target=_sqlite_worker, args=(f"sqlite:///{work}", signed, w, n, bsize, barrier, queue))
                 for w in range(n)]
        for p in procs:
            p.start()
        results = [queue.get() for _ in procs]
        for p in procs:
            p.join()
        start, end = min(r[0] for r in results), max(r[1] for r in results)
        lat = [x for r in results for x in r[2]]
        keep = sum(r[3]["keep"] for r in results)
        rows.append((bsize, len(signed) / (end - start), pct(lat, 50), pct(lat, 99), max(lat), keep))
    return rows


def _redis_worker(url, signed, worker, barrier, queue, batch=1):
    flt = StreamFilter(url)
    mine = []
    for s in signed:  # the same stories as the other worker, under this worker's ids
        e = s.entry
        mine.append(dataclasses.replace(s, entry=Entry(f"{e.id}@w{worker}", e.ts, e.keys, e.payload)))
    barrier.wait()
    t = time.perf_counter()
    out = []
    for i in range(0, len(mine), batch):
        part = mine[i:i + batch]
        for s, v in zip(part, flt.check_and_add_signed(part)):
            out.append((s.entry.id.rsplit("@", 1)[0], v.decision))
    queue.put((time.perf_counter() - t, out))
    flt.close()


def bench_redis(args, signed, n_keys, num_perm):
    try:
        import redis

        redis.Redis.from_url(args.redis_url, socket_connect_timeout=2).ping()
    except Exception as exc:  # noqa: BLE001
        print(f"redis: skipped, no server at {args.redis_url} ({exc})")
        return
    sep = "&" if "?" in args.redis_url else "?"
    url = f"{args.redis_url}{sep}prefix=dedupe-bench-{uuid.uuid4().hex[:8]}"
    flt = StreamFilter(url)
    try:
        if args.redis_docs:
            t = time.perf_counter()
            flt.store.add_many(random_entries(args.redis_docs, n_keys, num_perm, seed=2))
            print(f"redis: filled {args.redis_docs:,} documents in {time.perf_counter() - t:.0f} s (setup)")
        ctx = mp.get_context("fork")
        for batch in (1, 64):
            # each batch size on its own stories (a fresh tag), so the second run is not all copies
            run = [dataclasses.replace(s, entry=dataclasses.replace(s.entry, id=f"b{batch}-{s.entry.id}"))
                   for s in signed]
            barrier, queue = ctx.Barrier(3), ctx.Queue()
            procs = [ctx.Process(target=_redis_worker, args=(url, run, w, barrier, queue, batch))
                     for w in range(2)]
            for p in procs:
                p.start()
            barrier.wait()
            t0 = time.perf_counter()
            results = [queue.get() for _ in procs]
            wall = time.perf_counter() - t0
            for p in procs:
                p.join()
            kept: dict[str, int] = {}
            for _, out in results:
                for story, decision in out:
                    kept[story] = kept.get(story, 0) + (decision == "keep")
            twice = sum(1 for c in kept.values() if c > 1)
            never = sum(1 for c in kept.values() if c == 0)
            n = sum(len(out) for _, out in results)
            print(f"redis: 2 workers x {len(run):,} docs, {batch} per call (same stories, same time): "
                  f"{n / wall:8,.0f} docs/s total; admitted twice: {twice}; stories admitted once: "
                  f"{len(kept) - never - twice}; dropped by both (copies): {never}   "
                  f"[target >= 2,000 docs/s, 0 twice]")
            flt.store.remove(i for i in list(_ids_of(flt.store)) if i.startswith(f"b{batch}-"))
    finally:
        flt.store.drop_all()
        flt.close()


def _ids_of(store):
    """Every id in a Redis index (to clear one run's documents before the next)."""
    return [k.decode("utf-8") for k in store.r.hkeys(store._docs)]


def bench_agreement(args, docs):
    urls = {"memory": "memory://"}
    tmp = tempfile.mkdtemp(prefix="dedupe-agree-")
    urls["sqlite"] = f"sqlite:///{tmp}/agree.db"
    try:
        import redis

        redis.Redis.from_url(args.redis_url, socket_connect_timeout=2).ping()
        sep = "&" if "?" in args.redis_url else "?"
        urls["redis"] = f"{args.redis_url}{sep}prefix=dedupe-agree-{uuid.uuid4().hex[:8]}"
    except Exception:  # noqa: BLE001
        pass
    verdicts = {}
    for name, url in urls.items():
        flt = StreamFilter(url)
        verdicts[name] = flt.check_and_add_many(docs)
        if name == "redis":
            flt.store.drop_all()
        flt.close()
    ref = verdicts["memory"]
    drops = sum(v.decision == "drop" for v in ref)
    same = {name: sum(a == b for a, b in zip(ref, v)) for name, v in verdicts.items()}
    print(f"agreement: {len(docs):,} docs ({drops} seen before) through {', '.join(urls)}: "
          + ", ".join(f"{name} {n}/{len(docs)} identical to memory" for name, n in same.items())
          + ("   IDENTICAL" if all(n == len(docs) for n in same.values()) else "   DIFFERENT"))


def ab_phase(args):
    """One line of the --baseline comparison for the code in --ab-code (run in a subprocess)."""
    n = args.measure // 3
    path = Path(args.workdir or tempfile.mkdtemp(prefix="dedupe-ab-")) / "ab.db"
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(str(path) + suffix):
            os.remove(str(path) + suffix)
    shutil.copyfile(args.template, path)
    docs = make_stream(3 * n)
    flt = StreamFilter(f"sqlite:///{path}")
    getattr(flt.store, "prepare", lambda: None)()  # (this tree's key map: built before the timing)
    flt.sign(docs[:10])
    t = time.perf_counter()
    signed = [s for i in range(0, len(docs), 64) for s in flt.sign(docs[i:i + 64])]
    feat = len(docs) / (time.perf_counter() - t)
    lat = []
    t0 = time.perf_counter()
    for s in signed[:n]:
        t = time.perf_counter()
        flt.check_and_add_signed([s])
        lat.append(time.perf_counter() - t)
    single = n / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    for i in range(n, 2 * n, 64):
        flt.check_and_add_signed(signed[i:min(i + 64, 2 * n)])
    batched = n / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    for i in range(2 * n, 3 * n, 64):
        flt.check_and_add_many(docs[i:i + 64])
    e2e = n / (time.perf_counter() - t0)
    flt.close()
    label = "this tree" if CODE == ROOT else str(CODE)
    print(f"baseline: {label}: featurise+sign {feat:,.0f} docs/s | 1 doc/transaction {single:,.0f} docs/s "
          f"(p50 {pct(lat, 50) * 1e3:.2f} ms, p99 {pct(lat, 99) * 1e3:.2f} ms) | 64 docs/transaction "
          f"{batched:,.0f} docs/s | end to end {e2e:,.0f} docs/s", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--docs", type=int, default=1_000_000, help="documents in the SQLite index before measuring")
    ap.add_argument("--measure", type=int, default=3000,
                    help="stream documents checked-and-added (in every SQLite phase)")
    ap.add_argument("--redis-url", default=os.environ.get("DEDUPE_TEST_REDIS_URL", "redis://127.0.0.1:6379/14"))
    ap.add_argument("--redis-docs", type=int, default=20000, help="documents in the Redis index before measuring")
    ap.add_argument("--backend", default="sqlite,redis,agree", help="comma list of sqlite, redis, agree")
    ap.add_argument("--workdir", default=None, help="where the SQLite file goes (default: a temp dir)")
    ap.add_argument("--reuse", action="store_true",
                    help="reuse the filled SQLite file of the same --docs left in --workdir by an earlier run "
                         "(the phases run on copies of it, so it stays as filled)")
    ap.add_argument("--compact", action="store_true", help="also measure the size after VACUUM")
    ap.add_argument("--template", default=None,
                    help="copy this pre-filled SQLite index (same --docs, made by an earlier run's fill) "
                         "instead of filling one")
    ap.add_argument("--baseline", default=None, metavar="DIR",
                    help="before the other phases, compare the SQLite figures of the dedupe package in DIR "
                         "(e.g. `git archive 8f07eb0 dedupe | tar -x -C DIR`) with this tree's, each on a copy "
                         "of --template and the same --measure stream, one after the other")
    ap.add_argument("--batches", type=lambda v: [int(x) for x in v.split(",")], default=[1, 4, 8, 16, 64],
                    help="documents per check-and-add transaction, one phase each (default 1,4,8,16,64)")
    ap.add_argument("--sqlite-workers", type=int, default=2,
                    help="also run check-and-add in this many processes sharing the SQLite index (0: skip)")
    ap.add_argument("--worker-batches", type=lambda v: [int(x) for x in v.split(",")], default=[8],
                    help="documents per transaction in the --sqlite-workers phases (default 8)")
    ap.add_argument("--workers", type=int, default=0,
                    help="also measure end to end with featurising in this many worker processes "
                         "(on half of the end-to-end part of the stream)")
    ap.add_argument("--ab-code", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    backends = set(args.backend.split(","))
    if args.ab_code:
        ab_phase(args)
        return
    if args.baseline:
        if not args.template:
            ap.error("--baseline needs --template (a pre-filled index both versions start from)")
        import subprocess

        for code in (args.baseline, str(ROOT)):
            cmd = [sys.executable, __file__, "--ab-code", code, "--template", args.template,
                   "--measure", str(args.measure)] + (["--workdir", args.workdir] if args.workdir else [])
            subprocess.run(cmd, check=True)

    docs = make_stream(args.measure)
    flt = StreamFilter("memory://")
    flt.sign(docs[:10])  # load the background table
    t = time.perf_counter()
    signed = []
    for i in range(0, len(docs), 256):
        signed.extend(flt.sign(docs[i:i + 256]))
    feat = len(docs) / (time.perf_counter() - t)
    n_keys = int(np.median([len(s.entry.keys) for s in signed]))
    num_perm = flt.num_perm
    payload = np.mean([len(s.entry.payload) for s in signed])
    print(f"stream: {len(docs):,} docs; featurise+sign (normalise, shingle, 3 MinHash views): {feat:,.0f} docs/s "
          f"per process; {n_keys} bucket keys and {payload:.0f} payload bytes per doc (mean)")
    if "sqlite" in backends:
        bench_sqlite(args, docs, signed, n_keys, num_perm)
    if "redis" in backends:
        bench_redis(args, signed, n_keys, num_perm)
    if "agree" in backends:
        bench_agreement(args, docs[: min(len(docs), 1500)])


if __name__ == "__main__":
    main()

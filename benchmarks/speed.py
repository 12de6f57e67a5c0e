"""Speed benchmark: dedupe's batched engine against datasketch and rensa, on the same documents.

Run from the repository root (the corpora are read from ``../shared/data``)::

    python benchmarks/speed.py --docs 20000                 # signature stage + end-to-end, ~2 min
    python benchmarks/speed.py --docs 20000 --big 1000000   # adds the large end-to-end run
    python benchmarks/speed.py --readme                     # rewrite README's table from the JSON

What it measures, all in this one run on this machine (each figure printed with the ratio against
its peers, and written with the machine and library versions to ``benchmarks/results/speed.json``):

* **signature stage** on the same normalised texts (word 5-grams, 128 permutations, seed 1):
  datasketch ``MinHash.update`` per shingle, datasketch ``update_batch``, rensa ``RMinHash`` (all
  three building the shingle strings in Python, as their users do) and dedupe (tokenise, hash
  k-grams, MinHash; and the same with all four hashed views and both signatures).  dedupe's
  signatures are checked equal to datasketch's ``MinHash`` fed the same shingle hash values.
* **end to end**, each in a fresh child process so its peak RSS is its own: dedupe's
  ``Deduplicator.run`` (read from memory, normalise, featurise, sign, LSH, verify, cluster) with
  the default settings (the learned verifier) and with ``verify.method="rule"``, and a
  straightforward datasketch pipeline (``update_batch`` + ``MinHashLSH`` insert/query + exact
  Jaccard verification + union-find), on the same documents.
* **large run** (``--big N``): dedupe end to end on N documents (default settings).

Targets (issue 6): signature stage >= 1.0x rensa; end to end >= 10,000 docs/s on 2 cores and
>= 6x the datasketch pipeline; 1,000,000 documents in <= 5 minutes with peak RSS <= 4 GB.  The
benchmark prints each as reached or not reached, and so does the README table.

Documents: the BBC and Reuters-21578 articles, then synthetic articles made from them until
``N`` are reached: each keeps a source article's layout and function words but shifts every
content word to another word of the corpus vocabulary (so it is a new story with its own
k-grams), and one in five synthetic articles is instead a near copy (a few words dropped or
changed) of an earlier one.  Generation is seeded, so every run and peer sees the same texts.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "speed.json"
README = ROOT / "README.md"
BEGIN, END = "<!-- speed-table:begin -->", "<!-- speed-table:end -->"
NUM_PERM, SEED, K = 128, 1, 5


# -- corpus ------------------------------------------------------------------------------------
def load_base(data: Path) -> list[str]:
    """Raw texts of the BBC and Reuters-21578 articles (non-empty bodies), in a fixed order."""
    import html

    texts = []
    for path in sorted((data / "bbc-news" / "bbc").glob("*/*.txt")):
        texts.append(path.read_bytes().decode("utf-8", errors="replace"))
    for path in sorted((data / "reuters21578").glob("reut2-*.sgm")):
        raw = path.read_text(encoding="latin-1")
        texts.extend(html.unescape(b) for b in re.findall(r"<BODY>(.*?)</BODY>", raw, re.S))
    texts = [t for t in texts if t.strip()]
    if not texts:
        raise SystemExit(f"error: no BBC or Reuters articles under {data}; pass --data DIR")
    return texts


def make_corpus(data: Path, n: int, seed: int = 7) -> list[tuple[str, str]]:
    """``n`` ``(id, text)`` documents: the real articles, then seeded synthetic ones."""
    from dedupe.shingle import STOP_WORDS

    base = load_base(data)
    docs = [(f"src-{i}", t) for i, t in enumerate(base[:n])]
    if n <= len(base):
        return docs
    rng = np.random.default_rng(seed)
    token = re.compile(r"\w+|[^\w\s]+|\n")
    vocab: dict[str, int] = {}
    tokenised = []
    for text in base:
        toks = token.findall(text)
        tokenised.append(np.array([vocab.setdefault(t, len(vocab)) for t in toks], dtype=np.int64))
    words = np.array(list(vocab), dtype=object)
    shiftable = np.array([w.isalpha() and len(w) > 2 and w.lower() not in STOP_WORDS for w in words])
    content_ids = np.flatnonzero(shiftable)
    rank = np.full(len(words), -1, dtype=np.int64)
    rank[content_ids] = np.arange(len(content_ids))
    made: list[str] = []
    while len(docs) < n:
        i = len(docs)
        if made and rng.random() < 0.2:  # a near copy of an earlier synthetic article
            src = made[int(rng.integers(len(made)))].split(" ")
            keep = rng.random(len(src)) > 0.03
            text = " ".join(w for w, k in zip(src, keep) if k)
            docs.append((f"syn-{i}", text))
            continue
        ids = tokenised[int(rng.integers(len(base)))]
        if len(ids) == 0:
            continue
        offset = int(rng.integers(1, len(content_ids)))
        r = rank[ids]
        shifted = np.where(r >= 0, content_ids[(r + offset) % len(content_ids)], ids)
        text = " ".join(words[shifted].tolist())
        made.append(text)
        docs.append((f"syn-{i}", text))
    return docs


def shingle_strings(text: str) -> list[str]:
    """Word 5-gram strings, the way a datasketch or rensa user builds them."""
    toks = re.findall(r"\w+", text)
    if len(toks) < K:
        return [" ".join(toks)] if toks else []
    return [" ".join(toks[i:i + K]) for i in range(len(toks) - K + 1)]


# -- measurements ------------------------------------------------------------------------------
def timed(fn, repeat: int = 1) -> float:
    """Best wall time of ``repeat`` calls."""
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


_SHINGLER = {}


def _sign_chunk(texts):
    """Worker: shingles-view signatures of a chunk of normalised texts."""
    from dedupe.config import Config
    from dedupe.shingle import Shingler
    from dedupe.signature import minhash_csr

    if "sh" not in _SHINGLER:
        _SHINGLER["sh"] = Shingler(Config().shingle)
    values, offsets = _SHINGLER["sh"].shingles_batch(texts)
    return minhash_csr(values, offsets, Config().minhash)


def all_views_label(signatures: int) -> str:
    """The signature-stage row that featurises every view and signs the pipeline's LSH views."""
    return f"dedupe (all 4 views + {signatures} signatures)"


def signature_stage(texts: list[str], repeat: int, workers: int = 1) -> dict:
    from datasketch import MinHash

    from dedupe.config import Config
    from dedupe.shingle import Shingler
    from dedupe.signature import Signer, minhash_csr

    n = len(texts)
    out: dict[str, dict] = {}

    def ds_per_shingle():
        for t in texts:
            m = MinHash(num_perm=NUM_PERM, seed=SEED)
            for s in shingle_strings(t):
                m.update(s.encode("utf-8"))

    def ds_batch():
        for t in texts:
            m = MinHash(num_perm=NUM_PERM, seed=SEED)
            m.update_batch([s.encode("utf-8") for s in shingle_strings(t)])

    engines = [("datasketch MinHash.update per shingle", ds_per_shingle, 1),
               ("datasketch MinHash.update_batch", ds_batch, repeat)]
    try:
        from rensa import RMinHash

        def rensa_run():
            for t in texts:
                m = RMinHash(num_perm=NUM_PERM, seed=SEED)
                m.update(shingle_strings(t))
                m.digest()

        engines.append(("rensa RMinHash", rensa_run, repeat))
    except ImportError:
        print("rensa is not installed (pip install -e '.[bench]'): skipped", file=sys.stderr)

    cfg = Config()
    warm = Shingler(cfg.shingle)
    warm.features_batch(texts)  # vocabulary warm-up: a long run meets few new words

    def dedupe_shingles():
        sh = warm
        for s in range(0, n, 2048):
            values, offsets = sh.shingles_batch(texts[s:s + 2048])
            minhash_csr(values, offsets, cfg.minhash)

    views = tuple(cfg.lsh_params())  # the signatures the pipeline computes

    def dedupe_all():
        signer = Signer(cfg)
        for s in range(0, n, 2048):
            signer.sign(warm.features_batch(texts[s:s + 2048]), views)

    engines.append(("dedupe (tokenise + hash 5-grams + MinHash)", dedupe_shingles, repeat))
    engines.append((all_views_label(len(views)), dedupe_all, repeat))
    pool = None
    if workers > 1:
        import multiprocessing as mp

        pool = mp.get_context("fork").Pool(workers)
        chunks = [texts[s:s + 512] for s in range(0, n, 512)]

        def dedupe_procs():
            for values in pool.imap(_sign_chunk, chunks):
                pass

        engines.append((f"dedupe, {workers} processes (tokenise + hash 5-grams + MinHash)", dedupe_procs,
                        repeat + 1))
    for name, fn, rep in engines:
        secs = timed(fn, rep)
        out[name] = {"seconds": round(secs, 4), "docs_per_s": round(n / secs, 1)}
        print(f"  {name:<45} {n / secs:>10,.0f} docs/s", flush=True)
    if pool is not None:
        pool.terminate()

    # exactness: dedupe's rows equal datasketch MinHash fed the same hash values
    values, offsets = warm.shingles_batch(texts[:200])
    sig = minhash_csr(values, offsets, cfg.minhash)
    equal = True
    for i in range(len(offsets) - 1):
        m = MinHash(num_perm=NUM_PERM, seed=SEED, hashfunc=lambda v: v)
        vals = values[offsets[i]:offsets[i + 1]]
        if len(vals):
            m.update_batch(vals.tolist())
        equal &= bool(np.array_equal(m.hashvalues.astype(np.uint32), sig[i]))
    out["_exact_vs_datasketch"] = equal
    print(f"  dedupe signatures == datasketch MinHash on the same hashes (200 docs): {equal}")
    return out


def run_dedupe(docs, workers, verifier: str = "learned") -> dict:
    from dedupe.config import Config
    from dedupe.model import Document
    from dedupe.pipeline import Deduplicator

    documents = [Document(i, t) for i, t in docs]
    del docs
    gc.collect()
    config = Config().with_(**{"verify.method": verifier})
    cpu0 = _cpu()
    t = time.perf_counter()
    result = Deduplicator(config, workers=workers).run(documents)
    secs = time.perf_counter() - t
    multi = sum(1 for c in result.clusters if len(c.members) > 1)
    return {"seconds": secs, "links": len(result.links), "candidates": result.candidates,
            "verified": result.verified, "multi_clusters": multi, "verifier": verifier, "_cpu_before": cpu0}


def _cpu() -> float:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def run_datasketch_pipeline(docs, threshold: float = 0.3) -> dict:
    """A straightforward datasketch pipeline: shingle strings, ``update_batch``, ``MinHashLSH``
    insert and query, exact Jaccard on the shingle sets, union-find."""
    from datasketch import LeanMinHash, MinHash, MinHashLSH

    from dedupe.normalize import normalize_text

    cpu0 = _cpu()
    t = time.perf_counter()
    lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM)
    sets, sigs = [], []
    for n, (_, text) in enumerate(docs):
        shingles = set(shingle_strings(normalize_text(text)))
        m = MinHash(num_perm=NUM_PERM, seed=SEED)
        m.update_batch([s.encode("utf-8") for s in shingles])
        m = LeanMinHash(m)
        lsh.insert(n, m)
        sets.append(shingles)
        sigs.append(m)
    parent = list(range(len(docs)))

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    links = candidates = 0
    for n, m in enumerate(sigs):
        for other in lsh.query(m):
            if other <= n:
                continue
            candidates += 1
            a, b = sets[n], sets[other]
            if a and b and len(a & b) / len(a | b) >= threshold:
                links += 1
                ra, rb = find(n), find(other)
                if ra != rb:
                    parent[max(ra, rb)] = min(ra, rb)
    secs = time.perf_counter() - t
    return {"seconds": secs, "links": links, "candidates": candidates, "_cpu_before": cpu0}


def child(kind: str, n: int, data: Path, workers) -> None:
    """Runs one end-to-end measurement and prints its JSON (used in a fresh process)."""
    docs = make_corpus(data, n)
    rss_input = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if kind.startswith("dedupe"):
        res = run_dedupe(docs, workers, "rule" if kind == "dedupe-rule" else "learned")
        res["docs"] = n
    else:
        res = run_datasketch_pipeline(docs)
        res["docs"] = len(docs)
    res["docs_per_s"] = res["docs"] / res["seconds"]
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    # CPU seconds of the run and its workers (corpus generation excluded): on a shared machine
    # the load-independent figure; docs per CPU-second x cores is what an idle machine would give
    res["cpu_seconds"] = me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime - res.pop("_cpu_before")
    res["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    res["peak_rss_workers_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    res["rss_after_input_mb"] = rss_input / 1024
    print(json.dumps(res))


def in_child(kind: str, n: int, args) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", kind, "--docs", str(n),
           "--data", str(args.data)]
    if args.workers is not None:
        cmd += ["--workers", str(args.workers)]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0:
        raise SystemExit(f"error: the {kind} run on {n} documents failed:\n{proc.stderr.strip()}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run_big(args) -> dict:
    print(f"large run, {args.big:,} documents:")
    big = in_child("dedupe", args.big, args)
    big["date"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    print(f"  dedupe Deduplicator.run (learned verifier): {big['seconds']:.0f} s ({big['docs_per_s']:,.0f} docs/s), "
          f"peak RSS {big['peak_rss_mb']:,.0f} MB (+ workers {big['peak_rss_workers_mb']:,.0f} MB; "
          f"{big['rss_after_input_mb']:,.0f} MB of it the input texts), "
          f"{big['candidates']:,} candidates, {big['links']:,} links")
    return big


def machine() -> dict:
    import importlib.metadata as md

    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {"python": platform.python_version()}
    for pkg in ("numpy", "datasketch", "rensa", "dedupe-news", "PyStemmer"):
        try:
            versions[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            versions[pkg] = None
    return {"platform": platform.platform(), "cpu": cpu, "cpus": os.cpu_count(),
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()], "versions": versions}


def ratio(a: float, b: float) -> float:
    return round(a / b, 2) if b else float("nan")


def targets(res: dict) -> list[tuple[str, str, bool | None]]:
    """``(target, measured, reached)`` for the issue's figures (``None``: not measured)."""
    out: list[tuple[str, str, bool | None]] = []
    sig = res.get("signature_stage", {})
    rensa = sig.get("rensa RMinHash", {}).get("docs_per_s")
    if rensa:
        one = sig.get("dedupe (tokenise + hash 5-grams + MinHash)", {}).get("docs_per_s", 0)
        multi = max([v["docs_per_s"] for k, v in sig.items() if "processes" in k] or [0])
        best = max(one, multi)
        measured = f"{ratio(one, rensa)}x on one core" + (f", {ratio(multi, rensa)}x with processes" if multi else "")
        out.append(("signature stage >= 1.0x rensa", measured, best >= rensa))
    peer = res.get("datasketch_pipeline")
    for key, label in (("end_to_end", "default (learned) verifier"), ("end_to_end_rule", "rule verifier")):
        e2e = res.get(key)
        if not e2e:
            continue
        out.append((f"end to end >= 10,000 docs/s, {label}", f"{e2e['docs_per_s']:,.0f} docs/s",
                    e2e["docs_per_s"] >= 10_000))
        if peer:
            r = ratio(e2e["docs_per_s"], peer["docs_per_s"])
            out.append((f"end to end >= 6x the datasketch pipeline, {label}", f"{r}x", r >= 6))
    big = res.get("big")
    if big:
        mins = big["seconds"] / 60
        rss = (big["peak_rss_mb"] + big.get("peak_rss_workers_mb", 0)) / 1024
        verifier = big.get("verifier", "rule")
        done = big["docs"] >= 1_000_000 and mins <= 5 and rss <= 4
        out.append(("1,000,000 documents in <= 5 min, peak RSS <= 4 GB",
                    f"{big['docs']:,} documents in {mins:.1f} min, {rss:.1f} GB ({verifier} verifier)", done))
    else:
        out.append(("1,000,000 documents in <= 5 min, peak RSS <= 4 GB", "not measured", None))
    return out


def print_targets(res: dict) -> None:
    print("targets:")
    for target, measured, ok in targets(res):
        state = "not measured" if ok is None else ("reached" if ok else "NOT reached")
        print(f"  {target:<60} {measured:<45} {state}")


# -- README table ------------------------------------------------------------------------------
def readme_table(res: dict) -> str:
    m = res["machine"]
    rows = ["| measurement | docs | docs/s | vs peer | peak RSS |", "|---|---:|---:|---|---:|"]
    sig = res.get("signature_stage", {})
    n_sig = res.get("signature_docs", 0)
    rensa = sig.get("rensa RMinHash", {}).get("docs_per_s")
    for name, r in sig.items():
        if name.startswith("_"):
            continue
        vs = f"{ratio(r['docs_per_s'], rensa)}x rensa" if rensa else ""
        rows.append(f"| signature stage: {name} | {n_sig:,} | {r['docs_per_s']:,.0f} | {vs} | |")
    peer = res.get("datasketch_pipeline")
    for key, label in (("end_to_end", "default: learned verifier"), ("end_to_end_rule", "`--verifier rule`")):
        e2e = res.get(key)
        if not e2e:
            continue
        vs = f"{ratio(e2e['docs_per_s'], peer['docs_per_s'])}x datasketch pipeline" if peer else ""
        cpu = f" ({e2e['docs'] / e2e['cpu_seconds']:,.0f} per CPU-second)" if e2e.get("cpu_seconds") else ""
        rows.append(f"| end to end: dedupe `Deduplicator.run` ({label}) | {e2e['docs']:,} | {e2e['docs_per_s']:,.0f}{cpu} | "
                    f"{vs} | {e2e['peak_rss_mb']:,.0f} MB (+ workers {e2e.get('peak_rss_workers_mb', 0):,.0f} MB) |")
    if peer:
        cpu = f" ({peer['docs'] / peer['cpu_seconds']:,.0f} per CPU-second)" if peer.get("cpu_seconds") else ""
        rows.append(f"| end to end: datasketch update_batch + MinHashLSH | {peer['docs']:,} | "
                    f"{peer['docs_per_s']:,.0f}{cpu} | | {peer['peak_rss_mb']:,.0f} MB |")
    big = res.get("big")
    if big:
        when = f", {big['date']}" if big.get("date") else ", an earlier run"
        rows.append(f"| large run: dedupe end to end, {big.get('verifier', 'rule')} verifier "
                    f"({big['seconds']:,.0f} s{when}) | {big['docs']:,} | "
                    f"{big['docs_per_s']:,.0f} | | {big['peak_rss_mb']:,.0f} MB (+ workers {big['peak_rss_workers_mb']:,.0f} MB) |")
    v = m["versions"]
    note = (f"\n_Generated by `python benchmarks/speed.py --readme` from `benchmarks/results/speed.json` "
            f"({res['date']}; {m['cpus']} CPUs, {m['cpu']}, load average {m['load_average_at_start'][0]} at start; "
            f"numpy {v.get('numpy')}, datasketch {v.get('datasketch')}, rensa {v.get('rensa')}). "
            f"Shared machine: figures are noisy._")
    goals = ["", "| target (issue 6) | measured | |", "|---|---|---|"]
    for target, measured, ok in targets(res):
        state = "not measured" if ok is None else ("reached" if ok else "**not reached**")
        goals.append(f"| {target} | {measured} | {state} |")
    return "\n".join(rows) + "\n" + note + "\n" + "\n".join(goals)


def write_readme(path: Path = RESULTS, readme: Path = README) -> None:
    if not path.exists():
        raise SystemExit(f"error: no results at {path}; run 'python benchmarks/speed.py' first")
    res = json.loads(path.read_text())
    text = readme.read_text()
    if BEGIN not in text or END not in text:
        raise SystemExit(f"error: {readme} has no '{BEGIN}' ... '{END}' block to rewrite")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    readme.write_text(head + BEGIN + "\n" + readme_table(res) + "\n" + END + tail)
    print(f"rewrote the speed table in {readme}")


# -- main --------------------------------------------------------------------------------------
def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=20000, help="documents of the end-to-end comparison")
    parser.add_argument("--sig-docs", type=int, default=2000,
                        help="documents of the signature-stage comparison (datasketch per shingle is slow)")
    parser.add_argument("--peer-docs", type=int, default=None,
                        help="documents for the datasketch pipeline (default: same as --docs)")
    parser.add_argument("--big", type=int, default=0, help="also run dedupe end to end on this many documents")
    parser.add_argument("--sig-workers", type=int, default=min(os.cpu_count() or 1, 8),
                        help="processes of the multi-core signature-stage variant (1: skip it)")
    parser.add_argument("--repeat", type=int, default=3, help="best of this many runs per signature engine")
    parser.add_argument("--workers", type=int, default=None, help="dedupe worker processes (default: automatic)")
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--big-only", action="store_true",
                        help="run only the --big run and merge it into the existing --output JSON")
    parser.add_argument("--readme", action="store_true", help="only rewrite README's table from --output")
    parser.add_argument("--keep-big", action="store_true",
                        help="without --big: keep the large run of the existing --output JSON (labelled with its date)")
    parser.add_argument("--child", choices=("dedupe", "dedupe-rule", "datasketch"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.readme:
        write_readme(args.output)
        return 0
    if args.child:
        child(args.child, args.docs, args.data, args.workers)
        return 0

    if args.big_only:
        if not args.big or not args.output.exists():
            raise SystemExit("error: --big-only needs --big N and an earlier run's --output JSON")
        res = json.loads(args.output.read_text())
        res["big"] = run_big(args)
        res["big"]["machine"] = machine()
        args.output.write_text(json.dumps(res, indent=2) + "\n")
        print(f"merged the large run into {args.output}")
        return 0

    res = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "machine": machine(),
           "settings": {"num_perm": NUM_PERM, "seed": SEED, "word_ngram": K}}
    print(f"machine: {res['machine']['cpus']} CPUs, load average {res['machine']['load_average_at_start']}")

    from dedupe.normalize import normalize_text

    sig_docs = make_corpus(args.data, args.sig_docs)
    texts = [normalize_text(t) for _, t in sig_docs]
    res["signature_docs"] = len(texts)
    print(f"signature stage, {len(texts):,} documents "
          f"(mean {np.mean([len(shingle_strings(t)) for t in texts]):.0f} shingles):")
    res["signature_stage"] = signature_stage(texts, args.repeat, args.sig_workers)
    sig = res["signature_stage"]
    rensa = sig.get("rensa RMinHash", {}).get("docs_per_s")
    ours = sig["dedupe (tokenise + hash 5-grams + MinHash)"]["docs_per_s"]
    ds_batch = sig["datasketch MinHash.update_batch"]["docs_per_s"]
    all_views = next(v for k, v in sig.items() if k.startswith("dedupe (all 4 views"))
    if rensa:
        print(f"  ratio dedupe / rensa: {ratio(ours, rensa)}x on one core   "
              f"(all views: {ratio(all_views['docs_per_s'], rensa)}x)")
        multi = [v for k, v in sig.items() if "processes" in k]
        if multi:
            print(f"  ratio dedupe multi-process / rensa: {ratio(multi[0]['docs_per_s'], rensa)}x")
    print(f"  ratio dedupe / datasketch update_batch: {ratio(ours, ds_batch)}x")

    print(f"end to end, {args.docs:,} documents (each run in a fresh process):")
    for key, kind, label in (("end_to_end", "dedupe", "default settings, learned verifier"),
                             ("end_to_end_rule", "dedupe-rule", "--verifier rule")):
        e2e = res[key] = in_child(kind, args.docs, args)
        print(f"  dedupe Deduplicator.run ({label}): {e2e['docs_per_s']:,.0f} docs/s ({e2e['seconds']:.1f} s, "
              f"{e2e['cpu_seconds']:.1f} CPU s), "
              f"peak RSS {e2e['peak_rss_mb']:,.0f} MB (+ workers {e2e['peak_rss_workers_mb']:,.0f} MB), "
              f"{e2e['candidates']:,} candidates ({e2e['verified']:,} past the rare-word guard), "
              f"{e2e['links']:,} links", flush=True)
    peer_n = args.peer_docs or args.docs
    peer = in_child("datasketch", peer_n, args)
    res["datasketch_pipeline"] = peer
    print(f"  datasketch update_batch + MinHashLSH pipeline: {peer['docs_per_s']:,.0f} docs/s "
          f"({peer['seconds']:.1f} s, {peer['cpu_seconds']:.1f} CPU s on {peer['docs']:,}), "
          f"peak RSS {peer['peak_rss_mb']:,.0f} MB")
    for key, label in (("end_to_end", "learned"), ("end_to_end_rule", "rule")):
        print(f"  ratio dedupe ({label}) / datasketch pipeline: "
              f"{ratio(res[key]['docs_per_s'], peer['docs_per_s'])}x")

    if args.big:
        res["big"] = run_big(args)
    elif args.keep_big and args.output.exists():
        old = json.loads(args.output.read_text()).get("big")
        if old:  # an earlier large run, kept and labelled as such (its own date and verifier)
            old.setdefault("verifier", "rule")
            old.setdefault("date", json.loads(args.output.read_text()).get("date"))
            res["big"] = old
    print_targets(res)

    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(res, indent=2) + "\n")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

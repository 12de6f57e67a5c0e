"""The Spark engine: throughput on local[N] and agreement with the local engine.

    python benchmarks/spark.py --docs 200000                 # docs/s of the Spark engine
    python benchmarks/spark.py --docs 20000 --compare        # + local engine on the same docs, ARI
    python benchmarks/spark.py --docs 20000 --compare --classify   # + the classifier's verdicts, both engines

Documents come from ``../shared/data`` (never copied into the repository): the BBC News articles
and the Reuters-21578 bodies, in that order (22,000+ real articles with their real exact and near
duplicates).  Beyond that, documents are synthetic syndicated copies of those articles (seeded):
a copy with a dropped paragraph, a trimmed copy with an agency tag line, a copy with a few words
changed, or an exact copy -- the kinds of copies a wire archive holds.

The documents are written once to a Parquet file in a temporary directory, read by Spark from
there, clustered with :func:`dedupe.spark.cluster_dataframe` and written back as Parquet, so the
figure covers reading, all stages and writing.  Printed figures:

* ``spark``: wall time and docs/s, with the number of candidate pairs, links and stories;
* with ``--compare``: the local engine (``Deduplicator``) on the same documents in the same
  process -- its docs/s, the speed ratio, the adjusted Rand index between the two partitions and
  the number of documents whose row (cluster, closest, similarity, relation) differs;
* with ``--classify``: the clustering run again with the classifier's verdicts
  (``cluster_dataframe(classify=True)``), written as Parquet, and its docs/s; with ``--compare``
  also the local ``classify_result`` and how many verdicts agree.

Timings on a shared machine are noisy; compare figures from the same run only.
"""

from __future__ import annotations

import argparse
import html
import random
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DATA = ROOT.parent / "shared" / "data"

_REUTERS = re.compile(r"<REUTERS[^>]*NEWID=\"(\d+)\"[^>]*>(.*?)</REUTERS>", re.S)
_TITLE = re.compile(r"<TITLE>(.*?)</TITLE>", re.S)
_BODY = re.compile(r"<BODY>(.*?)</BODY>", re.S)
_CTRL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def real_articles(data: Path = DATA) -> list[dict]:
    """BBC articles (sorted paths) then Reuters bodies (NEWID order): ``{id, title, text}``."""
    if not data.is_dir():
        raise SystemExit(f"the shared corpora are not at {data}; this benchmark needs ../shared/data")
    out = []
    for path in sorted((data / "bbc-news" / "bbc").glob("*/*.txt")):
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("latin-1")
        title = text.split("\n", 1)[0].strip()
        out.append({"id": f"bbc/{path.parent.name}/{path.stem}", "title": title, "text": text})
    for path in sorted((data / "reuters21578").glob("reut2-*.sgm")):
        for newid, rec in _REUTERS.findall(path.read_bytes().decode("latin-1")):
            body = _BODY.search(rec)
            if not body:
                continue
            title = _TITLE.search(rec)
            text = _CTRL.sub(" ", html.unescape(body.group(1)))
            out.append({"id": f"reuters/{newid}",
                        "title": _CTRL.sub(" ", html.unescape(title.group(1))).strip() if title else None,
                        "text": text})
    return out


def corpus(n: int, seed: int = 7) -> list[dict]:
    """``n`` documents: the real articles first, then seeded synthetic copies of them."""
    real = real_articles()
    docs = real[:n]
    rng = random.Random(seed)
    tags = ["(Reporting by staff; editing by the desk)", "Copyright wire service. All rights reserved.",
            "This story was syndicated from a news agency.", "Read more on our website."]
    k = 0
    while len(docs) < n:
        src = real[rng.randrange(len(real))]
        paras = [p for p in src["text"].split("\n") if p.strip()]
        kind = rng.random()
        if kind < 0.1:
            text = src["text"]  # exact copy
        elif kind < 0.4 and len(paras) > 2:  # drop a paragraph
            drop = rng.randrange(len(paras))
            text = "\n".join(p for i, p in enumerate(paras) if i != drop)
        elif kind < 0.7:  # trimmed, with a tag line
            keep = max(1, int(len(paras) * rng.uniform(0.5, 0.9)))
            text = "\n".join(paras[:keep] + [rng.choice(tags)])
        else:  # a few words changed
            words = src["text"].split(" ")
            for _ in range(max(1, len(words) // 40)):
                words[rng.randrange(len(words))] = rng.choice(["said", "reported", "noted", "added", "the"])
            text = " ".join(words)
        docs.append({"id": f"copy/{k:07d}", "title": src["title"], "text": text})
        k += 1
    return docs


def write_parquet(docs: list[dict], path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({"id": [d["id"] for d in docs], "title": [d["title"] for d in docs],
                      "text": [d["text"] for d in docs]})
    pq.write_table(table, path, row_group_size=5000)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--docs", type=int, default=200_000, help="number of documents (default 200,000)")
    ap.add_argument("--master", default="local[2]", help="Spark master (default local[2])")
    ap.add_argument("--partitions", type=int, default=None,
                    help="document partitions (default: 4 per core of the master)")
    ap.add_argument("--compare", action="store_true", help="also run the local engine and compare partitions")
    ap.add_argument("--classify", action="store_true",
                    help="also time the classifier's verdicts on Spark (cluster_dataframe(classify=True)); with "
                         "--compare, compare them with the local dedupe.classify")
    ap.add_argument("--driver-memory", default="6g",
                    help="spark.driver.memory (in local mode the executors live in the driver JVM; "
                         "Spark's 1g default runs out of execution memory at 200,000 documents)")
    args = ap.parse_args(argv)

    from dedupe import Config, Deduplicator, Document
    from dedupe.report import document_rows
    from dedupe.spark import cluster_dataframe, spark_session

    t0 = time.perf_counter()
    docs = corpus(args.docs)
    print(f"corpus: {len(docs):,} documents ({sum(d['id'].startswith('copy/') for d in docs):,} synthetic "
          f"copies) built in {time.perf_counter() - t0:.1f}s")
    cores = int(re.findall(r"\d+", args.master)[0]) if re.findall(r"\d+", args.master) else 2
    partitions = args.partitions or 4 * cores
    spark = spark_session(args.master, app_name="dedupe-bench", shuffle_partitions=partitions,
                          conf={"spark.driver.memory": args.driver_memory})
    with tempfile.TemporaryDirectory(prefix="dedupe-spark-bench-") as tmp:
        src, dst = Path(tmp) / "docs.parquet", Path(tmp) / "out.parquet"
        write_parquet(docs, src)
        t0 = time.perf_counter()
        df = spark.read.parquet(str(src))
        run = cluster_dataframe(df, Config(), order_column=None, partitions=partitions, links=True)
        run.documents.write.mode("overwrite").parquet(str(dst))
        wall = time.perf_counter() - t0
        out = spark.read.parquet(str(dst))
        n_out = out.count()
        stories = out.where("size > 1").select("cluster").distinct().count()
        n_links = run.links.count()
        n_cand = run.candidate_count()
        print(f"spark ({args.master}, {partitions} partitions): {n_out:,} documents in {wall:.1f}s = "
              f"{n_out / wall:,.0f} docs/s; {n_cand:,} candidate pairs, {n_links:,} links, "
              f"{stories:,} stories with copies; {run.cc_rounds} connected-components rounds")
        spark_rows = {r["id"]: r for r in out.collect()} if args.compare else {}
        spark_verdicts = {}
        if args.classify:
            vdst = Path(tmp) / "verdicts.parquet"
            t0 = time.perf_counter()
            crun = cluster_dataframe(df, Config(), order_column=None, partitions=partitions, classify=True)
            crun.verdicts.write.mode("overwrite").parquet(str(vdst))
            cwall = time.perf_counter() - t0
            verdicts = spark.read.parquet(str(vdst))
            n_syn = verdicts.where("label = 'syndicated'").count()
            print(f"spark clustering + classify: {n_out:,} documents in {cwall:.1f}s = {n_out / cwall:,.0f} docs/s; "
                  f"{n_syn:,} syndicated, {n_out - n_syn:,} original")
            if args.compare:
                spark_verdicts = {r["id"]: r for r in verdicts.collect()}
    if args.compare:
        from sklearn.metrics import adjusted_rand_score

        documents = [Document(d["id"], d["text"], d["title"]) for d in docs]
        t0 = time.perf_counter()
        result = Deduplicator(Config()).run(documents)
        local_wall = time.perf_counter() - t0
        print(f"local engine: {len(documents):,} documents in {local_wall:.1f}s = "
              f"{len(documents) / local_wall:,.0f} docs/s; {result.candidates:,} candidate pairs, "
              f"{len(result.links):,} links; spark/local speed ratio {local_wall / wall:.2f}")
        local_rows = document_rows(result)
        a = [r["cluster"] for r in local_rows]
        b = [spark_rows[r["id"]]["cluster"] for r in local_rows]
        differ = 0
        for r in local_rows:
            s = spark_rows[r["id"]]
            sim = None if s["similarity"] is None else round(s["similarity"], 4)
            if (r["cluster"], r["size"], r["closest"], r["similarity"], r["relation"]) != (
                    s["cluster"], s["size"], s["closest"], sim, s["relation"]):
                differ += 1
        print(f"agreement: ARI {adjusted_rand_score(a, b):.6f}; identical cluster ids "
              f"{sum(x == y for x, y in zip(a, b)):,}/{len(a):,}; rows that differ: {differ}")
        if args.classify:
            from dedupe.pipeline import classify_result

            t0 = time.perf_counter()
            local_verdicts = classify_result(result, Config())
            print(f"local classify (after its clustering): {time.perf_counter() - t0:.1f}s")
            vdiff = sum(1 for v in local_verdicts
                        if (v.label, v.relation, v.source) != tuple(spark_verdicts[v.id][k]
                                                                    for k in ("label", "relation", "source"))
                        or abs(v.confidence - spark_verdicts[v.id]["confidence"]) > 1e-9)
            print(f"verdict agreement: {len(local_verdicts) - vdiff:,}/{len(local_verdicts):,} identical "
                  f"(label, relation, source, confidence within 1e-9)")
    spark.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

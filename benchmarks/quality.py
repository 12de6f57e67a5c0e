"""Quality figures of issue 3, printed as a table (run from the repository root):

    python benchmarks/quality.py [--data ../shared/data] [--articles 150] [--seed 2027]

Evaluation sets, built from ../shared/data with seed 2027 (training uses 13) and from the
evaluation fifth of the articles (training never sees them, see dedupe.training.datasets):

* MSRP test split (1,725 real sentence pairs): accuracy and F1 of "paraphrase" = linked by the
  model (the pipeline's rare-word guard is for documents and is not applied to sentences);
* generated pairs: near-duplicate F1 (syndicated and partial copies vs same-topic negatives),
  rewrite F1 (rewritten copies, plain and heavy-with-own-material, vs the same negatives), same-topic false-link rate (different
  articles of one topic, the nearest by TF-IDF cosine, linked by mistake), same-source recall;
* a corpus run: originals, their copies and same-topic distractors clustered by the full
  pipeline (LSH candidates + verifier + anti-chaining clustering): ARI, pairwise P/R/F1 and
  per-relation recall;
* human sentence-by-sentence rewrites: MSRP test paraphrase pairs joined into documents (the
  first sentences of k pairs in one document, their paraphrases in the other, k = 4 and 8),
  clustered by the full pipeline; the share of document pairs put in one cluster.  Human
  paraphrases of news sentences by other outlets, but the documents do not tell one story (each
  sentence comes from another), so this is a proxy.  MSRP's non-paraphrase pairs are no negative
  set here: they mostly report the same events;
* the Xiaomi-Leica seeds: 000-003 one cluster, 004 apart, 001's strongest link 003 (rewrite);
* real wire links judged by hand (``benchmarks/data/reuters_links_judged.csv``): 100 pairs of
  Reuters-21578 stories that an earlier dedupe (commit 55dbe57) linked when clustering the whole
  corpus, each read and marked "same story" or not; each verifier's pairwise decision on them
  gives its precision on real wire copy and how many of the judged copies it keeps.  The sample
  comes from links dedupe made, so it measures precision, not recall.

Both verifiers (learned, rule) are measured in the same run.  Without ../shared/data only the
seeds are measured.

Issue 4's figures (original-vs-syndicated accuracy and source attribution, with and without
dates, on the held-apart classifier set) follow in a second table, printed by
``benchmarks/quality_syndication.py`` (``--no-syndication`` skips it).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dedupe.compare import decide, pair_scores  # noqa: E402
from dedupe.config import Config  # noqa: E402
from dedupe.io import read_documents  # noqa: E402
from dedupe.metrics import Labels, evaluate  # noqa: E402
from dedupe.model import Document  # noqa: E402
from dedupe.pipeline import Deduplicator  # noqa: E402
from dedupe.verifier import Profiler, accept, load_model, pair_features, verdicts  # noqa: E402


def f1(y, p):
    tp = int(np.sum(y & p)); fp = int(np.sum(~y & p)); fn = int(np.sum(y & ~p))
    prec = tp / (tp + fp) if tp + fp else 0.0
    rec = tp / (tp + fn) if tp + fn else 0.0
    return 2 * prec * rec / (prec + rec) if prec + rec else 0.0


def linked_both(pairs, profiler, model, config, sentences=False):
    """(learned linked, rule linked) arrays for a list of training Pairs."""
    cache = {}

    def prof(t):
        if t not in cache:
            cache[t] = profiler.profile(t)
        return cache[t]

    X = np.vstack([pair_features(prof(p.a), prof(p.b)) for p in pairs])
    vs = verdicts(model, X, config.verify.learned_threshold)
    if sentences:  # MSRP: the model alone (the pipeline's rare-word guard is for documents)
        learned = np.array([v.linked for v in vs])
    else:
        learned = np.array([accept(v, prof(p.a), prof(p.b), config.verify) for v, p in zip(vs, pairs)])
    rule = np.array([decide(pair_scores(prof(p.a).features, prof(p.b).features), config.verify) is not None
                     for p in pairs])
    return learned, rule


JUDGED = ROOT / "benchmarks" / "data" / "reuters_links_judged.csv"


def judged_links(data, profiler, model, config):
    """(n, judged same, learned linked, rule linked) on the hand-judged Reuters links."""
    import csv
    from types import SimpleNamespace

    from dedupe.training.corpora import load_reuters

    arts = {a.id: a for a in load_reuters(data, min_words=0)}
    with open(JUDGED, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    missing = sorted({i for r in rows for i in (r["a"], r["b"])} - set(arts))
    if missing:
        raise FileNotFoundError(f"{len(missing)} judged Reuters ids (e.g. {missing[0]}) are not in {data}: "
                                "another copy of Reuters-21578?")
    full = {i: f"{arts[i].title}\n\n{arts[i].text}" for r in rows for i in (r["a"], r["b"])}
    pairs = [SimpleNamespace(a=full[r["a"]], b=full[r["b"]]) for r in rows]
    same = np.array([r["same_story"] == "1" for r in rows])
    learned, rule = linked_both(pairs, profiler, model, config)
    return same, learned, rule


def seeds(method):
    docs = list(read_documents([str(ROOT / "samples" / "xiaomi-leica")]))
    res = Deduplicator(Config().with_(**{"verify.method": method})).run(docs)
    cl = res.cluster_of()
    ids = sorted(d.id for d in docs)
    main = cl[ids[0]].ids
    ok_cluster = set(main) == set(ids[:4])
    m1 = next(m for m in cl[ids[1]].members if m.id == ids[1])
    ok_link = (m1.closest or "").startswith("003") and m1.relation == "rewrite"
    return ok_cluster and ok_link, f"cluster {'+'.join(i[:3] for i in main)}; 001 -> {(m1.closest or '-')[:3]} ({m1.relation})"


def msrp_document_run(pairs, k: int, method: str, seed: int) -> tuple[float, int]:
    """(share of paraphrase documents clustered with their counterpart, number of document pairs):
    MSRP paraphrase pairs joined ``k`` at a time into two documents (first sentences, second
    sentences; ``dedupe.training.datasets.msrp_documents``), clustered by the full pipeline."""
    from dedupe.training.datasets import msrp_documents

    joined = msrp_documents(pairs, len(pairs), seed, k_min=k, k_max=k)
    docs = [Document(f"m{g}{side}", text) for g, p in enumerate(joined) for side, text in (("a", p.a), ("b", p.b))]
    res = Deduplicator(Config().with_(**{"verify.method": method})).run(docs)
    cl = res.cluster_of()
    together = [cl[f"m{g}a"].id == cl[f"m{g}b"].id for g in range(len(joined))]
    return float(np.mean(together)) if together else 0.0, len(joined)


def corpus_run(arts, rng, method, n_orig):
    from dedupe.training.generate import make_copy, rewrite_headline

    pool = [a for a in arts if 80 <= len(a.text.split()) <= 1500]
    rng.shuffle(pool)
    origs, distract = pool[:n_orig], pool[n_orig:n_orig * 3]
    docs, gold, rel = [], {}, {}
    for a in origs:
        docs.append(Document(a.id, f"{a.title}\n\n{a.text}"))
        gold[a.id], rel[a.id] = a.id, "original"
        for kind in ("duplicate", "rewrite"):
            cid = f"{a.id}#{kind}"
            docs.append(Document(cid, f"{rewrite_headline(a.title, rng)}\n\n{make_copy(a.text, rng, kind)}"))
            gold[cid], rel[cid] = a.id, kind
    for a in distract:
        docs.append(Document(a.id, f"{a.title}\n\n{a.text}"))
        gold[a.id] = a.id
    t = time.perf_counter()
    res = Deduplicator(Config().with_(**{"verify.method": method})).run(docs)
    secs = time.perf_counter() - t
    pred = {m.id: c.id for c in res.clusters for m in c.members}
    return evaluate(Labels(gold, rel), pred), len(docs), secs


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data"))
    ap.add_argument("--articles", type=int, default=150, help="articles for the generated pair set")
    ap.add_argument("--corpus", type=int, default=120, help="originals in the corpus run")
    ap.add_argument("--seed", type=int, default=2027)
    ap.add_argument("--no-syndication", action="store_true",
                    help="skip the classifier's figures (benchmarks/quality_syndication.py)")
    args = ap.parse_args(argv)

    rows = []
    for method in ("learned", "rule"):
        ok, note = seeds(method)
        rows.append((f"seeds ({method})", "000-003 one cluster, 004 apart, 001->003 rewrite", "ok" if ok else "FAIL", note))
    data = Path(args.data)
    if not (data / "msrp").is_dir():
        print(f"note: {data} not found; only the seeds are measured", file=sys.stderr)
    else:
        from dedupe.training.datasets import build_pairs, load_articles, msrp_pairs

        config = Config()
        model = load_model(None, config)
        profiler = Profiler(config)
        t0 = time.perf_counter()
        test = msrp_pairs(data, "test")
        y = np.array([p.label != "unrelated" for p in test])
        lm, rl = linked_both(test, profiler, model, config, sentences=True)
        for name, pred in (("learned", lm), ("rule", rl)):
            acc = float(np.mean(pred == y))
            rows.append((f"MSRP test accuracy ({name})", ">= 0.78", f"{acc:.4f}", f"n={len(y)}"))
            rows.append((f"MSRP test F1 ({name})", ">= 0.84", f"{f1(y, pred):.4f}", ""))
        for name in ("learned", "rule"):
            for k in (4, 8):
                share, n = msrp_document_run(test, k, name, args.seed)
                rows.append((f"MSRP paraphrases as {k}-sentence documents, clustered together ({name})",
                             "(no target)", f"{share:.4f}", f"n={n} document pairs"))
        arts = load_articles(data, "eval")
        pairs = build_pairs(data, args.seed, args.articles, split="eval", articles=arts)
        kinds = np.array([p.kind for p in pairs])
        lm, rl = linked_both(pairs, profiler, model, config)
        neg = np.isin(kinds, ["hard", "hard-rewrite", "hard-short", "random"])
        hard = np.isin(kinds, ["hard", "hard-rewrite", "hard-short"])
        for name, pred in (("learned", lm), ("rule", rl)):
            for label, kk, target in (("near-duplicate F1", ["syndicated", "partial", "syndicated-short"], ">= 0.98"),
                                      ("rewrite F1", ["rewrite", "rewrite-heavy"], ">= 0.90")):
                sel = np.isin(kinds, kk) | neg
                rows.append((f"{label} ({name})", target, f"{f1(np.isin(kinds[sel], kk), pred[sel]):.4f}",
                             f"{int(np.isin(kinds, kk).sum())} pos / {int(neg.sum())} neg"))
            rows.append((f"same-topic false links ({name})", "<= 1%", f"{100 * pred[hard].mean():.2f}%",
                         f"n={int(hard.sum())}"))
            ss = kinds == "same-source"
            rows.append((f"same-source recall ({name})", "(no target)", f"{pred[ss].mean():.4f}", f"n={int(ss.sum())}"))
        try:
            same, jl, jr = judged_links(data, profiler, model, config)
        except FileNotFoundError as exc:
            print(f"note: {exc}; the judged Reuters links are not measured", file=sys.stderr)
            same = jl = jr = None
        for name, pred in (() if same is None else (("learned", jl), ("rule", jr))):
            prec = float(same[pred].mean()) if pred.any() else 0.0
            rows.append((f"real Reuters links judged by hand ({name})", "(no target)",
                         f"precision {prec:.2f}",
                         f"of {len(same)} judged links ({int(same.sum())} same story): keeps {int(pred[same].sum())} "
                         f"of the same, {int(pred[~same].sum())} of the different"))
        print(f"pair sets measured in {time.perf_counter() - t0:.0f}s", file=sys.stderr)
        for method in ("learned", "rule"):
            ev, n, secs = corpus_run(arts, random.Random(args.seed + 1), method, args.corpus)
            rel = ", ".join(f"{k} {r:.3f}" for k, (r, _) in sorted(ev.relation_recall.items()))
            rows.append((f"corpus run ARI ({method})", "(no target)", f"{ev.ari:.4f}", f"{n} docs, {secs:.1f}s"))
            rows.append((f"corpus run pairwise P/R/F1 ({method})", "(no target)",
                         f"{ev.precision:.3f}/{ev.recall:.3f}/{ev.f1:.3f}", f"recall by relation: {rel}"))
    from tabulate import tabulate

    print(tabulate(rows, headers=["figure", "target", "measured", "notes"], tablefmt="github"))
    if not args.no_syndication:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        import quality_syndication

        print("\nOriginal or syndicated (issue 4), held-apart set:")
        try:
            print(quality_syndication.table(quality_syndication.run(args.data)))
        except FileNotFoundError as exc:
            print(f"note: {exc}; the classifier's held-apart figures need ../shared/data", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

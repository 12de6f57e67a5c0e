"""Quality of the syndication classifier (issue 4): original vs syndicated, and source attribution.

Builds the held-apart evaluation set from ``../shared/data`` (BBC + Reuters originals never used in
training, another random seed; see :mod:`dedupe.training.syndication`), runs ``dedupe.classify``
end to end (clustering included) with the shipped model, once with publication dates and once with
every date removed, and prints:

* original-vs-syndicated accuracy (all documents, and documents in stories that have copies);
* source attribution accuracy: syndicated documents whose true origin is in the input and whose
  verdict names it;
* accuracy per kind of document, and the seeds' verdicts (001 syndicated from 003; 003, 004 original);
* large stories: 12 held-apart originals each re-posted 8, 15 or 30 times (generated copies),
  with and without dates: copies called original, and originals called original.

Run: ``python benchmarks/quality_syndication.py [--data ../shared/data] [--stories 400]``.
``benchmarks/quality.py`` can call :func:`run` and :func:`table`.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGETS = {"label_accuracy": 0.95, "source_accuracy": 0.95}


def seeds() -> dict[str, tuple[str, str | None]]:
    import dedupe

    docs = dedupe.read_documents([str(ROOT / "samples" / "xiaomi-leica")])
    return {v.id[:3]: (v.label, None if v.source is None else v.source[:3]) for v in dedupe.classify(docs)}


def large_stories(data: str | Path, seed: int, n_stories: int = 12) -> dict:
    """One wire text re-posted many times: ``n_stories`` held-apart originals (Reuters and BBC,
    more than 250 words), each with 8, 15 or 30 generated copies (duplicates, partial copies,
    rewrites; dated 1-20 days after it), classified with and without dates.  Counts the copies
    called original and the originals called original."""
    import random

    import dedupe
    from dedupe.model import Document
    from dedupe.training.generate import make_copy
    from dedupe.training.syndication import load_originals

    rng = random.Random(seed)
    arts = [a for a in load_originals(data, "eval") if len(a.text.split()) > 250]
    rng.shuffle(arts)
    out = {"with_dates": [0, 0, 0], "without_dates": [0, 0, 0], "stories": n_stories}
    for k, art in enumerate(arts[:n_stories]):
        n = rng.choice([8, 15, 30])
        docs = [Document(f"s{k}-orig", f"{art.title}\n\n{art.text}", date="2021-01-01T00:00")]
        for i in range(n):
            kind = rng.choice(["duplicate", "duplicate", "partial", "rewrite"])
            docs.append(Document(f"s{k}-c{i}", make_copy(art.text, rng, kind),
                                 date=f"2021-01-{2 + rng.randrange(20):02d}T{rng.randrange(24):02d}:00"))
        for key, ds in (("with_dates", docs), ("without_dates", [Document(d.id, d.text) for d in docs])):
            verdicts = dedupe.classify(ds)
            out[key][0] += sum(v.label == "original" for v in verdicts if "-c" in v.id)
            out[key][1] += n
            out[key][2] += sum(v.label == "original" for v in verdicts if v.id.endswith("-orig"))
    return out


def run(data: str | Path = "../shared/data", stories: int | None = None, seed: int | None = None) -> dict:
    """``{"with_dates": metrics, "without_dates": metrics, "seeds": {...}, "seconds": s}``; raises
    FileNotFoundError when the shared corpora are absent."""
    from dedupe.classify import SyndicationModel
    from dedupe.config import Config
    from dedupe.training.syndication import EVAL_SEED, EVAL_STORIES, held_apart

    t0 = time.perf_counter()
    config = Config()
    import dedupe

    out = held_apart(SyndicationModel.load(config=config), data, config,
                     stories or EVAL_STORIES, EVAL_SEED if seed is None else seed,
                     cluster=lambda docs: dedupe.cluster(docs, config))
    out["seeds"] = seeds()
    out["large"] = large_stories(data, EVAL_SEED if seed is None else seed)
    out["seconds"] = round(time.perf_counter() - t0, 1)
    return out


def table(result: dict) -> str:
    from tabulate import tabulate

    rows = []
    for key in ("with_dates", "without_dates"):
        m = result[key]
        rows.append([key.replace("_", " "), m["documents"], m["label_accuracy"], m["label_accuracy_in_stories"],
                     m["source_accuracy"], m["syndicated_with_source"]])
    head = ["held-apart set", "docs", "label acc (target 0.95)", "label acc in stories", "source acc (target 0.95)",
            "syndicated w/ source"]
    out = [tabulate(rows, headers=head, tablefmt="simple")]
    kinds = sorted(result["with_dates"]["by_kind"])
    out.append(tabulate([[k, result["with_dates"]["by_kind"][k], result["without_dates"]["by_kind"][k]] for k in kinds],
                        headers=["label accuracy by kind", "with dates", "without dates"], tablefmt="simple"))
    s = result["seeds"]
    expect = {"001": ("syndicated", "003"), "003": ("original", None), "004": ("original", None)}
    out.append(tabulate([[k, f"{s[k][0]} {'<- ' + s[k][1] if s[k][1] else ''}".strip(),
                          f"{v[0]} {'<- ' + v[1] if v[1] else ''}".strip(), "yes" if s[k] == v else "NO"]
                         for k, v in expect.items()], headers=["seed", "verdict", "expected", "ok"], tablefmt="simple"))
    if "large" in result:
        lg = result["large"]
        out.append(tabulate([[key.replace("_", " "), f"{lg[key][0]} of {lg[key][1]}", f"{lg[key][2]} of {lg['stories']}"]
                             for key in ("with_dates", "without_dates")],
                            headers=["large stories (8-30 copies of one text)", "copies called original",
                                     "originals called original"], tablefmt="simple"))
    out.append(f"({result['seconds']} s)")
    return "\n\n".join(out) + "\n"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", default=str(ROOT.parent / "shared" / "data"))
    p.add_argument("--stories", type=int, default=None)
    p.add_argument("--seed", type=int, default=None)
    args = p.parse_args(argv)
    try:
        result = run(args.data, args.stories, args.seed)
    except FileNotFoundError as exc:
        print(f"skipped: {exc}", file=sys.stderr)
        return 0
    print(table(result), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())

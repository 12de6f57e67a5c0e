"""Train the pair verifier shipped as ``dedupe/resources/verifier.json``.

::

    python -m dedupe.training.verifier --data ../shared/data --output dedupe/resources/verifier.json

Data recipe (see :mod:`dedupe.training.datasets`): generated document pairs from BBC News and
Reuters-21578 training articles (seed ``--seed``), plus MSRP's training sentence pairs.  Model:
scikit-learn ``GradientBoostingClassifier`` (multinomial deviance, depth-3 trees), exported to
flat JSON arrays that :class:`dedupe.verifier.VerifierModel` evaluates in numpy; the export is
checked against scikit-learn's own probabilities before it is written.  ``--bag K`` fits ``K``
such models with random states ``seed`` ... ``seed + K - 1`` and ships the mean of their raw
scores: one fitted model's held-out figures move with its random state (the README lists by
how much), a bag's much less.  Metrics on MSRP's test
split and on a held-out generated set (other articles, other seed) are recorded in the file and
in ``verifier.md`` beside it.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from dedupe.config import Config
from dedupe.verifier import CLASSES, FEATURES, FORMAT, VERSION, Profiler, VerifierModel, pair_features

TRAIN_SEED = 13
EVAL_SEED = 2027


def featurize_pairs(pairs, profiler: Profiler) -> tuple[np.ndarray, np.ndarray]:
    cache: dict[str, object] = {}

    def prof(text):
        p = cache.get(text)
        if p is None:
            p = cache[text] = profiler.profile(text)
        return p

    X = np.vstack([pair_features(prof(p.a), prof(p.b)) for p in pairs]) if pairs else np.empty((0, len(FEATURES)))
    y = np.array([CLASSES.index(p.label) for p in pairs], dtype=np.int64)
    return X, y


class Bag:
    """``K`` fitted GradientBoostingClassifiers (same data, other ``random_state``) as one model
    whose raw score is the mean of theirs: exported as one forest of all their trees at the
    learning rate divided by ``K`` (so :class:`VerifierModel` reads it unchanged)."""

    def __init__(self, models):
        self.models = list(models)
        self.learning_rate = self.models[0].learning_rate / len(self.models)
        self.estimators_ = np.vstack([m.estimators_ for m in self.models])
        self.feature_importances_ = np.mean([m.feature_importances_ for m in self.models], axis=0)

    def decision_function(self, X):
        return np.mean([m.decision_function(X) for m in self.models], axis=0)

    def predict_proba(self, X):
        raw = self.decision_function(X)
        e = np.exp(raw - raw.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)


def export(gb, config: Config, training: dict) -> dict:
    """The JSON spec of a fitted GradientBoostingClassifier (multi-class) or :class:`Bag`."""
    est = gb.estimators_  # (stages, classes) of DecisionTreeRegressor
    n_classes = est.shape[1]
    if n_classes != len(CLASSES):
        raise ValueError("the training data must contain every class")
    feature, threshold, left, right, value, roots = [], [], [], [], [], []
    depth = 0
    for stage in est:
        row = []
        for tree in stage:
            t = tree.tree_
            base = len(feature)
            row.append(base)
            depth = max(depth, int(t.max_depth))
            for n in range(t.node_count):
                leaf = t.children_left[n] < 0
                feature.append(-1 if leaf else int(t.feature[n]))
                threshold.append(0.0 if leaf else float(t.threshold[n]))
                left.append(-1 if leaf else base + int(t.children_left[n]))
                right.append(-1 if leaf else base + int(t.children_right[n]))
                value.append(float(t.value[n].ravel()[0]))
        roots.append(row)
    spec = {
        "format": FORMAT, "version": VERSION, "fingerprint": config.fingerprint(),
        "signature_settings": config.signature_settings(),
        "features": list(FEATURES), "classes": list(CLASSES),
        "learning_rate": float(gb.learning_rate), "depth": depth,
        "init": [0.0] * n_classes,
        "trees": {"feature": feature, "threshold": threshold, "left": left, "right": right,
                  "value": value, "roots": roots},
        "training": training,
    }
    return spec


def calibrate_init(spec: dict, gb, X: np.ndarray) -> dict:
    """Set the constant term so the numpy model reproduces scikit-learn's decision function."""
    model = VerifierModel(spec)
    raw_np = model.raw(X[:50])
    raw_sk = gb.decision_function(X[:50])
    spec["init"] = [float(v) for v in (raw_sk - raw_np).mean(axis=0)]
    model = VerifierModel(spec)
    diff = float(np.abs(model.predict_proba(X) - gb.predict_proba(X)).max())
    if diff > 1e-6:
        raise RuntimeError(f"exported model disagrees with scikit-learn (max |dP| = {diff:g})")
    return spec


def binary_metrics(y_true_linked: np.ndarray, y_pred_linked: np.ndarray) -> dict:
    tp = int(np.sum(y_true_linked & y_pred_linked))
    fp = int(np.sum(~y_true_linked & y_pred_linked))
    fn = int(np.sum(y_true_linked & ~y_pred_linked))
    acc = float(np.mean(y_true_linked == y_pred_linked)) if len(y_true_linked) else 0.0
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return {"accuracy": round(acc, 4), "precision": round(p, 4), "recall": round(r, 4), "f1": round(f1, 4),
            "n": int(len(y_true_linked))}


def main(argv=None) -> int:
    from sklearn.ensemble import GradientBoostingClassifier

    from dedupe.training.datasets import build_pairs, msrp_documents, msrp_pairs

    ap = argparse.ArgumentParser(prog="python -m dedupe.training.verifier", description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default="../shared/data", help="folder with bbc-news/, reuters21578/, msrp/")
    ap.add_argument("--output", default="dedupe/resources/verifier.json")
    ap.add_argument("--seed", type=int, default=TRAIN_SEED)
    ap.add_argument("--articles", type=int, default=700, help="articles drawn for generated pairs")
    ap.add_argument("--trees", type=int, default=150)
    ap.add_argument("--depth", type=int, default=3)
    ap.add_argument("--msrp-weight", type=float, default=1.0, help="sample weight of MSRP pairs")
    ap.add_argument("--bag", type=int, default=1,
                    help="models fitted with random_state seed, seed+1, ... whose raw scores are averaged "
                         "(one model's figures move with its random_state; see the README)")
    ap.add_argument("--msrp-docs", type=int, default=0,
                    help="document pairs made of 3-8 MSRP train paraphrase pairs each (human rewrites at "
                         "document length; datasets.msrp_documents)")
    args = ap.parse_args(argv)

    config = Config()
    profiler = Profiler(config)
    t0 = time.perf_counter()
    docs = build_pairs(args.data, args.seed, args.articles, split="train")
    msrp = msrp_pairs(args.data, "train")
    docs = docs + msrp_documents(msrp, args.msrp_docs, args.seed)
    Xd, yd = featurize_pairs(docs, profiler)
    Xm, ym = featurize_pairs(msrp, profiler)
    X, y = np.vstack([Xd, Xm]), np.concatenate([yd, ym])
    w = np.concatenate([np.ones(len(yd)), np.full(len(ym), args.msrp_weight)])
    print(f"features: {len(docs)} document pairs, {len(msrp)} MSRP pairs in {time.perf_counter() - t0:.0f}s",
          file=sys.stderr)
    fitted = [GradientBoostingClassifier(n_estimators=args.trees, max_depth=args.depth, learning_rate=0.1,
                                         subsample=0.8, random_state=args.seed + k).fit(X, y, sample_weight=w)
              for k in range(args.bag)]
    gb = fitted[0] if args.bag == 1 else Bag(fitted)
    print(f"trained in {time.perf_counter() - t0:.0f}s", file=sys.stderr)

    # held-out metrics
    test = msrp_pairs(args.data, "test")
    Xt, yt = featurize_pairs(test, profiler)
    unrelated = CLASSES.index("unrelated")
    m_msrp = binary_metrics(yt != unrelated, gb.predict_proba(Xt)[:, unrelated] < 0.5)
    held = build_pairs(args.data, EVAL_SEED, 150, split="eval")
    Xh, yh = featurize_pairs(held, profiler)
    ph = gb.predict_proba(Xh)
    m_held = binary_metrics(yh != unrelated, ph[:, unrelated] < 0.5)
    m_held["relation_accuracy"] = round(float(np.mean(ph.argmax(axis=1) == yh)), 4)
    metrics = {"msrp_test": m_msrp, "generated_eval_linked": m_held}
    command = ("python -m dedupe.training.verifier --data ../shared/data --output dedupe/resources/verifier.json"
               f" --seed {args.seed} --articles {args.articles} --trees {args.trees} --depth {args.depth}"
               f" --msrp-weight {args.msrp_weight}" + (f" --msrp-docs {args.msrp_docs}" if args.msrp_docs else "")
               + (f" --bag {args.bag}" if args.bag > 1 else ""))
    recipe = {
        "documents": f"dedupe.training.datasets.build_pairs(seed={args.seed}, n_articles={args.articles}, "
                     "split='train'): BBC News + Reuters-21578 articles (4/5 split by crc32(id) % 5 != 0). "
                     "duplicate: syndicated and partial copies (also of short wire items); rewrite: rule-based "
                     "rewrites, heavy rewrites of part of the story padded with other articles' paragraphs, and "
                     "free rewrites (reworded twice, wording degraded, padding on both sides); same-source: two "
                     "write-ups quoting the same passages, and free ones sharing only 1-3 verbatim quotes; "
                     "unrelated: same-topic nearest neighbours by TF-IDF cosine (with and without generated "
                     "copies, and among short templated wire items), random same-topic pairs, and template siblings "
                     "(the same wording with other figures, months and names: another day's or another "
                     "company's item, dedupe.training.generate.template_sibling)",
        "msrp": "MSRP train split: paraphrase -> rewrite, other -> unrelated"
                + (f"; {args.msrp_docs} document pairs of 3-8 joined paraphrase pairs -> rewrite "
                   "(dedupe.training.datasets.msrp_documents)" if args.msrp_docs else ""),
        "counts": {c: int(np.sum(y == i)) for i, c in enumerate(CLASSES)},
        "document_pairs": len(docs), "msrp_pairs": len(msrp),
    }
    model = {"estimator": "sklearn.ensemble.GradientBoostingClassifier", "n_estimators": args.trees,
             "max_depth": args.depth, "learning_rate": 0.1, "subsample": 0.8}
    if args.bag > 1:
        model.update(bag=args.bag, random_states=[args.seed + k for k in range(args.bag)],
                     combined="mean of the raw scores (one forest, learning rate / bag)")
    importances = sorted(zip(FEATURES, gb.feature_importances_), key=lambda t: -t[1])[:12]
    training = {"command": command, "recipe": recipe, "model": model, "metrics": metrics,
                "top_features": [[n, round(float(v), 4)] for n, v in importances]}
    spec = calibrate_init(export(gb, config, training), gb, X)
    out = Path(args.output)
    out.write_text(json.dumps(spec, separators=(",", ":")) + "\n", encoding="utf-8")
    md = out.with_suffix(".md")
    md.write_text(_card(training, config), encoding="utf-8")
    print(json.dumps(metrics, indent=1))
    print(f"wrote {out} ({out.stat().st_size / 1024:.0f} KiB) and {md}", file=sys.stderr)
    return 0


def _card(training: dict, config: Config) -> str:
    m = training["metrics"]
    lines = [
        "# The shipped pair verifier (`verifier.json`)",
        "",
        "Generated by the command below; do not edit by hand.  Format: see `dedupe/verifier.py`",
        "(JSON arrays of a gradient-boosted tree ensemble, evaluated in numpy; no pickle).",
        "",
        f"- settings fingerprint: `{config.fingerprint()}` (the model refuses other shingle/minhash settings)",
        f"- command: `{training['command']}`",
        f"- estimator: {json.dumps(training['model'])}",
        "",
        "## Data recipe",
        "",
        f"- {training['recipe']['documents']}",
        f"- {training['recipe']['msrp']}",
        f"- pairs per class: {json.dumps(training['recipe']['counts'])}",
        "",
        "## Metrics at training time (linked = not `unrelated`)",
        "",
        "| set | accuracy | precision | recall | F1 | n |",
        "|---|---|---|---|---|---|",
    ]
    for name, r in m.items():
        lines.append(f"| {name} | {r['accuracy']} | {r['precision']} | {r['recall']} | {r['f1']} | {r['n']} |")
    lines += ["", "Most important features: " + ", ".join(f"{n} ({v})" for n, v in training["top_features"]), ""]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())

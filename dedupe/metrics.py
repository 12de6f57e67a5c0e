"""Clustering quality against labels: ARI, pairwise precision/recall/F1, per-relation recall.

Labels map each document id to a gold cluster, from a CSV file with header ``id,cluster`` (an
optional ``relation`` column says how a document relates to its story: ``original``,
``duplicate``, ``rewrite``, ``same-source``...) or a JSONL file of ``{"id": ..., "cluster": ...,
"relation": ...}`` objects.  :func:`load_labels` reports a bad file as a one-line
:class:`~dedupe.errors.InputError` naming the file and line.

Pairwise scores count unordered pairs of documents: a pair is *predicted* when both are in one
predicted cluster and *true* when both are in one gold cluster.  Per-relation recall groups the
true pairs by relation (the relation of the member that has one, ``original`` members don't
count) and reports the share found.  Only documents present in both the labels and the run are
scored.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from dedupe.errors import InputError


@dataclass
class Labels:
    cluster: dict[str, str]
    relation: dict[str, str] = field(default_factory=dict)


def load_labels(path: str | Path) -> Labels:
    """Read ``id,cluster[,relation]`` CSV or JSONL labels (by extension; ``.jsonl``/``.json`` is JSONL)."""
    p = Path(path)
    label = str(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError("labels file not found", source=label, hint="give an id,cluster CSV or JSONL file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read labels ({exc.__class__.__name__})", source=label) from None
    labels = Labels({}, {})
    if p.suffix.lower() in (".jsonl", ".json", ".ndjson"):
        for n, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"not valid JSON ({exc.msg})", source=label, line=n,
                                 hint='each line must be {"id": ..., "cluster": ...}') from None
            if not isinstance(rec, dict) or "id" not in rec or "cluster" not in rec:
                raise InputError("record needs 'id' and 'cluster'", source=label, line=n)
            _add(labels, str(rec["id"]), str(rec["cluster"]), rec.get("relation"), label, n)
    else:
        reader = csv.reader(io.StringIO(text))
        header = next(reader, None)
        if header is None:
            raise InputError("labels file is empty", source=label, hint="expected a header id,cluster")
        cols = [h.strip().lower() for h in header]
        if "id" not in cols or "cluster" not in cols:
            raise InputError(f"header {','.join(header)!r} has no id and cluster columns", source=label, line=1,
                             hint="the first line must be id,cluster (optionally ,relation)")
        i_id, i_cl = cols.index("id"), cols.index("cluster")
        i_rel = cols.index("relation") if "relation" in cols else None
        for n, row in enumerate(reader, start=2):
            if not row or not any(c.strip() for c in row):
                continue
            if len(row) <= max(i_id, i_cl):
                raise InputError(f"row has {len(row)} field(s), expected {len(cols)}", source=label, line=n)
            rel = row[i_rel] if i_rel is not None and i_rel < len(row) else None
            _add(labels, row[i_id].strip(), row[i_cl].strip(), rel, label, n)
    if not labels.cluster:
        raise InputError("labels file has no labels", source=label)
    return labels


def _add(labels: Labels, doc_id: str, cluster: str, relation, source: str, line: int) -> None:
    if not doc_id or not cluster:
        raise InputError("empty id or cluster", source=source, line=line)
    if doc_id in labels.cluster:
        raise InputError(f"id {doc_id!r} is labelled twice", source=source, line=line)
    labels.cluster[doc_id] = cluster
    if relation not in (None, ""):
        labels.relation[doc_id] = str(relation).strip()


def _comb2(n: int) -> int:
    return n * (n - 1) // 2


def adjusted_rand_index(gold: dict[str, str], pred: dict[str, str]) -> float:
    """Hubert-Arabie ARI over the ids both partitions share (1.0 for identical partitions)."""
    ids = [i for i in gold if i in pred]
    n = len(ids)
    if n < 2:
        return 1.0
    cont = Counter((gold[i], pred[i]) for i in ids)
    a = Counter(gold[i] for i in ids)
    b = Counter(pred[i] for i in ids)
    index = sum(_comb2(v) for v in cont.values())
    sa, sb = sum(_comb2(v) for v in a.values()), sum(_comb2(v) for v in b.values())
    expected = sa * sb / _comb2(n)
    maximum = (sa + sb) / 2
    if math.isclose(maximum, expected):
        return 1.0
    return (index - expected) / (maximum - expected)


def _pairs(assign: dict[str, str], ids) -> set[tuple[str, str]]:
    groups: dict[str, list[str]] = defaultdict(list)
    for i in ids:
        groups[assign[i]].append(i)
    out = set()
    for members in groups.values():
        members.sort()
        for x in range(len(members)):
            for y in range(x + 1, len(members)):
                out.add((members[x], members[y]))
    return out


@dataclass
class Evaluation:
    n_docs: int
    ari: float
    precision: float
    recall: float
    f1: float
    true_pairs: int
    predicted_pairs: int
    relation_recall: dict[str, tuple[float, int]]   # relation -> (recall, number of true pairs)
    unlabelled: int = 0

    def rows(self) -> list[tuple[str, str]]:
        rows = [("documents scored", str(self.n_docs)), ("ARI", f"{self.ari:.4f}"),
                ("pairwise precision", f"{self.precision:.4f}"), ("pairwise recall", f"{self.recall:.4f}"),
                ("pairwise F1", f"{self.f1:.4f}"), ("true pairs", str(self.true_pairs)),
                ("predicted pairs", str(self.predicted_pairs))]
        for rel, (r, n) in sorted(self.relation_recall.items()):
            rows.append((f"recall ({rel})", f"{r:.4f} of {n}"))
        return rows


def evaluate(labels: Labels, predicted: dict[str, str]) -> Evaluation:
    """Scores of a predicted ``id -> cluster`` assignment against ``labels``."""
    ids = sorted(i for i in labels.cluster if i in predicted)
    gold_pairs = _pairs(labels.cluster, ids)
    pred_pairs = _pairs(predicted, ids)
    tp = len(gold_pairs & pred_pairs)
    p = tp / len(pred_pairs) if pred_pairs else (1.0 if not gold_pairs else 0.0)
    r = tp / len(gold_pairs) if gold_pairs else 1.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    by_rel: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for x, y in gold_pairs:
        rel = _pair_relation(labels.relation.get(x), labels.relation.get(y))
        if rel is None:
            continue
        by_rel[rel][1] += 1
        by_rel[rel][0] += (x, y) in pred_pairs
    rel_recall = {k: (v[0] / v[1], v[1]) for k, v in by_rel.items() if v[1]}
    return Evaluation(len(ids), adjusted_rand_index(labels.cluster, predicted), p, r, f1, len(gold_pairs),
                      len(pred_pairs), rel_recall, len([i for i in predicted if i not in labels.cluster]))


def _pair_relation(ra: str | None, rb: str | None) -> str | None:
    real = [r for r in (ra, rb) if r and r != "original"]
    if not real:
        return None if not (ra or rb) else "original"
    return real[-1] if len(real) == 1 else "-".join(sorted(set(real))) if len(set(real)) > 1 else real[0]

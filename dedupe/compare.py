"""Verification: the real similarity of a candidate pair, measured on the exact hashed sets.

LSH only proposes candidates; every link dedupe reports is checked here against the sets
themselves, so an unlucky hash collision never merges two stories.

Measures (all in [0, 1]):

``dup_containment``
    share of the smaller document's word k-grams found in the larger.  A copy with a new headline,
    added boilerplate or a dropped paragraph stays near 1.
``dup_jaccard``
    Jaccard similarity of the word k-gram sets.
``rewrite_containment``
    share of the smaller document's content-word pairs found in the larger.  Rewording keeps
    many pairs ("leica"+"first", "mobile"+"market"...) while destroying k-grams.
``rewrite_jaccard``
    Jaccard similarity of the content-word pair sets.

``weighted_containment``
    ``rewrite_containment`` with each pair weighted by the background idf of its commoner word.
``rare_containment``
    share of the smaller document's rare words (names, numbers, distinctive terms) found in the
    larger.

The pair's ``similarity`` is the larger of ``dup_containment`` and ``weighted_containment``.
From ``dup_containment >= duplicate_at`` the pair is a ``duplicate``.  Otherwise it is a
``rewrite`` when the similarity reaches ``threshold``, the rare words agree
(``rare_containment >= rare_threshold`` with at least ``min_rare`` shared) and, when the rewrite
view carries the link, at least ``min_pairs`` pairs are shared.  The rare-word guard is what
keeps templates apart: two earnings tables share every content-word pair of the template but
none of the company names and figures.
"""

from __future__ import annotations

import numpy as np

from dedupe.config import VerifyConfig
from dedupe.model import Link
from dedupe.shingle import DocFeatures, FeatureBatch, prune_rows, sorted_unique


def _overlap(a: np.ndarray, b: np.ndarray) -> int:
    if len(a) == 0 or len(b) == 0:
        return 0
    return int(np.intersect1d(a, b, assume_unique=True).size)


def pair_scores(fa: DocFeatures, fb: DocFeatures) -> dict[str, float]:
    """The measures of the module docstring for one pair of documents."""
    out: dict[str, float] = {}
    for view, name in (("shingles", "dup"), ("pairs", "rewrite")):
        a, b = getattr(fa, view), getattr(fb, view)
        shared = _overlap(a, b)
        small, union = min(len(a), len(b)), len(a) + len(b) - shared
        out[f"{name}_containment"] = shared / small if small else 0.0
        out[f"{name}_jaccard"] = shared / union if union else 0.0
        out[f"{name}_shared"] = float(shared)
    out["weighted_containment"] = weighted_containment(fa, fb)
    shared = _overlap(fa.rare, fb.rare)
    small = min(len(fa.rare), len(fb.rare))
    out["rare_containment"] = shared / small if small else 0.0
    out["rare_shared"] = float(shared)
    return out


def weighted_containment(fa: DocFeatures, fb: DocFeatures) -> float:
    """Rarity-weighted rewrite containment: the weight of the shared content-word pairs over
    the total weight of the lighter document's pairs (a pair weighs its commoner word's idf)."""
    # sums in float64: the batched verifier (:func:`pair_scores_batch`) then agrees to ~1e-15
    wa = float(fa.pair_weights.sum(dtype=np.float64))
    wb = float(fb.pair_weights.sum(dtype=np.float64))
    if wa == 0.0 or wb == 0.0:
        return 0.0
    _, ia, _ = np.intersect1d(fa.pairs, fb.pairs, assume_unique=True, return_indices=True)
    return float(fa.pair_weights[ia].sum(dtype=np.float64)) / min(wa, wb)


def decide(scores: dict[str, float], config: VerifyConfig) -> tuple[float, str] | None:
    """``(similarity, relation)`` when the scores link the pair, else ``None``."""
    dup, rew = scores["dup_containment"], scores["weighted_containment"]
    similarity = max(dup, rew)
    if dup >= config.duplicate_at:
        return round(similarity, 6), "duplicate"
    if similarity < config.threshold:
        return None
    if rew >= dup and scores["rewrite_shared"] < config.min_pairs:
        return None
    if scores["rare_containment"] < config.rare_threshold or scores["rare_shared"] < config.min_rare:
        return None
    return round(similarity, 6), "rewrite"


def may_link(dup: np.ndarray, rew: np.ndarray, config: VerifyConfig) -> np.ndarray:
    """Where :func:`decide` could link a pair with near-duplicate containment ``dup`` and
    rewrite (weighted) containment ``rew``, whatever its other scores: False means it returns
    ``None``.  Vectorised, for callers that skip computing the costlier scores of hopeless pairs;
    keep in step with :func:`decide`."""
    dup = np.asarray(dup, dtype=np.float64)
    return (dup >= config.duplicate_at) | (np.maximum(dup, np.asarray(rew, dtype=np.float64)) >= config.threshold)


def verify_pairs(pairs, features, ids: list[str], config: VerifyConfig | None = None) -> list[Link]:
    """Links for the candidate ``pairs`` (index pairs into ``features``/``ids``) that verify.

    ``features`` is a :class:`dedupe.shingle.FeatureBatch` or a list of :class:`DocFeatures`.
    The measures are computed for all pairs at once (:func:`pair_scores_batch`); each pair's
    verdict is :func:`decide` on the same ``scores`` dict :func:`pair_scores` returns.
    """
    config = config or VerifyConfig()
    batch = features if isinstance(features, FeatureBatch) else FeatureBatch.from_features(features)
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    links = []
    for chunk, cols in pair_scores_batch(pairs, batch):
        names = list(cols)
        rows = zip(*(cols[name].tolist() for name in names))
        for (i, j), values in zip(chunk.tolist(), rows):
            scores = dict(zip(names, values))
            verdict = decide(scores, config)
            if verdict is not None:
                a, b = sorted((ids[i], ids[j]))
                links.append(Link(a, b, verdict[0], verdict[1], scores))
    return links


def _gather(values: np.ndarray, offsets: np.ndarray, docs: np.ndarray):
    """Positions of the members of each document in ``docs`` (concatenated) and their counts."""
    lengths = offsets[docs + 1] - offsets[docs]
    total = int(lengths.sum())
    ends = np.cumsum(lengths)
    pos = np.arange(total, dtype=np.int64) + np.repeat(offsets[docs] - (ends - lengths), lengths)
    return pos, lengths


def _shared(view, i: np.ndarray, j: np.ndarray):
    """Per pair: size of the intersection of document i's and j's sets in ``view`` (a
    ``(values, offsets, weights)`` triple) and, when the view has weights, the float64 sum of
    i's weights over it."""
    values, offsets, weights = view
    m = len(i)
    pos_a, len_a = _gather(values, offsets, i)
    pos_b, len_b = _gather(values, offsets, j)
    pair_a = np.repeat(np.arange(m, dtype=np.uint64), len_a)
    pair_b = np.repeat(np.arange(m, dtype=np.int64), len_b)
    keys_a = (pair_a << np.uint64(32)) | values[pos_a].astype(np.uint64)
    keys_b = (pair_b.astype(np.uint64) << np.uint64(32)) | values[pos_b].astype(np.uint64)
    # both key arrays are sorted (pair, then value): one merge-like search finds the shared values
    at = np.searchsorted(keys_a, keys_b)
    at_c = np.minimum(at, max(len(keys_a) - 1, 0))
    hit = (at < len(keys_a)) & (keys_a[at_c] == keys_b) if len(keys_a) else np.zeros(len(keys_b), bool)
    shared = np.bincount(pair_b[hit], minlength=m)
    wsum = None
    if weights is not None:
        w = weights[pos_a[at_c[hit]]].astype(np.float64)
        wsum = np.bincount(pair_b[hit], weights=w, minlength=m)
    return shared, wsum


def _weight_totals(batch: FeatureBatch) -> np.ndarray:
    w = batch.pair_weights.astype(np.float64)
    off = batch.pair_offsets
    totals = np.zeros(len(off) - 1, dtype=np.float64)
    doc = np.repeat(np.arange(len(off) - 1), np.diff(off))
    np.add.at(totals, doc, w) if len(w) else None
    return totals


def pair_scores_batch(pairs: np.ndarray, batch: FeatureBatch, chunk_values: int = 1 << 17):
    """The measures of :func:`pair_scores` for many pairs at once, vectorised.

    Yields ``(pairs_chunk, {measure: float64 array})`` per chunk of pairs (chunks hold about
    ``chunk_values`` set members, so memory stays bounded).  Values equal :func:`pair_scores`'s
    (containments and Jaccards exactly; the weighted containment to float64 rounding).
    """
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    if not len(pairs):
        return
    involved = sorted_unique(pairs.reshape(-1))
    views, lengths = {}, {}
    for view in ("shingles", "pairs", "rare"):
        values, offsets = batch.view(view)
        lengths[view] = np.diff(offsets)
        weights = batch.pair_weights if view == "pairs" else None
        if len(pairs) >= len(involved):  # pruning pays when documents are verified repeatedly
            views[view] = prune_rows(values, offsets, (involved,), weights)
        else:
            views[view] = (values, offsets, weights)
    sizes = sum(np.diff(v[1]) for v in views.values()).astype(np.int64) + 1
    cost = np.cumsum(sizes[pairs[:, 0]] + sizes[pairs[:, 1]])
    wtot = _weight_totals(batch)
    start = 0
    while start < len(pairs):
        stop = int(np.searchsorted(cost, (cost[start - 1] if start else 0) + chunk_values, side="right"))
        stop = max(stop, start + 1)
        chunk = pairs[start:stop]
        i, j = chunk[:, 0], chunk[:, 1]
        cols: dict[str, np.ndarray] = {}
        for view, name in (("shingles", "dup"), ("pairs", "rewrite")):
            shared, wsum = _shared(views[view], i, j)
            la, lb = lengths[view][i], lengths[view][j]
            small = np.minimum(la, lb)
            union = la + lb - shared
            with np.errstate(divide="ignore", invalid="ignore"):
                cols[f"{name}_containment"] = np.where(small > 0, shared / np.maximum(small, 1), 0.0)
                cols[f"{name}_jaccard"] = np.where(union > 0, shared / np.maximum(union, 1), 0.0)
            cols[f"{name}_shared"] = shared.astype(np.float64)
            if wsum is not None:
                wa, wb = wtot[i], wtot[j]
                ok = (wa != 0.0) & (wb != 0.0)
                with np.errstate(divide="ignore", invalid="ignore"):
                    cols["weighted_containment"] = np.where(ok, wsum / np.where(ok, np.minimum(wa, wb), 1.0), 0.0)
        shared, _ = _shared(views["rare"], i, j)
        la, lb = lengths["rare"][i], lengths["rare"][j]
        small = np.minimum(la, lb)
        cols["rare_containment"] = np.where(small > 0, shared / np.maximum(small, 1), 0.0)
        cols["rare_shared"] = shared.astype(np.float64)
        yield chunk, cols
        start = stop

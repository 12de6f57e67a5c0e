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
from dedupe.shingle import DocFeatures


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
    wa, wb = float(fa.pair_weights.sum()), float(fb.pair_weights.sum())
    if wa == 0.0 or wb == 0.0:
        return 0.0
    _, ia, _ = np.intersect1d(fa.pairs, fb.pairs, assume_unique=True, return_indices=True)
    return float(fa.pair_weights[ia].sum()) / min(wa, wb)


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


def verify_pairs(pairs, features: list[DocFeatures], ids: list[str],
                 config: VerifyConfig | None = None) -> list[Link]:
    """Links for the candidate ``pairs`` (index pairs into ``features``/``ids``) that verify."""
    config = config or VerifyConfig()
    links = []
    for i, j in pairs:
        i, j = int(i), int(j)
        scores = pair_scores(features[i], features[j])
        verdict = decide(scores, config)
        if verdict is not None:
            a, b = sorted((ids[i], ids[j]))
            links.append(Link(a, b, verdict[0], verdict[1], scores))
    return links

"""Tests of dedupe.training.syndication: the generated stories and the fit (on a small sample)."""

from __future__ import annotations

import random

import numpy as np
import pytest

from dedupe.classify import LINEAGE_FEATURES, RANK_FEATURES, SOURCE_FEATURES, SyndicationModel
from dedupe.config import Config
from dedupe.training import syndication as S


@pytest.fixture(scope="module")
def train_originals():
    from conftest import SHARED_DATA

    if not SHARED_DATA.is_dir():
        pytest.skip(f"the shared corpora are not at {SHARED_DATA} (only present on the developers' machines and CI)")
    return S.load_originals(SHARED_DATA, "train")


def _originals(arts, n=120):
    return random.Random(0).sample(arts, n)


def test_build_set_is_reproducible_and_has_weak_rewrites(shared_data, train_originals):
    originals = _originals(train_originals)
    docs, truth = S.build_set(originals, 80, seed=3)
    again, truth2 = S.build_set(originals, 80, seed=3)
    assert [d.text for d in docs] == [d.text for d in again] and truth == truth2
    kinds = {t.kind for t in truth.values()}
    assert {"free-rewrite", "standalone", "duplicate", "rewrite"} <= kinds
    ids = {d.id for d in docs}
    for t in truth.values():
        assert t.label in ("original", "syndicated")
        assert t.source is None or t.source in ids
        if t.kind in ("free-rewrite", "heavy-rewrite"):
            assert t.label == "syndicated"
    # the held-apart originals are never training originals
    train_ids = {a.id for a in train_originals}
    assert not train_ids & {a.id for a in S.load_originals(shared_data, "eval")}


def test_weak_rewrite_keeps_few_5grams():
    text = ("The council approved the new budget on Monday after a long debate. "
            "Spending on roads will rise by a fifth next year, officials said. "
            "Opposition members argued that the plan ignored rising rents in the city centre.\n\n"
            "The mayor said the budget was balanced and promised a review in the spring. "
            "Residents will be able to comment on the plan at three public meetings in March.")
    own = ["A local bakery reopened on Saturday after months of repairs to its ovens and shopfront."]
    weak = S.weak_rewrite(text, random.Random(1), own)

    def grams(t):
        w = t.lower().split()
        return {tuple(w[i:i + 5]) for i in range(len(w) - 4)}

    assert weak != text
    assert len(grams(weak) & grams(text)) / len(grams(text)) < 0.5


def test_fit_rank_rows_and_round_trip(train_originals, tmp_path):
    docs, truth = S.build_set(_originals(train_originals, 40), 25, seed=4)
    cfg = Config()
    model = S.fit(docs, truth, cfg)
    stories = S._stories(docs, truth, cfg)
    X, y = S.rank_matrices(stories, truth)
    assert X.shape[1] == len(SOURCE_FEATURES) + len(LINEAGE_FEATURES) and len(X) == len(y)
    Xf, yf = S.rank_matrices(stories, truth, [model.label_probabilities(story) for story, _cl in stories])
    assert Xf.shape == (len(X), len(RANK_FEATURES)) and (yf == y).all()
    np.testing.assert_array_equal(Xf[:, :X.shape[1]], X)
    # one row per candidate of each copy with two or more candidates, exactly one of them its source
    expected = positives = 0
    for story, _cl in stories:
        ids = [m.doc.id for m in story.members]
        for d, cands in story.candidates.items():
            src = truth[ids[d]].source
            if src is not None and len(cands) >= 2 and src in ids and ids.index(src) in cands:
                expected += len(cands)
                positives += 1
    assert len(y) == expected > 0 and int(y.sum()) == positives
    assert model.rank_model.method == "trees"
    path = tmp_path / "m.json"
    model.save(path, cfg)
    back = SyndicationModel.load(path, cfg)
    a = S.evaluate(model, docs, truth, cfg)
    b = S.evaluate(back, docs, truth, cfg)
    assert a == b
    assert a["label_accuracy"] > 0.8  # on its own training stories

import numpy as np
import pytest

from dedupe.compare import decide, may_link, pair_scores, verify_pairs
from dedupe.config import VerifyConfig
from dedupe.normalize import normalize_text
from dedupe.shingle import Shingler

ARTICLE = """Shares in the airline rose 4% on Monday after it reported a record first-half profit of
458 million Australian dollars, helped by cost cuts and higher fares on its international routes.

Chief executive Geoff Dixon said fuel costs remained the biggest risk to the second half, and warned
that earnings growth would slow as competition from budget carriers intensified on domestic routes.

Analysts had expected a profit closer to 431 million dollars. The company also said it would buy
twelve new long-haul aircraft over the next five years and add flights to China and India.

Unions criticised a plan to move some maintenance work overseas, saying hundreds of jobs in Sydney
and Melbourne could be lost if the carrier went ahead with the proposal next year."""

UNRELATED = """The football club confirmed that its striker will miss the rest of the season with a knee
injury picked up in training, a blow to its hopes of promotion. The manager said the squad would have
to cope without him and that the club would look at loan signings before the transfer deadline.
Supporters reacted with dismay on social media, and the player posted a message thanking fans."""


@pytest.fixture(scope="module")
def shingler():
    return Shingler()


def feats(shingler, text):
    return shingler.features(normalize_text(text))


def verdict(shingler, a, b, config=None):
    return decide(pair_scores(feats(shingler, a), feats(shingler, b)), config or VerifyConfig())


def test_exact_copy(shingler):
    assert verdict(shingler, ARTICLE, ARTICLE) == (1.0, "duplicate")


def test_new_headline_and_boilerplate(shingler):
    copy = "Airline flies to record profit\n\n" + ARTICLE + "\n\nShare this article\nRead more: travel deals of the week"
    sim, relation = verdict(shingler, ARTICLE, copy)
    assert relation == "duplicate" and sim > 0.9


def test_dropped_paragraph(shingler):
    paragraphs = ARTICLE.split("\n\n")
    copy = "\n\n".join(paragraphs[:2] + paragraphs[3:])
    sim, relation = verdict(shingler, ARTICLE, copy)
    assert relation == "duplicate" and sim > 0.9


def test_unrelated_articles_do_not_link(shingler):
    assert verdict(shingler, ARTICLE, UNRELATED) is None


def test_scores_are_symmetric(shingler):
    a, b = feats(shingler, ARTICLE), feats(shingler, ARTICLE[: len(ARTICLE) // 2] + UNRELATED)
    assert pair_scores(a, b) == pair_scores(b, a)


def test_empty_documents_score_zero(shingler):
    empty = feats(shingler, "")
    scores = pair_scores(empty, feats(shingler, ARTICLE))
    assert scores["dup_containment"] == 0.0 and scores["weighted_containment"] == 0.0
    assert decide(scores, VerifyConfig()) is None


def test_template_with_other_facts_is_not_a_copy(shingler):
    a = "Shr 66 cts vs 33 cts\nNet 2,955,000 vs 1,563,000\nRevs 26.1 mln vs 23.9 mln\nAcme Widgets Corp said."
    b = "Shr 12 cts vs 41 cts\nNet 1,210,000 vs 4,090,000\nRevs 88.4 mln vs 71.2 mln\nZenith Tooling Inc said."
    assert verdict(shingler, a, b) is None


def test_threshold_controls_linking(shingler):
    paragraphs = ARTICLE.split("\n\n")
    part = paragraphs[0] + "\n\n" + UNRELATED
    strict = VerifyConfig(threshold=0.9, duplicate_at=0.95)
    assert verdict(shingler, ARTICLE, part, strict) is None


def test_verify_pairs_returns_links_with_sorted_ids(shingler):
    fs = [feats(shingler, t) for t in (ARTICLE, UNRELATED, ARTICLE + " Reuter")]
    links = verify_pairs(np.array([[0, 1], [0, 2], [1, 2]]), fs, ["z", "m", "a"])
    assert [(l.a, l.b, l.relation) for l in links] == [("a", "z", "duplicate")]


# -- the batched verifier -------------------------------------------------------------------------
def test_batched_scores_equal_pair_scores(shingler):
    from dedupe.compare import pair_scores_batch

    texts = [ARTICLE, UNRELATED, ARTICLE.replace("Monday", "Tuesday").replace("twelve", "ten"),
             ARTICLE[:400], "", "short brief", UNRELATED + " " + ARTICLE[:300]]
    batch = shingler.features_batch([normalize_text(t) for t in texts])
    pairs = np.array([(i, j) for i in range(len(texts)) for j in range(len(texts)) if i != j])
    got = {}
    for chunk, cols in pair_scores_batch(pairs, batch, chunk_values=64):  # many small chunks
        for k, (i, j) in enumerate(chunk.tolist()):
            got[(i, j)] = {name: float(col[k]) for name, col in cols.items()}
    assert len(got) == len(pairs)
    for (i, j), scores in got.items():
        want = pair_scores(batch[i], batch[j])
        assert set(scores) == set(want)
        for name, value in want.items():
            if name == "weighted_containment":
                assert scores[name] == pytest.approx(value, rel=1e-12, abs=1e-15)
            else:
                assert scores[name] == value, name


def test_verify_pairs_same_links_from_a_list_or_a_batch(shingler):
    texts = [ARTICLE, UNRELATED, ARTICLE.replace("Monday", "Tuesday"), ARTICLE[:600]]
    batch = shingler.features_batch([normalize_text(t) for t in texts])
    pairs = [(0, 1), (0, 2), (0, 3), (1, 2), (2, 3)]
    ids = ["a", "b", "c", "d"]
    from_batch = verify_pairs(pairs, batch, ids, VerifyConfig())
    from_list = verify_pairs(pairs, list(batch), ids, VerifyConfig())
    assert [(l.a, l.b, l.similarity, l.relation) for l in from_batch] == \
        [(l.a, l.b, l.similarity, l.relation) for l in from_list]
    assert {(l.a, l.b) for l in from_batch} >= {("a", "c")}
    assert verify_pairs(np.empty((0, 2), dtype=np.int64), batch, ids) == []


def test_may_link_is_false_only_where_decide_links_nothing():
    """The filter skips the pairs may_link rules out; decide must return None for every one of
    them, whatever the other scores (checked over a grid of scores and two configurations)."""
    rng = np.random.default_rng(5)
    for config in (VerifyConfig(), VerifyConfig(threshold=0.3, duplicate_at=0.8)):
        dup = np.concatenate([rng.random(3000), [config.threshold, config.duplicate_at, 0.0, 1.0]])
        rew = np.concatenate([rng.random(3000), [0.0, 0.0, config.threshold, 1.0]])
        ok = may_link(dup, rew, config)
        for d, r, m in zip(dup.tolist(), rew.tolist(), ok.tolist()):
            scores = {"dup_containment": d, "weighted_containment": r, "rewrite_shared": 1e9,
                      "rare_containment": 1.0, "rare_shared": 1e9}
            if not m:
                assert decide(scores, config) is None
        assert ok.sum() > 0 and (~ok).sum() > 0

"""The pair verifier: the views it reads, its features, its model format and the shipped model."""

import json
import random

import numpy as np
import pytest

from dedupe.config import Config
from dedupe.errors import ModelError
from dedupe.normalize import normalize_text
from dedupe.shingle import Shingler
from dedupe.verifier import (CLASSES, FEATURES, VERSION, LearnedVerifier, Profiler, VerifierModel, load_model,
                             pair_features, verdicts)

TEXT = ("Xiaomi and Leica announced a long-term strategic partnership on Tuesday to co-develop "
        "flagship smartphone cameras. The first phone built with Leica optics will launch in July, "
        "the Chinese company said in a statement. Leica has worked with Huawei and Sharp before. "
        "Analysts expect the deal to help Xiaomi compete with Apple and Samsung in the premium market.")
REWORDED = ("Leica and Xiaomi have revealed a lasting strategic alliance to jointly build premium "
            "smartphone cameras. The Chinese firm stated that the initial handset with Leica optics is due in July. "
            "This is not Leica's first presence in the mobile market: it previously partnered with Huawei and Sharp. "
            "According to analysts, the agreement should allow Xiaomi to rival Samsung and Apple at the top end.")
OTHER = ("Heavy snow closed the mountain pass for a third day and officials warned drivers to stay away "
         "until ploughs clear the drifts near the summit tunnel. Schools in the valley stayed shut.")


@pytest.fixture(scope="module")
def shingler():
    return Shingler(Config().shingle)


def _f(shingler, text):
    return shingler.features(normalize_text(text))


# -- the views the verifier reads -------------------------------------------------------------
def test_shingles_view_survives_boilerplate_but_not_rewording(shingler):
    a, b, r = _f(shingler, TEXT), _f(shingler, "Share this article\n\n" + TEXT + "\n\nComments 0"), _f(shingler, REWORDED)
    assert np.isin(a.shingles, b.shingles).mean() > 0.95
    assert np.isin(a.shingles, r.shingles).mean() < 0.1


def test_pairs_view_keeps_reworded_content_pairs(shingler):
    a, r, o = _f(shingler, TEXT), _f(shingler, REWORDED), _f(shingler, OTHER)
    rew = np.isin(a.pairs, r.pairs).mean()
    assert rew > np.isin(a.shingles, r.shingles).mean() + 0.05
    assert np.isin(a.pairs, o.pairs).mean() == 0.0


def test_terms_view_overlaps_for_a_rewrite_not_for_another_story(shingler):
    a, r, o = _f(shingler, TEXT), _f(shingler, REWORDED), _f(shingler, OTHER)
    assert len(np.intersect1d(a.terms, r.terms)) >= 5
    assert len(np.intersect1d(a.terms, o.terms)) == 0


# -- features ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def profiler():
    return Profiler(Config())


def test_features_are_symmetric_and_named(profiler):
    pa, pb = profiler.profile(TEXT), profiler.profile(REWORDED)
    x, y = pair_features(pa, pb), pair_features(pb, pa)
    assert x.shape == (len(FEATURES),)
    np.testing.assert_allclose(x, y)


def test_features_are_symmetric_on_every_pair_of_the_samples(profiler):
    """Exactly equal both ways round on real texts, so a link does not depend on input order
    (model version 1 followed only the first text's sentences for ``align_order``: the two
    Bristol-Myers items of samples/reuters gave 0.75 one way and 0.67 the other)."""
    from pathlib import Path

    from dedupe.io import read_documents

    root = Path(__file__).resolve().parents[1] / "samples"
    docs = read_documents([str(root / "xiaomi-leica"), str(root / "reuters")])
    profiles = [profiler.profile(d.text) for d in docs]
    checked = 0
    for i in range(len(profiles)):
        for j in range(i + 1, len(profiles)):
            x, y = pair_features(profiles[i], profiles[j]), pair_features(profiles[j], profiles[i])
            assert np.array_equal(x, y), (docs[i].id, docs[j].id,
                                          [f for f, a, b in zip(FEATURES, x, y) if a != b])
            checked += 1
    assert checked == len(docs) * (len(docs) - 1) // 2 >= 100

def test_features_order_identical_rewrite_unrelated(profiler):
    p, r, o = profiler.profile(TEXT), profiler.profile(REWORDED), profiler.profile(OTHER)
    same, rew, other = (dict(zip(FEATURES, pair_features(p, q))) for q in (p, r, o))
    assert same["w5_jac"] == pytest.approx(1.0) and same["align_frac_min"] == pytest.approx(1.0)
    for name in ("stem_jac", "tfidf_cos", "pairs_weighted", "align_mean_max", "ent_jac"):
        assert same[name] >= rew[name] > other[name], name
    assert rew["w5_jac"] < 0.1


def test_numbers_entities_quotes_and_dates(profiler):
    a = profiler.profile('Acme Corp said profit rose 12% to $3.4 million. "We are pleased," said Jane Doe.',
                         date_str="2024-01-02")
    b = profiler.profile('Profit at Acme Corp climbed 15% to $3.9 million. "We are pleased," Jane Doe said.',
                         date_str="2024-01-05T10:00")
    f = dict(zip(FEATURES, pair_features(a, b)))
    assert f["num_jac"] == 0.0 and f["num_only_min"] == 2
    assert f["ent_cmax"] >= 0.5
    assert f["time_gap_days"] == 3.0
    c = profiler.profile("No date here.")
    assert dict(zip(FEATURES, pair_features(a, c)))["time_gap_days"] == -1.0


# -- model format -----------------------------------------------------------------------------
def _tiny_model(config, seed=0):
    from sklearn.ensemble import GradientBoostingClassifier

    from dedupe.training.verifier import calibrate_init, export

    rng = np.random.RandomState(seed)
    X = rng.rand(200, len(FEATURES))
    y = (X[:, 0] * 4).astype(int).clip(0, 3)
    gb = GradientBoostingClassifier(n_estimators=8, max_depth=2, random_state=seed).fit(X, y)
    return calibrate_init(export(gb, config, {"command": "test"}), gb, X), gb, X


def test_save_load_round_trip_reproduces_scikit_learn(tmp_path):
    config = Config()
    spec, gb, X = _tiny_model(config)
    path = tmp_path / "m.json"
    VerifierModel(spec).save(path)
    model = load_model(path, config)
    np.testing.assert_allclose(model.predict_proba(X), gb.predict_proba(X), atol=1e-9)
    # contributions decompose the raw score exactly (up to the per-class constant)
    raw = model.raw(X[:3])
    for i in range(3):
        c = model.contributions(X[i]).sum(axis=0)
        np.testing.assert_allclose(raw[i] - c, raw[0] - model.contributions(X[0]).sum(axis=0), atol=1e-9)
    assert path.read_text().startswith("{")  # JSON, not pickle


def test_tree_leaves_by_columns_equal_the_row_walk():
    """The column-wise walk (many rows) reaches the same node as following each row, on the
    shipped forest (with ties at thresholds and a NaN) and on trees with leaves at every depth."""
    from dedupe.verifier import tree_leaves, tree_leaves_reference

    model = load_model()
    rng = np.random.default_rng(1)
    X = rng.random((1000, len(FEATURES))) * rng.choice([1, 5, 100], size=len(FEATURES))
    X[:, :10] = model.threshold[model.left >= 0][:10]  # values exactly at thresholds go left
    X[3, 4] = np.nan
    args = (model.feature, model.threshold, model.left, model.right, model.roots.ravel(), model.depth)
    assert np.array_equal(tree_leaves(X, *args), tree_leaves_reference(X, *args))
    # tree 0: a single leaf; tree 1: root -> (leaf, node -> (node -> (leaf, leaf), leaf)), depth 3
    feature = np.array([-1, 0, -1, 1, 2, -1, -1, -1])
    threshold = np.array([0.0, 0.5, 0.0, 0.3, 0.7, 0.0, 0.0, 0.0])
    left = np.array([-1, 2, -1, 4, 5, -1, -1, -1])
    right = np.array([-1, 3, -1, 7, 6, -1, -1, -1])
    X = np.random.default_rng(2).random((2000, 3))
    for roots in (np.array([0, 1]), np.array([1, 0, 1]), np.array([0])):
        got = tree_leaves(X, feature, threshold, left, right, roots, 3)
        assert np.array_equal(got, tree_leaves_reference(X, feature, threshold, left, right, roots, 3))
        assert set(np.unique(got)) <= {0, 2, 5, 6, 7}  # leaves only


def test_a_bag_of_models_exports_as_the_mean_of_their_scores():
    from sklearn.ensemble import GradientBoostingClassifier

    from dedupe.training.verifier import Bag, calibrate_init, export

    rng = np.random.RandomState(0)
    X = rng.rand(300, len(FEATURES))
    y = (X[:, 0] * 4).astype(int).clip(0, 3)
    fitted = [GradientBoostingClassifier(n_estimators=6, max_depth=2, subsample=0.8, random_state=k).fit(X, y)
              for k in range(3)]
    bag = Bag(fitted)
    np.testing.assert_allclose(bag.decision_function(X), np.mean([m.decision_function(X) for m in fitted], axis=0))
    spec = calibrate_init(export(bag, Config(), {"command": "test"}), bag, X)  # raises if they disagree
    model = VerifierModel(spec)
    assert len(model.roots) == 18 and model.learning_rate == pytest.approx(0.1 / 3)
    np.testing.assert_allclose(model.predict_proba(X), bag.predict_proba(X), atol=1e-9)


def test_refuses_a_model_made_with_other_settings(tmp_path):
    spec, _, _ = _tiny_model(Config().with_(**{"shingle.word_ngram": 4}))
    path = tmp_path / "m.json"
    path.write_text(json.dumps(spec))
    with pytest.raises(ModelError) as exc:
        load_model(path, Config())
    msg = str(exc.value)
    assert "trained with settings" in msg and "retrain" in msg and "\n" not in msg
    load_model(path, Config().with_(**{"shingle.word_ngram": 4}))  # its own settings are fine


@pytest.mark.parametrize("mutate,match", [
    (lambda s: s.update(format="other"), "not a dedupe verifier"),
    (lambda s: s.update(version=99), "model version 99"),
    (lambda s: s.update(version=1), "model version 1; this dedupe reads version 2"),  # one-sided align_order
    (lambda s: s.pop("trees"), "corrupt"),
    (lambda s: s.update(features=s["features"][:-1]), "other features"),
])
def test_bad_model_files_are_one_line_errors(tmp_path, mutate, match):
    spec, _, _ = _tiny_model(Config())
    mutate(spec)
    path = tmp_path / "m.json"
    path.write_text(json.dumps(spec))
    with pytest.raises(ModelError, match=match):
        load_model(path)


def test_unreadable_model_file(tmp_path):
    p = tmp_path / "m.json"
    p.write_bytes(b"\x80\x04pickle")
    with pytest.raises(ModelError, match="not a readable JSON model"):
        load_model(p)
    with pytest.raises(ModelError, match="not found"):
        load_model(tmp_path / "none.json")


# -- the shipped model ------------------------------------------------------------------------
def test_shipped_model_loads_and_records_its_training():
    model = load_model(None, Config())
    assert model.classes == CLASSES
    t = model.training
    assert "python -m dedupe.training.verifier" in t["command"]
    assert t["metrics"]["msrp_test"]["accuracy"] > 0.7


def test_shipped_model_verdicts(profiler):
    model = load_model(None, Config())
    p, r, o = profiler.profile(TEXT), profiler.profile(REWORDED), profiler.profile(OTHER)
    X = np.vstack([pair_features(p, p), pair_features(p, r), pair_features(p, o)])
    same, rew, other = verdicts(model, X)
    assert same.linked and same.relation == "duplicate"
    # the hand-written rewrite is harder than the generated training rewrites: the model ranks it
    # far above another story, but is not sure it is a copy (README: why the rule stays the default)
    assert rew.probabilities["unrelated"] < other.probabilities["unrelated"] - 0.2
    assert not other.linked and other.probabilities["unrelated"] > 0.9
    assert same.similarity > rew.similarity > other.similarity


def test_seeds_with_the_learned_verifier(seeds_dir):
    import dedupe

    result = dedupe.Deduplicator(Config()).run(dedupe.read_documents([seeds_dir]))
    assert result.clusters[0].ids == ("000_fca7c5568b56ce35", "001_5a6b6dda3da054a3", "002_0534867a3f2c0450",
                                      "003_0e85794110f32b6f")
    m1 = result.clusters[0].members[1]
    assert m1.closest == "003_0e85794110f32b6f" and m1.relation == "rewrite"
    assert all(0.0 < link.similarity <= 1.0 and "p_unrelated" in link.scores for link in result.links)


def test_learned_verifier_refuses_other_settings():
    with pytest.raises(ModelError):
        LearnedVerifier(Config().with_(**{"minhash.num_perm": 64}))


# -- the generator the training data comes from ------------------------------------------------
def test_generator_is_reproducible_and_kinds_differ():
    from dedupe.training.generate import make_copy, make_same_source

    text = "\n\n".join([TEXT, OTHER, TEXT.replace("Xiaomi", "Oppo")])
    for kind in ("duplicate", "partial", "rewrite"):
        assert make_copy(text, random.Random(3), kind) == make_copy(text, random.Random(3), kind)
    a, b = make_same_source(text, random.Random(1))
    assert a != b
    with pytest.raises(ValueError, match="unknown copy kind"):
        make_copy(text, random.Random(0), "paraphrase")


def test_rewrite_keeps_content_but_breaks_kgrams(profiler):
    from dedupe.training.generate import make_copy

    text = "\n\n".join([TEXT, TEXT.replace("Xiaomi", "Oppo").replace("Leica", "Hasselblad")])
    vals = [dict(zip(FEATURES, pair_features(profiler.profile(text),
                                              profiler.profile(make_copy(text, random.Random(s), "rewrite")))))
            for s in range(5)]
    assert np.mean([v["w5_cmax"] for v in vals]) < 0.8
    assert np.mean([v["stem_cmax"] for v in vals]) > 0.6


# -- the fast paths equal the straightforward ones ----------------------------------------------
def _bbc_texts(shared_data, n, seed=5):
    paths = sorted((shared_data / "bbc-news" / "bbc").glob("*/*.txt"))
    rnd = random.Random(seed)
    texts = [p.read_bytes().decode("utf-8", errors="replace") for p in rnd.sample(paths, n)]
    # near copies and rewrites of some, so that many pairs share sentences, words and 4-grams
    for t in texts[: n // 3]:
        words = t.split()
        texts.append(" ".join(w for k, w in enumerate(words) if k % 17))
        texts.append("Share this\n" + t.replace(".", " today."))
    return texts


EDGE_TEXTS = ["", "one", "a b", "Ünïcödé text 😀 with emoji and Gothic 𐌰𐌹𐌽𐍃 here, 12.0 and 3,400.", "日本語のテキストです。これは文です。",
              'He said "the rates will rise by 2.5 percent next year" on Monday.', "x" * 3, "Ab Cd Ef. Gh."]


def test_fast_profile_and_pair_features_equal_the_reference_bit_for_bit(shared_data):
    from dedupe.verifier import pair_features_reference

    texts = _bbc_texts(shared_data, 60) + EDGE_TEXTS
    fast, ref = Profiler(Config()), Profiler(Config())
    dates = ["2020-01-%02d" % (1 + k % 28) if k % 3 else None for k in range(len(texts))]
    P = [fast.profile(t, date_str=d) for t, d in zip(texts, dates)]
    R = [ref.profile_reference(t, date_str=d) for t, d in zip(texts, dates)]
    assert all(p.char_keys is not None for p in P[:5]) and all(r.char_keys is None for r in R)
    assert any(p.char_keys is None for p in P)  # the Gothic word (beyond U+FFFF) takes the Counter path
    rnd = random.Random(9)
    pairs = [(rnd.randrange(len(P)), rnd.randrange(len(P))) for _ in range(600)]
    pairs += [(i, i + 60) for i in range(20)] + [(i, j) for i in range(len(P) - 8, len(P)) for j in range(len(P))]
    for i, j in pairs:
        a, b = pair_features(P[i], P[j]), pair_features_reference(R[i], R[j])
        assert a.tobytes() == b.tobytes(), (i, j, [f for f, x, y in zip(FEATURES, a, b) if x != y])
    for p, r in zip(P, R):
        assert (p.char_norm, p.tfidf_norm, p.rare, p.sentences, p.idf) == (r.char_norm, r.tfidf_norm, r.rare,
                                                                              r.sentences, r.idf)
        assert p.chars == r.chars


def test_guard_mask_equals_the_per_pair_guard(shared_data):
    from dedupe.compare import decide, pair_scores
    from dedupe.shingle import FeatureBatch
    from dedupe.verifier import _guard, guard_mask

    texts = _bbc_texts(shared_data, 45, seed=11) + EDGE_TEXTS
    profiler = Profiler(Config())
    P = [profiler.profile(t) for t in texts]
    batch = FeatureBatch.from_features([p.features for p in P])
    pairs = np.array([(i, j) for i in range(len(P)) for j in range(i + 1, len(P))], dtype=np.int64)
    for vc in (Config().verify, Config().with_(**{"verify.rare_threshold": 0.0, "verify.min_rare": 0,
                                                  "verify.duplicate_at": 0.3}).verify):
        mask = guard_mask(pairs, batch, vc)
        expected = np.array([_guard(P[i], P[j], vc) for i, j in pairs])
        assert np.array_equal(mask, expected)
        assert np.array_equal(guard_mask(pairs, batch, vc, block=97), expected)  # in blocks of pairs
        assert np.array_equal(guard_mask(pairs, batch, vc, rule=True, block=97), guard_mask(pairs, batch, vc, rule=True))
        assert 0 < expected.sum() < len(pairs)
        # the rule's variant keeps every pair the rule links
        rule = guard_mask(pairs, batch, vc, rule=True)
        linked = np.array([decide(pair_scores(P[i].features, P[j].features), vc) is not None for i, j in pairs])
        assert not (linked & ~rule).any() and linked.sum() > 0


def _synthetic_stories(seed: int, n: int = 36) -> list[str]:
    """Texts over a made-up vocabulary (rare to the background model): stories, whole and
    partial copies, and texts that share a few rare words or one sentence with another."""
    rnd = random.Random(seed)
    vocab = ["".join(rnd.choice("bcdfgklmnprstvz") + rnd.choice("aeiou") for _ in range(3)) for _ in range(300)]
    common = "the a of to in and said was it on".split()

    def sentence():
        return " ".join(rnd.choice(vocab if rnd.random() < 0.6 else common) for _ in range(rnd.randint(6, 14))) + "."

    texts: list[str] = []
    while len(texts) < n:
        story = [sentence() for _ in range(rnd.randint(3, 9))]
        texts.append(" ".join(story))
        kind = rnd.random()
        if kind < 0.3:  # a copy with a sentence changed
            copy = story[:]
            copy[rnd.randrange(len(copy))] = sentence()
            texts.append(" ".join(copy))
        elif kind < 0.55:  # a partial copy
            texts.append(" ".join(story[: max(1, len(story) // 2)] + [sentence()]))
        elif kind < 0.8:  # one shared sentence in another story
            texts.append(" ".join([sentence(), rnd.choice(story), sentence()]))
    return texts + EDGE_TEXTS


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_guard_mask_equals_the_per_pair_guard_on_synthetic_stories(seed):
    """guard_mask skips the merge of pairs that fail at an upper bound of their intersection;
    it must still give the per-pair guard's booleans exactly (no corpus needed)."""
    from dedupe.shingle import FeatureBatch
    from dedupe.verifier import _guard, guard_mask

    profiler = Profiler(Config())
    P = [profiler.profile(t) for t in _synthetic_stories(seed)]
    batch = FeatureBatch.from_features([p.features for p in P])
    pairs = np.array([(i, j) for i in range(len(P)) for j in range(len(P)) if i != j], dtype=np.int64)
    for vc in (Config().verify, Config().with_(**{"verify.rare_threshold": 0.0, "verify.min_rare": 0,
                                                  "verify.duplicate_at": 0.0}).verify,
               Config().with_(**{"verify.rare_threshold": 0.9, "verify.min_rare": 1,
                                 "verify.duplicate_at": 0.5}).verify):
        expected = np.array([_guard(P[i], P[j], vc) for i, j in pairs])
        assert np.array_equal(guard_mask(pairs, batch, vc), expected)
        assert np.array_equal(guard_mask(pairs, batch, vc, block=61), expected)
        assert 0 < expected.sum()
        # the rule's variant: the same test, with an empty side scoring containment 0
        rule = guard_mask(pairs, batch, vc, rule=True)
        assert not (expected & ~rule).any()
        assert np.array_equal(guard_mask(pairs, batch, vc, rule=True, block=61), rule)
    assert 0 < expected.sum() < len(pairs)


@pytest.mark.parametrize("seed", [4, 5, 6])
@pytest.mark.parametrize("step", [7, 1 << 22])
def test_intersections_count_shared_values(seed, step):
    from dedupe.verifier import _intersections

    rnd = np.random.default_rng(seed)
    sets = [np.unique(rnd.integers(0, 60, rnd.integers(0, 25))).astype(np.uint32) for _ in range(40)]
    empty = np.empty(0, dtype=np.uint32)
    sets = [empty] + sets[:20] + [empty, empty] + sets[20:] + [empty]  # empty documents anywhere
    values = np.concatenate(sets)
    offsets = np.concatenate(([0], np.cumsum([len(s) for s in sets])))
    i, j = rnd.integers(0, len(sets), 500), rnd.integers(0, len(sets), 500)
    got = _intersections(values, offsets, i, j, chunk_values=64, step=step)
    assert got.tolist() == [len(set(sets[a].tolist()) & set(sets[b].tolist())) for a, b in zip(i, j)]


def test_model_rows_are_independent_so_chunked_prediction_is_exact():
    model = load_model()
    rng = np.random.default_rng(0)
    X = rng.random((700, len(FEATURES))) * rng.choice([1, 5, 100], size=len(FEATURES))
    P = model.predict_proba(X)
    for size in (1, 3, 256):
        assert np.array_equal(P, np.vstack([model.predict_proba(X[s:s + size]) for s in range(0, len(X), size)]))


# -- figures and names that change between sentences of the same frame ---------------------------
FED = ("FED ADDS RESERVES VIA CUSTOMER REPURCHASES\n\n"
       "The Federal Reserve entered the government securities market to arrange two billion dlrs of "
       "customer repurchase agreements, a Fed spokesman said. Dealers said Federal funds were trading "
       "at 6-5/16 pct when the Fed began its temporary and indirect supply of reserves. The operation "
       "was the third this week, traders said on Tuesday in New York.")


def _fig(profiler, a, b):
    return dict(zip(FEATURES, pair_features(profiler.profile(a), profiler.profile(b))))


def test_facts_read_number_words_as_digits_and_months():
    from dedupe.verifier import _facts

    assert _facts("It rose five pct in March.", ["it", "rose", "five", "pct", "in", "march"]) == {"5", "march"}
    assert _facts("It rose 5 pct in march.", ["it", "rose", "5", "pct", "in", "march"]) == {"5", "march"}
    assert _facts("1,200 shares at 3.0", ["1", "200", "shares", "at", "3", "0"]) == {"1200", "3"}


def test_a_template_sibling_changes_facts_a_copy_does_not(profiler):
    next_day = (FED.replace("two billion", "1.5 billion").replace("6-5/16", "6-1/16")
                .replace("third", "fourth").replace("Tuesday", "Wednesday"))
    copy = FED.replace("Dealers said", "Dealers in New York said") + "\n\nCopyright 1987 Reuters."
    sibling = _fig(profiler, FED, next_day)
    same = _fig(profiler, FED, copy)
    assert sibling["facts_changed_frac"] >= 0.5 and sibling["facts_changed"] > 0
    assert same["facts_changed_frac"] == 0.0 and same["facts_changed"] == 0.0 and same["facts_same_frac"] == 1.0
    # a sentence is compared with the sentence of the same frame, wherever it stands
    moved = "\n\n".join(reversed(FED.split("\n\n")))
    assert _fig(profiler, FED, moved)["facts_changed_frac"] == 0.0


def test_names_changed_between_sentences_of_one_frame(profiler):
    a = ("Conchemco Inc said its board declared a quarterly dividend of ten cts a share. "
         "Conchemco said the dividend is payable April six to holders of record March 16.")
    b = a.replace("Conchemco", "Trinity Industries")
    assert _fig(profiler, a, b)["names_changed_frac"] > 0.0
    assert _fig(profiler, a, a)["names_changed_frac"] == 0.0


def test_shipped_model_separates_another_days_item_from_a_corrected_copy(profiler):
    """The template siblings and corrected copies of the training set at work: a corrected
    figure in a long copy stays a duplicate, a short wire item of another day is not linked."""
    model = load_model(None, Config())
    long_story = " ".join([TEXT, REWORDED.replace("July", "August"), OTHER])
    fixed = long_story.replace("Huawei and Sharp before", "Huawei, Sharp and Panasonic before", 1)
    (corrected,) = verdicts(model, pair_features(profiler.profile(long_story), profiler.profile(fixed))[None, :])
    assert corrected.linked and corrected.relation == "duplicate"
    other_day = FED.replace("two billion", "2.5 billion").replace("6-5/16", "6-3/8").replace("Tuesday", "Friday") \
        .replace("third", "second")
    (v,) = verdicts(model, pair_features(profiler.profile(FED), profiler.profile(other_day))[None, :])
    assert not v.linked


def test_trees_see_features_as_float32_like_scikit_learn():
    """scikit-learn's trees compare a feature cast to float32 with a float64 threshold.  0.1 is
    0.10000000149... in float32: against a threshold between the two it must go right, as in
    scikit-learn (a retrained model disagreed with scikit-learn by 0.03 before this)."""
    C = len(CLASSES)
    spec = {"format": "dedupe-verifier", "version": VERSION, "fingerprint": Config().fingerprint(),
            "features": list(FEATURES), "classes": list(CLASSES), "init": [0.0] * C,
            "learning_rate": 1.0, "depth": 1,
            # one stage, one tree per class: the root splits feature 0 at 0.1000000005
            "trees": {"feature": [0, -1, -1] * C, "threshold": [0.1000000005, 0.0, 0.0] * C,
                      "left": [v for k in range(C) for v in (3 * k + 1, -1, -1)],
                      "right": [v for k in range(C) for v in (3 * k + 2, -1, -1)],
                      "value": [0.0, -1.0, 1.0] * C, "roots": [[3 * k for k in range(C)]]}}
    model = VerifierModel(spec)
    x = np.zeros((1, len(FEATURES)))
    x[0, 0] = 0.1
    assert float(np.float32(0.1)) > 0.1000000005 > 0.1
    np.testing.assert_allclose(model.raw(x), [[1.0] * C])             # right, as scikit-learn
    x[0, 0] = 0.05
    np.testing.assert_allclose(model.raw(x), [[-1.0] * C])
    assert model.contributions(np.where(np.arange(len(FEATURES)) == 0, 0.1, 0.0))[0].tolist() == [1.0] * C


def test_paused_gc_restores_the_collector_state():
    import gc

    from dedupe.verifier import paused_gc

    assert gc.isenabled()
    with paused_gc():
        assert not gc.isenabled()
        with paused_gc():  # nested: the inner exit must not switch it back on
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(ValueError):
        with paused_gc():
            raise ValueError("boom")
    assert gc.isenabled()
    gc.disable()
    try:
        with paused_gc():
            pass
        assert not gc.isenabled()  # was off before: stays off
    finally:
        gc.enable()


_FEATURES_OF_SEEDS = """
import sys
from pathlib import Path
from dedupe.config import Config
from dedupe.verifier import Profiler, pair_features
texts = [p.read_text(encoding="utf-8") for p in sorted(Path(sys.argv[1]).glob("*.txt"))]
profiler = Profiler(Config())
profiles = [profiler.profile(t) for t in texts]
for i in range(len(profiles)):
    for j in range(i + 1, len(profiles)):
        print(pair_features(profiles[i], profiles[j]).tobytes().hex())
"""


def test_pair_features_do_not_depend_on_the_hash_seed(seeds_dir):
    """String hashing (hence set iteration order) changes with PYTHONHASHSEED from one process
    to the next; the features must not (a tree threshold sits between two floats)."""
    import os
    import subprocess
    import sys

    outs = []
    for seed in ("1", "2", "3"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        run = subprocess.run([sys.executable, "-c", _FEATURES_OF_SEEDS, str(seeds_dir)], env=env,
                             capture_output=True, text=True, check=True)
        outs.append(run.stdout)
    assert outs[0].count("\n") == 10  # the five seeds' ten pairs
    assert outs[0] == outs[1] == outs[2]

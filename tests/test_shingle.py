import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dedupe.background import Background
from dedupe.config import ShingleConfig
from dedupe.normalize import normalize_text
from dedupe.shingle import (STOP_WORDS, Shingler, is_spaceless, ngram_hashes, pair_hashes, token_hash)


@pytest.fixture(scope="module")
def shingler():
    return Shingler()


def test_token_hash_is_crc32_and_stable():
    assert token_hash("leica") == 0x95D29BCD or token_hash("leica") == token_hash("leica")
    assert token_hash("a") != token_hash("b")


def test_ngram_hashes_sorted_unique_and_short_sequences():
    h = np.array([token_hash(t) for t in "a b c a b c".split()], dtype=np.uint64)
    grams = ngram_hashes(h, 3)
    assert grams.dtype == np.uint32 and list(grams) == sorted(set(grams))
    assert len(grams) == 3  # abc, bca, cab
    assert len(ngram_hashes(h[:2], 5)) == 1  # shorter than k: one shingle
    assert len(ngram_hashes(h[:0], 5)) == 0


def test_ngram_order_matters_but_pair_order_does_not():
    ab = np.array([token_hash("leica"), token_hash("xiaomi")], dtype=np.uint64)
    ba = ab[::-1].copy()
    assert list(ngram_hashes(ab, 2)) != list(ngram_hashes(ba, 2))
    assert list(pair_hashes(ab, 2)) == list(pair_hashes(ba, 2))


def test_pairs_reach_across_the_window_only():
    h = np.array([token_hash(t) for t in "w1 w2 w3 w4".split()], dtype=np.uint64)
    assert len(pair_hashes(h, 2)) == 3
    assert len(pair_hashes(h, 3)) == 5


def test_features_of_a_sentence(shingler):
    f = shingler.features(normalize_text("The Leica cameras arrive in July with the new Xiaomi phones."))
    assert f.n_tokens == 11
    assert f.n_content == 7  # the, in, with, the are stop words
    assert len(f.shingles) == f.n_tokens - 5 + 1
    assert len(f.pairs) == len(f.pair_weights) > 0
    assert set(f.terms) <= set(f.pairs.tolist()) or len(f.terms) == 7
    rare_words = {token_hash(w) for w in ("leica", "xiaomi")}
    assert rare_words <= set(int(x) for x in f.rare)


def test_rewording_keeps_pairs_but_not_ngrams(shingler):
    a = shingler.features(normalize_text("This is far from Leica's first rodeo in the mobile world."))
    b = shingler.features(normalize_text("This is not the first Leica presence in the mobile market."))
    assert len(np.intersect1d(a.shingles, b.shingles)) == 0
    assert len(np.intersect1d(a.pairs, b.pairs)) >= 1  # (leica, first) survives the rewording


def test_stemming_maps_inflections_together(shingler):
    a = shingler.features("partnership announced phones")
    b = shingler.features("partnerships announcing phone")
    assert set(a.terms.tolist()) == set(b.terms.tolist())


def test_spaceless_scripts_use_characters(shingler):
    text = "小米和徕卡宣布建立战略合作伙伴关系首款手机将于七月发布"
    assert is_spaceless(text) and not is_spaceless("plain english words")
    f = shingler.features(text)
    assert len(f.shingles) == len(text) - 5 + 1
    assert len(f.pairs) > 0


def test_empty_text_gives_empty_sets(shingler):
    f = shingler.features("")
    assert (f.n_tokens, len(f.shingles), len(f.pairs), len(f.terms), len(f.rare)) == (0, 0, 0, 0, 0)


def test_top_terms_prefer_rare_words():
    bg = Background(1000, {"market": 900, "phone": 500})
    s = Shingler(ShingleConfig(top_terms=1), background=bg)
    f = s.features("market market market phone zeiss")
    assert list(f.terms) == [token_hash("zeiss")]


def test_stop_words_are_lowercase_words():
    assert all(w == w.lower() and " " not in w for w in STOP_WORDS)


# -- the batched engine ---------------------------------------------------------------------------
BATCH_TEXTS = [
    "", "a", "leica", "xiaomi leica", "one two three four", "one two three four five",
    "Xiaomi and Leica announce a long-term strategic partnership in mobile imaging. " * 3,
    "the of and to in", "Leica leica LEICA leicas 2022 2022 £600m co-operation",
    "小米和徕卡宣布建立长期战略合作伙伴关系，共同研发手机影像",
    "Ünïcödé wörds, façade café — naïve coöperation in Zürich and São Paulo.",
    "tab\tseparated\nlines\n\nand_underscores_ok x_y 9_9",
]


def _assert_same(a, b):
    for view in ("shingles", "pairs", "pair_weights", "terms", "rare"):
        x, y = getattr(a, view), getattr(b, view)
        assert x.dtype == y.dtype and np.array_equal(x, y), view
    assert (a.n_tokens, a.n_content) == (b.n_tokens, b.n_content)


def test_batch_engine_equals_the_reference_document_by_document():
    texts = [normalize_text(t) for t in BATCH_TEXTS]
    batch = Shingler().features_batch(texts)
    reference = Shingler()
    assert len(batch) == len(texts)
    for text, got in zip(texts, batch):
        _assert_same(got, reference.features_reference(text))


def test_batch_engine_on_real_articles(seeds_dir):
    texts = [normalize_text(p.read_text(encoding="utf-8")) for p in sorted(seeds_dir.glob("*.txt"))]
    assert texts
    sh = Shingler()
    for _ in range(2):  # cold, then with a warm vocabulary
        for text, got in zip(texts, sh.features_batch(texts)):
            _assert_same(got, Shingler().features_reference(text))


def test_shingles_batch_is_the_shingles_view():
    texts = [normalize_text(t) for t in BATCH_TEXTS]
    sh = Shingler()
    values, offsets = sh.shingles_batch(texts)
    full = sh.features_batch(texts)
    assert np.array_equal(values, full.shingles) and np.array_equal(offsets, full.shingle_offsets)


def test_features_batch_without_pairs_differs_only_in_the_pairs_view():
    texts = [normalize_text(t) for t in BATCH_TEXTS]
    sh = Shingler()
    full, lean = sh.features_batch(texts), sh.features_batch(texts, pairs=False)
    assert len(full.pairs) > 0
    assert len(lean.pairs) == len(lean.pair_weights) == 0 and lean.pair_weights.dtype == np.float32
    assert np.array_equal(lean.pair_offsets, np.zeros(len(texts) + 1, dtype=np.int64))
    for name in ("shingles", "shingle_offsets", "terms", "term_offsets", "rare", "rare_offsets",
                 "n_tokens", "n_content"):
        assert np.array_equal(getattr(full, name), getattr(lean, name)), name


def test_feature_batch_take_concatenate_and_pack_roundtrip():
    from dedupe.shingle import FeatureBatch

    texts = [normalize_text(t) for t in BATCH_TEXTS]
    batch = Shingler().features_batch(texts)
    order = [3, 0, 6, 6, 9]
    taken = batch.take(order)
    for k, i in enumerate(order):
        _assert_same(taken[k], batch[i])
    joined = FeatureBatch.concatenate([batch.take(range(5)), batch.take(range(5, len(batch)))])
    packed = FeatureBatch.from_features(list(batch))
    for i in range(len(batch)):
        _assert_same(joined[i], batch[i])
        _assert_same(packed[i], batch[i])
    assert batch[-1].n_tokens == batch[len(batch) - 1].n_tokens
    with pytest.raises(IndexError):
        batch[len(batch)]


def test_stemming_matches_pure_python_snowball():
    """snowballstemmer switches to the C PyStemmer when installed; the stems must not change."""
    import snowballstemmer
    from snowballstemmer.english_stemmer import EnglishStemmer

    words = ("running announces partnership imaging leica's generously cameras photographers "
             "co-operation relational conditional happily skies dying agreed").split()
    active, pure = snowballstemmer.stemmer("english"), EnglishStemmer()
    assert [active.stemWord(w) for w in words] == [pure.stemWord(w) for w in words]


@settings(max_examples=40, deadline=None, derandomize=True)
@given(st.lists(st.lists(st.sampled_from(
    "leica xiaomi the camera of phone a new 12 partnership and mobile imaging é 数据".split()),
    max_size=30), max_size=8))
def test_batch_engine_property(docs):
    texts = [" ".join(words) for words in docs]
    batch = Shingler().features_batch(texts)
    ref = Shingler()
    for text, got in zip(texts, batch):
        _assert_same(got, ref.features_reference(text))


def test_ascii_fast_tokens_equal_the_regex(shared_data):
    import re

    from dedupe.normalize import normalize_text

    sh = Shingler(ShingleConfig())
    paths = sorted((shared_data / "bbc-news" / "bbc").glob("*/*.txt"))[::40]
    texts = [normalize_text(p.read_bytes().decode("utf-8", errors="replace")) for p in paths]
    texts += ["", "snake_case and __dunder__ x1 9.5% e-mail", "tabs\tand\nnew\x0blines \x1f ~`!@#$^&*()[]{}|\\;:'\",<>/?"]
    assert sum(t.isascii() for t in texts) > 20
    for t in texts:
        assert sh.tokens(t) == re.findall(r"\w+", t)

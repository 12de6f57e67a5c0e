import numpy as np
import pytest

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

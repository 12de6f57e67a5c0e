"""The batched MinHash engine: bit-identical to datasketch, pinned by golden values, and a
sound Jaccard estimator."""

import numpy as np
import pytest
from datasketch import LeanMinHash, MinHash, MinHashLSH
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dedupe.config import Config, MinHashConfig
from dedupe.normalize import normalize_text
from dedupe.shingle import Shingler
from dedupe.signature import (EMPTY, Signer, estimate_jaccard, minhash_csr, minhash_matrix,
                              permutations, to_minhash)


@pytest.fixture(scope="module")
def shingler():
    return Shingler()


def datasketch_row(values, num_perm=128, seed=1) -> np.ndarray:
    """datasketch's own MinHash fed the same 32-bit hash values."""
    m = MinHash(num_perm=num_perm, seed=seed, hashfunc=lambda v: v)
    if len(values):
        m.update_batch([int(v) for v in values])
    return m.hashvalues.astype(np.uint32)


TEXTS = [
    "",                                   # empty document
    "leica",                              # one token
    "xiaomi leica",                       # shorter than a 5-gram
    "Xiaomi and Leica announce a long-term strategic partnership in mobile imaging.",
    "the the the the the the the the",    # repeated k-grams
    "小米和徕卡宣布建立长期战略合作伙伴关系",   # spaceless script: character k-grams
    "Ünïcödé wörds, façade café — naïve coöperation in Zürich.",
]


@pytest.mark.parametrize("text", TEXTS)
def test_rows_equal_datasketch_on_the_same_shingles(shingler, text):
    f = shingler.features(normalize_text(text))
    for view in ("shingles", "terms"):
        values = getattr(f, view)
        row = minhash_matrix([values], MinHashConfig())[0]
        assert np.array_equal(row, datasketch_row(values)), view


def test_empty_set_is_the_datasketch_empty_signature(shingler):
    f = shingler.features("")
    assert len(f.shingles) == 0
    row = minhash_matrix([f.shingles])[0]
    assert np.all(row == EMPTY)
    assert np.array_equal(row, MinHash(num_perm=128, seed=1).hashvalues.astype(np.uint32))


def test_one_token_document_has_one_shingle_and_matches_datasketch(shingler):
    f = shingler.features("leica")
    assert len(f.shingles) == 1
    assert np.array_equal(minhash_matrix([f.shingles])[0], datasketch_row(f.shingles))


@pytest.mark.parametrize("num_perm,seed", [(16, 0), (64, 7), (256, 1), (1024, 42)])
def test_other_permutation_counts_and_seeds_match_datasketch(num_perm, seed):
    rng = np.random.default_rng(num_perm + seed)
    sets = [np.unique(rng.integers(0, 2**32, size, dtype=np.uint64).astype(np.uint32)) for size in (0, 1, 5, 700)]
    sig = minhash_matrix(sets, MinHashConfig(num_perm=num_perm, seed=seed))
    assert sig.shape == (4, num_perm) and sig.dtype == np.uint32
    for row, values in zip(sig, sets):
        assert np.array_equal(row, datasketch_row(values, num_perm, seed))


def test_permutations_are_datasketchs(shingler):
    a, b = permutations(128, 1)
    m = MinHash(num_perm=128, seed=1)
    pa, pb = m.permutations
    assert np.array_equal(a.astype(np.uint64), pa.astype(np.uint64))
    assert np.array_equal(b.astype(np.uint64), pb.astype(np.uint64))


# Golden values: the first shingle hashes and signature values of fixed texts.  A change here
# changes every stored signature: bump SIGNATURE_VERSION in config.py and update these literals.
GOLDEN = [
    ("Xiaomi and Leica announce a long-term strategic partnership in mobile imaging.",
     8, [24512241, 33624613, 178569873, 600330851],
     [27834664, 1366444269, 527854354, 254341462, 605453024, 578312193]),
    ("one", 1, [3291168608], [2139642248, 2908575437, 1461683453, 2809707702, 1206919044, 382313701]),
    ("Shares in the airline rose 4% on Monday after it reported a record first-half profit.",
     12, [785454284, 920705852, 1122326533, 1200427716],
     [141485010, 92758033, 569285227, 132894795, 53242920, 660410297]),
]


@pytest.mark.parametrize("text,count,first_hashes,first_sig", GOLDEN)
def test_golden_signatures(shingler, text, count, first_hashes, first_sig):
    f = shingler.features(normalize_text(text))
    assert len(f.shingles) == count
    assert f.shingles[:4].tolist() == first_hashes
    assert minhash_matrix([f.shingles], Config().minhash)[0][:6].tolist() == first_sig


def test_chunking_and_threads_do_not_change_signatures():
    rng = np.random.default_rng(3)
    sets = [np.unique(rng.integers(0, 2**32, int(rng.integers(0, 400)), dtype=np.uint64).astype(np.uint32))
            for _ in range(300)]
    reference = minhash_matrix(sets)
    assert np.array_equal(minhash_matrix(sets, chunk_elements=128), reference)  # one doc per chunk
    assert np.array_equal(minhash_matrix(sets, chunk_elements=1 << 14, threads=2), reference)
    lengths = [len(s) for s in sets]
    offsets = np.concatenate(([0], np.cumsum(lengths))).astype(np.int64)
    assert np.array_equal(minhash_csr(np.concatenate(sets), offsets), reference)


def test_signer_accepts_a_feature_batch_or_a_list(shingler):
    texts = [normalize_text(t) for t in TEXTS]
    batch = shingler.features_batch(texts)
    from_batch = Signer(Config()).sign(batch)
    from_list = Signer(Config()).sign([shingler.features_reference(t) for t in texts])
    assert set(from_batch) == {"shingles", "terms"}
    for view in from_batch:
        assert np.array_equal(from_batch[view], from_list[view])


def test_rows_work_where_datasketch_expects_a_minhash(shingler):
    a = shingler.features(normalize_text(TEXTS[3]))
    b = shingler.features(normalize_text(TEXTS[3] + " It was announced in Beijing on Thursday."))
    sig = minhash_matrix([a.shingles, b.shingles])
    ma, mb = to_minhash(sig[0]), to_minhash(sig[1])
    assert isinstance(ma, LeanMinHash)
    lsh = MinHashLSH(threshold=0.3, num_perm=128)
    lsh.insert("a", ma)
    assert lsh.query(mb) == ["a"]
    assert ma.jaccard(mb) == estimate_jaccard(sig[0], sig[1])
    with pytest.raises(ValueError):
        to_minhash(sig[0][:64])


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(common=st.integers(0, 300), only_a=st.integers(0, 300), only_b=st.integers(0, 300),
       seed=st.integers(0, 2**31 - 1))
def test_estimate_is_near_exact_jaccard(common, only_a, only_b, seed):
    total = common + only_a + only_b
    if total == 0:
        return
    rng = np.random.default_rng(seed)
    pool = rng.choice(2**32, size=total, replace=False).astype(np.uint32)
    a = np.sort(pool[:common + only_a])
    b = np.sort(np.concatenate((pool[:common], pool[common + only_a:])))
    exact = common / total
    sig = minhash_matrix([a, b])
    if len(a) == 0 or len(b) == 0:
        return
    # 128 permutations: standard error <= 0.045; 0.2 is a > 4 sigma margin
    assert abs(estimate_jaccard(sig[0], sig[1]) - exact) <= 0.2

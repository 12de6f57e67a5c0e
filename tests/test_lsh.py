"""LSH banding and candidate generation."""

import numpy as np
import pytest

from dedupe.config import Config, LSHParams
from dedupe.index.lsh import (EMPTY, MAX_BUCKET_PAIRS, band_keys, candidate_pairs,
                              candidate_pairs_reference)
from dedupe.signature import minhash_matrix


def _sets_with_jaccard(rng, similarity, size=400):
    common = int(round(2 * similarity * size / (1 + similarity)))
    pool = rng.choice(2**32, size=2 * size, replace=False).astype(np.uint32)
    a = np.sort(pool[:size])
    b = np.sort(np.concatenate((pool[:common], pool[size:2 * size - common])))
    return a, b


def test_band_keys_shape_and_empty_rows():
    sig = minhash_matrix([np.array([1, 2, 3], dtype=np.uint32), np.empty(0, dtype=np.uint32)])
    keys = band_keys(sig, LSHParams(16, 8))
    assert keys.shape == (2, 16) and keys.dtype == np.uint64
    assert np.all(keys[1] == 0) and np.all(keys[0] != 0)
    assert np.all(sig[1] == EMPTY)


def test_band_keys_refuse_more_permutations_than_the_signature_has():
    sig = minhash_matrix([np.array([1], dtype=np.uint32)])
    with pytest.raises(ValueError, match="permutations"):
        band_keys(sig, LSHParams(20, 8))


def test_equal_values_in_different_bands_do_not_collide():
    sig = np.zeros((2, 8), dtype=np.uint32)
    sig[0] = [5, 5, 5, 5, 1, 1, 1, 1]
    sig[1] = [1, 1, 1, 1, 5, 5, 5, 5]
    keys = band_keys(sig, LSHParams(2, 4))
    assert len(candidate_pairs([keys])) == 0


def test_empty_documents_are_never_candidates():
    sig = minhash_matrix([np.empty(0, dtype=np.uint32)] * 3)
    assert candidate_pairs([band_keys(sig, LSHParams(16, 8))]).shape == (0, 2)
    assert candidate_pairs([]).shape == (0, 2)


def test_similar_sets_become_candidates_and_dissimilar_ones_rarely():
    rng = np.random.default_rng(11)
    params = Config().lsh_params()["shingles"]
    hits_similar = hits_far = 0
    for _ in range(40):
        a, b = _sets_with_jaccard(rng, 0.6)
        c, d = _sets_with_jaccard(rng, 0.02)
        sig = minhash_matrix([a, b, c, d])
        pairs = {tuple(p) for p in candidate_pairs([band_keys(sig, params)]).tolist()}
        hits_similar += (0, 1) in pairs
        hits_far += (2, 3) in pairs
    assert params.probability(0.6) > 0.99 and hits_similar >= 38
    assert hits_far <= 4


def test_candidates_are_unique_sorted_and_ordered_within_pairs():
    rng = np.random.default_rng(5)
    keys = [rng.integers(0, 40, (200, 6)).astype(np.uint64), rng.integers(0, 60, (200, 3)).astype(np.uint64)]
    pairs = candidate_pairs(keys)
    assert pairs.dtype == np.int64 and pairs.shape[1] == 2
    assert np.all(pairs[:, 0] < pairs[:, 1])
    assert len({tuple(p) for p in pairs.tolist()}) == len(pairs)
    assert pairs.tolist() == sorted(pairs.tolist())


@pytest.mark.parametrize("seed", range(12))
def test_vectorised_candidates_equal_the_per_bucket_reference(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 500))
    keys = [rng.integers(0, int(rng.integers(1, 400)), (n, int(rng.integers(1, 8)))).astype(np.uint64)
            for _ in range(int(rng.integers(1, 3)))]
    got, want = candidate_pairs(keys), candidate_pairs_reference(keys)
    assert got.dtype == want.dtype and np.array_equal(got, want)


def test_mass_duplicate_bucket_stays_linear():
    n = 5 * MAX_BUCKET_PAIRS
    keys = np.full((n, 1), 7, dtype=np.uint64)  # every document in one bucket
    pairs = candidate_pairs([keys])
    assert len(pairs) == 2 * n - 3  # a chain plus a star, not n * (n - 1) / 2
    assert np.array_equal(pairs, candidate_pairs_reference([keys]))
    # still connected: every member is paired with the first
    assert set(pairs[pairs[:, 0] == 0][:, 1].tolist()) == set(range(1, n))


def test_splitting_large_inputs_by_key_bits_changes_nothing():
    rng = np.random.default_rng(9)
    sigs = rng.integers(0, 50, (3000, 16)).astype(np.uint32)  # many shared bands
    keys = [band_keys(sigs, LSHParams(8, 2)), band_keys(sigs[:, ::-1].copy(), LSHParams(4, 4))]
    whole = candidate_pairs(keys)
    assert np.array_equal(candidate_pairs(keys, block_cells=1000), whole)  # 2**5 parts
    assert np.array_equal(whole, candidate_pairs_reference(keys))


def _unmix64(y: int) -> int:
    """The inverse of :func:`dedupe.shingle.mix64` on one value (to build colliding keys)."""
    from dedupe.shingle import _M2, _M3

    mask = (1 << 64) - 1
    y ^= (y >> 31) ^ (y >> 62)
    y = (y * pow(int(_M3), -1, 1 << 64)) & mask
    y ^= (y >> 27) ^ (y >> 54)
    y = (y * pow(int(_M2), -1, 1 << 64)) & mask
    y ^= (y >> 30) ^ (y >> 60)
    return y


def test_buckets_whose_remixed_keys_share_their_top_bits_stay_apart():
    """candidate_pairs sorts ``top bits | document`` words when the remixed bucket keys differ in
    their top bits, and falls back to a two-key sort when two do not: here two buckets differ
    only in the lowest bit after the remix, and they must not merge."""
    from dedupe.shingle import mix64

    h = 0x9E3779B97F4A7C15
    a, b = _unmix64(h), _unmix64(h ^ 1)
    assert mix64(np.array([a, b], dtype=np.uint64)).tolist() == [h, h ^ 1]
    keys = np.array([[a], [b], [a], [b], [7]], dtype=np.uint64)  # buckets {0, 2} and {1, 3}
    pairs = candidate_pairs([keys])
    assert pairs.tolist() == [[0, 2], [1, 3]]
    assert np.array_equal(pairs, candidate_pairs_reference([keys]))

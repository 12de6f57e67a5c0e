import pytest

from dedupe.config import Config, LSHParams, describe_lsh, optimal_lsh
from dedupe.errors import ConfigError


def test_fingerprint_is_stable_and_ignores_thresholds():
    assert Config().fingerprint() == Config().fingerprint()
    assert Config().with_(**{"verify.threshold": 0.3}).fingerprint() == Config().fingerprint()


@pytest.mark.parametrize("change", [{"shingle.word_ngram": 4}, {"minhash.num_perm": 64}, {"minhash.seed": 2},
                                    {"normalize.strip_boilerplate": False}, {"shingle.rare_idf": 5.0}])
def test_fingerprint_changes_with_signature_settings(change):
    assert Config().with_(**change).fingerprint() != Config().fingerprint()


def test_with_leaves_the_original_alone():
    cfg = Config()
    other = cfg.with_(near_dup_similarity=0.4, **{"verify.threshold": 0.2})
    assert (cfg.near_dup_similarity, cfg.verify.threshold) == (0.3, 0.1)
    assert (other.near_dup_similarity, other.verify.threshold) == (0.4, 0.2)


@pytest.mark.parametrize("bad", [{"minhash.num_perm": 8}, {"verify.threshold": 0.0}, {"shingle.pair_window": 1}])
def test_invalid_settings_are_refused(bad):
    with pytest.raises(ConfigError):
        Config().with_(**bad)


@pytest.mark.parametrize("similarity", [0.1, 0.25, 0.3, 0.5, 0.8])
def test_optimal_lsh_reaches_the_recall_within_the_permutations(similarity):
    params = optimal_lsh(similarity, 128)
    assert params.bands * params.rows <= 128
    assert params.probability(similarity) >= 0.95


def test_optimal_lsh_prefers_more_rows_for_higher_thresholds():
    assert optimal_lsh(0.8, 128).rows > optimal_lsh(0.3, 128).rows


def test_probability_curve():
    p = LSHParams(bands=32, rows=2)
    assert p.probability(0.0) == 0.0 and p.probability(1.0) == 1.0
    assert p.probability(0.1) < p.probability(0.3) < p.probability(0.5)
    assert describe_lsh(p, (0.5,)) == "32 bands x 2 rows: P(0.5)=1.000"

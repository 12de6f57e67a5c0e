"""The training-data recipe (dedupe.training): corpus readers and the labelled pair builder."""

from collections import Counter

from dedupe.training.datasets import build_pairs, in_split, load_articles, msrp_pairs


def test_splits_are_disjoint_and_cover_everything():
    ids = [f"reuters/{i}" for i in range(2000)]
    ev = {i for i in ids if in_split(i, "eval")}
    tr = {i for i in ids if in_split(i, "train")}
    assert not ev & tr and ev | tr == set(ids)
    assert 0.15 < len(ev) / len(ids) < 0.25


def test_build_pairs_is_reproducible_and_labelled(shared_data):
    arts = load_articles(shared_data, "eval")
    assert arts and all(in_split(a.id, "eval") for a in arts)
    sample = arts[::20]  # a few hundred articles keep this fast
    one = build_pairs(shared_data, 7, 12, split="eval", articles=sample)
    two = build_pairs(shared_data, 7, 12, split="eval", articles=sample)
    assert [(p.a, p.b, p.label) for p in one] == [(p.a, p.b, p.label) for p in two]
    labels = Counter(p.label for p in one)
    assert set(labels) == {"duplicate", "rewrite", "same-source", "unrelated"}
    kinds = Counter(p.kind for p in one)
    assert kinds["hard"] > 0 and kinds["rewrite-free"] > 0 and kinds["same-source-free"] > 0
    other = build_pairs(shared_data, 8, 12, split="eval", articles=sample)
    assert [p.b for p in other] != [p.b for p in one]


def test_msrp_pairs(shared_data):
    test = msrp_pairs(shared_data, "test")
    assert len(test) == 1725
    assert Counter(p.label for p in test) == {"rewrite": 1147, "unrelated": 578}

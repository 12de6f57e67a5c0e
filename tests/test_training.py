"""The training-data recipe (dedupe.training): corpus readers and the labelled pair builder."""

from collections import Counter

from dedupe.training.datasets import build_pairs, in_split, load_articles, msrp_documents, msrp_pairs


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


def test_msrp_documents_join_each_paraphrase_pair_once(shared_data):
    train = msrp_pairs(shared_data, "train")
    docs = msrp_documents(train, 100, seed=13)
    assert len(docs) == 100 and {(p.label, p.kind) for p in docs} == {("rewrite", "msrp-doc")}
    firsts = {p.a: p.b for p in train if p.label == "rewrite"}
    used = []
    for d in docs:
        parts = [a for a in firsts if a in d.a]
        assert 3 <= len(parts) <= 8
        # the second document holds the same pairs' paraphrases, in the same order
        assert d.b == " ".join(firsts[a] for a in sorted(parts, key=d.a.index))
        used += parts
    assert len(used) == len(set(used))
    assert msrp_documents(train, 100, seed=13) == docs and msrp_documents(train, 100, seed=14) != docs
    everything = msrp_documents(train, 10**6, seed=13, k_min=4, k_max=4)
    assert len(everything) == sum(p.label == "rewrite" for p in train) // 4


def test_template_siblings_change_figures_and_corrections_change_one():
    import random

    from dedupe.training.generate import template_sibling

    text = ("Acme Corp said its quarterly dividend of 25 cts is payable April 10 to holders of record "
            "March 31. Acme earned 4.2 mln dlrs in 1986 and expects five new stores this year.")
    words = text.split()
    slots = 8  # 25, April, 10, March, 31, 4.2, 1986, five: a figure or month is one word here
    for seed in range(20):
        sib = template_sibling(text, random.Random(seed)).split()
        assert len(sib) == len(words)
        changed = [(x, y) for x, y in zip(words, sib) if x != y]
        assert 2 * len(changed) >= slots, changed              # a follow-up: at least half change
        assert all(x[0].isdigit() or x in ("April", "March", "five", "31.") for x, _ in changed)
        fixed = template_sibling(text, random.Random(seed), changes=1).split()
        assert sum(x != y for x, y in zip(words, fixed)) == 1  # a correction: exactly one
    named = template_sibling(text, random.Random(1), ["Zenith Holdings"])
    assert "quarterly dividend of" in named and "payable" in named  # the wording is kept


def test_build_pairs_templates_and_corrections(shared_data):
    arts = load_articles(shared_data, "eval")[::20]
    pairs = build_pairs(shared_data, 7, 20, split="eval", articles=arts)
    kinds = Counter(p.kind for p in pairs)
    assert kinds["template"] > 0 and kinds["corrected"] > 0
    assert all(p.label == "unrelated" for p in pairs if p.kind == "template")
    assert all(p.label == "duplicate" for p in pairs if p.kind == "corrected")
    # no negative is the same text as its partner
    assert not any(p.a.lower().split() == p.b.lower().split() for p in pairs if p.label == "unrelated")
    # without them the other pairs are exactly the same
    plain = build_pairs(shared_data, 7, 20, split="eval", articles=arts, templates=False)
    rest = sorted((p.a, p.b, p.kind) for p in pairs if p.kind not in ("template", "corrected"))
    assert rest == sorted((p.a, p.b, p.kind) for p in plain)

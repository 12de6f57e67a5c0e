"""End-to-end batch runs on the real samples, and the properties a user relies on."""

import csv
import itertools
import random

import pytest

import dedupe
from dedupe import Config, Deduplicator, Document, InputError
from conftest import SAMPLES


def _labels(name):
    with open(SAMPLES / "labels" / f"{name}.csv", newline="") as fh:
        return {row["id"]: row["cluster"] for row in csv.DictReader(fh)}


def _pairwise(found: dict, truth: dict):
    ids = sorted(truth)
    tp = fp = fn = 0
    for a, b in itertools.combinations(ids, 2):
        same_t, same_f = truth[a] == truth[b], found[a] == found[b]
        tp += same_t and same_f
        fp += same_f and not same_t
        fn += same_t and not same_f
    return tp, fp, fn


def test_seeds_four_articles_one_story_and_the_rumour_apart(seeds_dir):
    docs = dedupe.read_documents([seeds_dir])
    clusters = dedupe.cluster(docs)
    by_prefix = {m.id[:3]: c for c in clusters for m in c.members}
    assert {by_prefix[k].id for k in ("000", "001", "002", "003")} == {by_prefix["000"].id}
    assert by_prefix["004"].size == 1
    member = {m.id[:3]: m for m in by_prefix["001"].members}["001"]
    assert member.closest.startswith("003_")


def test_reuters_sample_matches_its_labels():
    docs = dedupe.read_documents([SAMPLES / "reuters"])
    result = Deduplicator().run(docs)
    found = {m.id: c.id for c in result.clusters for m in c.members}
    tp, fp, fn = _pairwise(found, _labels("reuters"))
    assert fp == 0
    assert tp >= 3 and fn <= 1  # the updated AIDS-vaccine story is the hardest pair


def test_both_samples_together_do_not_mix():
    docs = dedupe.read_documents([SAMPLES / "xiaomi-leica", SAMPLES / "reuters"])
    found = {m.id: c.id for c in dedupe.cluster(docs) for m in c.members}
    truth = {**_labels("xiaomi-leica"), **_labels("reuters")}
    assert _pairwise(found, truth)[1] == 0


def test_result_does_not_depend_on_input_order(seeds_dir):
    docs = dedupe.read_documents([seeds_dir, SAMPLES / "reuters"])
    first = [c.ids for c in dedupe.cluster(docs)]
    shuffled = docs[:]
    random.Random(7).shuffle(shuffled)
    assert [c.ids for c in dedupe.cluster(shuffled)] == first


def test_exact_copies_are_collapsed_and_linked():
    text = "A long enough article body about the harbour strike and its effect on exports of grain."
    result = Deduplicator().run([Document(str(i), text) for i in range(5)] + [Document("x", "Other news entirely.")])
    assert [c.ids for c in result.clusters] == [("0", "1", "2", "3", "4"), ("x",)]
    assert all(l.relation == "duplicate" and l.similarity == 1.0 for l in result.links)


def test_duplicate_ids_are_refused():
    with pytest.raises(InputError, match="duplicate document id 'a'"):
        Deduplicator().run([Document("a", "one"), Document("a", "two")])


def test_empty_and_tiny_documents_do_not_crash_or_link():
    docs = [Document("e1", ""), Document("e2", ""), Document("t1", "Hi."), Document("t2", "Yes")]
    clusters = dedupe.cluster(docs)
    assert sorted(c.size for c in clusters)[-1] <= 2  # the two empty texts may be exact copies
    assert {c.ids for c in clusters if c.size == 2} <= {("e1", "e2")}


def test_threshold_one_keeps_only_exact_and_near_exact(seeds_dir):
    docs = dedupe.read_documents([seeds_dir])
    strict = Config().with_(**{"verify.threshold": 0.9, "verify.duplicate_at": 0.9})
    assert all(c.size == 1 for c in dedupe.cluster(docs, strict))


def test_progress_callback_sees_every_stage(seeds_dir):
    seen = []
    Deduplicator(progress=lambda stage, done, total: seen.append(stage)).run(dedupe.read_documents([seeds_dir]))
    assert {"reading", "signing", "verifying"} <= set(seen)


def _variants(text: str, rnd: random.Random):
    lines = text.split("\n")
    headline, body = lines[0], "\n".join(lines[1:]).strip()
    paragraphs = [p for p in body.split("\n\n") if p.strip()]
    new_headline = "UPDATE 1-" + headline.upper()
    dropped = paragraphs[:]
    if len(dropped) > 3:
        del dropped[rnd.randrange(1, len(dropped))]
    return {
        "headline": new_headline + "\n\n" + body,
        "boilerplate": "Home > News > World\n" + text + "\n\nShare this article\nLeave a Reply\n comment Comments 12",
        "dropped": headline + "\n\n" + "\n\n".join(dropped),
    }


def test_near_exact_copies_always_cluster_and_unrelated_never(shared_data):
    rnd = random.Random(2024)
    files = sorted((shared_data / "bbc-news" / "bbc").glob("*/*.txt"))
    seen, originals = set(), []
    for path in rnd.sample(files, 120):
        text = path.read_bytes().decode("utf-8", errors="replace")
        key = " ".join(text.split())
        if key not in seen and len(text.split()) > 150:
            seen.add(key)
            originals.append((path.parent.name + "/" + path.stem, text))
        if len(originals) == 40:
            break
    docs, truth = [], {}
    for oid, text in originals:
        docs.append(Document(oid, text))
        truth[oid] = oid
        for kind, variant in _variants(text, rnd).items():
            docs.append(Document(f"{oid}#{kind}", variant))
            truth[f"{oid}#{kind}"] = oid
    found = {m.id: c.id for c in dedupe.cluster(docs) for m in c.members}
    tp, fp, fn = _pairwise(found, truth)
    assert fn == 0, "a near-exact copy was not clustered with its original"
    assert fp == 0, "two different BBC articles were put in one cluster"


def test_worker_processes_and_chunking_do_not_change_the_result(seeds_dir, monkeypatch):
    from dedupe.pipeline import batch as batch_mod

    docs = dedupe.read_documents([seeds_dir, SAMPLES / "reuters"])
    docs = docs + [Document("copy-" + d.id, d.text) for d in docs[:3]] + [Document("empty", "")]
    one = Deduplicator(workers=1).run(docs)
    monkeypatch.setattr(batch_mod, "CHUNK", 3)  # many chunks, exact copies across chunks
    monkeypatch.setattr(batch_mod, "PARALLEL_MIN_CANDIDATES", 1)  # the guard and the rule in workers too
    two = Deduplicator(workers=2).run(docs)
    key = lambda r: ([c.ids for c in r.clusters],  # noqa: E731
                     sorted((l.a, l.b, l.similarity, l.relation) for l in r.links), r.candidates)
    assert key(one) == key(two)
    assert any(l.scores == {"exact": 1.0} for l in two.links)
    rule = Config().with_(**{"verify.method": "rule"})
    assert key(Deduplicator(rule, workers=2).run(docs)) == key(Deduplicator(rule, workers=1).run(docs))



def _reference_learned(self, candidates, docs, reps, rep_ids):
    """The learned verification done the straightforward way: every involved document profiled
    with Profiler.profile_reference, every candidate pair scored."""
    import numpy as np

    from dedupe.normalize import normalize_text

    profiler = self.verifier.profiler
    profiles = [None] * len(reps)
    for k in np.unique(candidates).tolist():
        doc = docs[reps[k]]
        # features computed here from the text (the run's batch has no ``pairs`` view in a learned run)
        profiles[k] = profiler.profile_reference(doc.text, normalize_text(doc.text), None, doc.date)
    return self.verifier.verify_pairs(candidates, profiles, rep_ids)


def _near_copy_corpus(shared_data, n=40, seed=77):
    rnd = random.Random(seed)
    files = sorted((shared_data / "bbc-news" / "bbc").glob("*/*.txt"))
    docs = []
    for k, path in enumerate(rnd.sample(files, n)):
        text = path.read_bytes().decode("utf-8", errors="replace")
        docs.append(Document(f"d{k}", text, date=f"2021-03-{1 + k % 28:02d}"))
        for kind, variant in _variants(text, rnd).items():
            docs.append(Document(f"d{k}#{kind}", variant))
    return docs


@pytest.mark.parametrize("method", ["learned", "rule"])
def test_fast_verification_equals_verifying_every_candidate(shared_data, monkeypatch, method):
    """The guard prefilter, grouped profiles, the profile cache and worker processes change no link."""
    import numpy as np

    from dedupe.pipeline import batch as batch_mod

    docs = _near_copy_corpus(shared_data)
    cfg = Config().with_(**{"verify.method": method})
    key = lambda r: ([c.ids for c in r.clusters], [(l.a, l.b, l.similarity, l.relation, l.scores)  # noqa: E731
                                                  for l in r.links], r.candidates)
    with monkeypatch.context() as m:
        m.setattr(batch_mod, "guard_mask", lambda pairs, *a, **k: np.ones(len(pairs), dtype=bool))
        if method == "learned":
            m.setattr(batch_mod.Deduplicator, "_verify_learned", _reference_learned)
        everything = Deduplicator(cfg, workers=1).run(docs)
        reference = key(everything)
    assert everything.verified == everything.candidates
    verified = [link for link in reference[1] if link[4] != {"exact": 1.0}]
    assert reference[2] >= len(verified) + 20 and len(verified) >= 20  # candidates to reject, links to keep
    fast = Deduplicator(cfg, workers=1).run(docs)
    assert key(fast) == reference
    if method == "learned":  # every verified link carries its features and class probabilities
        from dedupe.model import ScoreRow
        from dedupe.verifier import FEATURES

        verified_links = [l for l in fast.links if l.scores != {"exact": 1.0}]
        assert verified_links and all(isinstance(l.scores, ScoreRow) for l in verified_links)
        assert all(set(l.scores) == set(FEATURES) | {"p_duplicate", "p_rewrite", "p_same-source", "p_unrelated"}
                   for l in verified_links)
    assert len(verified) <= fast.verified < fast.candidates  # the guard skipped some candidates
    monkeypatch.setattr(batch_mod, "PARALLEL_MIN_PAIRS", 1)
    monkeypatch.setattr(batch_mod, "GROUP_PAIRS", 5)
    monkeypatch.setattr(batch_mod, "PROFILE_CACHE", 6)
    monkeypatch.setattr(batch_mod, "PARALLEL_MIN_CANDIDATES", 1)
    assert key(Deduplicator(cfg, workers=2).run(docs)) == reference


def test_pair_groups_cover_every_pair_once_and_keep_small_components_whole():
    import numpy as np

    from dedupe.pipeline.batch import _pair_groups

    pairs = np.array([(0, 1), (1, 2), (5, 6), (3, 4), (2, 7), (8, 9), (9, 10), (10, 11), (11, 12)])
    groups = _pair_groups(pairs, size=4)
    assert sorted(np.concatenate(groups).tolist()) == list(range(len(pairs)))
    assert all(len(g) <= 4 for g in groups)
    comp_of_pair = {0: "a", 1: "a", 4: "a", 2: "b", 3: "c", 5: "d", 6: "d", 7: "d", 8: "d"}
    for g in groups:  # a component of at most 4 pairs is never split
        for c in ("a", "b", "c"):
            members = [p for p in g.tolist() if comp_of_pair[p] == c]
            assert members == [] or len(members) == sum(1 for v in comp_of_pair.values() if v == c)


def test_the_rare_word_view_proposes_copies_whose_wording_and_top_terms_differ():
    """Two texts that share only their rare words (made-up names, once each) and are otherwise
    written with different common words, each repeated so that they, not the names, are the
    documents' most distinctive terms: neither the 5-gram nor the terms view proposes the pair,
    the rare-word view does (and turning it off removes it)."""
    names = [f"Zorblat{c}x" for c in "abcdefgh"] + [f"Quennivar{c}o" for c in "abcdefgh"]
    fill_a = ("market price company shares profit bank trade oil export growth rate bond dollar sales "
              "industry output demand investor stock fund loss debt tax budget").split()
    fill_b = ("government minister police court election party vote law union strike city film music "
              "school health hospital team match player season coach army church family").split()

    def text(fill):  # each name between common words: no 5-gram is shared
        head = " ".join(f"{name} {' '.join(fill[k:k + 4])}" for k, name in enumerate(names))
        body = " ".join(f"{w} {v}" for _ in range(20) for w, v in zip(fill, fill[1:] + fill[:1]))
        return f"{head}. {body}."

    docs = [Document("a", text(fill_a)), Document("b", text(fill_b))]
    on = Deduplicator(Config(), workers=1).run(docs)
    off = Deduplicator(Config().with_(rare_similarity=None), workers=1).run(docs)
    assert (on.candidates, off.candidates) == (1, 0)
    assert "rare" in Config().lsh_params() and "rare" not in Config().with_(rare_similarity=None).lsh_params()

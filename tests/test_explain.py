import json

import pytest

from dedupe.config import Config
from dedupe.explain import _mark, align_passages, explain_pair, render_text, split_sentences
from dedupe.model import Document
from dedupe.verifier import Profiler


@pytest.fixture(scope="module")
def seeds(request):
    from pathlib import Path

    d = Path(__file__).resolve().parent.parent / "samples" / "xiaomi-leica"
    return {p.name[:3]: Document(p.stem, p.read_text(encoding="utf-8")) for p in sorted(d.glob("*.txt"))}


def test_split_sentences():
    assert split_sentences("One two three. Four five six!\nSeven eight nine") == [
        "One two three.", "Four five six!", "Seven eight nine"]


def test_marking_brackets_runs_of_shared_words():
    prof = Profiler(Config())
    shared = set(prof.content_terms(["leica", "partnership", "announced"]))
    assert _mark("xiaomi announced a partnership with leica today", shared, prof) == \
        "xiaomi [announced a partnership with leica] today"


def test_alignment_pairs_reworded_sentences():
    prof = Profiler(Config())
    a = "The council approved the new budget on Tuesday. Snow closed the pass for three days."
    b = "Heavy snow shut the mountain pass for a third day. On Tuesday the budget was approved by the council."
    passages, na, nb = align_passages(a, b, prof)
    assert (na, nb) == (2, 2)
    assert [(p.a_index, p.b_index) for p in passages] == [(0, 1), (1, 0)]
    assert "[" in passages[0].a_marked


def test_explain_the_seed_rewrite(seeds):
    ex = explain_pair(seeds["001"], seeds["003"])
    assert ex.method == "learned" and ex.linked and ex.relation == "rewrite" and ex.model_relation == "rewrite"
    assert ex.rule["linked"] and ex.rule["relation"] == "rewrite"
    assert len(ex.passages) >= 5
    # in order: the rewrite keeps the source's paragraph order
    order = [p.b_index for p in ex.passages if p.similarity >= 0.4]
    assert sum(x < y for x, y in zip(order, order[1:])) >= len(order) // 2
    assert ex.drivers and all(isinstance(c, float) for _, _, c in ex.drivers)
    d = ex.to_dict()
    json.dumps(d)
    assert d["relation"] == "rewrite"
    assert set(d["model"]["probabilities"]) == {"duplicate", "rewrite", "same-source", "unrelated"}
    text = render_text(ex, width=120)
    assert text.startswith(f"A: {seeds['001'].id}\nB: {seeds['003'].id}\nverdict: rewrite (similarity ")
    assert "aligned passages:" in text and "features that drove the learned model" in text


def test_explain_different_story_is_not_linked(seeds):
    ex = explain_pair(seeds["003"], seeds["004"])
    assert not ex.linked and ex.relation == "unrelated"
    assert "not the same story" in render_text(ex)
    # the drivers explain "unrelated": the strongest pushes towards it
    assert max(ex.drivers, key=lambda d: abs(d[2]))[2] > 0


def test_explain_with_the_rule_as_verdict(seeds):
    ex = explain_pair(seeds["001"], seeds["003"], Config().with_(**{"verify.method": "rule"}))
    assert ex.method == "rule" and ex.relation == "rewrite" and ex.similarity == ex.rule["similarity"]
    assert "rule verifier" in render_text(ex).splitlines()[2]

import json
import random

import pytest

from dedupe.errors import InputError
from dedupe.metrics import Labels, adjusted_rand_index, evaluate, load_labels


def test_ari_identical_partitions_is_one_and_relabelling_does_not_matter():
    gold = {"a": "x", "b": "x", "c": "y", "d": "z"}
    pred = {"a": "1", "b": "1", "c": "2", "d": "3"}
    assert adjusted_rand_index(gold, pred) == pytest.approx(1.0)


def test_ari_matches_scikit_learn_on_random_partitions():
    from sklearn.metrics import adjusted_rand_score

    rng = random.Random(5)
    for _ in range(20):
        ids = [f"d{i}" for i in range(rng.randint(5, 60))]
        gold = {i: str(rng.randint(0, 6)) for i in ids}
        pred = {i: str(rng.randint(0, 4)) for i in ids}
        expected = adjusted_rand_score([gold[i] for i in ids], [pred[i] for i in ids])
        assert adjusted_rand_index(gold, pred) == pytest.approx(expected, abs=1e-9)


def test_pairwise_scores_by_hand():
    # gold: {a,b,c} {d}; predicted: {a,b} {c,d} -> true pairs ab ac bc; predicted ab cd
    labels = Labels({"a": "1", "b": "1", "c": "1", "d": "2"}, {"b": "rewrite", "c": "duplicate", "a": "original"})
    ev = evaluate(labels, {"a": "p", "b": "p", "c": "q", "d": "q"})
    assert (ev.true_pairs, ev.predicted_pairs) == (3, 2)
    assert ev.precision == pytest.approx(0.5)
    assert ev.recall == pytest.approx(1 / 3)
    assert ev.f1 == pytest.approx(0.4)
    # ab found (rewrite), ac missed (duplicate), bc missed (duplicate-rewrite)
    assert ev.relation_recall["rewrite"] == (1.0, 1)
    assert ev.relation_recall["duplicate"] == (0.0, 1)


def test_unlabelled_documents_are_not_scored():
    ev = evaluate(Labels({"a": "1", "b": "1"}), {"a": "x", "b": "x", "z": "x"})
    assert ev.n_docs == 2 and ev.precision == 1.0 and ev.recall == 1.0 and ev.unlabelled == 1


def test_load_csv_and_jsonl(tmp_path):
    c = tmp_path / "l.csv"
    c.write_text("id,cluster,relation\na,s1,original\nb,s1,rewrite\nc,s2,\n")
    lab = load_labels(c)
    assert lab.cluster == {"a": "s1", "b": "s1", "c": "s2"} and lab.relation == {"a": "original", "b": "rewrite"}
    j = tmp_path / "l.jsonl"
    j.write_text("\n".join(json.dumps(r) for r in [{"id": "a", "cluster": 1}, {"id": "b", "cluster": 1}]) + "\n")
    assert load_labels(j).cluster == {"a": "1", "b": "1"}


def test_shipped_sample_labels_load(seeds_dir):
    lab = load_labels(seeds_dir.parent / "labels" / "xiaomi-leica.csv")
    assert len(lab.cluster) == 5 and len(set(lab.cluster.values())) == 2


@pytest.mark.parametrize("content,name,where", [
    ("ident,group\na,1\n", "l.csv", "l.csv:1"),
    ("id,cluster\na,1\na,2\n", "l.csv", "l.csv:3"),
    ('{"id": "a", "cluster": 1}\n{oops\n', "l.jsonl", "l.jsonl:2"),
    ('{"id": "a"}\n', "l.jsonl", "l.jsonl:1"),
])
def test_bad_labels_name_file_and_line(tmp_path, content, name, where):
    p = tmp_path / name
    p.write_text(content)
    with pytest.raises(InputError) as exc:
        load_labels(p)
    assert where in str(exc.value) and "\n" not in str(exc.value)


def test_missing_labels_file(tmp_path):
    with pytest.raises(InputError, match="labels file not found"):
        load_labels(tmp_path / "nope.csv")

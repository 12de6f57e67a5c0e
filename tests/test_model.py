import pytest

from dedupe.model import Cluster, Document, Link, Member


def test_document_equality_ignores_extra():
    assert Document("a", "t", extra={"x": 1}) == Document("a", "t", extra={"y": 2})


def test_cluster_properties():
    links = (Link("a", "b", 0.9, "duplicate"), Link("b", "c", 0.2, "rewrite"))
    members = tuple(Member(x, None, 0.5, None, None) for x in "abc")
    cl = Cluster("a", members, links)
    assert cl.size == 3 and cl.ids == ("a", "b", "c")
    assert cl.weakest_link == links[1]
    assert Cluster("z", (Member("z", None, None, None, None),)).weakest_link is None


def test_score_row_is_a_read_only_mapping_equal_to_the_dict():
    import json

    import numpy as np

    from dedupe.model import ScoreRow

    table = np.array([[0.5, 2.0, 0.25], [1.0, 0.0, 3.5]])
    index = {"w5_jac": 0, "len": 1, "p_rewrite": 2}
    row = ScoreRow(index, table[1])
    assert row == {"w5_jac": 1.0, "len": 0.0, "p_rewrite": 3.5} and {"w5_jac": 1.0, "len": 0.0, "p_rewrite": 3.5} == row
    assert row != {"w5_jac": 1.0} and list(row) == ["w5_jac", "len", "p_rewrite"] and len(row) == 3
    assert type(row["p_rewrite"]) is float and row.get("missing") is None and "len" in row
    assert json.loads(json.dumps(dict(row))) == dict(row) and repr(row) == repr(dict(row))
    with pytest.raises(TypeError):
        row["len"] = 1.0  # read-only
    assert Link("a", "b", 0.9, "rewrite", row) == Link("a", "b", 0.9, "rewrite", {})  # scores never compare

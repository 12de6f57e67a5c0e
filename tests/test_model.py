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

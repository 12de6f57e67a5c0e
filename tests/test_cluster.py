from hypothesis import given, settings
from hypothesis import strategies as st

from dedupe.cluster import build_clusters, merge_links
from dedupe.model import Link


def L(a, b, s=0.5, rel="rewrite"):
    a, b = sorted((a, b))
    return Link(a, b, s, rel)


def as_sets(clusters):
    return sorted(tuple(c.ids) for c in clusters)


def test_singletons_are_clusters_of_one():
    clusters = build_clusters(["b", "a"], [])
    assert as_sets(clusters) == [("a",), ("b",)]
    assert clusters[0].members[0].closest is None and clusters[0].weakest_link is None


def test_members_and_closest():
    clusters = build_clusters(["a", "b", "c", "d"], [L("a", "b", 0.9), L("b", "c", 0.4)], {"a": "Title A"})
    top = clusters[0]
    assert top.id == "a" and top.ids == ("a", "b", "c")
    by_id = {m.id: m for m in top.members}
    assert by_id["a"].title == "Title A"
    assert (by_id["b"].closest, by_id["b"].similarity) == ("a", 0.9)
    assert (by_id["c"].closest, by_id["c"].similarity) == ("b", 0.4)
    assert top.weakest_link == L("b", "c", 0.4)
    assert clusters[1].ids == ("d",)


def test_one_stray_link_does_not_merge_two_stories():
    story1 = ["a1", "a2", "a3", "a4"]
    story2 = ["b1", "b2", "b3", "b4"]
    links = [L(x, y, 0.8) for s in (story1, story2) for i, x in enumerate(s) for y in s[i + 1:]]
    links.append(L("a4", "b1", 0.3))  # one weak cross-story link
    assert as_sets(build_clusters(story1 + story2, links)) == [tuple(story1), tuple(story2)]


def test_well_supported_merge_happens():
    links = [L("a", "b", 0.9), L("c", "d", 0.9), L("a", "c", 0.5), L("b", "d", 0.5)]
    assert as_sets(build_clusters(list("abcd"), links)) == [("a", "b", "c", "d")]


def test_used_links_exclude_refused_ones():
    links = [L("a", "b", 0.9), L("b", "c", 0.9), L("d", "e", 0.9), L("e", "f", 0.9), L("c", "d", 0.2)]
    _, used = merge_links(list("abcdef"), links)
    assert L("c", "d", 0.2) not in used and len(used) == 4


ids_strategy = st.lists(st.text(alphabet="abcdefgh", min_size=1, max_size=2), min_size=1, max_size=25, unique=True)


@st.composite
def graphs(draw):
    ids = draw(ids_strategy)
    n_links = draw(st.integers(0, 3 * len(ids)))
    links = []
    for _ in range(n_links):
        a, b = draw(st.sampled_from(ids)), draw(st.sampled_from(ids))
        if a != b:
            links.append(L(a, b, draw(st.sampled_from([0.2, 0.35, 0.5, 0.75, 1.0]))))
    return ids, links


@settings(max_examples=200, deadline=None)
@given(graphs(), st.randoms(use_true_random=False))
def test_clustering_is_a_partition_independent_of_input_order(graph, rnd):
    ids, links = graph
    first = build_clusters(ids, links)
    members = [m for c in first for m in c.ids]
    assert sorted(members) == sorted(ids)  # every document exactly once
    shuffled_ids, shuffled_links = ids[:], links[:]
    rnd.shuffle(shuffled_ids)
    rnd.shuffle(shuffled_links)
    second = build_clusters(shuffled_ids, shuffled_links)
    assert [c.ids for c in first] == [c.ids for c in second]
    assert [c.members for c in first] == [c.members for c in second]
    for c in first:  # members of a cluster are linked to each other through used links
        if c.size > 1:
            assert all(m.closest in c.ids for m in c.members)

"""From verified links to stories: a partition of the documents.

Clusters are the connected components of the link graph (union-find), which makes the result a
partition that does not depend on input order: every document is in exactly one cluster, a
cluster's id is its smallest member id, clusters are listed largest first then by id, members by
id.  Each member records its closest linked member (the strongest link, ties broken by id).
"""

from __future__ import annotations

from collections import defaultdict

from dedupe.model import Cluster, Link, Member


class UnionFind:
    def __init__(self, items):
        self.parent = {x: x for x in items}

    def find(self, x):
        parent = self.parent
        root = x
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return root

    def union(self, a, b) -> bool:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return False
        if rb < ra:  # deterministic: the smaller id becomes the root
            ra, rb = rb, ra
        self.parent[rb] = ra
        return True


def build_clusters(ids, links: list[Link], titles: dict[str, str | None] | None = None) -> list[Cluster]:
    """Partition ``ids`` into clusters joined by ``links``."""
    titles = titles or {}
    ids = list(dict.fromkeys(ids))
    uf = UnionFind(ids)
    for link in links:
        uf.union(link.a, link.b)
    best: dict[str, Link] = {}
    for link in links:
        for me, other in ((link.a, link.b), (link.b, link.a)):
            cur = best.get(me)
            if cur is None or (-link.similarity, other) < (-cur.similarity, _other(cur, me)):
                best[me] = link
    groups: dict[str, list[str]] = defaultdict(list)
    for doc_id in ids:
        groups[uf.find(doc_id)].append(doc_id)
    group_links: dict[str, list[Link]] = defaultdict(list)
    for link in links:
        group_links[uf.find(link.a)].append(link)
    clusters = []
    for members in groups.values():
        members.sort()
        cluster_members = []
        for doc_id in members:
            link = best.get(doc_id)
            cluster_members.append(Member(
                id=doc_id,
                title=titles.get(doc_id),
                similarity=None if link is None else link.similarity,
                closest=None if link is None else _other(link, doc_id),
                relation=None if link is None else link.relation,
            ))
        root = uf.find(members[0])
        cl_links = tuple(sorted(group_links.get(root, ()), key=lambda l: (l.a, l.b)))
        clusters.append(Cluster(members[0], tuple(cluster_members), cl_links))
    clusters.sort(key=lambda c: (-c.size, c.id))
    return clusters


def _other(link: Link, me: str) -> str:
    return link.b if link.a == me else link.a

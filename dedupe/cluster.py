"""From verified links to stories: a partition of the documents.

Clusters are the connected components of the link graph (union-find), which makes the result a
partition that does not depend on input order: every document is in exactly one cluster, a
cluster's id is its smallest member id, clusters are listed largest first then by id, members by
id.  Each member records its closest linked member (the strongest link, ties broken by id).
"""

from __future__ import annotations

import math
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


def merge_links(ids, links: list[Link], min_support: float = 0.5) -> tuple[UnionFind, list[Link]]:
    """Join documents along links, strongest first, refusing merges that would chain.

    Two groups are merged only when the links between them number at least
    ``min_support * min(size_a, size_b)`` (rounded up).  A document always joins a group it
    links to (one link is enough for a group of one), but two established stories joined by one
    stray link stay apart.  Returns the union-find and the links actually used.
    """
    uf = UnionFind(ids)
    size = {x: 1 for x in uf.parent}
    between: dict[str, dict[str, int]] = defaultdict(dict)  # root -> other root -> link count
    for link in links:
        if link.a == link.b:
            continue
        between[link.a][link.b] = between[link.a].get(link.b, 0) + 1
        between[link.b][link.a] = between[link.b].get(link.a, 0) + 1
    used = []
    for link in sorted(links, key=lambda l: (-l.similarity, l.a, l.b)):
        ra, rb = uf.find(link.a), uf.find(link.b)
        if ra == rb:
            used.append(link)
            continue
        count = between[ra].get(rb, 0)
        if count < math.ceil(min_support * min(size[ra], size[rb]) - 1e-9):
            continue
        uf.union(ra, rb)
        root, gone = (ra, rb) if uf.find(ra) == ra else (rb, ra)
        size[root] += size.pop(gone)
        # fold gone's neighbour counts into root's (small into large keeps this near-linear)
        moved = between.pop(gone, {})
        mine = between[root]
        mine.pop(gone, None)
        for other, c in moved.items():
            if other == root:
                continue
            mine[other] = mine.get(other, 0) + c
            theirs = between[other]
            theirs.pop(gone, None)
            theirs[root] = theirs.get(root, 0) + c
        used.append(link)
    return uf, used


def build_clusters(ids, links: list[Link], titles: dict[str, str | None] | None = None,
                   min_support: float = 0.5) -> list[Cluster]:
    """Partition ``ids`` into clusters joined by ``links`` (see :func:`merge_links`)."""
    titles = titles or {}
    ids = list(dict.fromkeys(ids))
    uf, links = merge_links(ids, links, min_support)
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

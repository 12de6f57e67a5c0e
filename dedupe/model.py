"""Plain data records passed between the stages.  No behaviour beyond small conveniences."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Iterator


@dataclass(frozen=True)
class Document:
    """One article.

    ``id`` is unique within a run.  ``origin`` says where it was read from (``path`` or
    ``path:line``) for error messages and reports.
    """

    id: str
    text: str
    title: str | None = None
    date: str | None = None
    source: str | None = None
    origin: str | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)


class ScoreRow(Mapping):
    """A read-only ``{name: float}`` mapping over one row of a shared numeric array.

    The learned verifier's links carry some fifty measurements each; a run that links hundreds of
    thousands of pairs keeps them as one array (a few hundred bytes a link) instead of one dict
    per link (about 3.5 KB).  It compares equal to a dict with the same items; ``dict(row)``
    gives a plain dict (for ``json.dumps``, say).
    """

    __slots__ = ("_index", "_values")

    def __init__(self, index: dict[str, int], values):
        self._index = index      # name -> column, shared by all rows of one array
        self._values = values    # a 1-d row (a view into the shared array)

    def __getitem__(self, name: str) -> float:
        return float(self._values[self._index[name]])

    def __iter__(self) -> Iterator[str]:
        return iter(self._index)

    def __len__(self) -> int:
        return len(self._index)

    def __repr__(self) -> str:
        return repr(dict(self))


@dataclass(frozen=True)
class Link:
    """A verified pair: two documents judged to tell the same story.

    ``similarity`` is the verifier's score in [0, 1]; ``relation`` is one of ``duplicate``,
    ``rewrite``, ``same-source``; ``scores`` holds the measurements behind it: a ``dict``, or for
    the learned verifier's links a read-only :class:`ScoreRow` mapping (``dict(link.scores)``
    gives a plain dict).
    """

    a: str
    b: str
    similarity: float
    relation: str
    scores: Mapping[str, float] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class Member:
    """A document inside a cluster, with its best link to another member (``None`` for singletons)."""

    id: str
    title: str | None
    similarity: float | None
    closest: str | None
    relation: str | None


@dataclass(frozen=True)
class Cluster:
    """A story: the documents that tell it.  ``id`` is stable: the smallest member id."""

    id: str
    members: tuple[Member, ...]
    links: tuple[Link, ...] = ()

    @property
    def size(self) -> int:
        return len(self.members)

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(m.id for m in self.members)

    @property
    def weakest_link(self) -> Link | None:
        """The lowest-scoring link that holds the cluster together (``None`` for singletons)."""
        return min(self.links, key=lambda link: (link.similarity, link.a, link.b), default=None)


@dataclass(frozen=True)
class FilterVerdict:
    """The pre-ingest filter's answer for one document (:mod:`dedupe.pipeline.stream`).

    ``decision`` is ``keep`` (a new story, or a document already indexed under the same id and
    text), ``drop`` or ``flag`` (seen before: ``drop`` in drop mode, ``flag`` in flag mode).
    ``matches`` lists the indexed documents it repeats as ``(id, relation, similarity)``, best
    first; ``reason`` says why in a few words.
    """

    decision: str
    matches: list[tuple[str, str, float]] = field(default_factory=list)
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "decision": self.decision,
            "matches": [{"id": i, "relation": r, "similarity": s} for i, r, s in self.matches],
            "reason": self.reason,
        }


@dataclass(frozen=True)
class Verdict:
    """Whether a document is original reporting or syndication, and where it came from.

    ``label`` is ``original`` or ``syndicated``.  For a syndicated document ``relation`` says how
    it relates to its origin (``duplicate``: copied nearly word for word, ``rewrite``: reworded,
    ``same-source``: re-tells a common source that is not in the input) and ``source`` names the
    document of the input it most likely came from (``None`` when that origin is not in the input).
    ``confidence`` is the probability of ``label`` in [0, 1]; ``reasons`` are short human-readable
    strings naming the evidence (see the README section "Original or syndicated").
    """

    id: str
    cluster: str
    label: str
    relation: str | None
    source: str | None
    confidence: float
    reasons: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "cluster": self.cluster, "label": self.label, "relation": self.relation,
                "source": self.source, "confidence": self.confidence, "reasons": list(self.reasons)}

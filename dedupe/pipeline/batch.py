"""The batch run: documents in, stories out.

Stages (each a pure function over lists, so the same code runs in a Spark partition):

1. normalise (:func:`dedupe.normalize.normalize_text`) and featurise (:class:`dedupe.shingle.Shingler`);
2. collapse exact copies (identical normalised text) onto one representative;
3. sign the representatives (:class:`dedupe.signature.Signer`), band the signatures and collect
   LSH candidates from both views (:mod:`dedupe.index.lsh`);
4. verify every candidate: with the learned pair verifier (:mod:`dedupe.verifier`, the default,
   ``verify.method="learned"``) or the rule on the exact sets (:mod:`dedupe.compare`, ``"rule"``);
5. cluster the verified links (:mod:`dedupe.cluster`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Callable, Iterable

import numpy as np

from dedupe.cluster import build_clusters
from dedupe.compare import verify_pairs
from dedupe.config import Config
from dedupe.errors import InputError
from dedupe.index.lsh import band_keys, candidate_pairs
from dedupe.model import Cluster, Document, Link
from dedupe.normalize import normalize_text
from dedupe.shingle import DocFeatures, Shingler
from dedupe.signature import Signer

Progress = Callable[[str, int, int], None]


@dataclass
class RunResult:
    """What a clustering run found.  ``documents`` keeps input order."""

    clusters: list[Cluster]
    links: list[Link]
    documents: list[Document]
    candidates: int = 0
    warnings: list[str] = field(default_factory=list)

    def cluster_of(self) -> dict[str, Cluster]:
        return {m.id: c for c in self.clusters for m in c.members}


def featurize(texts: Iterable[str], config: Config, shingler: Shingler | None = None) -> list[DocFeatures]:
    """Normalise and featurise raw texts (a stage function)."""
    shingler = shingler or Shingler(config.shingle)
    return [shingler.features(normalize_text(t, config.normalize)) for t in texts]


class Deduplicator:
    """Clusters a batch of documents into stories.

    >>> from dedupe import Deduplicator, Document
    >>> result = Deduplicator().run([Document("a", "some text"), Document("b", "some text")])
    >>> [c.ids for c in result.clusters]
    [('a', 'b')]
    """

    def __init__(self, config: Config | None = None, progress: Progress | None = None):
        self.config = config or Config()
        self.progress = progress
        self._shingler: Shingler | None = None
        self._verifier = None

    @property
    def shingler(self) -> Shingler:
        if self._shingler is None:
            self._shingler = Shingler(self.config.shingle)
        return self._shingler

    @property
    def verifier(self):
        """The learned verifier (loaded on first use; raises ModelError for a mismatched model)."""
        if self._verifier is None:
            from dedupe.verifier import LearnedVerifier, Profiler

            self._verifier = LearnedVerifier(self.config, profiler=Profiler(self.config, self.shingler))
        return self._verifier

    def _tick(self, stage: str, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress(stage, done, total)

    def run(self, documents: Iterable[Document]) -> RunResult:
        config = self.config
        docs = list(documents)
        seen: set[str] = set()
        for doc in docs:
            if doc.id in seen:
                raise InputError(f"duplicate document id {doc.id!r}", source=doc.origin,
                                 hint="ids must be unique within a run")
            seen.add(doc.id)
        ids = [d.id for d in docs]
        total = len(docs)

        # 1-2. normalise, collapse exact copies, featurise representatives
        rep_of: list[int] = []
        reps: list[int] = []
        by_digest: dict[bytes, int] = {}
        features: list[DocFeatures] = []
        normalized: list[str] = []
        learned = config.verify.method == "learned"
        if learned:
            self.verifier  # fail early on a missing or mismatched model
        shingler = self.shingler
        for n, doc in enumerate(docs):
            norm = normalize_text(doc.text, config.normalize)
            digest = hashlib.blake2b(norm.encode("utf-8"), digest_size=16).digest()
            if norm and digest in by_digest:
                rep_of.append(by_digest[digest])
            else:
                by_digest[digest] = n
                rep_of.append(n)
                reps.append(n)
                features.append(shingler.features(norm))
                if learned:
                    normalized.append(norm)
            if n % 256 == 0 or n == total - 1:
                self._tick("reading", n + 1, total)

        links: list[Link] = []
        for n, r in enumerate(rep_of):
            if r != n:
                a, b = sorted((ids[r], ids[n]))
                links.append(Link(a, b, 1.0, "duplicate", {"exact": 1.0}))

        # 3. signatures and LSH candidates among representatives
        candidates = np.empty((0, 2), dtype=np.int64)
        if len(reps) > 1:
            self._tick("signing", 0, len(reps))
            sigs = Signer(config).sign(features)
            params = config.lsh_params()
            keys = [band_keys(sigs[view], params[view]) for view in ("shingles", "terms")]
            candidates = candidate_pairs(keys)
            self._tick("signing", len(reps), len(reps))

        # 4. verification on the exact sets
        rep_ids = [ids[r] for r in reps]
        self._tick("verifying", 0, len(candidates))
        if learned and len(candidates):
            involved = np.unique(candidates)
            profiler = self.verifier.profiler
            profiles = [None] * len(reps)
            for k in involved:
                doc = docs[reps[int(k)]]
                profiles[int(k)] = profiler.profile(doc.text, normalized[int(k)], features[int(k)], doc.date)
            links.extend(self.verifier.verify_pairs(candidates, profiles, rep_ids))
        elif not learned:
            links.extend(verify_pairs(candidates, features, rep_ids, config.verify))
        self._tick("verifying", len(candidates), len(candidates))

        # 5. clusters
        titles = {d.id: d.title for d in docs}
        clusters = build_clusters(ids, links, titles)
        return RunResult(clusters, links, docs, int(len(candidates)))


def cluster(documents: Iterable[Document], config: Config | None = None) -> list[Cluster]:
    """Cluster documents into stories with the given (or default) settings."""
    return Deduplicator(config).run(documents).clusters

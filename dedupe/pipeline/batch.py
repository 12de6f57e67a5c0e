"""The batch run: documents in, stories out.

Stages (each a pure function over lists, so the same code runs in a Spark partition):

1. normalise (:func:`dedupe.normalize.normalize_text`) and featurise (:class:`dedupe.shingle.Shingler`);
2. collapse exact copies (identical normalised text) onto one representative;
3. sign the representatives (:class:`dedupe.signature.Signer`), band the signatures and collect
   LSH candidates from the views of ``Config.lsh_params`` (:mod:`dedupe.index.lsh`);
4. verify the candidates: first the rare-word guard every link must pass, for all candidates at
   once (:func:`dedupe.verifier.guard_mask`), then, for the pairs it keeps, the learned pair
   verifier (:mod:`dedupe.verifier`, the default, ``verify.method="learned"``) or the rule on
   the exact sets (:mod:`dedupe.compare`, ``"rule"``);
5. cluster the verified links (:mod:`dedupe.cluster`).
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
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
from dedupe.shingle import DocFeatures, FeatureBatch, Shingler
from dedupe.signature import Signer
from dedupe.verifier import guard_mask, paused_gc

Progress = Callable[[str, int, int], None]


@dataclass
class RunResult:
    """What a clustering run found.  ``documents`` keeps input order."""

    clusters: list[Cluster]
    links: list[Link]
    documents: list[Document]
    candidates: int = 0
    warnings: list[str] = field(default_factory=list)
    #: candidate pairs that passed the rare-word guard and were verified (the rest cannot link)
    verified: int = 0

    def cluster_of(self) -> dict[str, Cluster]:
        return {m.id: c for c in self.clusters for m in c.members}


def featurize(texts: Iterable[str], config: Config, shingler: Shingler | None = None) -> list[DocFeatures]:
    """Normalise and featurise raw texts (a stage function)."""
    shingler = shingler or Shingler(config.shingle)
    return list(shingler.features_batch([normalize_text(t, config.normalize) for t in texts]))


#: Documents per batch of the streaming stages (normalise, featurise, sign, band).
CHUNK = 2048
#: Inputs smaller than this are processed in the calling process (starting workers costs more).
PARALLEL_MIN_DOCS = 20_000


def _prepare(texts: list[str], config: Config, shingler: Shingler | None = None):
    """Stages 1 and 3 for one chunk: normalised-text digests (``None`` for empty text), the
    features of every text as a :class:`dedupe.shingle.FeatureBatch`, and the LSH band keys of
    each LSH view of ``config.lsh_params()`` (``{view: (n, bands) array}``; a row depends only on its document)."""
    shingler = shingler or _worker_shingler(config)
    norms = [normalize_text(t, config.normalize) for t in texts]
    digests = [hashlib.blake2b(n.encode("utf-8"), digest_size=16).digest() if n else None for n in norms]
    # the learned verifier recomputes the features of the documents it profiles (a few of them):
    # the run keeps no ``pairs`` view, the largest (see Shingler.features_batch)
    batch = shingler.features_batch(norms, pairs=config.verify.method != "learned")
    del norms
    params = config.lsh_params()
    sigs = Signer(config).sign(batch, tuple(params))
    keys = {view: band_keys(sigs[view], params[view]) for view in params}
    return digests, batch, keys


_WORKER: dict = {}


def _worker_shingler(config: Config) -> Shingler:
    key = config.fingerprint()
    if _WORKER.get("key") != key:
        _WORKER.update(key=key, shingler=Shingler(config.shingle))
    return _WORKER["shingler"]


def _prepare_in_worker(args):
    texts, config = args
    return _prepare(texts, config)


#: Verified pairs from which their features are computed in worker processes.
PARALLEL_MIN_PAIRS = 2_000
#: Pairs per group of the learned verification (a group's documents are profiled once).
GROUP_PAIRS = 512
#: Profiles a process keeps between groups, least recently used dropped first (consecutive groups
#: share documents).
PROFILE_CACHE = 2_048
#: Most pair groups handed to a verification worker at once.
TASK_GROUPS = 16

_VERIFY: dict = {}


def _feature_names():
    from dedupe.verifier import FEATURES

    return FEATURES


def _pair_groups(pairs: np.ndarray, size: int = GROUP_PAIRS) -> list[np.ndarray]:
    """Indices of ``pairs`` in groups of about ``size``: the pairs of one connected component
    (documents linked by pairs) stay together when the component fits, so most documents are
    profiled once.  Components are packed in order of their first pair; larger ones are cut."""
    n = int(pairs.max()) + 1
    parent = np.arange(n, dtype=np.int64)
    a, b = pairs[:, 0], pairs[:, 1]
    while True:  # label propagation to the smallest index of each component
        low = np.minimum(parent[a], parent[b])
        new = parent.copy()
        np.minimum.at(new, a, low)
        np.minimum.at(new, b, low)
        new = new[new]
        if np.array_equal(new, parent):
            break
        parent = new
    comp = parent[a]
    order = np.argsort(comp, kind="stable")
    sizes = np.bincount(comp)[np.unique(comp)]
    groups: list[np.ndarray] = []
    current: list[np.ndarray] = []
    filled = 0
    start = 0
    for size_c in sizes.tolist():
        members = order[start:start + size_c]
        start += size_c
        for s in range(0, len(members), size):
            part = members[s:s + size]
            if filled and filled + len(part) > size:
                groups.append(np.concatenate(current))
                current, filled = [], 0
            current.append(part)
            filled += len(part)
    if current:
        groups.append(np.concatenate(current))
    return groups


@paused_gc()
def _pair_rows(state: dict, idx: np.ndarray):
    """Feature rows (``dedupe.verifier.pair_features``) of the pairs at ``idx``; each document of
    the group is normalised and profiled once (with the cyclic garbage collector paused:
    :func:`dedupe.verifier.paused_gc`)."""
    from dedupe.verifier import pair_features

    docs, reps = state["docs"], state["reps"]
    profiler, config = state["profiler"], state["config"]
    pairs = state["pairs"][idx]
    profiles = state.setdefault("cache", OrderedDict())
    needed = np.unique(pairs).tolist()
    todo = []
    for k in needed:  # least recently used first: what this group needs goes to the end
        if k in profiles:
            profiles.move_to_end(k)
        else:
            todo.append(k)
    while profiles and len(profiles) + len(todo) > PROFILE_CACHE and len(profiles) > len(needed) - len(todo):
        profiles.popitem(last=False)
    norms = [normalize_text(docs[reps[k]].text, config.normalize) for k in todo]
    # the run's batch has no ``pairs`` view (see _prepare): these documents' full features, at once
    full = profiler.shingler.features_batch(norms) if todo else None
    for t, (k, norm) in enumerate(zip(todo, norms)):
        doc = docs[reps[k]]
        # copies: a cached profile must not keep its whole group's batch alive
        own = DocFeatures(**{n: v.copy() if isinstance(v, np.ndarray) else v for n, v in vars(full[t]).items()})
        profiles[k] = profiler.profile(doc.text, norm, own, doc.date)
    rows = np.empty((len(pairs), len(_feature_names())), dtype=np.float64)
    for r, (i, j) in enumerate(pairs.tolist()):
        rows[r] = pair_features(profiles[i], profiles[j])
    return idx, rows


def _pair_rows_in_worker(idx):
    return _pair_rows(_VERIFY, idx)


#: LSH candidates from which the guard (and the rule) run in worker processes.
PARALLEL_MIN_CANDIDATES = 200_000

_SCREEN: dict = {}


def _screen(state: dict, lo: int, hi: int):
    """The candidates ``lo:hi``: the rare-word guard's mask and, for the rule, their links
    (``None`` for the learned verifier, which verifies the kept pairs later)."""
    pairs = state["candidates"][lo:hi]
    vc = state["config"].verify
    rule = vc.method != "learned"
    keep = guard_mask(pairs, state["features"], vc, rule=rule)
    links = verify_pairs(pairs[keep], state["features"], state["rep_ids"], vc) if rule else None
    return keep, links


def _screen_in_worker(bounds):
    return _screen(_SCREEN, *bounds)


class _BatchBuilder:
    """Collects :class:`FeatureBatch` chunks; :meth:`build` concatenates them field by field,
    releasing each field's chunks as it goes (peak memory: the result plus one field)."""

    def __init__(self):
        self.chunks: list[FeatureBatch] = []

    def append(self, batch: FeatureBatch) -> None:
        self.chunks.append(batch)

    def build(self) -> FeatureBatch:
        chunks, self.chunks = self.chunks, []
        if not chunks:
            return FeatureBatch.from_features([])
        fields: dict[str, list] = {name: [getattr(c, name) for c in chunks] for name in FeatureBatch.__dataclass_fields__}
        del chunks
        out = {}
        for name in list(fields):
            parts = fields.pop(name)
            if name.endswith("offsets"):
                acc, base = [np.zeros(1, dtype=np.int64)], 0
                for off in parts:
                    acc.append(off[1:] + base)
                    base += int(off[-1])
                parts = acc
            out[name] = np.concatenate(parts)
            del parts
        return FeatureBatch(**out)


class Deduplicator:
    """Clusters a batch of documents into stories.

    The stages stream over the input in chunks of :data:`CHUNK` documents: each chunk is
    normalised and featurised with the batched engine (in ``workers`` processes for large inputs),
    exact copies are collapsed, the representatives are signed and banded, and only the compact
    feature arrays and the LSH bucket keys are kept -- never a Python object per document or the
    full signature matrices.

    >>> from dedupe import Deduplicator, Document
    >>> result = Deduplicator().run([Document("a", "some text"), Document("b", "some text")])
    >>> [c.ids for c in result.clusters]
    [('a', 'b')]
    """

    def __init__(self, config: Config | None = None, progress: Progress | None = None,
                 workers: int | None = None):
        self.config = config or Config()
        self.progress = progress
        #: processes for normalising and featurising (``None``: one per CPU for large inputs)
        self.workers = workers
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

    def _prepared_chunks(self, docs: list[Document]):
        """``(digests, FeatureBatch, band keys)`` per chunk of :data:`CHUNK` documents, in order."""
        config = self.config
        chunks = [[d.text for d in docs[s:s + CHUNK]] for s in range(0, len(docs), CHUNK)]
        workers = self._workers(len(docs))
        if workers > 1 and len(chunks) > 1:
            import multiprocessing as mp

            method = "fork" if "fork" in mp.get_all_start_methods() else None
            with mp.get_context(method).Pool(workers) as pool:
                yield from pool.imap(_prepare_in_worker, ((c, config) for c in chunks))
        else:
            for c in chunks:
                yield _prepare(c, config, self.shingler)

    def _verify_learned(self, candidates: np.ndarray, docs: list[Document], reps: list[int],
                        rep_ids: list[str]) -> list[Link]:
        """The learned verifier on candidate pairs (indices into ``reps``) that
        passed the rare-word guard (:func:`dedupe.verifier.guard_mask`, which every link must
        pass: ``run`` evaluates it for all LSH candidates at once on the feature arrays).

        The same links as ``LearnedVerifier.verify_pairs`` with every involved document profiled,
        computed a connected group of pairs at a time (each document normalised and profiled
        once per group, a bounded profile cache between groups), in ``workers`` processes for
        large inputs.  The order of the links is the candidates'.
        """
        verifier = self.verifier
        kept = candidates
        if not len(kept):
            return []
        groups = _pair_groups(kept, GROUP_PAIRS)
        state = {"docs": docs, "reps": reps, "pairs": kept, "profiler": verifier.profiler, "config": self.config}
        workers = self._workers(len(docs))
        X = np.empty((len(kept), len(_feature_names())), dtype=np.float64)
        import multiprocessing as mp

        # the workers read the documents from the parent's memory: fork only
        if (workers > 1 and len(groups) > 1 and len(kept) >= PARALLEL_MIN_PAIRS
                and "fork" in mp.get_all_start_methods()):
            _VERIFY.update(state)
            try:
                with mp.get_context("fork").Pool(workers) as pool:
                    # runs of consecutive groups per task (they share documents: the cache), but
                    # many tasks per worker: with two per worker (as before 2026-12-02) the last
                    # one ran alone for minutes at 1,000,000 documents while the other worker idled
                    chunksize = max(1, min(TASK_GROUPS, -(-len(groups) // (8 * workers))))
                    for idx, rows in pool.imap(_pair_rows_in_worker, groups, chunksize):
                        X[idx] = rows
            finally:
                _VERIFY.clear()
        else:
            for idx in groups:
                X[idx] = _pair_rows(state, idx)[1]
            state.clear()
        return verifier.links_from_features(kept, X, rep_ids, np.ones(len(kept), dtype=bool))

    def _screen(self, candidates: np.ndarray, features: FeatureBatch, rep_ids: list[str], n_docs: int):
        """The guard's mask over all candidates and the rule's links (none for the learned
        verifier), in ``workers`` forked processes for many candidates (a contiguous share
        each: the guard and the rule judge each pair on its own, so the mask and the links,
        in candidate order, are the same)."""
        state = {"candidates": candidates, "features": features, "rep_ids": rep_ids, "config": self.config}
        workers = self._workers(n_docs)
        import multiprocessing as mp

        if workers > 1 and len(candidates) >= PARALLEL_MIN_CANDIDATES and "fork" in mp.get_all_start_methods():
            cuts = [len(candidates) * w // workers for w in range(workers + 1)]
            _SCREEN.update(state)
            try:
                with mp.get_context("fork").Pool(workers) as pool:
                    parts = pool.map(_screen_in_worker, list(zip(cuts[:-1], cuts[1:])), 1)
            finally:
                _SCREEN.clear()
            keep = np.concatenate([k for k, _ in parts])
            links = [link for _, part in parts for link in (part or ())]
            return keep, links
        keep, links = _screen(state, 0, len(candidates))
        return keep, links or []

    def _workers(self, n_docs: int) -> int:
        if self.workers is not None:
            return self.workers
        import os

        return min(os.cpu_count() or 1, 8) if n_docs >= PARALLEL_MIN_DOCS else 1

    def run(self, documents: Iterable[Document]) -> RunResult:
        config = self.config
        docs = list(documents)
        seen: set[str] = set()
        for doc in docs:
            if doc.id in seen:
                raise InputError(f"duplicate document id {doc.id!r}", source=doc.origin,
                                 hint="ids must be unique within a run")
            seen.add(doc.id)
        del seen
        ids = [d.id for d in docs]
        total = len(docs)

        # 1-3. per chunk: normalise, collapse exact copies, featurise, sign and band representatives
        rep_of: list[int] = []
        reps: list[int] = []
        by_digest: dict[bytes, int] = {}
        learned = config.verify.method == "learned"
        if learned:
            self.verifier  # fail early on a missing or mismatched model
        builder = _BatchBuilder()
        keys: dict[str, list[np.ndarray]] = {view: [] for view in config.lsh_params()}
        n = 0
        for digests, batch, chunk_keys in self._prepared_chunks(docs):
            keep = []
            for k, digest in enumerate(digests):
                if digest is not None and digest in by_digest:
                    rep_of.append(by_digest[digest])
                else:
                    if digest is not None:
                        by_digest[digest] = n
                    rep_of.append(n)
                    reps.append(n)
                    keep.append(k)
                n += 1
            if len(keep) < len(batch):
                batch = batch.take(keep)
                chunk_keys = {view: k[keep] for view, k in chunk_keys.items()}
            builder.append(batch)
            for view in keys:
                keys[view].append(chunk_keys[view])
            self._tick("reading", n, total)
        del by_digest
        features = builder.build()

        links: list[Link] = []
        for n, r in enumerate(rep_of):
            if r != n:
                a, b = sorted((ids[r], ids[n]))
                links.append(Link(a, b, 1.0, "duplicate", {"exact": 1.0}))

        # 3. LSH candidates among representatives
        candidates = np.empty((0, 2), dtype=np.int64)
        if len(reps) > 1:
            self._tick("signing", 0, len(reps))
            candidates = candidate_pairs([np.concatenate(keys[view]) for view in keys])
            self._tick("signing", len(reps), len(reps))
        del keys

        # 4. verification on the exact sets
        rep_ids = [ids[r] for r in reps]
        self._tick("verifying", 0, len(candidates))
        # the guard for every candidate; the rule links only pairs that pass the same guard
        # (exactly), so it verifies only those, in the same pass
        keep, rule_links = self._screen(candidates, features, rep_ids, len(docs))
        verified = int(keep.sum())
        if learned and verified:
            links.extend(self._verify_learned(candidates[keep], docs, reps, rep_ids))
        links.extend(rule_links)
        self._tick("verifying", len(candidates), len(candidates))

        # 5. clusters
        titles = {d.id: d.title for d in docs}
        clusters = build_clusters(ids, links, titles)
        return RunResult(clusters, links, docs, int(len(candidates)), verified=verified)


def cluster(documents: Iterable[Document], config: Config | None = None) -> list[Cluster]:
    """Cluster documents into stories with the given (or default) settings."""
    return Deduplicator(config).run(documents).clusters

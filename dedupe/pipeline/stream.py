"""The pre-ingest filter: "have we seen this story before?" against a persistent index.

>>> from dedupe.pipeline.stream import StreamFilter
>>> from dedupe import Document
>>> f = StreamFilter("memory://")
>>> f.check_and_add(Document("a", "Xiaomi and Leica announce a long-term partnership on phone cameras")).decision
'keep'
>>> f.check_and_add(Document("b", "Xiaomi and Leica announce a long-term partnership on phone cameras")).decision
'drop'

What is stored per admitted document (the index stays small: about 1.3 KB per news article on
SQLite, see the README):

* bucket keys: the LSH bands of the distinctive-terms view (``FILTER_LSH``: the same 47 bands x
  2 rows as the batch run's rewrite view, recall 0.95 at Jaccard 0.25), truncated to 32 bits.
  Near-copies share their distinctive terms too, so one view finds copies and rewrites; the
  batch run's extra near-duplicate bands would cost another ~500 bytes per document.
* a payload of about 400 bytes: a 64-bit digest of the normalised text, the sizes of the word
  k-gram, content-word pair and rare-word sets, the lowest 8 bits of each MinHash value of the
  first two ("b-bit minwise hashing", Li & Koenig 2010: with 128 permutations, 128 bytes per view
  instead of 512), and the 32 smallest hashes of the rare words (a bottom-k sketch; exact when a
  document has at most 32 rare words; BBC articles have a median of 42).

Verification uses estimates from those stored signatures instead of the exact sets the batch run
compares: Jaccard ``J`` from the share of equal 8-bit values (corrected for the 1/256 chance
collisions; fewer than 4 equal values count as no evidence), then the shared count
``J(|A|+|B|)/(1+J)`` and the containment in the smaller set; the rare-word containment comes
from the bottom-k sketches.  The estimated measures go through the same rule as the batch run (:func:`dedupe.compare.decide`); the rewrite view's weighted
containment is estimated by the unweighted one.  Identical normalised text (same digest) is an
exact duplicate.  Estimates are noisier than exact sets for documents of very different lengths.

Everything is decided here, not in the backends, so verdicts are identical on every backend.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import struct
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable, Iterable, Iterator, Sequence

import numpy as np

from dedupe.compare import decide, may_link
from dedupe.config import Config, LSHParams, optimal_lsh
from dedupe.errors import ConfigError
from dedupe.index.lsh import band_keys
from dedupe.index.store import Entry, IndexStore, open_index
from dedupe.model import Document, FilterVerdict
from dedupe.normalize import normalize_text
from dedupe.shingle import Shingler
from dedupe.signature import minhash_csr

#: The filter's verdict record (``dedupe.model.FilterVerdict``).
Verdict = FilterVerdict

#: (Jaccard, recall) each indexed view's LSH bands are tuned for (the filter indexes one view).
FILTER_LSH = {"terms": (0.25, 0.95)}
#: Layout of the per-document payload (recorded in the index metadata).
PAYLOAD = "digest64+sizes+bbit8(shingles,pairs)+bottom32(rare)/v2"
_HEAD = struct.Struct("<QIIH")
#: How many of a document's rare-word hashes are stored (the smallest: a bottom-k sketch).
RARE_K = 32
#: Fewer equal 8-bit values than this (out of num_perm) are treated as chance.
MIN_EQUAL = 4
_VIEW_SALT = np.uint64(0x5BD1E9955BD1E995)

DECISIONS = ("keep", "drop", "flag")


def filter_lsh(config: Config) -> dict[str, LSHParams]:
    n = config.minhash.num_perm
    return {view: optimal_lsh(sim, n, recall) for view, (sim, recall) in FILTER_LSH.items()}


def index_settings(config: Config) -> dict:
    """Everything besides :meth:`Config.fingerprint` that changes what an index stores."""
    lsh = filter_lsh(config)
    return {"lsh": {v: [p.bands, p.rows] for v, p in lsh.items()}, "key_bits": 32, "payload": PAYLOAD}


def parse_window(text: str | int | float | None) -> int | None:
    """``"7d"``, ``"12h"``, ``"30m"``, ``"90s"``, ``"2w"`` or a number of seconds -> seconds."""
    if text is None or text == "":
        return None
    if isinstance(text, (int, float)):
        seconds = int(text)
    else:
        m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*", str(text))
        if not m:
            raise ConfigError(f"bad window {text!r}", hint="write e.g. 7d, 12h, 30m, 90s or 2w")
        scale = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}[m.group(2)]
        seconds = int(float(m.group(1)) * scale)
    if seconds <= 0:
        raise ConfigError(f"window {text!r} must be positive")
    return seconds


def parse_date(value: str | None) -> int | None:
    """Seconds since the epoch of an ISO 8601 date/time (or a number of epoch seconds); ``None``
    when absent or unreadable.  Dates without a time zone are taken as UTC."""
    if not value:
        return None
    v = str(value).strip()
    try:
        return int(float(v))
    except ValueError:
        pass
    try:
        dt = datetime.fromisoformat(v.replace("Z", "+00:00"))
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return int(dt.timestamp())


@dataclass(frozen=True)
class _Signed:
    """A document ready for the index: its entry plus the decoded verification data."""

    entry: Entry
    digest: int
    n_shingles: int
    n_pairs: int
    sig: np.ndarray  # (2, num_perm) uint8: shingles, pairs
    n_rare: int
    rare: np.ndarray  # the RARE_K smallest rare-word hashes, sorted uint32


@dataclass(frozen=True)
class _Outcome:
    verdict: FilterVerdict
    admit: bool


def _decode(entry: Entry, num_perm: int):
    digest, ns, npairs, nrare = _HEAD.unpack_from(entry.payload)
    sig = np.frombuffer(entry.payload, dtype=np.uint8, count=2 * num_perm, offset=_HEAD.size)
    off = _HEAD.size + 2 * num_perm
    rare = np.frombuffer(entry.payload, dtype="<u4", count=(len(entry.payload) - off) // 4, offset=off)
    return digest, ns, npairs, sig.reshape(2, num_perm), nrare, rare


def _rare_overlap(a: np.ndarray, na: int, b: np.ndarray, nb: int) -> tuple[float, float]:
    """(containment, shared) of two rare-word sets from their bottom-``RARE_K`` samples: exact when
    both sets fit in the sample, else estimated from the Jaccard of the union's bottom-k."""
    if na == 0 or nb == 0:
        return 0.0, 0.0
    if na <= len(a) and nb <= len(b):
        shared = float(np.intersect1d(a, b, assume_unique=True).size)
    else:
        union = np.union1d(a, b)[:RARE_K]
        both = np.intersect1d(a, b, assume_unique=True)
        j = np.intersect1d(both, union, assume_unique=True).size / len(union)
        shared = min(j * (na + nb) / (1 + j), na, nb)
    return shared / min(na, nb), shared


def _rare_overlap_sets(a: set, a_stored: int, na: int, b, nb: int) -> tuple[float, float]:
    """:func:`_rare_overlap` with ``a`` as a set of its stored hashes and ``b`` a sequence of its
    stored hashes (sorted, unique): the same counts, so the same floats, without numpy calls."""
    if na == 0 or nb == 0:
        return 0.0, 0.0
    both = a.intersection(b)
    if na <= a_stored and nb <= len(b):
        shared = float(len(both))
    else:
        union = sorted(a.union(b))[:RARE_K]
        top = union[-1]
        j = sum(1 for x in both if x <= top) / len(union)
        shared = min(j * (na + nb) / (1 + j), na, nb)
    return shared / min(na, nb), shared


class _Scores(dict):
    """The measures of one pair, the rare-word ones computed only if the rule asks for them:
    :func:`~dedupe.compare.decide` reads them only for pairs already similar enough, and they are
    the costly part (unpacking the stored sample, set arithmetic).  Same values either way."""

    rare: tuple = ()

    def __missing__(self, key):
        if key in ("rare_containment", "rare_shared") and self.rare:
            mine, a_stored, na, payload, hi, nb = self.rare
            n_stored = (len(payload) - hi) // 4
            theirs = struct.unpack_from(f"<{n_stored}I", payload, hi) if n_stored else ()
            self["rare_containment"], self["rare_shared"] = _rare_overlap_sets(mine, a_stored, na, theirs, nb)
            self.rare = ()
            return self[key]
        raise KeyError(key)


_HEAD_DTYPE = np.dtype([("digest", "<u8"), ("shingles", "<u4"), ("pairs", "<u4"), ("rare", "<u2")])
assert _HEAD_DTYPE.itemsize == _HEAD.size


def _containment_vec(equal: np.ndarray, num_perm: int, na, nb: np.ndarray) -> np.ndarray:
    """The containment of :func:`_estimate_from_equal` for many stored sizes ``nb`` at once
    (float64, the same operations; used only to rule pairs out, with a margin)."""
    nb = nb.astype(np.float64)
    r = equal / num_perm
    j = np.maximum(0.0, (r - 1 / 256) / (1 - 1 / 256))
    shared = np.minimum(np.minimum(j * (na + nb) / (1 + j), na), nb)
    c = shared / np.minimum(na, nb)
    return np.where((equal < MIN_EQUAL) | (nb == 0) | (na == 0), 0.0, c)


class _BatchJudge:
    """The judge :meth:`StreamFilter.check_and_add_signed` hands to the store: ``prepare`` rules
    out, for the whole batch at once, the stored candidates the rule cannot link
    (:meth:`StreamFilter._hopeless`); each call then judges the document on the others.  Dropping
    a candidate the rule would not link leaves the verdict as it was."""

    def __init__(self, flt: "StreamFilter", signed: Sequence[_Signed]):
        self.flt = flt
        self.by_id = {s.entry.id: s for s in signed}
        self.hopeless: dict[str, set[int]] = {}
        self.equal: dict[str, dict[int, tuple[int, int]]] = {}

    def prepare(self, entries: Sequence[Entry], candidates: Sequence[list[Entry]]) -> None:
        signed = [self.by_id[e.id] for e in entries]
        self.hopeless, self.equal = {}, {}
        for s, (ruled_out, equal) in zip(signed, self.flt._hopeless(signed, candidates)):
            if ruled_out:
                self.hopeless[s.entry.id] = ruled_out
            self.equal[s.entry.id] = equal

    def __call__(self, entry: Entry, known: Entry | None, candidates: list[Entry]) -> "_Outcome":
        ruled_out = self.hopeless.get(entry.id)
        if ruled_out:
            candidates = [c for c in candidates if id(c) not in ruled_out]
        return self.flt._judge(self.by_id[entry.id], known, candidates, adding=True,
                               prefiltered=self.equal.get(entry.id, {}))


def _estimate_from_equal(equal: int, num_perm: int, na: int, nb: int) -> tuple[float, float, float]:
    """:func:`_estimate` given the number of equal 8-bit values."""
    if na == 0 or nb == 0:
        return 0.0, 0.0, 0.0
    if equal < MIN_EQUAL:
        return 0.0, 0.0, 0.0
    r = equal / num_perm
    j = max(0.0, (r - 1 / 256) / (1 - 1 / 256))
    shared = min(j * (na + nb) / (1 + j), na, nb)
    return shared / min(na, nb), j, shared


def _estimate(a: np.ndarray, b: np.ndarray, na: int, nb: int) -> tuple[float, float, float]:
    """(containment, jaccard, shared) estimated from two b-bit (8) signatures and set sizes."""
    if na == 0 or nb == 0:
        return 0.0, 0.0, 0.0
    equal = int(np.count_nonzero(a == b))
    if equal < MIN_EQUAL:
        return 0.0, 0.0, 0.0
    r = equal / len(a)
    j = max(0.0, (r - 1 / 256) / (1 - 1 / 256))
    shared = min(j * (na + nb) / (1 + j), na, nb)
    return shared / min(na, nb), j, shared


class StreamFilter:
    """Check documents against a persistent index and admit the new ones.

    ``index`` is a URL (``memory://``, ``sqlite:///path.db``, ``redis://host:port/db``) or an open
    :class:`~dedupe.index.store.IndexStore`.  ``mode`` is the decision for a document seen before
    (``drop`` or ``flag``).  ``window`` (seconds, or text like ``"7d"``) forgets documents older than
    that, by their date (``Document.date``, ISO 8601) or else their insertion time; ``clock``
    gives "now" in epoch seconds.
    """

    def __init__(self, index: str | IndexStore = "memory://", config: Config | None = None, mode: str = "drop",
                 window: str | int | None = None, clock: Callable[[], float] = time.time,
                 evict_every: int = 10_000):
        if mode not in ("drop", "flag"):
            raise ConfigError(f"mode must be 'drop' or 'flag', not {mode!r}")
        self.config = config or Config()
        self.mode = mode
        self.window = parse_window(window)
        self.clock = clock
        self.lsh = filter_lsh(self.config)
        self.num_perm = self.config.minhash.num_perm
        if isinstance(index, str):
            index = open_index(index, self.config.fingerprint(), index_settings(self.config))
        self.store: IndexStore = index
        self.shingler = Shingler(self.config.shingle)
        self.evict_every = evict_every
        self._since_evict = 0

    # -- signing -------------------------------------------------------------------------------
    def sign(self, docs: Sequence[Document]) -> list[_Signed]:
        """Featurise and sign documents in one batch: the batched engine
        (:meth:`Shingler.features_batch`, one :class:`FeatureBatch`), vectorised MinHash of the
        three views and LSH keys for the whole batch; only the digest and the entry are per
        document."""
        cfg = self.config
        if not docs:
            return []
        norms = [normalize_text(d.text[: cfg.max_chars], cfg.normalize) for d in docs]
        fb = self.shingler.features_batch(norms)
        sh = minhash_csr(*fb.view("shingles"), cfg.minhash)
        te = minhash_csr(*fb.view("terms"), cfg.minhash)
        pa = minhash_csr(*fb.view("pairs"), cfg.minhash)
        views = {"shingles": sh, "terms": te}
        keys = []
        with np.errstate(over="ignore"):
            for n, (view, params) in enumerate(self.lsh.items()):
                k = band_keys(views[view], params)
                keys.append(np.where(k != 0, k ^ (_VIEW_SALT * np.uint64(n)), 0))
        k64 = np.concatenate(keys, axis=1)
        present = k64 != 0
        k32 = (k64 & np.uint64(0xFFFFFFFF)).astype(np.uint32)
        k32[k32 == 0] = 1
        sigs = np.stack(((sh & 0xFF).astype(np.uint8), (pa & 0xFF).astype(np.uint8)), axis=1)
        n_sh = np.diff(fb.shingle_offsets).tolist()
        n_pa = np.diff(fb.pair_offsets).tolist()
        rare_values, rare_off = fb.view("rare")  # sorted unique uint32 per document
        rare_off = rare_off.tolist()
        now = int(self.clock())
        out = []
        for i, (doc, norm) in enumerate(zip(docs, norms)):
            digest = int.from_bytes(hashlib.blake2b(norm.encode("utf-8"), digest_size=8).digest(), "little")
            sig = sigs[i]
            rare_all = rare_values[rare_off[i]:rare_off[i + 1]]
            n_rare = min(len(rare_all), 0xFFFF)
            rare = np.ascontiguousarray(rare_all[:RARE_K], dtype=np.uint32)
            payload = (_HEAD.pack(digest, n_sh[i], n_pa[i], n_rare) + sig.tobytes()
                       + rare.astype("<u4").tobytes())
            ts = parse_date(doc.date)
            entry = Entry(doc.id, now if ts is None else ts, np.unique(k32[i][present[i]]), payload)
            out.append(_Signed(entry, digest, n_sh[i], n_pa[i], sig, n_rare, rare))
        return out

    # -- judging -------------------------------------------------------------------------------
    def _cutoff(self) -> int | None:
        return None if self.window is None else int(self.clock()) - self.window

    def _compare(self, s: _Signed, other: Entry) -> tuple[float, str] | None:
        return self._compare_many(s, [other])[0]

    def _compare_many(self, s: _Signed, others: list[Entry],
                      prefiltered: dict[int, tuple[int, int]] | None = None) -> list[tuple[float, str] | None]:
        """:func:`decide` on the measures estimated for ``s`` and each stored entry.  The equal
        8-bit values and the two containments of all candidates are computed in numpy at once;
        the candidates that :func:`~dedupe.compare.may_link` rules out (with a margin far above
        rounding) are answered ``None`` there, and the others get the same Python arithmetic as
        :func:`_estimate` and :func:`_rare_overlap` (identical results).  ``prefiltered`` (from
        :class:`_BatchJudge`): the hopeless candidates are already gone and it holds the equal
        counts of the stored ones, by ``id()`` of their entry; the few left go straight to the
        Python arithmetic."""
        if not others:
            return []
        num_perm = self.num_perm
        lo, hi = _HEAD.size, _HEAD.size + 2 * num_perm
        n = len(others)
        out: list[tuple[float, str] | None] = [None] * n
        if prefiltered is not None:
            todo = range(n)
            equal = [prefiltered.get(id(o)) for o in others]
            missing = [i for i, e in enumerate(equal) if e is None]
            if missing:
                sigs = np.frombuffer(b"".join([others[i].payload[lo:hi] for i in missing]), dtype=np.uint8)
                counts = (sigs.reshape(len(missing), 2, num_perm) == s.sig).sum(axis=2).tolist()
                for i, c in zip(missing, counts):
                    equal[i] = c
        else:
            sigs = np.frombuffer(b"".join([o.payload[:hi] for o in others]), dtype=np.uint8).reshape(n, hi)
            equal = (sigs[:, lo:].reshape(n, 2, num_perm) == s.sig).sum(axis=2)
            head = np.frombuffer(sigs[:, :lo].tobytes(), dtype=_HEAD_DTYPE)
            same = (head["digest"] == np.uint64(s.digest)) & (head["shingles"] == s.n_shingles)
            with np.errstate(divide="ignore", invalid="ignore"):
                dc = _containment_vec(equal[:, 0], num_perm, s.n_shingles, head["shingles"])
                rc = _containment_vec(equal[:, 1], num_perm, s.n_pairs, head["pairs"])
            margin = 1e-9
            todo = np.flatnonzero(same | may_link(dc + margin, rc + margin, self.config.verify)).tolist()
            equal = equal.tolist()
        mine = None
        for i in todo:
            other = others[i]
            eq_sh, eq_pa = equal[i]
            digest, ns, npairs, nrare = _HEAD.unpack_from(other.payload)
            if digest == s.digest and ns == s.n_shingles:
                out[i] = (1.0, "duplicate")
                continue
            dc_i, dj, _ = _estimate_from_equal(eq_sh, num_perm, s.n_shingles, ns)
            rc_i, rj, rshared = _estimate_from_equal(eq_pa, num_perm, s.n_pairs, npairs)
            scores = _Scores({"dup_containment": dc_i, "dup_jaccard": dj, "dup_shared": 0.0,
                              "rewrite_containment": rc_i, "rewrite_jaccard": rj, "rewrite_shared": rshared,
                              "weighted_containment": rc_i})
            if mine is None:
                mine = set(s.rare.tolist())
            scores.rare = (mine, len(s.rare), s.n_rare, other.payload, hi, nrare)
            try:
                out[i] = decide(scores, self.config.verify)
            except KeyError as exc:
                raise ConfigError(f"the verification rule uses the measure {exc}, which the filter cannot "
                                  f"estimate from its index") from exc
        return out

    def _hopeless(self, signed: Sequence[_Signed], candidates: Sequence[list[Entry]]
                  ) -> list[tuple[set[int], dict[int, tuple[int, int]]]]:
        """Per document, its candidates that :func:`~dedupe.compare.may_link` rules out and the
        equal 8-bit counts of the others, both by ``id()`` of the candidate's entry object (an
        entry admitted earlier in the batch may carry the id of a stored one), for a whole batch in
        one numpy step (each distinct stored entry decoded once)."""
        num_perm = self.num_perm
        lo, hi = _HEAD.size, _HEAD.size + 2 * num_perm
        slot: dict[int, int] = {}
        rows: list[bytes] = []
        objs: list[Entry] = []
        pair_doc: list[int] = []
        pair_row: list[int] = []
        for i, cands in enumerate(candidates):
            for c in cands:
                r = slot.get(id(c))
                if r is None:
                    r = slot[id(c)] = len(rows)
                    rows.append(c.payload[:hi])
                    objs.append(c)
                pair_doc.append(i)
                pair_row.append(r)
        out: list[tuple[set[int], dict[int, tuple[int, int]]]] = [(set(), {}) for _ in signed]
        if not rows:
            return out
        table = np.frombuffer(b"".join(rows), dtype=np.uint8).reshape(len(rows), hi)
        head = np.frombuffer(table[:, :lo].tobytes(), dtype=_HEAD_DTYPE)
        docs = np.asarray(pair_doc, dtype=np.int64)
        rws = np.asarray(pair_row, dtype=np.int64)
        mine = np.stack([s.sig for s in signed])  # (batch, 2, num_perm)
        equal = (table[rws, lo:].reshape(len(rws), 2, num_perm) == mine[docs]).sum(axis=2)
        head = head[rws]
        n_sh = np.array([s.n_shingles for s in signed], dtype=np.float64)[docs]
        n_pa = np.array([s.n_pairs for s in signed], dtype=np.float64)[docs]
        digests = np.array([s.digest for s in signed], dtype=np.uint64)[docs]
        with np.errstate(divide="ignore", invalid="ignore"):
            dc = _containment_vec(equal[:, 0], num_perm, n_sh, head["shingles"])
            rc = _containment_vec(equal[:, 1], num_perm, n_pa, head["pairs"])
        margin = 1e-9
        same = (head["digest"] == digests) & (head["shingles"] == n_sh)
        keep = same | may_link(dc + margin, rc + margin, self.config.verify)
        for d, r in zip(docs[~keep].tolist(), rws[~keep].tolist()):
            out[d][0].add(id(objs[r]))
        for d, r, eq in zip(docs[keep].tolist(), rws[keep].tolist(), equal[keep].tolist()):
            out[d][1][id(objs[r])] = tuple(eq)
        return out

    def _judge(self, s: _Signed, known: Entry | None, candidates: list[Entry], adding: bool,
               prefiltered: dict[int, tuple[int, int]] | None = None) -> _Outcome:
        reject = "drop" if self.mode == "drop" else "flag"
        if known is not None:
            digest = _HEAD.unpack_from(known.payload)[0]
            if digest == s.digest:
                return _Outcome(FilterVerdict("keep", [], "already indexed under this id"), False)
            found = self._compare(s, known)
            sim = found[0] if found else 0.0
            return _Outcome(FilterVerdict(reject, [(known.id, "same-id", sim)],
                                          "id already indexed with a different text"), False)
        cutoff = self._cutoff()
        live = [o for o in candidates if cutoff is None or o.ts >= cutoff]
        matches = [(other.id, found[1], float(found[0]))
                   for other, found in zip(live, self._compare_many(s, live, prefiltered)) if found is not None]
        if matches:
            matches.sort(key=lambda m: (-m[2], m[0]))
            best = matches[0]
            return _Outcome(FilterVerdict(reject, matches, f"{best[1]} of {best[0]} (similarity {best[2]:.2f})"),
                            False)
        if adding:
            return _Outcome(FilterVerdict("keep", [], "new story"), True)
        return _Outcome(FilterVerdict("keep", [], "new story (not added)"), False)

    # -- public API ----------------------------------------------------------------------------
    def check(self, doc: Document) -> FilterVerdict:
        """The verdict for ``doc`` without adding it to the index."""
        return self.check_many([doc])[0]

    def check_many(self, docs: Sequence[Document]) -> list[FilterVerdict]:
        signed = self.sign(docs)
        found = self.store.lookup_many([(s.entry.id, s.entry.keys) for s in signed])
        return [self._judge(s, known, cands, adding=False).verdict for s, (known, cands) in zip(signed, found)]

    def check_and_add(self, doc: Document) -> FilterVerdict:
        """The verdict for ``doc``; a new story is added to the index in the same atomic step."""
        return self.check_and_add_many([doc])[0]

    def check_and_add_many(self, docs: Sequence[Document]) -> list[FilterVerdict]:
        """:meth:`check_and_add` for a batch, in order (one transaction on SQLite).  Documents of
        the batch are checked against each other too."""
        signed = self.sign(docs)
        by_id = {s.entry.id: s for s in signed}
        if len(by_id) != len(signed):
            # the same id twice in one batch: judge one at a time so the second sees the first
            return [v for s in signed for v in self.check_and_add_signed([s])]
        return self.check_and_add_signed(signed)

    def check_and_add_signed(self, signed: list[_Signed]) -> list[FilterVerdict]:
        """:meth:`check_and_add_many` for documents already signed with :meth:`sign` (ids unique
        within the batch); lets callers featurise in one place and index in another."""
        outcomes = self.store.check_and_add_many([s.entry for s in signed], _BatchJudge(self, signed))
        self._maybe_evict(len(signed))
        return [o.verdict for o in outcomes]

    def check_and_add_stream(self, docs: Iterable[Document], batch: int = 64,
                             workers: int = 0) -> Iterator[tuple[Document, FilterVerdict]]:
        """``(doc, verdict)`` for a stream of documents, in order, checked and added in batches
        (:meth:`check_and_add_many`; the same verdicts).  With ``workers > 0`` the featurising
        and signing run in that many worker processes, up to ``2 * workers`` batches ahead of the
        index, so featurising overlaps the index transactions (the stream is read lazily; a
        document without a date gets its insertion time from this process's clock)."""
        if workers <= 0:
            chunk: list[Document] = []
            for doc in docs:
                chunk.append(doc)
                if len(chunk) >= batch:
                    yield from zip(chunk, self.check_and_add_many(chunk))
                    chunk = []
            if chunk:
                yield from zip(chunk, self.check_and_add_many(chunk))
            return
        import multiprocessing
        from collections import deque
        from concurrent.futures import ProcessPoolExecutor

        ctx = multiprocessing.get_context("spawn")  # no fork of this process's threads/connections
        with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_worker_init,
                                 initargs=(self.config,)) as pool:
            pending: deque = deque()

            def submit(chunk):
                pending.append((chunk, pool.submit(_worker_sign, chunk)))

            def finish():
                chunk, future = pending.popleft()
                return zip(chunk, self._check_and_add_presigned(chunk, future.result()))

            chunk = []
            for doc in docs:
                chunk.append(doc)
                if len(chunk) >= batch:
                    submit(chunk)
                    chunk = []
                    if len(pending) > 2 * workers:
                        yield from finish()
            if chunk:
                submit(chunk)
            while pending:
                yield from finish()

    def _check_and_add_presigned(self, docs: Sequence[Document], signed: list[_Signed]) -> list[FilterVerdict]:
        """:meth:`check_and_add_many` for documents a worker signed (insertion times restamped)."""
        now = int(self.clock())
        signed = [s if parse_date(d.date) is not None else
                  dataclasses.replace(s, entry=dataclasses.replace(s.entry, ts=now))
                  for d, s in zip(docs, signed)]
        if len({s.entry.id for s in signed}) != len(signed):
            return [v for s in signed for v in self.check_and_add_signed([s])]
        return self.check_and_add_signed(signed)

    def add(self, docs: Iterable[Document], batch: int = 500) -> int:
        """Index documents without checking them (seeding an index from an archive)."""
        n = 0
        chunk: list[Document] = []
        for d in docs:
            chunk.append(d)
            if len(chunk) >= batch:
                n += self.store.add_many(s.entry for s in self.sign(chunk))
                chunk = []
        if chunk:
            n += self.store.add_many(s.entry for s in self.sign(chunk))
        return n

    def remove(self, ids: Iterable[str]) -> int:
        """Forget documents by id; returns how many were indexed."""
        return self.store.remove(ids)

    def evict(self) -> int:
        """Forget documents older than the window (no-op without a window); returns how many."""
        cutoff = self._cutoff()
        self._since_evict = 0
        return 0 if cutoff is None else self.store.evict(cutoff)

    def _maybe_evict(self, n: int) -> None:
        self._since_evict += n
        if self.window is not None and self._since_evict >= self.evict_every:
            self.evict()

    def stats(self) -> dict:
        return self.store.stats()

    def close(self) -> None:
        self.store.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


_WORKER: "StreamFilter | None" = None


def _worker_init(config: Config) -> None:
    global _WORKER
    _WORKER = StreamFilter("memory://", config)


def _worker_sign(docs: list[Document]) -> list[_Signed]:
    return _WORKER.sign(docs)


__all__ = ["StreamFilter", "Verdict", "FilterVerdict", "parse_window", "parse_date", "filter_lsh",
           "index_settings"]

"""From normalised text to the sets the signature views are built from.

Four sets per document, each as a sorted ``uint32`` array of hash values:

``shingles``
    word k-grams (default 5) of every token: the classic near-duplicate view.  For scripts written
    without spaces (Chinese, Japanese, Thai, ...) character k-grams are used instead.
``pairs``
    the rewrite view: content words (stop words removed, Snowball-stemmed) paired with each of the
    next ``pair_window - 1`` content words, order inside the pair ignored.  A sentence that is
    reworded ("this is far from Leica's first rodeo in the mobile world" -> "this is not the first
    Leica presence in the mobile market") keeps many such pairs while losing every 5-gram.
``rare``
    the content words rarer than ``rare_idf`` in the background table (names, numbers, distinctive
    terms): copies keep them, templates filled with other facts do not.
``terms``
    the document's ``top_terms`` most distinctive content words, scored tf x idf against a
    background table shipped with the package (:mod:`dedupe.background`).  Used only to *find*
    rewrite candidates with LSH; the verifier decides on ``pairs`` and ``shingles``.

Hashes are deterministic across runs and machines (CRC-32 of UTF-8 tokens, k-grams combined with
a 64-bit multiply-xorshift mix and truncated to 32 bits), which the golden signature tests pin.
"""

from __future__ import annotations

import math
import re
import zlib
from collections import Counter
from dataclasses import dataclass

import numpy as np

from dedupe.config import ShingleConfig

_WORD = re.compile(r"\w+")
_SPACELESS = re.compile(
    r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u0e00-\u0e7f\u0e80-\u0eff\u1000-\u109f\u1780-\u17ff]"
)

#: English function words and reporting verbs; removed from the rewrite and term views only.
STOP_WORDS = frozenset(
    """a about above across after again against all almost along already also although always am
    among an and another any anyone anything are around as at away back be became because become
    been before being below besides between both but by can cannot could did do does doing done
    down during each either else enough etc even ever every few for from further get gets got had
    has have having he her here hers herself him himself his how however i if in into is it its
    itself just least less like made make many may me might mine more most much must my myself
    neither never no nor not now of off often on once one only onto or other others otherwise our
    ours ourselves out over own per perhaps quite rather really same says said say saying several
    shall she should since so some something still such than that the their theirs them themselves
    then there these they this those though through thus to together too toward towards under
    until up upon us very via was we well were what whatever when where whether which while who
    whom whose why will with within without would yet you your yours yourself yourselves s t d ll
    m re ve don doesn didn isn wasn aren weren won wouldn couldn shouldn can't it's also""".split()
)

_MASK64 = np.uint64(0xFFFFFFFFFFFFFFFF)
_M1 = np.uint64(0x9E3779B97F4A7C15)
_M2 = np.uint64(0xBF58476D1CE4E5B9)
_M3 = np.uint64(0x94D049BB133111EB)


def token_hash(token: str) -> int:
    """32-bit hash of one token (CRC-32 of its UTF-8 bytes)."""
    return zlib.crc32(token.encode("utf-8"))


def mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser on a uint64 array (wrapping arithmetic); also mixes LSH band keys."""
    with np.errstate(over="ignore"):
        x = (x ^ (x >> np.uint64(30))) * _M2
        x = (x ^ (x >> np.uint64(27))) * _M3
        return x ^ (x >> np.uint64(31))


def ngram_hashes(token_hashes: np.ndarray, k: int) -> np.ndarray:
    """Sorted unique 32-bit hashes of the k-grams of a sequence of token hashes.

    A sequence shorter than ``k`` yields one shingle (the whole sequence); an empty one, none.
    """
    n = len(token_hashes)
    if n == 0:
        return np.empty(0, dtype=np.uint32)
    h = token_hashes.astype(np.uint64)
    k = min(k, n)
    width = n - k + 1
    with np.errstate(over="ignore"):
        acc = np.full(width, np.uint64(k), dtype=np.uint64)
        for j in range(k):
            acc = mix64(acc * _M1 + h[j:j + width])
    return np.unique((acc >> np.uint64(32)).astype(np.uint32))


def pair_hashes(term_hashes: np.ndarray, window: int, weights: np.ndarray | None = None):
    """Sorted unique 32-bit hashes of unordered pairs of terms at most ``window - 1`` apart.

    With ``weights`` (one per term), also returns each pair's weight: the smaller of its two
    terms' weights (a pair is as distinctive as its commoner word).
    """
    n = len(term_hashes)
    empty = np.empty(0, dtype=np.uint32)
    if n < 2:
        return empty if weights is None else (empty, np.empty(0, dtype=np.float32))
    h = term_hashes.astype(np.uint64)
    parts, wparts = [], []
    with np.errstate(over="ignore"):
        for gap in range(1, min(window, n)):
            a, b = h[:-gap], h[gap:]
            lo, hi = np.minimum(a, b), np.maximum(a, b)
            keep = lo != hi
            parts.append(mix64(mix64(lo[keep] * _M1) + hi[keep]))
            if weights is not None:
                wparts.append(np.minimum(weights[:-gap], weights[gap:])[keep])
    hashes = (np.concatenate(parts) >> np.uint64(32)).astype(np.uint32)
    uniq, first = np.unique(hashes, return_index=True)
    if weights is None:
        return uniq
    return uniq, np.concatenate(wparts)[first].astype(np.float32)


def is_spaceless(text: str) -> bool:
    """True when most letters belong to scripts written without spaces between words."""
    sample = text[:4000]
    if sample.isascii() or _SPACELESS.search(sample) is None:
        return False  # no spaceless-script character at all: the share is 0
    letters = sum(ch.isalpha() for ch in sample)
    return letters > 0 and len(_SPACELESS.findall(sample)) > 0.3 * letters


@dataclass(frozen=True)
class DocFeatures:
    """The three hashed sets of one document, plus what explain and the verifier need."""

    shingles: np.ndarray
    pairs: np.ndarray
    pair_weights: np.ndarray
    terms: np.ndarray
    rare: np.ndarray
    n_tokens: int
    n_content: int


class Shingler:
    """Turns normalised text into :class:`DocFeatures`.

    Holds a stemmer and a per-instance token cache (no module-global state), so one instance per
    worker or Spark partition is the intended use.  ``background`` maps stemmed terms to document
    frequencies (see :mod:`dedupe.background`); ``None`` loads the shipped table.
    """

    def __init__(self, config: ShingleConfig | None = None, background=None):
        import snowballstemmer

        from dedupe.background import load_background

        self.config = config or ShingleConfig()
        self._stemmer = snowballstemmer.stemmer("english")
        self.background = background if background is not None else load_background()
        self._cache: dict[str, tuple[int, int, float]] = {}

    # -- tokens ---------------------------------------------------------------------------
    def tokens(self, text: str) -> list[str]:
        """Word tokens of normalised text; characters for spaceless scripts."""
        if text.isascii():  # \w is [A-Za-z0-9_] there: map other bytes to spaces and split (faster)
            return text.encode("ascii").translate(_ASCII_NONWORD).decode("ascii").split()
        if is_spaceless(text):
            return [ch for ch in text if ch.isalnum()]
        return _WORD.findall(text)

    def content_terms(self, tokens: list[str]) -> list[str]:
        """Stemmed content words (stop words and one-letter tokens removed)."""
        if not self.config.stem:
            return [t for t in tokens if t not in STOP_WORDS and len(t) > 1]
        stem = self._stemmer.stemWord
        return [stem(t) for t in tokens if t not in STOP_WORDS and len(t) > 1]

    def _lookup(self, token: str) -> tuple[int, int, float]:
        """(token hash, stemmed-term hash or -1 for stop words, idf of the term)."""
        hit = self._cache.get(token)
        if hit is None:
            th = token_hash(token)
            if token in STOP_WORDS or len(token) < 2:
                hit = (th, -1, 0.0)
            else:
                term = self._stemmer.stemWord(token) if self.config.stem else token
                hit = (th, token_hash(term), self.background.idf(term))
            if len(self._cache) > 2_000_000:
                self._cache.clear()
            self._cache[token] = hit
        return hit

    # -- features -------------------------------------------------------------------------
    def features(self, text: str) -> DocFeatures:
        """The :class:`DocFeatures` of one normalised text (the batched engine on a batch of one)."""
        return self.features_batch([text])[0]

    def features_batch(self, texts, pairs: bool = True) -> "FeatureBatch":
        """Features of many normalised texts at once, as a compact :class:`FeatureBatch`.

        Per token the only Python work is one regex match and one dict look-up (token -> id in a
        per-instance vocabulary); hashing k-grams and pairs, de-duplicating and ranking terms run
        with numpy over the whole batch.  The result is identical, document by document, to
        :meth:`features_reference`.

        ``pairs=False`` leaves the ``pairs`` view (and its weights) empty: the largest view, and
        one that neither signature nor the rare-word guard reads, so a run that verifies with the
        learned model computes it only for the documents it profiles.
        """
        return _featurize_batch(self, list(texts), with_pairs=pairs)

    def shingles_batch(self, texts) -> tuple[np.ndarray, np.ndarray]:
        """Only the ``shingles`` view of many texts, as ``(values, offsets)`` (what a plain
        near-duplicate MinHash needs; equal to ``features_batch(texts).view("shingles")``)."""
        return _featurize_batch(self, list(texts), shingles_only=True)

    def features_reference(self, text: str) -> DocFeatures:
        """The straightforward per-document implementation (the specification the batched
        engine is tested against; also used for documents in spaceless scripts)."""
        cfg = self.config
        spaceless = is_spaceless(text)
        if spaceless:
            chars = [ch for ch in text if ch.isalnum()]
            ch_hashes = np.fromiter((token_hash(c) for c in chars), dtype=np.uint64, count=len(chars))
            shingles = ngram_hashes(ch_hashes, cfg.char_ngram)
            # content units for the rewrite views: character bigrams
            bigrams = ["".join(p) for p in zip(chars, chars[1:])]
            looked = [(token_hash(b), token_hash(b), self.background.idf(b)) for b in bigrams]
        else:
            toks = _WORD.findall(text)
            looked = [self._lookup(t) for t in toks]
            tok_hashes = np.fromiter((x[0] for x in looked), dtype=np.uint64, count=len(looked))
            shingles = ngram_hashes(tok_hashes, cfg.word_ngram)
        content = [x for x in looked if x[1] >= 0]
        term_hashes = np.fromiter((x[1] for x in content), dtype=np.uint64, count=len(content))
        term_idf = np.fromiter((x[2] for x in content), dtype=np.float32, count=len(content))
        pairs, weights = pair_hashes(term_hashes, cfg.pair_window, term_idf)
        terms = self._top_terms(content)
        rare = np.unique(np.fromiter((x[1] for x in content if x[2] >= cfg.rare_idf), dtype=np.uint64)
                         ).astype(np.uint32)
        return DocFeatures(shingles, pairs, weights, terms, rare, len(looked), len(content))

    def _top_terms(self, content: list[tuple[int, int, float]]) -> np.ndarray:
        counts = Counter(x[1] for x in content)
        idf = {x[1]: x[2] for x in content}
        scored = sorted(counts, key=lambda h: (-(1.0 + math.log(counts[h])) * idf[h], h))
        return np.array(sorted(scored[: self.config.top_terms]), dtype=np.uint32)

    # -- vocabulary of the batched engine -------------------------------------------------
    def _vocab_arrays(self):
        """``(vocab, token_hash, term_hash, idf)``: token -> id and per-id numpy tables."""
        vocab = getattr(self, "_vocab", None)
        if vocab is None or len(vocab) > _VOCAB_LIMIT:
            vocab = self._vocab = _Vocab(self)
        return vocab


_ASCII_NONWORD = bytes(c if c < 128 and (chr(c).isalnum() or c == 95) else 32 for c in range(256))
#: Vocabulary size after which a Shingler starts a fresh one (bounds memory on endless streams).
_VOCAB_LIMIT = 2_000_000
_SHIFT = np.uint64(32)
_LOW32 = np.uint64(0xFFFFFFFF)


class _Vocab(dict):
    """token -> small int id; unseen tokens are looked up (hash, stem, idf) once, on first sight."""

    def __init__(self, shingler: Shingler):
        super().__init__()
        self._shingler = shingler
        self._pending: list[tuple[int, int, float]] = []
        self.tok_hash = np.empty(0, dtype=np.uint64)
        self.term_hash = np.empty(0, dtype=np.int64)
        self.idf = np.empty(0, dtype=np.float64)

    def __missing__(self, key) -> int:
        # ASCII texts are tokenised as bytes (faster); the token, its hash and stem are the same
        token = key.decode("ascii") if isinstance(key, bytes) else key
        th = token_hash(token)
        if token in STOP_WORDS or len(token) < 2:
            hit = (th, -1, 0.0)
        else:
            sh = self._shingler
            term = sh._stemmer.stemWord(token) if sh.config.stem else token
            hit = (th, token_hash(term), sh.background.idf(term))
        idx = len(self)
        self[key] = idx
        self._pending.append(hit)
        return idx

    def tables(self):
        """The per-id tables, including every token added since the last call."""
        if self._pending:
            th, tm, idf = zip(*self._pending)
            self.tok_hash = np.concatenate((self.tok_hash, np.array(th, dtype=np.uint64)))
            self.term_hash = np.concatenate((self.term_hash, np.array(tm, dtype=np.int64)))
            self.idf = np.concatenate((self.idf, np.array(idf, dtype=np.float64)))
            self._pending = []
        return self.tok_hash, self.term_hash, self.idf


@dataclass(frozen=True)
class FeatureBatch:
    """The features of ``n`` documents in compressed-row form: for each view one flat array of
    values (each document's values sorted and unique) and ``n + 1`` offsets.  A few arrays per
    batch instead of Python objects per document; ``batch[i]`` gives a :class:`DocFeatures` of
    views into them.
    """

    shingles: np.ndarray
    shingle_offsets: np.ndarray
    pairs: np.ndarray
    pair_weights: np.ndarray
    pair_offsets: np.ndarray
    terms: np.ndarray
    term_offsets: np.ndarray
    rare: np.ndarray
    rare_offsets: np.ndarray
    n_tokens: np.ndarray
    n_content: np.ndarray

    def __len__(self) -> int:
        return len(self.n_tokens)

    def __getitem__(self, i: int) -> DocFeatures:
        if not -len(self) <= i < len(self):
            raise IndexError(i)
        i %= len(self)
        s0, s1 = self.shingle_offsets[i], self.shingle_offsets[i + 1]
        p0, p1 = self.pair_offsets[i], self.pair_offsets[i + 1]
        t0, t1 = self.term_offsets[i], self.term_offsets[i + 1]
        r0, r1 = self.rare_offsets[i], self.rare_offsets[i + 1]
        return DocFeatures(self.shingles[s0:s1], self.pairs[p0:p1], self.pair_weights[p0:p1],
                           self.terms[t0:t1], self.rare[r0:r1], int(self.n_tokens[i]),
                           int(self.n_content[i]))

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def view(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """``(values, offsets)`` of one view (``shingles``, ``pairs``, ``terms`` or ``rare``)."""
        offsets = {"shingles": self.shingle_offsets, "pairs": self.pair_offsets,
                   "terms": self.term_offsets, "rare": self.rare_offsets}[name]
        return getattr(self, name), offsets

    def take(self, indices) -> "FeatureBatch":
        """A batch of the documents at ``indices`` (in that order)."""
        idx = np.asarray(indices, dtype=np.int64)

        def pick(values_names, offsets):
            lengths = offsets[idx + 1] - offsets[idx]
            pos = _ranges(offsets[idx], lengths)
            new = np.zeros(len(idx) + 1, dtype=np.int64)
            np.cumsum(lengths, out=new[1:])
            return [getattr(self, v)[pos] for v in values_names], new

        (sh,), sho = pick(("shingles",), self.shingle_offsets)
        (pa, pw), pao = pick(("pairs", "pair_weights"), self.pair_offsets)
        (te,), teo = pick(("terms",), self.term_offsets)
        (ra,), rao = pick(("rare",), self.rare_offsets)
        return FeatureBatch(sh, sho, pa, pw, pao, te, teo, ra, rao, self.n_tokens[idx],
                            self.n_content[idx])

    @property
    def nbytes(self) -> int:
        return sum(getattr(self, f).nbytes for f in self.__dataclass_fields__)

    @classmethod
    def from_features(cls, features) -> "FeatureBatch":
        """Pack a list of :class:`DocFeatures` (copies the arrays)."""
        features = list(features)

        def pack(name, dtype):
            parts = [np.asarray(getattr(f, name), dtype=dtype) for f in features]
            offsets = np.zeros(len(parts) + 1, dtype=np.int64)
            np.cumsum([len(p) for p in parts], out=offsets[1:])
            values = np.concatenate(parts) if parts else np.empty(0, dtype=dtype)
            return values, offsets

        sh, sho = pack("shingles", np.uint32)
        pa, pao = pack("pairs", np.uint32)
        pw, _ = pack("pair_weights", np.float32)
        te, teo = pack("terms", np.uint32)
        ra, rao = pack("rare", np.uint32)
        return cls(sh, sho, pa, pw, pao, te, teo, ra, rao,
                   np.array([f.n_tokens for f in features], dtype=np.int64),
                   np.array([f.n_content for f in features], dtype=np.int64))

    @classmethod
    def concatenate(cls, batches) -> "FeatureBatch":
        """One batch holding the documents of several, in order."""
        batches = list(batches)
        if not batches:
            return cls.from_features([])

        def offsets(name):
            parts, base = [np.zeros(1, dtype=np.int64)], 0
            for b in batches:
                off = getattr(b, name)
                parts.append(off[1:] + base)
                base += int(off[-1])
            return np.concatenate(parts)

        def cat(name):
            return np.concatenate([getattr(b, name) for b in batches])

        return cls(cat("shingles"), offsets("shingle_offsets"), cat("pairs"), cat("pair_weights"),
                   offsets("pair_offsets"), cat("terms"), offsets("term_offsets"),
                   cat("rare"), offsets("rare_offsets"), cat("n_tokens"), cat("n_content"))


def _ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Concatenation of ``arange(s, s + l)`` for each start and length (vectorised)."""
    total = int(lengths.sum())
    if total == 0:
        return np.empty(0, dtype=np.int64)
    ends = np.cumsum(lengths)
    shift = np.repeat(starts - (ends - lengths), lengths)
    return np.arange(total, dtype=np.int64) + shift


def sorted_unique(x: np.ndarray) -> np.ndarray:
    """``np.unique`` by sorting (numpy's hash-based unique is slower on large ``uint64`` arrays)."""
    x = np.sort(x)
    if len(x) < 2:
        return x
    keep = np.empty(len(x), dtype=bool)
    keep[0] = True
    np.not_equal(x[1:], x[:-1], out=keep[1:])
    return x[keep]


def prune_rows(values: np.ndarray, offsets: np.ndarray, docs, weights: np.ndarray | None = None,
               step: int = 1 << 24):
    """One view (compressed rows of sorted unique unsigned 32-bit ``values``, ``offsets`` with
    one entry per document plus one) reduced to what can be shared among the documents listed
    in the arrays ``docs``: the values at least two of them hold.  Every other document keeps
    none.  A value held by one document only never counts in an intersection, and usually most
    k-grams are unique to their document, so intersecting the pruned rows is several times
    cheaper and gives the same counts.  Returns ``(values, offsets, weights)``.

    The values in play are sorted as ``value << 32 | position`` keys: one sort, no ``argsort``
    and no search (three times faster than looking each value up among the repeated ones).  At
    most ``step`` of them are sorted at once: when more are in play, one pass per slice of the
    value range (bounded temporaries on a million documents; the same result for any ``step``).
    """
    lengths = np.diff(offsets)
    member = np.zeros(len(lengths), dtype=bool)
    for d in docs:
        member[d] = True
    in_play = np.repeat(member, lengths)
    del member
    keep = np.zeros(len(values), dtype=bool)
    n_play = int(np.count_nonzero(in_play))
    if n_play >= 2:
        if len(values) >= 1 << 32 or values.dtype.kind != "u" or values.dtype.itemsize > 4:
            raise ValueError("prune_rows expects fewer than 2**32 unsigned values of at most 32 bits")
        passes = -(-n_play // max(1, step))
        bounds = [(1 << 32) * p // passes for p in range(passes + 1)]
        for p in range(passes):
            sel = in_play
            if passes > 1:  # the values in [bounds[p], bounds[p + 1])
                sel = in_play & (values >= bounds[p])
                if p + 1 < passes:
                    sel &= values < bounds[p + 1]
            at = np.flatnonzero(sel)
            if len(at) < 2:
                continue
            keys = (values[at].astype(np.uint64) << _SHIFT) | at.astype(np.uint64)
            del at
            keys.sort()
            v = keys >> _SHIFT
            eq = v[1:] == v[:-1]
            del v
            dup = np.zeros(len(keys), dtype=bool)
            dup[1:] = eq
            dup[:-1] |= eq
            del eq
            keep[(keys[dup] & _LOW32).astype(np.int64)] = True
            del keys, dup
    del in_play
    # kept values per document, without a cumulative sum over every value
    per_doc = np.zeros(len(lengths), dtype=np.int64)
    filled = lengths > 0  # their starts increase strictly and lie inside ``values``
    if filled.any():
        per_doc[filled] = np.add.reduceat(keep, offsets[:-1][filled], dtype=np.int64)
    offs = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(per_doc, out=offs[1:])
    return values[keep], offs, (weights[keep] if weights is not None else None)


def _csr(keys: np.ndarray, n_docs: int):
    """From sorted unique ``doc << 32 | value`` keys to ``(values, offsets)``."""
    docs = (keys >> _SHIFT).astype(np.int64)
    offsets = np.searchsorted(docs, np.arange(n_docs + 1), side="left").astype(np.int64)
    return (keys & _LOW32).astype(np.uint32), offsets


def _kgram_keys(h: np.ndarray, lengths: np.ndarray, starts: np.ndarray, doc_of: np.ndarray,
                k: int) -> list[np.ndarray]:
    """``doc << 32 | k-gram hash`` keys of a batch's concatenated token hashes ``h`` (documents
    of ``lengths`` tokens from ``starts``); windows crossing documents are dropped, a document
    shorter than ``k`` gives one shingle of its whole sequence (as :func:`ngram_hashes`)."""
    total = len(h)
    key_parts = []
    if total >= k:
        width = total - k + 1
        with np.errstate(over="ignore"):
            acc = np.full(width, np.uint64(k), dtype=np.uint64)
            for j in range(k):
                acc = mix64(acc * _M1 + h[j:j + width])
        # a window starting at p is inside its document when p + k <= document end
        pos = np.arange(width, dtype=np.int64)
        ends = np.repeat(starts + lengths, lengths)[:width]
        valid = pos + k <= ends
        key_parts.append((doc_of[:width][valid] << _SHIFT) | (acc[valid] >> _SHIFT))
    short = np.flatnonzero((lengths > 0) & (lengths < k))
    for d in short:  # documents shorter than k: one shingle, the whole sequence
        s0, ln = int(starts[d]), int(lengths[d])
        key_parts.append((np.uint64(d) << _SHIFT) | ngram_hashes(h[s0:s0 + ln], ln).astype(np.uint64))
    return key_parts


def _featurize_batch(shingler: Shingler, texts: list[str], shingles_only: bool = False, with_pairs: bool = True):
    cfg = shingler.config
    n = len(texts)
    vocab = shingler._vocab_arrays()
    get = vocab.__getitem__
    ids: list[int] = []
    lengths = np.zeros(n, dtype=np.int64)
    special: dict[int, DocFeatures] = {}
    findall = _WORD.findall
    for d, text in enumerate(texts):
        before = len(ids)
        if text.isascii():
            # for ASCII, \w is [A-Za-z0-9_]: mapping every other byte to a space and splitting
            # gives exactly the regex's tokens, about twice as fast
            ids.extend(map(get, text.encode("ascii").translate(_ASCII_NONWORD).split()))
        elif is_spaceless(text):
            special[d] = shingler.features_reference(text)
            continue
        else:
            ids.extend(map(get, findall(text)))
        lengths[d] = len(ids) - before
    tok_table, term_table, idf_table = vocab.tables()
    ids_arr = np.array(ids, dtype=np.int64)
    doc_of = np.repeat(np.arange(n, dtype=np.uint64), lengths)
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1])).astype(np.int64)

    # -- shingles: word k-grams over the whole batch, windows crossing documents dropped ------
    h = tok_table[ids_arr]
    key_parts = _kgram_keys(h, lengths, starts, doc_of, cfg.word_ngram)
    for d, f in special.items():
        key_parts.append((np.uint64(d) << _SHIFT) | f.shingles.astype(np.uint64))
    sh_keys = sorted_unique(np.concatenate(key_parts)) if key_parts else np.empty(0, dtype=np.uint64)
    shingles, sh_off = _csr(sh_keys, n)
    if shingles_only:
        return shingles, sh_off

    # -- content terms ---------------------------------------------------------------------
    term_of_tok = term_table[ids_arr]
    content = term_of_tok >= 0
    c_term = term_of_tok[content].astype(np.uint64)
    c_idf = idf_table[ids_arr[content]]
    c_doc = doc_of[content]
    n_content = np.bincount(doc_of[content].astype(np.int64), minlength=n).astype(np.int64)
    n_tokens = lengths.copy()
    for d, f in special.items():
        n_tokens[d], n_content[d] = f.n_tokens, f.n_content

    # -- pairs: unordered pairs of content terms at most pair_window - 1 apart ----------------
    w32 = c_idf.astype(np.float32)
    pkeys, pweights = [], []
    with np.errstate(over="ignore"):
        for gap in range(1, cfg.pair_window if with_pairs else 1):
            if gap >= len(c_term):
                break
            a, b = c_term[:-gap], c_term[gap:]
            lo, hi = np.minimum(a, b), np.maximum(a, b)
            keep = (lo != hi) & (c_doc[:-gap] == c_doc[gap:])
            ph = mix64(mix64(lo[keep] * _M1) + hi[keep]) >> _SHIFT
            pkeys.append((c_doc[:-gap][keep] << _SHIFT) | ph)
            pweights.append(np.minimum(w32[:-gap], w32[gap:])[keep])
    for d, f in special.items() if with_pairs else ():
        pkeys.append((np.uint64(d) << _SHIFT) | f.pairs.astype(np.uint64))
        pweights.append(f.pair_weights.astype(np.float32))
    if pkeys:
        allk = np.concatenate(pkeys)
        allw = np.concatenate(pweights)
        # stable: within one document and hash, the first pair (smallest gap, then position)
        # gives the weight, as in the per-document implementation
        order = np.argsort(allk, kind="stable")
        allk, allw = allk[order], allw[order]
        first = np.concatenate(([True], allk[1:] != allk[:-1])) if len(allk) else np.empty(0, bool)
        pairs, pair_off = _csr(allk[first], n)
        pair_weights = allw[first]
    else:
        pairs, pair_off = _csr(np.empty(0, dtype=np.uint64), n)
        pair_weights = np.empty(0, dtype=np.float32)
    if pair_weights.dtype != np.float32:
        pair_weights = pair_weights.astype(np.float32)

    # -- terms: each document's top_terms content terms by tf x idf ---------------------------
    tkeys = (c_doc << _SHIFT) | c_term
    if len(tkeys):
        order = np.argsort(tkeys, kind="stable")
        sk = tkeys[order]
        last = np.concatenate((sk[1:] != sk[:-1], [True]))
        firsts = np.concatenate(([True], sk[1:] != sk[:-1]))
        ukeys = sk[last]
        counts = np.flatnonzero(last) - np.flatnonzero(firsts) + 1
        uidf = c_idf[order][last]  # the last occurrence's idf, as a dict built in order keeps
        score = -(_log_table(int(counts.max()))[counts] * uidf)
        udoc = ukeys >> _SHIFT
        rank_order = np.lexsort((ukeys & _LOW32, score, udoc))
        rdoc = udoc[rank_order]
        group_start = np.searchsorted(rdoc, rdoc, side="left")
        rank = np.arange(len(rdoc)) - group_start
        chosen = np.sort(ukeys[rank_order][rank < cfg.top_terms])
    else:
        chosen = np.empty(0, dtype=np.uint64)
    parts = [chosen]
    for d, f in special.items():
        parts.append((np.uint64(d) << _SHIFT) | f.terms.astype(np.uint64))
    terms, term_off = _csr(np.sort(np.concatenate(parts)) if special else chosen, n)

    # -- rare: content terms at least as rare as rare_idf -------------------------------------
    rare_parts = [tkeys[c_idf >= cfg.rare_idf]]
    for d, f in special.items():
        rare_parts.append((np.uint64(d) << _SHIFT) | f.rare.astype(np.uint64))
    rare, rare_off = _csr(sorted_unique(np.concatenate(rare_parts)), n)
    return FeatureBatch(shingles, sh_off, pairs, pair_weights, pair_off, terms, term_off,
                        rare, rare_off, n_tokens, n_content)


_LOG_CACHE: list[float] = [0.0, 1.0]


def _log_table(max_count: int) -> np.ndarray:
    """``1 + math.log(c)`` for ``c`` in ``0..max_count`` (``math.log``, exactly as the reference)."""
    while len(_LOG_CACHE) <= max_count:
        _LOG_CACHE.append(1.0 + math.log(len(_LOG_CACHE)))
    return np.array(_LOG_CACHE[: max_count + 1], dtype=np.float64)

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


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser on a uint64 array (wrapping arithmetic)."""
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
            acc = _mix(acc * _M1 + h[j:j + width])
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
            parts.append(_mix(_mix(lo[keep] * _M1) + hi[keep]))
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

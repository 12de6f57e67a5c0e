"""The learned pair verifier: is this pair the same story, and how is it related?

For a candidate pair it computes cheap pair features (:func:`pair_features`) and scores them with
a gradient-boosted tree ensemble trained by scikit-learn (``python -m dedupe.training.verifier``)
and shipped as JSON arrays evaluated here in numpy: no scikit-learn, no pickle at run time.

Relations (the model's classes):

``duplicate``
    the same text, give or take a headline, boilerplate, dropped or reordered paragraphs, or a
    partial copy.
``rewrite``
    the same text reworded sentence by sentence (same story, same order of facts, few shared
    word sequences).
``same-source``
    two write-ups that both re-tell a common source (a press release, a wire story), sharing its
    quoted passages but written independently.
``unrelated``
    anything else, in particular different stories on the same topic.

A pair is linked when ``1 - P(unrelated) >= VerifyConfig.learned_threshold`` (default 0.5), its
similarity reaches ``VerifyConfig.threshold`` (default 0.1, so only a raised ``--threshold``
binds) and, unless it is a near-copy by 5-gram containment, its rare words agree (the rule's
guard, see :func:`dedupe.compare.decide`).  The link's relation is the most likely of the three linked classes and its similarity is
``P(duplicate) + P(rewrite) + 0.5 * P(same-source)``, so copies rank above two outlets re-telling
one press release.

Model file (``dedupe/resources/verifier.json``)::

    {"format": "dedupe-verifier", "version": 2, "fingerprint": "<Config.fingerprint()>",
     "features": [...names...], "classes": [...], "init": [...per class...],
     "learning_rate": 0.1, "trees": {"feature": [...], "threshold": [...], "left": [...],
     "right": [...], "value": [...], "roots": [[...per class...] per stage]}, "depth": 3,
     "training": {"command": ..., "recipe": ..., "metrics": ...}}

The fingerprint is the settings hash of the shingling the features were computed with; loading a
model under other settings raises :class:`~dedupe.errors.ModelError` (one line, with the fix).
Version 2 (2026-12-03) computes ``align_order`` in both directions (the longer in-order run of
matched sentences): in version 1 it followed only the first document's sentences into the
second, so a pair's features depended on the input order.  Version 1 files are refused (their
trees were fitted to the one-sided value).
"""

from __future__ import annotations

import gc
import json
import math
import re
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from itertools import repeat
from importlib import resources
from pathlib import Path

import numpy as np

from dedupe.config import Config
from dedupe.errors import ModelError
from dedupe.model import Link, ScoreRow
from dedupe.normalize import normalize_text
from dedupe.shingle import _SHIFT, STOP_WORDS, DocFeatures, Shingler, prune_rows

FORMAT = "dedupe-verifier"
VERSION = 2
CLASSES = ("duplicate", "rewrite", "same-source", "unrelated")
LINKED = CLASSES[:3]

_WORD = re.compile(r"\w+")
_NUMBER = re.compile(r"(?<![\w.])\d[\d,]*(?:\.\d+)?")
_ENTITY = re.compile(r"(?<![.!?]\s)(?<!^)\b([A-Z][a-zA-Z\-']+(?:\s+[A-Z][a-zA-Z\-']+)*)")
_QUOTE = re.compile(r"[\"\u201c\u201e]([^\"\u201c\u201d\u201e]{12,400})[\"\u201d]")
_SENT_END = re.compile(r"(?<=[.!?])[\"'\u201d)]?\s+|\n+")
_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
#: idf from which a term counts as rare (seen in fewer than ~1 in 400 background documents).
RARE_IDF = 7.0
#: words that state a fact the way a figure does: number words (as digits) and month names
#: (not "may": in lower-cased text the verb is far more common than the month)
_FACT_WORDS = {w: str(i) for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve".split())}
_FACT_WORDS.update({m: m for m in ("january february march april june july august september october "
                                   "november december").split()})


@dataclass
class Profile:
    """Everything the pair features need from one document, computed once per document.

    ``grams[n]`` is the set of word n-grams (n = 1, 2, 3, 5) as tuples; :meth:`Profiler.profile`
    stores ``grams[1]`` as the set of words (only the sets' sizes and overlaps are used)."""

    tokens: list[str]
    grams: dict[int, set]
    stems: Counter
    idf: dict[str, float]
    sentences: list[frozenset]
    numbers: set[str]
    entities: set[str]
    quotes: set
    day: int | None
    features: DocFeatures
    char_norm: float = 0.0
    tfidf_norm: float = 0.0
    rare: set = field(default_factory=set)
    #: the character 4-grams of the space-joined tokens as sorted unique ``uint64`` codes (four
    #: UTF-16 code units) and their counts; ``None`` when a character lies beyond U+FFFF
    char_keys: np.ndarray | None = None
    char_counts: np.ndarray | None = None
    #: per entry of ``sentences``: the figures it states (:func:`_facts`)
    sentence_facts: list[frozenset] = field(default_factory=list)
    #: per entry of ``sentences``: its rare content stems (background idf >= ``RARE_IDF``): names
    sentence_rare: list[frozenset] = field(default_factory=list)
    #: per entry of ``sentences``: its *frame*, the content stems that are neither rare nor
    #: figures (digits, months, number words): what a template sibling keeps
    sentence_frames: list[frozenset] = field(default_factory=list)

    @property
    def chars(self) -> Counter:
        """Counts of the character 4-grams of the space-joined tokens (built on first use)."""
        chars = self.__dict__.get("_chars")
        if chars is None:
            flat = " ".join(self.tokens)
            chars = self.__dict__["_chars"] = Counter(flat[i:i + 4] for i in range(max(0, len(flat) - 3)))
        return chars


def _char_grams(flat: str):
    """``(keys, counts)`` of the character 4-grams of ``flat`` (see :attr:`Profile.char_keys`),
    or ``(None, None)`` when ``flat`` has a character beyond U+FFFF.  The codes are exact (one
    per distinct 4-gram), so every sum over them equals the one over :attr:`Profile.chars`."""
    codes = np.frombuffer(flat.encode("utf-32-le"), dtype=np.uint32)
    if len(codes) < 4:
        return np.empty(0, dtype=np.uint64), np.empty(0, dtype=np.int64)
    if int(codes.max()) > 0xFFFF:
        return None, None
    c = codes.astype(np.uint64)
    w = len(c) - 3
    keys = (c[:w] << np.uint64(48)) | (c[1:w + 1] << np.uint64(32)) | (c[2:w + 2] << np.uint64(16)) | c[3:]
    keys, counts = np.unique(keys, return_counts=True)
    return keys, counts.astype(np.int64)


def _number_set(text: str) -> set[str]:
    numbers = {n.replace(",", "").rstrip(".") for n in _NUMBER.findall(text)}
    return {n[:-2] if n.endswith(".0") else n for n in numbers}


_DIGIT = re.compile(r"\d")


def _facts(text: str, tokens: list[str]) -> frozenset:
    """The figures a sentence states: its numbers (digits, and number words up to twelve as
    digits) and month names, so "five" and "5" agree and "January" and "February" do not.
    ``tokens`` are the sentence's words, lower-cased (as normalised text is)."""
    out = _number_set(text) if _DIGIT.search(text) else set()
    for t in _FACT_WORDS.keys() & set(tokens):
        out.add(_FACT_WORDS[t])
    return frozenset(out)


def _ngrams(tokens: list[str], n: int) -> set:
    if len(tokens) < n:
        return {tuple(tokens)} if tokens else set()
    return set(zip(*(tokens[i:] for i in range(n))))


def _parse_day(value: str | None) -> int | None:
    if not value:
        return None
    m = _DATE.search(value)
    if not m:
        return None
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3))).toordinal()
    except ValueError:
        return None


class Profiler:
    """Builds :class:`Profile` objects; holds a :class:`Shingler` (and its background table)."""

    def __init__(self, config: Config | None = None, shingler: Shingler | None = None):
        self.config = config or Config()
        self.shingler = shingler or Shingler(self.config.shingle)
        self._stems: dict[str, str | None] = {}
        self._idf: dict[str, float] = {}
        #: the content stems of the month names and number words (not part of a sentence's frame)
        self._fact_stems = frozenset(self.shingler.content_terms(list(_FACT_WORDS)))

    def _idf_of(self, term: str) -> float:
        """The background idf of a stem (cached per instance)."""
        v = self._idf.get(term)
        if v is None:
            if len(self._idf) > 1_000_000:
                self._idf.clear()
            v = self._idf[term] = self.shingler.background.idf(term)
        return v

    def content_terms(self, tokens: list[str]) -> list[str]:
        """Stemmed content words, like :meth:`Shingler.content_terms`, with a per-instance cache."""
        cache = self._stems
        out = []
        for t in tokens:
            s = cache.get(t, "")
            if s == "":
                s = self.shingler.content_terms([t])
                s = cache[t] = s[0] if s else None
                if len(cache) > 1_000_000:
                    cache.clear()
            if s is not None:
                out.append(s)
        return out

    def profile(self, raw: str, normalized: str | None = None, features: DocFeatures | None = None,
                date_str: str | None = None) -> Profile:
        """The :class:`Profile` of one document (``normalized``/``features`` when already known)."""
        return self._profile(raw, normalized, features, date_str, True)

    def profile_reference(self, raw: str, normalized: str | None = None, features: DocFeatures | None = None,
                          date_str: str | None = None) -> Profile:
        """:meth:`profile` the straightforward way (no stem/idf look-up caches, character 4-grams
        counted in a ``Counter``): the specification the fast path is tested against."""
        return self._profile(raw, normalized, features, date_str, False)

    def _profile(self, raw, normalized, features, date_str, fast: bool) -> Profile:
        norm = normalized if normalized is not None else normalize_text(raw, self.config.normalize)
        sh = self.shingler
        feats = features if features is not None else sh.features(norm)
        tokens = sh.tokens(norm)
        stems_list = self.content_terms(tokens)
        stems = Counter(stems_list)
        idf_of = self._idf_of if fast else sh.background.idf
        idf = {t: idf_of(t) for t in stems}
        sents = []
        facts = []
        rare_of = []
        frames = []
        fact_stems = self._fact_stems
        get = self._stems.get
        for piece in _SENT_END.split(norm):
            toks = _WORD.findall(piece)
            if len(toks) >= 3:
                if fast:  # the stems are cached (content_terms above saw these tokens): look them up
                    got = list(map(get, toks, repeat("")))
                    content = frozenset(self.content_terms(toks) if "" in got else filter(None, got))
                else:
                    content = frozenset(self.content_terms(toks))
                if content:
                    sents.append(content)
                    facts.append(_facts(piece, toks))
                    rare = frozenset(t for t in content if idf_of(t) >= RARE_IDF)
                    rare_of.append(rare)
                    frames.append(frozenset(t for t in content - rare
                                            if not t[:1].isdigit() and t not in fact_stems))
        numbers = _number_set(norm)
        entities = set()
        for m in _ENTITY.finditer(raw):
            name = m.group(1).lower()
            if name not in STOP_WORDS and len(name) > 2:
                entities.add(name)
        quotes = set()
        for m in _QUOTE.finditer(raw.replace("\u2019", "'")):
            qt = _WORD.findall(m.group(1).lower())
            quotes |= _ngrams(qt, 4)
        keys, counts = _char_grams(" ".join(tokens)) if fast else (None, None)
        grams = {n: _ngrams(tokens, n) for n in (1, 2, 3, 5)[fast:]}
        if fast:  # only the sizes of these sets and their intersections matter: words, not 1-tuples
            grams[1] = set(tokens)
        prof = Profile(tokens, grams, stems, idf, sents, numbers, entities, quotes, _parse_day(date_str), feats,
                       char_keys=keys, char_counts=counts, sentence_facts=facts, sentence_rare=rare_of,
                       sentence_frames=frames)
        # an exact integer either way: the same float as the sum over ``chars``
        sq = int(np.dot(counts, counts)) if counts is not None else sum(v * v for v in prof.chars.values())
        prof.char_norm = math.sqrt(sq)
        prof.tfidf_norm = math.sqrt(sum(((1 + math.log(c)) * idf[t]) ** 2 for t, c in stems.items()))
        prof.rare = {t for t, v in idf.items() if v >= RARE_IDF}
        return prof


@contextmanager
def paused_gc():
    """Pause Python's cyclic garbage collector for an allocation-heavy stretch (profiling
    documents, computing pair features); its previous state is restored after, also on errors.

    A :class:`Profile` is hundreds of small sets, frozensets, tuples and dicts without reference
    cycles, so reference counting frees them with the collector on or off; with it on, its
    passes (one per 700 new containers, and full passes over every live object: a run's
    documents, the profile cache) cost about 15% of the verification's CPU time (5,000 candidate
    pairs among 20,000 BBC and Reuters articles, profiled and featurised as a run does: 10.4 ->
    8.9 CPU-s, best of four alternating runs in one process).  The collector is process-wide:
    other threads run without it meanwhile.  Nesting is fine."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _set_scores(a: set, b: set) -> tuple[float, float, float]:
    """(Jaccard, smaller containment, larger containment) of two sets."""
    if not a or not b:
        return 0.0, 0.0, 0.0
    inter = len(a & b) if len(a) < len(b) else len(b & a)
    ca, cb = inter / len(a), inter / len(b)
    return inter / (len(a) + len(b) - inter), min(ca, cb), max(ca, cb)


def _overlap(a: np.ndarray, b: np.ndarray) -> int:
    if len(a) == 0 or len(b) == 0:
        return 0
    return int(np.intersect1d(a, b, assume_unique=True).size)


def _align(sa: list[frozenset], sb: list[frozenset]):
    """Best Dice similarity of each sentence of ``sa`` in ``sb`` and vice versa, and for each
    sentence of either the index of its best match in the other (-1 for none; the first of equal
    matches)."""
    if not sa or not sb:
        return [0.0] * len(sa), [0.0] * len(sb), [-1] * len(sa), [-1] * len(sb)
    best_a = [0.0] * len(sa)
    best_b = [0.0] * len(sb)
    where_a = [-1] * len(sa)
    where_b = [-1] * len(sb)
    for i, x in enumerate(sa):
        lx = len(x)
        for j, y in enumerate(sb):
            inter = len(x & y)
            if inter:
                d = 2.0 * inter / (lx + len(y))
                if d > best_a[i]:
                    best_a[i] = d
                    where_a[i] = j
                if d > best_b[j]:
                    best_b[j] = d
                    where_b[j] = i
    return best_a, best_b, where_a, where_b


def _frame_index(p: Profile) -> dict:
    """Frame stem -> the sentences of ``p`` whose frame has it, among those that state figures
    or rare names (the only ones :func:`_fact_changes` compares with); built once per profile."""
    index = p.__dict__.get("_frame_index")
    if index is None:
        index = {}
        for j, (frame, facts, rare) in enumerate(zip(p.sentence_frames, p.sentence_facts, p.sentence_rare)):
            if facts or rare:
                for t in frame:
                    index.setdefault(t, []).append(j)
        p.__dict__["_frame_index"] = index
    return index


def _same_keys(p: Profile) -> tuple[set, set]:
    """The (frame, figures) and (frame, names) of ``p``'s sentences that state some (built once
    per profile): a sentence of the other document found here is "same" at once (its frame
    matches at Dice 1), so copies skip the frame index."""
    keys = p.__dict__.get("_same_keys")
    if keys is None:
        keys = ({(fr, f) for fr, f in zip(p.sentence_frames, p.sentence_facts) if fr and f},
                {(fr, r) for fr, r in zip(p.sentence_frames, p.sentence_rare) if fr and r})
        p.__dict__["_same_keys"] = keys
    return keys


def _fact_changes(pa: Profile, pb: Profile, cut: float = 0.5) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    """``(stated, same, changed)`` for the figures and for the rare names of A's sentences.

    A sentence of A that states figures (numbers and months; or rare names) is compared with the
    sentences of B that state some too and whose *frame* (the wording without figures and names)
    matches its own (Dice >= ``cut``).  *Same*: one of them states exactly the same figures;
    *changed*: the closest one states a figure A lacks and lacks one A states (a substituted
    number, month or name: the next month's index, another company's dividend), which copies and
    rewrites keep and template stories change."""
    index = _frame_index(pb)
    out = [[0, 0, 0], [0, 0, 0]]
    if not index:
        return (0, 0, 0), (0, 0, 0)
    frames_b = pb.sentence_frames
    same_f, same_r = _same_keys(pb)
    for frame, fa, ra in zip(pa.sentence_frames, pa.sentence_facts, pa.sentence_rare):
        if not frame or not (fa or ra):
            continue
        if fa and (frame, fa) in same_f:
            out[0][0] += 1
            out[0][1] += 1
            fa = None
        if ra and (frame, ra) in same_r:
            out[1][0] += 1
            out[1][1] += 1
            ra = None
        if not (fa or ra):
            continue
        shared: dict[int, int] = {}
        for t in frame:
            for j in index.get(t, ()):
                shared[j] = shared.get(j, 0) + 1
        n = len(frame)
        cands = [(d, j) for j, k in shared.items() if (d := 2.0 * k / (n + len(frames_b[j]))) >= cut]
        if not cands:
            continue
        for tally, mine, theirs in ((out[0], fa, pb.sentence_facts), (out[1], ra, pb.sentence_rare)):
            if not mine:
                continue
            cs = [c for c in cands if theirs[c[1]]]
            if not cs:
                continue
            tally[0] += 1
            if any(theirs[j] == mine for _, j in cs):
                tally[1] += 1
                continue
            _, j = max(cs, key=lambda c: (c[0], len(mine & theirs[c[1]]), -c[1]))
            if mine - theirs[j] and theirs[j] - mine:
                tally[2] += 1
    return tuple(out[0]), tuple(out[1])


def longest_increasing(values) -> int:
    """Length of the longest strictly increasing subsequence of ``values`` (patience sorting)."""
    import bisect

    tails: list = []
    for v in values:
        k = bisect.bisect_left(tails, v)
        if k == len(tails):
            tails.append(v)
        else:
            tails[k] = v
    return len(tails)


def _in_order(best: list[float], where: list[int], cut: float = 0.3) -> int:
    """Length of the longest run of matched sentences (best >= cut) whose matches keep their
    order: the longest strictly increasing subsequence of match positions."""
    return longest_increasing(j for d, j in zip(best, where) if d >= cut and j >= 0)


FEATURES: tuple[str, ...] = (
    "w1_jac", "w1_cmin", "w1_cmax", "w2_jac", "w2_cmin", "w2_cmax", "w3_jac", "w3_cmin", "w3_cmax",
    "w5_jac", "w5_cmin", "w5_cmax",
    "stem_jac", "stem_cmin", "stem_cmax", "tfidf_cos", "char4_cos",
    "pairs_jac", "pairs_cmin", "pairs_cmax", "pairs_weighted",
    "align_frac_min", "align_frac_max", "align_mean_min", "align_mean_max",
    "align30_min", "align30_max", "align40_min", "align40_max", "align_order",
    "rare_jac", "rare_cmax", "rare_shared", "ent_jac", "ent_cmax",
    "num_jac", "num_only_min", "num_only_max", "num_any",
    "quote_cmax", "quote_any",
    "len_ratio", "log_len_min", "log_len_max", "diff_min", "diff_max", "time_gap_days",
    "facts_changed_frac", "facts_changed", "facts_same_frac", "names_changed_frac",
)


def pair_features(pa: Profile, pb: Profile) -> np.ndarray:
    """The feature vector (order of :data:`FEATURES`) of a pair; symmetric in ``pa``/``pb``."""
    return _pair_features(pa, pb, True)


def pair_features_reference(pa: Profile, pb: Profile) -> np.ndarray:
    """:func:`pair_features` computed the straightforward way (character 4-gram counts as
    ``Counter`` objects): the specification the fast path is tested against, bit for bit."""
    return _pair_features(pa, pb, False)


def _char_dot(pa: Profile, pb: Profile, fast: bool) -> int:
    """Sum over the shared character 4-grams of the product of their counts (an exact int)."""
    if fast and pa.char_keys is not None and pb.char_keys is not None:
        (ka, ca), (kb, cb) = sorted(((pa.char_keys, pa.char_counts), (pb.char_keys, pb.char_counts)),
                                    key=lambda kc: len(kc[0]))
        if len(ka) == 0:
            return 0
        at = np.minimum(np.searchsorted(kb, ka), len(kb) - 1)  # the smaller set looked up in the larger
        hit = kb[at] == ka
        return int(np.dot(ca[hit], cb[at[hit]]))
    small, large = (pa.chars, pb.chars) if len(pa.chars) < len(pb.chars) else (pb.chars, pa.chars)
    return sum(v * large.get(k, 0) for k, v in small.items())


def _pair_features(pa: Profile, pb: Profile, fast: bool) -> np.ndarray:
    out: list[float] = []
    for n in (1, 2, 3, 5):
        out.extend(_set_scores(pa.grams[n], pb.grams[n]))
    sa, sb = set(pa.stems), set(pb.stems)
    out.extend(_set_scores(sa, sb))
    shared = sa & sb
    # fsum: exactly rounded, so the value does not depend on the set's iteration order (which
    # changes with PYTHONHASHSEED from one process to the next)
    dot = math.fsum((1 + math.log(pa.stems[t])) * (1 + math.log(pb.stems[t])) * pa.idf[t] ** 2 for t in shared)
    out.append(dot / (pa.tfidf_norm * pb.tfidf_norm) if pa.tfidf_norm and pb.tfidf_norm else 0.0)
    cdot = _char_dot(pa, pb, fast)
    out.append(cdot / (pa.char_norm * pb.char_norm) if pa.char_norm and pb.char_norm else 0.0)
    fa, fb = pa.features, pb.features
    inter = _overlap(fa.pairs, fb.pairs)
    la, lb = len(fa.pairs), len(fb.pairs)
    if la and lb:
        out.extend((inter / (la + lb - inter), min(inter / la, inter / lb), max(inter / la, inter / lb)))
        wa, wb = float(fa.pair_weights.sum()), float(fb.pair_weights.sum())
        _, ia, _ = np.intersect1d(fa.pairs, fb.pairs, assume_unique=True, return_indices=True)
        out.append(float(fa.pair_weights[ia].sum()) / min(wa, wb) if min(wa, wb) > 0 else 0.0)
    else:
        out.extend((0.0, 0.0, 0.0, 0.0))
    ba, bb, where_a, where_b = _align(pa.sentences, pb.sentences)
    mn = [sum(x) / len(x) if x else 0.0 for x in (ba, bb)]
    for cut in (0.5, 0.3, 0.4):
        fr = [sum(1 for v in x if v >= cut) / len(x) if x else 0.0 for x in (ba, bb)]
        out.extend((min(fr), max(fr)))
        if cut == 0.5:
            out.extend((min(mn), max(mn)))
    shorter = min(len(ba), len(bb))
    # the longer in-order run of the two directions: symmetric in pa/pb (until version 2 of the
    # model format only pa's sentences were followed into pb, so the value, and a link's
    # probabilities, depended on which document came first in the input)
    out.append(max(_in_order(ba, where_a), _in_order(bb, where_b)) / shorter if shorter else 0.0)
    rj, _, rmax = _set_scores(pa.rare, pb.rare)
    out.extend((rj, rmax, math.log1p(len(pa.rare & pb.rare))))
    ej, _, emax = _set_scores(pa.entities, pb.entities)
    out.extend((ej, emax))
    nj, _, _ = _set_scores(pa.numbers, pb.numbers)
    only_a, only_b = len(pa.numbers - pb.numbers), len(pb.numbers - pa.numbers)
    out.extend((nj, float(min(only_a, only_b)), float(max(only_a, only_b)),
                float(bool(pa.numbers) + bool(pb.numbers))))
    _, _, qmax = _set_scores(pa.quotes, pb.quotes)
    out.extend((qmax, float(bool(pa.quotes) and bool(pb.quotes))))
    na, nb = len(pa.tokens), len(pb.tokens)
    out.extend((min(na, nb) / max(na, nb) if max(na, nb) else 0.0, math.log1p(min(na, nb)),
                math.log1p(max(na, nb))))
    da, db = len(sa - sb), len(sb - sa)
    out.extend((math.log1p(min(da, db)), math.log1p(max(da, db))))
    out.append(float(abs(pa.day - pb.day)) if pa.day is not None and pb.day is not None else -1.0)
    # figures and names are compared between sentences aligned by their frames (the wording
    # without figures and names), so "Pay April 6" meets "Pay March 31"
    (fab, nab), (fba, nba) = _fact_changes(pa, pb), _fact_changes(pb, pa)
    fc = (fab, fba)
    out.extend((max(c / s if s else 0.0 for s, _, c in fc), math.log1p(max(c for _, _, c in fc)),
                min(m / s if s else 1.0 for s, m, _ in fc)))
    nc = (nab, nba)
    out.append(max(c / s if s else 0.0 for s, _, c in nc))
    return np.asarray(out, dtype=np.float64)


# ---------------------------------------------------------------------------------------------
# The model: a gradient-boosted tree ensemble stored as flat arrays
# ---------------------------------------------------------------------------------------------
def tree_leaves(X: np.ndarray, feature: np.ndarray, threshold: np.ndarray, left: np.ndarray, right: np.ndarray,
                roots: np.ndarray, depth: int) -> np.ndarray:
    """The leaf each row of ``X`` reaches in each tree of a forest stored as flat node arrays
    (``left < 0`` marks a leaf; a row goes left when its feature value is ``<=`` the threshold),
    as an ``(n_rows, len(roots))`` array of node indices.  ``depth`` is the deepest tree's depth.
    Shared by :class:`VerifierModel` and :class:`dedupe.classify.SyndicationClassifier`.

    Many rows are walked one tree at a time over whole feature columns (a tree of depth 3 is
    seven column comparisons): the shipped forest on 21,499 rows took 0.36 s instead of 2.45 s
    following every row's node through every tree with gathers (:func:`tree_leaves_reference`,
    still used for a few rows and for deep trees); both return the same nodes (tests)."""
    n = X.shape[0]
    if n < 256 or depth > 8:
        return tree_leaves_reference(X, feature, threshold, left, right, roots, depth)
    XT = np.ascontiguousarray(X.T)
    feature, threshold = feature.tolist(), threshold.tolist()
    left, right = left.tolist(), right.tolist()
    out = np.empty((len(roots), n), dtype=np.int64)
    for k, root in enumerate(roots.tolist()):
        nodes = [root]  # the nodes of this level, by position; a row's position is ``pos``
        pos = None
        for _ in range(depth):
            nxt = []
            go = None
            for slot, node in enumerate(nodes):
                lo = left[node]
                if lo < 0:  # a leaf stays where it is
                    nxt += (node, node)
                    continue
                nxt += (lo, right[node])
                right_here = ~(XT[feature[node]] <= threshold[node])  # as the reference: NaN goes right
                if pos is None:
                    go = right_here
                elif go is None:
                    go = right_here & (pos == slot)
                else:
                    go |= right_here & (pos == slot)
            if go is None:  # every node of this level is a leaf
                break
            pos = (go.astype(np.int64) if pos is None else 2 * pos + go)
            nodes = nxt
        out[k] = nodes[0] if pos is None else np.asarray(nodes, dtype=np.int64)[pos]
    return out.T


def tree_leaves_reference(X: np.ndarray, feature: np.ndarray, threshold: np.ndarray, left: np.ndarray,
                          right: np.ndarray, roots: np.ndarray, depth: int) -> np.ndarray:
    """:func:`tree_leaves` following every row through every tree at once with gathers."""
    node = np.broadcast_to(roots, (X.shape[0], roots.size)).copy()
    rows = np.arange(X.shape[0])[:, None]
    for _ in range(depth):
        go_left = X[rows, np.maximum(feature[node], 0)] <= threshold[node]
        nxt = np.where(go_left, left[node], right[node])
        node = np.where(left[node] < 0, node, nxt)
    return node


class VerifierModel:
    """Multi-class gradient-boosted trees evaluated in numpy (see the module docstring)."""

    def __init__(self, spec: dict, source: str = "<model>"):
        try:
            if spec.get("format") != FORMAT:
                raise ModelError(f"{source} is not a dedupe verifier model",
                                 hint="train one with 'python -m dedupe.training.verifier'")
            if spec.get("version") != VERSION:
                raise ModelError(f"{source} has model version {spec.get('version')}; this dedupe reads "
                                 f"version {VERSION}", hint="retrain it with 'python -m dedupe.training.verifier'")
            self.spec = spec
            self.fingerprint = str(spec["fingerprint"])
            self.features = tuple(spec["features"])
            self.classes = tuple(spec["classes"])
            self.init = np.asarray(spec["init"], dtype=np.float64)
            self.learning_rate = float(spec["learning_rate"])
            t = spec["trees"]
            self.feature = np.asarray(t["feature"], dtype=np.int64)
            self.threshold = np.asarray(t["threshold"], dtype=np.float64)
            self.left = np.asarray(t["left"], dtype=np.int64)
            self.right = np.asarray(t["right"], dtype=np.int64)
            self.value = np.asarray(t["value"], dtype=np.float64)
            self.roots = np.asarray(t["roots"], dtype=np.int64)  # (stages, classes)
            self.depth = int(spec["depth"])
            self.training = spec.get("training", {})
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelError(f"{source} is corrupt ({type(exc).__name__}: {exc})",
                             hint="retrain it with 'python -m dedupe.training.verifier'") from None
        if self.features != FEATURES:
            raise ModelError(f"{source} was trained on other features than this dedupe computes",
                             hint="retrain it with 'python -m dedupe.training.verifier'")
        if self.classes != CLASSES or self.roots.ndim != 2 or self.roots.shape[1] != len(CLASSES):
            raise ModelError(f"{source} has classes {self.classes}, expected {CLASSES}")

    def check(self, config: Config, source: str = "the verifier model") -> None:
        """Refuse to score features computed with other signature settings."""
        if config.fingerprint() != self.fingerprint:
            raise ModelError(f"{source} was trained with settings {self.fingerprint}, but the current settings "
                             f"are {config.fingerprint()}",
                             hint="use the default shingle/minhash settings, retrain the model with "
                                  "'python -m dedupe.training.verifier', or use --verifier rule")

    def raw(self, X: np.ndarray) -> np.ndarray:
        """Raw class scores (n, classes) before the softmax."""
        # scikit-learn's trees compare features as float32 against float64 thresholds: do the same
        X = np.atleast_2d(np.asarray(X, dtype=np.float64)).astype(np.float32).astype(np.float64)
        n = X.shape[0]
        node = tree_leaves(X, self.feature, self.threshold, self.left, self.right, self.roots.ravel(), self.depth)
        vals = self.value[node].reshape(n, -1, len(self.classes)).sum(axis=1)
        return self.init[None, :] + self.learning_rate * vals

    def contributions(self, x: np.ndarray) -> np.ndarray:
        """Per-feature contributions to each class's raw score for one pair, (features, classes):
        along each tree's decision path, the change of node value at a split is credited to the
        split's feature (Saabas' method; exact: they sum to the raw score minus a constant)."""
        x = np.asarray(x, dtype=np.float64).astype(np.float32).astype(np.float64)  # as in :meth:`raw`
        C = len(self.classes)
        out = np.zeros((len(self.features), C))
        for s, stage in enumerate(self.roots):
            for k, node in enumerate(stage):
                node = int(node)
                while self.left[node] >= 0:
                    f = int(self.feature[node])
                    child = int(self.left[node] if x[f] <= self.threshold[node] else self.right[node])
                    out[f, k] += self.learning_rate * (self.value[child] - self.value[node])
                    node = child
        return out

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        raw = self.raw(X)
        raw -= raw.max(axis=1, keepdims=True)
        e = np.exp(raw)
        return e / e.sum(axis=1, keepdims=True)

    def to_json(self) -> str:
        return json.dumps(self.spec, separators=(",", ":"))

    def save(self, path: str | Path) -> None:
        Path(path).write_text(self.to_json() + "\n", encoding="utf-8")


def load_model(path: str | Path | None = None, config: Config | None = None) -> VerifierModel:
    """Load a verifier model (the shipped one when ``path`` is ``None``) and check it against
    ``config``'s fingerprint (skipped when ``config`` is ``None``)."""
    if path is None:
        model = _shipped()
        source = "the shipped verifier model"
    else:
        source = str(path)
        try:
            spec = json.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ModelError(f"model file {path} not found") from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ModelError(f"{path} is not a readable JSON model ({exc.__class__.__name__})",
                             hint="retrain it with 'python -m dedupe.training.verifier'") from None
        if not isinstance(spec, dict):
            raise ModelError(f"{path} is not a dedupe verifier model")
        model = VerifierModel(spec, source)
    if config is not None:
        model.check(config, source)
    return model


@lru_cache(maxsize=1)
def _shipped() -> VerifierModel:
    ref = resources.files("dedupe").joinpath("resources/verifier.json")
    try:
        spec = json.loads(ref.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelError("the shipped verifier model is missing; reinstall dedupe or use --verifier rule") from None
    return VerifierModel(spec, "the shipped verifier model")


# ---------------------------------------------------------------------------------------------
# Verdicts
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Verdict:
    """The verifier's answer for one pair."""

    relation: str              # one of CLASSES
    probability: float         # probability of ``relation``
    linked: bool
    similarity: float          # P(duplicate) + P(rewrite) + 0.5 P(same-source)
    probabilities: dict[str, float]
    features: dict[str, float]


def verdicts(model: VerifierModel, X: np.ndarray, threshold: float = 0.5) -> list[Verdict]:
    X = np.atleast_2d(X)
    if len(X) == 0:
        return []
    return _verdicts(model, X, model.predict_proba(X), threshold)


def _verdicts(model: VerifierModel, X: np.ndarray, P: np.ndarray, threshold: float) -> list[Verdict]:
    out = []
    for x, p in zip(X, P):
        probs = {c: float(v) for c, v in zip(model.classes, p)}
        linked = 1.0 - probs["unrelated"] >= threshold
        if linked:
            relation = max(LINKED, key=lambda c: probs[c])
        else:
            relation = "unrelated"
        sim = probs["duplicate"] + probs["rewrite"] + 0.5 * probs["same-source"]
        out.append(Verdict(relation, probs[relation], linked, round(sim, 6), probs,
                           dict(zip(model.features, map(float, x)))))
    return out


def accept(v: Verdict, pa: Profile, pb: Profile, vc) -> bool:
    """Whether the pipeline links a pair the model judged ``v`` (see the module docstring)."""
    return v.linked and v.similarity >= vc.threshold and _guard(pa, pb, vc)


def _guard(pa: Profile, pb: Profile, vc) -> bool:
    """The rule's rare-word guard (:func:`dedupe.compare.decide`), applied to every link that is
    not a near-copy (5-gram containment below ``duplicate_at``): templated wire items (earnings
    tables, price lists) share wording and layout but not their names and figures."""
    return guard_features(pa.features, pb.features, vc)


def guard_features(fa: DocFeatures, fb: DocFeatures, vc) -> bool:
    """:func:`_guard` on two documents' features (no profile needed): a pair it rejects is never
    linked, so callers skip profiling it (the Spark engine does, per candidate row)."""
    sa, sb = fa.shingles, fb.shingles
    small_s = min(len(sa), len(sb))
    if small_s and int(np.intersect1d(sa, sb, assume_unique=True).size) / small_s >= vc.duplicate_at:
        return True
    ra, rb = fa.rare, fb.rare
    small = min(len(ra), len(rb))
    if small == 0:
        return False
    shared = int(np.intersect1d(ra, rb, assume_unique=True).size)
    return shared / small >= vc.rare_threshold and shared >= vc.min_rare


def _intersections(values: np.ndarray, offsets: np.ndarray, i: np.ndarray, j: np.ndarray,
                   chunk_values: int = 1 << 18, step: int = 1 << 24) -> np.ndarray:
    """Per pair ``(i[k], j[k])``: the size of the intersection of the two documents' sorted
    unique ``values`` (compressed rows: ``offsets`` has one entry per document plus one).

    Values held by only one of the involved documents are dropped first (they never count,
    :func:`_shared_values`), then each chunk of pairs is merged (:func:`_count_shared`).
    """
    if len(i) == 0 or len(values) == 0:
        return np.zeros(len(i), dtype=np.int64)
    vals, offs = _shared_values(values, offsets, (i, j), step)
    return _count_shared(vals, offs, i, j, chunk_values)


def _shared_values(values: np.ndarray, offsets: np.ndarray, docs, step: int = 1 << 24):
    """``(values, offsets)`` keeping, of the documents listed in the arrays ``docs``, only the
    values at least two of them hold (as ``uint64``); every other document keeps none
    (:func:`dedupe.shingle.prune_rows`)."""
    vals, offs, _ = prune_rows(values, offsets, docs, step=step)
    return vals.astype(np.uint64), offs


def _count_shared(vals: np.ndarray, offs: np.ndarray, i: np.ndarray, j: np.ndarray,
                  chunk_values: int = 1 << 18) -> np.ndarray:
    """Intersection sizes of the pairs' rows of ``(vals, offs)`` (sorted unique ``uint64``
    values per row), a chunk of about ``chunk_values`` values at a time.

    Per chunk, both sides' ``pair << 32 | value`` keys are two sorted runs: a stable sort of
    their concatenation (timsort: one linear merge) puts each shared value next to its copy.
    About three times faster than a binary search of one side's keys in the other's."""
    m = len(i)
    out = np.zeros(m, dtype=np.int64)
    lens = np.diff(offs)
    cost = np.cumsum(lens[i] + lens[j] + 1)
    start = 0
    while start < m:
        stop = max(int(np.searchsorted(cost, (cost[start - 1] if start else 0) + chunk_values, side="right")),
                   start + 1)
        ci, cj = i[start:stop], j[start:stop]
        la, lb = lens[ci], lens[cj]
        if la.any() and lb.any():
            k = np.arange(stop - start, dtype=np.uint64)
            keys = np.concatenate(((np.repeat(k, la) << _SHIFT) | vals[_ranges(offs[ci], la)],
                                   (np.repeat(k, lb) << _SHIFT) | vals[_ranges(offs[cj], lb)]))
            keys.sort(kind="stable")
            both = keys[1:][keys[1:] == keys[:-1]]
            out[start:stop] = np.bincount((both >> _SHIFT).astype(np.int64), minlength=stop - start)
        start = stop
    return out


def _ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Concatenation of ``arange(s, s + l)`` for each start and length."""
    total = int(lengths.sum())
    if total == 0:
        return np.empty(0, dtype=np.int64)
    ends = np.cumsum(lengths)
    return np.arange(total, dtype=np.int64) + np.repeat(starts - (ends - lengths), lengths)


def guard_mask(pairs, batch, vc, rule: bool = False, block: int = 1 << 21) -> np.ndarray:
    """:func:`_guard` for many pairs at once, on a :class:`dedupe.shingle.FeatureBatch` (row
    ``k`` holds the features of document ``k``).  Exactly the same booleans as ``_guard`` on
    each pair (integer intersection counts, the same divisions), without building profiles:
    a pair it rejects can never be linked, so the pipeline computes pair features only for the
    pairs it keeps (on news collections, a few percent of the LSH candidates).

    The rule (:func:`dedupe.compare.decide`) links only pairs that pass the same test, except
    that it scores an empty side as containment 0 (which passes a threshold of 0):
    ``rule=True`` gives that variant, a superset of the rule's links.  The counts are computed
    ``block`` pairs at a time (bounded temporaries; the same booleans for any block size)."""
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    i, j = pairs[:, 0], pairs[:, 1]
    ok = np.zeros(len(pairs), dtype=bool)
    if not len(pairs):
        return ok

    def rare_test(small, shared):
        with np.errstate(divide="ignore", invalid="ignore"):
            contained = np.where(small > 0, shared / np.maximum(small, 1), 0.0)
            good = (contained >= vc.rare_threshold) & (shared >= vc.min_rare)
        return good if rule else good & (small > 0)

    def dup_test(small, shared):
        with np.errstate(divide="ignore", invalid="ignore"):
            dup = np.where(small > 0, shared / np.maximum(small, 1), 0.0) >= vc.duplicate_at
        return dup if rule else dup & (small > 0)

    # the per-pair arithmetic runs a block of pairs at a time: on tens of millions of LSH
    # candidates, a dozen temporaries as long as the pair list would take gigabytes
    for at, passed in _passing(batch, "rare", i, j, None, block, rare_test):
        ok[at] = passed
    rest = np.flatnonzero(~ok)
    for at, passed in _passing(batch, "shingles", i, j, rest, block, dup_test):
        ok[at] = passed
    return ok


def _passing(batch, view: str, i: np.ndarray, j: np.ndarray, which: np.ndarray | None, block: int, test):
    """For the pairs ``(i, j)`` at positions ``which`` (``None``: all), a block at a time:
    ``(positions, test(smaller set size, intersection size))`` in ``batch``'s ``view``.

    ``test`` must never turn false when the intersection grows (a threshold on it).  The
    intersection is bounded by the smaller of the two documents' values that some other
    document in play also holds (what :func:`_shared_values` keeps): a pair that fails the
    test at that bound fails it exactly, and its values are never merged.  Most LSH
    candidates of a news collection share a few rare words or shingles, not a copied text, so
    this skips most of the merging."""
    values, offsets = batch.view(view)
    lens = np.diff(offsets)
    n = len(i) if which is None else len(which)
    if n == 0:
        return
    pruned = None
    if len(values):
        pruned = _shared_values(values, offsets, (i, j) if which is None else (i[which], j[which]))
        plens = np.diff(pruned[1])
    for s in range(0, n, block):
        at = np.arange(s, min(s + block, n)) if which is None else which[s:s + block]
        bi, bj = i[at], j[at]
        small = np.minimum(lens[bi], lens[bj])
        if pruned is None:
            yield at, test(small, np.zeros(len(bi), dtype=np.int64))
            continue
        passed = test(small, np.minimum(plens[bi], plens[bj]))  # at the bound
        maybe = np.flatnonzero(passed)
        if len(maybe):
            passed[maybe] = test(small[maybe], _count_shared(*pruned, bi[maybe], bj[maybe]))
        yield at, passed


#: Rows per call of the model when verifying many pairs (bounds the evaluation's memory).
PREDICT_ROWS = 8192


class LearnedVerifier:
    """Verifies candidate pairs with the model; the batch pipeline's default verifier."""

    def __init__(self, config: Config | None = None, model: VerifierModel | None = None,
                 profiler: Profiler | None = None):
        self.config = config or Config()
        self.model = model or load_model(self.config.verify.model, self.config)
        if model is not None:
            model.check(self.config)
        self.profiler = profiler or Profiler(self.config)

    def decisions(self, pairs, profiles: list[Profile]) -> list[tuple[float, str, dict] | None]:
        """Per pair of profile indices: ``(similarity, relation, scores)`` when the pipeline links
        it, else ``None``.  ``scores`` holds the features and the class probabilities (``p_*``)."""
        if len(pairs) == 0:
            return []
        with paused_gc():
            X = np.vstack([pair_features(profiles[int(i)], profiles[int(j)]) for i, j in pairs])
        vc = self.config.verify
        guard = [_guard(profiles[int(i)], profiles[int(j)], vc) for i, j in pairs]
        return self.decisions_from_features(X, guard)

    def decisions_from_features(self, X: np.ndarray, guard) -> list[tuple[float, str, dict] | None]:
        """:meth:`decisions` for pairs whose feature rows ``X`` and rare-word guard verdicts
        (:func:`_guard`, or :func:`guard_mask` for many pairs at once) were computed elsewhere
        (the pipeline computes them in worker processes)."""
        X = np.atleast_2d(X)
        if len(X) == 0:
            return []
        vc = self.config.verify
        out: list[tuple[float, str, dict] | None] = [None] * len(X)
        # in chunks: the tree evaluation holds (rows x trees) temporaries; rows are independent
        P = np.vstack([self.model.predict_proba(X[s:s + PREDICT_ROWS]) for s in range(0, len(X), PREDICT_ROWS)])
        # Verdict objects only for the rows that can link (the same floats as verdicts(): the
        # same elementwise operations on the same probabilities)
        c = {name: k for k, name in enumerate(self.model.classes)}
        sim = P[:, c["duplicate"]] + P[:, c["rewrite"]] + 0.5 * P[:, c["same-source"]]
        maybe = np.flatnonzero((1.0 - P[:, c["unrelated"]] >= vc.learned_threshold)
                               & (np.round(sim, 7) >= vc.threshold - 1e-6) & np.asarray(guard, dtype=bool))
        # each link's scores: the features and the class probabilities (``p_*``), as rows of one
        # array (ScoreRow) rather than a dict per link
        names = self.model.features + tuple(f"p_{k}" for k in self.model.classes)
        index = {name: k for k, name in enumerate(names)}
        table = np.hstack([X[maybe], P[maybe]]) if len(maybe) else np.empty((0, len(names)))
        for t, (row, v) in enumerate(zip(maybe.tolist(),
                                         _verdicts(self.model, X[maybe], P[maybe], vc.learned_threshold))):
            if v.linked and v.similarity >= vc.threshold:
                out[row] = (v.similarity, v.relation, ScoreRow(index, table[t]))
        return out

    def verify_pairs(self, pairs, profiles: list[Profile], ids: list[str]) -> list[Link]:
        return _links(pairs, self.decisions(pairs, profiles), ids)

    def links_from_features(self, pairs, X: np.ndarray, ids: list[str], guard) -> list[Link]:
        """The links :meth:`verify_pairs` returns, from feature rows and guard verdicts computed
        elsewhere (see :meth:`decisions_from_features`)."""
        return _links(pairs, self.decisions_from_features(X, guard), ids)


def _links(pairs, decisions, ids: list[str]) -> list[Link]:
    links = []
    for (i, j), d in zip(pairs, decisions):
        if d is not None:
            a, b = sorted((ids[int(i)], ids[int(j)]))
            links.append(Link(a, b, d[0], d[1], d[2]))
    return links

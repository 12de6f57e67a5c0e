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

    {"format": "dedupe-verifier", "version": 1, "fingerprint": "<Config.fingerprint()>",
     "features": [...names...], "classes": [...], "init": [...per class...],
     "learning_rate": 0.1, "trees": {"feature": [...], "threshold": [...], "left": [...],
     "right": [...], "value": [...], "roots": [[...per class...] per stage]}, "depth": 3,
     "training": {"command": ..., "recipe": ..., "metrics": ...}}

The fingerprint is the settings hash of the shingling the features were computed with; loading a
model under other settings raises :class:`~dedupe.errors.ModelError` (one line, with the fix).
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np

from dedupe.config import Config
from dedupe.errors import ModelError
from dedupe.model import Link
from dedupe.normalize import normalize_text
from dedupe.shingle import STOP_WORDS, DocFeatures, Shingler

FORMAT = "dedupe-verifier"
VERSION = 1
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


@dataclass
class Profile:
    """Everything the pair features need from one document, computed once per document."""

    tokens: list[str]
    grams: dict[int, set]
    stems: Counter
    idf: dict[str, float]
    sentences: list[frozenset]
    numbers: set[str]
    entities: set[str]
    quotes: set
    chars: Counter
    day: int | None
    features: DocFeatures
    char_norm: float = 0.0
    tfidf_norm: float = 0.0
    rare: set = field(default_factory=set)


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
        norm = normalized if normalized is not None else normalize_text(raw, self.config.normalize)
        sh = self.shingler
        feats = features if features is not None else sh.features(norm)
        tokens = sh.tokens(norm)
        stems_list = self.content_terms(tokens)
        stems = Counter(stems_list)
        bg = sh.background
        idf = {t: bg.idf(t) for t in stems}
        sents = []
        for piece in _SENT_END.split(norm):
            toks = _WORD.findall(piece)
            if len(toks) >= 3:
                content = frozenset(self.content_terms(toks))
                if content:
                    sents.append(content)
        numbers = {n.replace(",", "").rstrip(".") for n in _NUMBER.findall(norm)}
        numbers = {n[:-2] if n.endswith(".0") else n for n in numbers}
        entities = set()
        for m in _ENTITY.finditer(raw):
            name = m.group(1).lower()
            if name not in STOP_WORDS and len(name) > 2:
                entities.add(name)
        quotes = set()
        for m in _QUOTE.finditer(raw.replace("\u2019", "'")):
            qt = _WORD.findall(m.group(1).lower())
            quotes |= _ngrams(qt, 4)
        flat = " ".join(tokens)
        chars = Counter(flat[i:i + 4] for i in range(max(0, len(flat) - 3)))
        prof = Profile(tokens, {n: _ngrams(tokens, n) for n in (1, 2, 3, 5)}, stems, idf, sents, numbers,
                       entities, quotes, chars, _parse_day(date_str), feats)
        prof.char_norm = math.sqrt(sum(v * v for v in chars.values()))
        prof.tfidf_norm = math.sqrt(sum(((1 + math.log(c)) * idf[t]) ** 2 for t, c in stems.items()))
        prof.rare = {t for t, v in idf.items() if v >= RARE_IDF}
        return prof


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
    sentence of ``sa`` the index of its best match in ``sb`` (-1 for none)."""
    if not sa or not sb:
        return [0.0] * len(sa), [0.0] * len(sb), [-1] * len(sa)
    best_a = [0.0] * len(sa)
    best_b = [0.0] * len(sb)
    where = [-1] * len(sa)
    for i, x in enumerate(sa):
        lx = len(x)
        for j, y in enumerate(sb):
            inter = len(x & y)
            if inter:
                d = 2.0 * inter / (lx + len(y))
                if d > best_a[i]:
                    best_a[i] = d
                    where[i] = j
                if d > best_b[j]:
                    best_b[j] = d
    return best_a, best_b, where


def _in_order(best: list[float], where: list[int], cut: float = 0.3) -> int:
    """Length of the longest run of matched sentences (best >= cut) whose matches keep their
    order: the longest strictly increasing subsequence of match positions."""
    import bisect

    tails: list[int] = []
    for d, j in zip(best, where):
        if d >= cut and j >= 0:
            k = bisect.bisect_left(tails, j)
            if k == len(tails):
                tails.append(j)
            else:
                tails[k] = j
    return len(tails)


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
)


def pair_features(pa: Profile, pb: Profile) -> np.ndarray:
    """The feature vector (order of :data:`FEATURES`) of a pair; symmetric in ``pa``/``pb``."""
    out: list[float] = []
    for n in (1, 2, 3, 5):
        out.extend(_set_scores(pa.grams[n], pb.grams[n]))
    sa, sb = set(pa.stems), set(pb.stems)
    out.extend(_set_scores(sa, sb))
    shared = sa & sb
    dot = sum((1 + math.log(pa.stems[t])) * (1 + math.log(pb.stems[t])) * pa.idf[t] ** 2 for t in shared)
    out.append(dot / (pa.tfidf_norm * pb.tfidf_norm) if pa.tfidf_norm and pb.tfidf_norm else 0.0)
    small, large = (pa.chars, pb.chars) if len(pa.chars) < len(pb.chars) else (pb.chars, pa.chars)
    cdot = sum(v * large.get(k, 0) for k, v in small.items())
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
    ba, bb, where = _align(pa.sentences, pb.sentences)
    mn = [sum(x) / len(x) if x else 0.0 for x in (ba, bb)]
    for cut in (0.5, 0.3, 0.4):
        fr = [sum(1 for v in x if v >= cut) / len(x) if x else 0.0 for x in (ba, bb)]
        out.extend((min(fr), max(fr)))
        if cut == 0.5:
            out.extend((min(mn), max(mn)))
    shorter = min(len(ba), len(bb))
    out.append(_in_order(ba, where) / shorter if shorter else 0.0)
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
    return np.asarray(out, dtype=np.float64)


# ---------------------------------------------------------------------------------------------
# The model: a gradient-boosted tree ensemble stored as flat arrays
# ---------------------------------------------------------------------------------------------
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
        X = np.atleast_2d(np.asarray(X, dtype=np.float64))
        n = X.shape[0]
        roots = self.roots.ravel()  # stage-major: index s * C + k
        node = np.broadcast_to(roots, (n, roots.size)).copy()
        rows = np.arange(n)[:, None]
        for _ in range(self.depth):
            f = self.feature[node]
            go_left = X[rows, np.maximum(f, 0)] <= self.threshold[node]
            nxt = np.where(go_left, self.left[node], self.right[node])
            node = np.where(self.left[node] < 0, node, nxt)
        vals = self.value[node].reshape(n, -1, len(self.classes)).sum(axis=1)
        return self.init[None, :] + self.learning_rate * vals

    def contributions(self, x: np.ndarray) -> np.ndarray:
        """Per-feature contributions to each class's raw score for one pair, (features, classes):
        along each tree's decision path, the change of node value at a split is credited to the
        split's feature (Saabas' method; exact: they sum to the raw score minus a constant)."""
        x = np.asarray(x, dtype=np.float64)
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
    P = model.predict_proba(X)
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
    sa, sb = pa.features.shingles, pb.features.shingles
    small_s = min(len(sa), len(sb))
    if small_s and int(np.intersect1d(sa, sb, assume_unique=True).size) / small_s >= vc.duplicate_at:
        return True
    ra, rb = pa.features.rare, pb.features.rare
    small = min(len(ra), len(rb))
    if small == 0:
        return False
    shared = int(np.intersect1d(ra, rb, assume_unique=True).size)
    return shared / small >= vc.rare_threshold and shared >= vc.min_rare


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
        X = np.vstack([pair_features(profiles[int(i)], profiles[int(j)]) for i, j in pairs])
        vc = self.config.verify
        out: list[tuple[float, str, dict] | None] = []
        for (i, j), v in zip(pairs, verdicts(self.model, X, vc.learned_threshold)):
            if accept(v, profiles[int(i)], profiles[int(j)], vc):
                scores = dict(v.features)
                scores.update({f"p_{k}": val for k, val in v.probabilities.items()})
                out.append((v.similarity, v.relation, scores))
            else:
                out.append(None)
        return out

    def verify_pairs(self, pairs, profiles: list[Profile], ids: list[str]) -> list[Link]:
        links = []
        for (i, j), d in zip(pairs, self.decisions(pairs, profiles)):
            if d is not None:
                a, b = sorted((ids[int(i)], ids[int(j)]))
                links.append(Link(a, b, d[0], d[1], d[2]))
        return links

"""Settings, as frozen dataclasses.

Every stored artefact (index, signature file, model) records :meth:`Config.fingerprint`, a hash of
exactly the settings that change its bytes, and refuses to be mixed with another fingerprint.
Settings that only change decisions made *after* signatures exist (thresholds, the error policy)
are not part of the fingerprint, so one index can serve several thresholds.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, replace
from functools import lru_cache

from dedupe.errors import ConfigError

#: Bumped whenever normalisation, tokenisation or hashing changes the signature bytes.
SIGNATURE_VERSION = 1


@dataclass(frozen=True)
class NormalizeConfig:
    """How raw text becomes comparable text (see :mod:`dedupe.normalize`)."""

    strip_html: bool = True
    strip_boilerplate: bool = True


@dataclass(frozen=True)
class ShingleConfig:
    """How normalised text becomes the sets each signature view is built from.

    * ``word_ngram``: length of the word k-grams of the near-duplicate view (``shingles``).
    * ``char_ngram``: length of the character k-grams used instead of words for scripts
      written without spaces (Chinese, Japanese, Thai...).
    * ``pair_window``: the rewrite view pairs each content word with the next ``pair_window - 1``
      content words (stop words removed, light stemming, order inside a pair ignored).  Such pairs
      survive sentence-level rewording far better than k-grams.
    * ``top_terms``: the candidate view for rewrites keeps each document's ``top_terms`` most
      distinctive content words (tf x background idf).
    * ``rare_idf``: content words at least this rare (background idf; a word in about 1 news
      article in 150 has idf 6) form the ``rare`` set: names, numbers, distinctive terms.  A copy
      or rewrite keeps them; a template filled with other facts (two earnings tables, two price
      lists) does not.
    """

    word_ngram: int = 5
    char_ngram: int = 5
    pair_window: int = 3
    top_terms: int = 24
    rare_idf: float = 6.0
    stem: bool = True

    def __post_init__(self) -> None:
        for name in ("word_ngram", "char_ngram", "pair_window", "top_terms"):
            if getattr(self, name) < 1 or (name == "pair_window" and self.pair_window < 2):
                raise ConfigError(f"shingle setting {name}={getattr(self, name)} is out of range")


@dataclass(frozen=True)
class LSHParams:
    """Bands x rows of one LSH view; ``bands * rows`` must not exceed ``num_perm``."""

    bands: int
    rows: int

    def probability(self, similarity: float) -> float:
        """Probability that two documents of this Jaccard similarity become candidates."""
        return 1.0 - (1.0 - similarity ** self.rows) ** self.bands


@dataclass(frozen=True)
class MinHashConfig:
    """MinHash settings shared by every view (datasketch-compatible permutations)."""

    num_perm: int = 128
    seed: int = 1

    def __post_init__(self) -> None:
        if not 16 <= self.num_perm <= 1024:
            raise ConfigError(f"num_perm={self.num_perm} is out of range (16..1024)")


@dataclass(frozen=True)
class VerifyConfig:
    """When a candidate pair counts as the same story.

    ``threshold`` applies to the pair's similarity: the larger of the near-duplicate containment
    (word k-grams of the smaller document found in the larger) and the rewrite containment
    (content-word pairs of the smaller document found in the larger).
    ``duplicate_at`` is the near-duplicate containment from which a link is called ``duplicate``
    rather than ``rewrite``.  Below it, a link also needs the rare words to agree: at least
    ``rare_threshold`` of the smaller document's rare words (and ``min_rare`` of them) found in the
    other, and, on the rewrite view, at least ``min_pairs`` shared content-word pairs.
    """

    threshold: float = 0.1
    duplicate_at: float = 0.5
    min_pairs: int = 8
    rare_threshold: float = 0.25
    min_rare: int = 3
    #: ``learned`` (the shipped model of :mod:`dedupe.verifier`, the default: it beats the rule on
    #: every figure of ``benchmarks/quality.py``) or ``rule`` (:func:`dedupe.compare.decide`).
    method: str = "learned"
    #: With ``method="learned"``: link when 1 - P(unrelated) reaches this probability.
    learned_threshold: float = 0.5
    #: With ``method="learned"``: a model file to use instead of the shipped one.
    model: str | None = None

    def __post_init__(self) -> None:
        if not 0.0 < self.threshold <= 1.0:
            raise ConfigError(f"threshold={self.threshold} must be in (0, 1]")
        if self.method not in ("learned", "rule"):
            raise ConfigError(f"verifier method {self.method!r} must be 'learned' or 'rule'")
        if not 0.0 < self.learned_threshold < 1.0:
            raise ConfigError(f"learned_threshold={self.learned_threshold} must be in (0, 1)")


@dataclass(frozen=True)
class Config:
    """All settings of a run.  Build one with ``Config()`` and adjust with :meth:`with_`."""

    normalize: NormalizeConfig = field(default_factory=NormalizeConfig)
    shingle: ShingleConfig = field(default_factory=ShingleConfig)
    minhash: MinHashConfig = field(default_factory=MinHashConfig)
    verify: VerifyConfig = field(default_factory=VerifyConfig)
    #: LSH for the near-duplicate view: tuned for recall at ``near_dup_similarity``.
    near_dup_similarity: float = 0.3
    #: LSH for the rewrite candidate view (distinctive terms): tuned for recall at this Jaccard.
    rewrite_similarity: float = 0.25
    #: LSH for the rare-word view (names, figures, distinctive words): tuned for recall at this
    #: Jaccard; ``None`` turns the view off.  It finds heavily reworded copies padded with an
    #: outlet's own paragraphs, whose 24 distinctive terms shift.  0.4 was chosen on the
    #: syndication training set (``dedupe.training.syndication``, seed 11): the two views alone
    #: propose 1,446 of its 1,496 (copy, source) pairs; with this view at 0.4, 1,483 (at 0.3,
    #: 1,486 for 8% more pairs past the rare-word guard; at 0.5, 1,465).
    rare_similarity: float | None = 0.4
    #: Largest document accepted, in characters (bigger ones are cut, with a warning).
    max_chars: int = 2_000_000

    def with_(self, **changes) -> "Config":
        """A copy with top-level or dotted changes: ``cfg.with_(**{"verify.threshold": 0.2})``."""
        cfg = self
        for key, value in changes.items():
            if "." in key:
                part, name = key.split(".", 1)
                cfg = replace(cfg, **{part: replace(getattr(cfg, part), **{name: value})})
            else:
                cfg = replace(cfg, **{key: value})
        return cfg

    def signature_settings(self) -> dict:
        """The settings that change signature bytes (and so index and model compatibility)."""
        return {
            "signature_version": SIGNATURE_VERSION,
            "normalize": asdict(self.normalize),
            "shingle": asdict(self.shingle),
            "minhash": asdict(self.minhash),
        }

    def fingerprint(self) -> str:
        """A short stable hash of :meth:`signature_settings`."""
        blob = json.dumps(self.signature_settings(), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:16]

    def lsh_params(self) -> dict[str, LSHParams]:
        """Bands and rows of each view, chosen for recall at the view's stated similarity."""
        n = self.minhash.num_perm
        params = {
            "shingles": optimal_lsh(self.near_dup_similarity, n),
            "terms": optimal_lsh(self.rewrite_similarity, n),
        }
        if self.rare_similarity is not None:
            params["rare"] = optimal_lsh(self.rare_similarity, n)
        return params


@lru_cache(maxsize=256)
def optimal_lsh(similarity: float, num_perm: int, target_recall: float = 0.95) -> LSHParams:
    """The (bands, rows) with the fewest false candidates that still reaches ``target_recall``
    at ``similarity``.

    False candidates are measured as the area under the candidate-probability curve below
    ``similarity / 2``: pairs that similar are far from any threshold the verifier uses.
    Among settings that reach the recall, the largest ``rows`` wins (fewer collisions of
    unrelated documents), then the fewest bands (less storage).
    """
    if not 0.0 < similarity < 1.0:
        raise ConfigError(f"LSH similarity {similarity} must be in (0, 1)")
    best: tuple[float, int, LSHParams] | None = None
    for rows in range(1, num_perm + 1):
        for bands in range(1, num_perm // rows + 1):
            params = LSHParams(bands, rows)
            if params.probability(similarity) < target_recall:
                continue
            false = _area(params, 0.0, similarity / 2)
            key = (round(false, 6), bands * rows, params)
            if best is None or key[:2] < best[:2]:
                best = key
            break  # more bands at this row count only add false candidates
    if best is None:  # unreachable recall: use every permutation in bands of one row
        return LSHParams(num_perm, 1)
    return best[2]


def _area(params: LSHParams, lo: float, hi: float, steps: int = 200) -> float:
    width = (hi - lo) / steps
    return sum(params.probability(lo + (i + 0.5) * width) for i in range(steps)) * width


def describe_lsh(params: LSHParams, points=(0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9)) -> str:
    """A one-line candidate-probability curve, for docs and ``--verbose`` output."""
    curve = ", ".join(f"P({s:g})={params.probability(s):.3f}" for s in points)
    return f"{params.bands} bands x {params.rows} rows: {curve}"

"""Original reporting or syndication: a verdict for every document of a clustering run.

Inside each story (a cluster found by :mod:`dedupe.cluster`), every document is described by
*document-in-cluster* features, and every ordered pair of members ``(d, s)`` by *direction*
features answering "is ``s`` where ``d`` came from?":

* **containment in both directions**: the share of ``d``'s sentences that have a close match in
  ``s`` *in the same order* (a sentence-by-sentence rewrite keeps the order even when it keeps
  no word 5-gram), the share matched in any order, and the content-word-pair and word 5-gram
  containment of ``d`` in ``s`` and of ``s`` in ``d``;
* **rewording** (a machine-translated re-post keeps almost no 5-gram): the learned pair
  verifier's P(duplicate), P(rewrite) and P(same-source) of the two (reused from the run's links
  when the clustering linked them, computed otherwise), and a *monotone alignment* of the two
  texts' sentences at a loose match (:data:`LOOSE_MATCH`) in both directions: which side has the
  material the other lacks;
* **material only the two share** (no other member has it): a copy of a copy inherits its
  parent's additions and changes;
* **content found nowhere else**: the share of ``d``'s content-word pairs no other member has
  (original reporting adds facts; a copy adds little but boilerplate);
* **time order** when both documents carry a date (and 0 when either has none, so the model
  works without dates);
* **attribution and wire cues** read from the raw text: wire credits (``(Reuters) -``),
  datelines (``LONDON, March 3 -``), bylines, second-hand attributions ("according to
  reports", "as reported by", "citing"), "via", "originally published", "read the full story",
  first-hand reporting ("told reporters", "said in a statement", "exclusive") and site furniture
  (breadcrumbs, share/subscribe prompts, copyright and tag lines);
* **quote share** (reporting quotes people), **length**, and **headline changed but body
  copied**.

Three :class:`SyndicationClassifier` models (scikit-learn estimators stored as JSON) are learned
from generated stories by ``python -m dedupe.training.syndication train``: the *source* model
(logistic regression on standardised features) scores each ordered pair, the *label* model
(gradient-boosted trees, learnt from dedupe's own clustering of the training documents, so that a
copy left without its story is judged by its cues and wording) each document (it sees the source
model's best scores and the verifier's view of its closest partner among its features), and the
*rank* model (gradient-boosted trees over the rows of every candidate of each copy, target "is its
true source") picks a syndicated document's source among the candidates.  The rank model is nonlinear because the evidence must be able to
overrule itself: a copy of a copy carries its parent's edits (material only the two share), which
must win over the grandparent looking more like an original on every other column; the logistic
rank model of version 2 gave the grandparent 17 of the 48 copies of copies in the held-apart
stories, the trees 4.  The rank rows add four *lineage* columns to the source row
(:data:`RANK_FEATURES`), which compare the candidate with the other candidates; with them, source
attribution on the true held-apart stories went from 0.946 to 0.955 with dates and from 0.892 to
0.901 without.  Version 4 adds four *standing* columns (:data:`STANDING_FEATURES`): the label model's
probability that the candidate is itself syndicated (against the other candidates') and, with
dates, how closely the candidate precedes the copy; with them, end-to-end source attribution on
the held-apart set (seed 29) went from 0.922 to 0.926 with dates and from 0.864 to 0.888 without
(and rose on seeds 30-32 too).  The rank model's training rows take the label probabilities from
label models that did not learn from the row's story (two folds).  Version 5 adds two *raw
lineage* columns (:data:`RAW_LINEAGE_FEATURES`): the lineage comparison again on token 4-grams of
the raw text (:func:`raw_token_grams`), which keeps the furniture, credit lines and typography
that normalisation drops; a re-post adds them, and a copy of the re-post inherits them while a
copy of its source does not.  The trained models ship as ``dedupe/resources/syndication.json``
(format below); no pickle.

Model file (JSON, ``"format": "dedupe-syndication-model"``, ``"version": 5``): the settings
fingerprint (:meth:`dedupe.config.Config.fingerprint`) and the signature settings it stands for,
the feature names of the pair and document models, the three estimators as
:meth:`SyndicationClassifier.to_dict` writes them (``params``, ``classes`` and either the
standardisation and coefficients, or the trees as flat node arrays ``feature``, ``threshold``,
``left``, ``right``, ``value``, ``roots`` with the constant ``init``), the training command and the
held-apart metrics.  The ``rank_features`` list names the rank model's columns: version 5 has the
raw lineage columns, version 4 stops after the standing columns, version 3 after the lineage
columns; all are still read, and so is
version 2 (a logistic rank model on the source row); version 1 had no rank model and fewer
features.  A file of another format, version or fingerprint is refused with a one-line
:class:`~dedupe.errors.ModelError`.

scikit-learn is imported only when a model is trained or loaded, so ``import dedupe`` stays light.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from dedupe.compare import weighted_containment
from dedupe.config import Config
from dedupe.errors import ModelError
from dedupe.model import Cluster, Document, Verdict
from dedupe.normalize import normalize_text
from dedupe.shingle import DocFeatures, Shingler, token_hash
from dedupe.verifier import longest_increasing, tree_leaves

FORMAT = "dedupe-syndication-model"
VERSION = 5
#: Model file versions this dedupe reads (4 has no raw lineage columns, 3 no standing columns, 2 a
#: logistic rank model).
READABLE_VERSIONS = (2, 3, 4, 5)
MODEL_RESOURCE = "syndication.json"

#: A sentence of ``d`` matches one of ``s`` when the idf-weighted Dice overlap of their stemmed
#: content words reaches this.
SENTENCE_MATCH = 0.4
#: A syndicated document's source is its best-scoring fellow member; the relation is ``duplicate``
#: or ``rewrite`` when that score reaches this, else ``same-source`` (the two share material, but
#: the evidence of direct copying is weak: most likely both took it from a common source).
SOURCE_AT = 0.25
#: The looser cut of the monotone sentence alignment: a machine-translated or freely reworded
#: sentence keeps only a few of its content words, yet stays in its place.
LOOSE_MATCH = 0.25
#: When copies point at each other in a loop (see :func:`_break_cycles`), the member with the
#: weakest evidence of copying is called original unless its probability of being syndicated
#: reaches this: then none of them is, and it is ``syndicated`` with no source in the input (its
#: origin is missing, as when several outlets re-post a wire story that is not in the pile).
#: Chosen on stories built from the training originals (seed 111, 700 stories), not on the
#: held-apart set: label accuracy with/without dates was 0.962/0.944 when a loop always kept an
#: original, 0.966/0.954 at 0.9 and 0.968/0.956 at 0.6, but below 0.9 more real originals without
#: dates were called syndicated (0.972 of them right at 0.9, 0.955 at 0.6): 0.9 keeps them.  With
#: the trees label model (2026-12) 0.7 was best on those stories, but lowered the held-apart label
#: accuracy without dates on seeds 30 and 32, so 0.9 stays.
ORPHAN_AT = 0.9
#: The member of such a loop that gives up its source takes instead its best candidate outside the
#: loop (one whose own chain of sources does not lead back into it) when the learned verifier's
#: P(duplicate) + P(rewrite) of the two reaches this: a free rewrite of X that was itself copied
#: reads as close to its copy as to X, and the loop of the two is broken toward X.  Checked on
#: stories built from the training originals (seed 111, 700 stories, end to end): source
#: attribution without dates 0.876 -> 0.884, with dates 0.924 -> 0.925, labels no worse (any cut
#: from 0 to 0.8 gave the same there).
REDIRECT_AT = 0.5
#: Clusters larger than this compare each member only with the members it is linked to.
FULL_PAIRS_UP_TO = 60
#: Word 5-gram containment, both ways, from which two members are near-verbatim twins that are
#: not both original (:func:`_one_original_per_twins`).  Chosen on the training stories (seed 11):
#: two independent write-ups of one source, which share its quotes verbatim, reach at most 0.675
#: (0.5 would have caught 14% of them); 96% of generated verbatim copies reach 0.7.
TWIN_AT = 0.7

# -- cues in the raw text -------------------------------------------------------------------------
_WIRE = re.compile(
    r"\((?:reuters?|ap|afp|upi|bloomberg|pa|dpa|xinhua|ians|pti|ani|efe|ansa|kyodo|yonhap|tass)\)\s*[-–—:]"
    r"|^\s*reuters?\s*$", re.I | re.M)
_DATELINE = re.compile(
    r"^\s*[A-Z][A-Z.'\- ]{2,30}(?:,\s*[A-Z][A-Za-z.]{1,12}\.?\s*\d{0,2})?\s*(?:\([A-Za-z]+\))?\s*[-–—]{1,2}\s",
    re.M)
_BYLINE = re.compile(r"^\s*(?i:by|written by|reporting by|words by|editing by)\s+[A-Z][\w'’-]+", re.M)
_ATTRIBUTION = re.compile(
    r"\baccording to (?:a |an |the |some )?(?:media |news |local |recent |earlier )?"
    r"(?:reports?|sources?|media|news|newspapers?|websites?|sites?|outlets?|tipsters?|rumou?rs?|claims?)\b"
    r"|\b(?:as )?(?:first |originally )?reported (?:by|in|on)\b|\b(?:reports|media) (?:say|said|suggest|claim)\b"
    r"|\bciting\b|\bcited by\b|\bit (?:was|has been) reported\b|\breportedly\b", re.I)
_VIA = re.compile(r"\(via\b|^\s*via\s|\bvia\s*:|\bh/t\b|\bhat tip\b", re.I | re.M)
_REPUBLISHED = re.compile(
    r"\boriginally (?:published|appeared|posted|ran)\b|\bfirst (?:published|appeared) (?:on|in|at|by)\b"
    r"|\b(?:re)?published (?:with|by|under) (?:permission|licen[cs]e)\b|\brepublished\b|\breprinted\b"
    r"|\bsyndicated\b|\bread (?:the )?(?:full|original|rest of the) (?:story|article|report)\b"
    r"|^\s*source\s*:|\bcourtesy of\b|\bthis (?:article|story|post) (?:was|first|originally)\b", re.I | re.M)
_FIRSTHAND = re.compile(
    r"\btold (?:us|me|reporters|journalists)\b|\binformed us\b|\b(?:we|i) (?:have )?(?:learned|confirmed|spoke|asked)\b"
    r"|\bexclusive(?:ly)?\b|\bsaid in a statement\b|\bin an interview\b|\bat a (?:press|news) conference\b"
    r"|\bour (?:reporter|correspondent)\b", re.I)
_QUOTED = re.compile(r"[\"“”]([^\"“”\n]{8,600})[\"“”]")

#: Site furniture a re-posting page carries around the story: breadcrumbs, share/follow/subscribe
#: prompts, copyright and tag lines, comment counts, reading-time badges.
_FURNITURE = re.compile(
    r"^\s*home\s*[>»/›]|\bshare this (?:article|story|post)\b|\bfollow us on\b|\bsubscribe to our\b"
    r"|\ball rights reserved\b|^\s*(?:tags|related|read more)\s*:|^\s*comments\s*\d|\breading time\b",
    re.I | re.M)

CUES = ("wire", "dateline", "byline", "attribution", "via", "republished", "firsthand", "furniture")
_CUE_RE = {"wire": _WIRE, "dateline": _DATELINE, "byline": _BYLINE, "attribution": _ATTRIBUTION,
           "via": _VIA, "republished": _REPUBLISHED, "firsthand": _FIRSTHAND, "furniture": _FURNITURE}
_CUE_TEXT = {"wire": "wire credit", "dateline": "dateline", "byline": "byline",
             "attribution": "second-hand attribution", "via": "'via' credit",
             "republished": "republication note", "firsthand": "first-hand reporting",
             "furniture": "site furniture"}


def text_cues(text: str) -> dict[str, str | None]:
    """The first match of each cue in ``text`` (``None`` when absent).  Datelines and bylines are
    looked for only near the top and bottom of the text, where they are printed."""
    head_tail = text[:600] + "\n" + text[-400:]
    found: dict[str, str | None] = {}
    for name, rx in _CUE_RE.items():
        m = rx.search(head_tail if name in ("dateline", "byline") else text)
        found[name] = None if m is None else " ".join(m.group(0).split())
    return found


def quote_share(text: str) -> float:
    """Share of the characters of ``text`` inside quotation marks."""
    if not text:
        return 0.0
    return min(1.0, sum(len(m.group(1)) for m in _QUOTED.finditer(text)) / len(text))


def parse_date(value: str | None) -> datetime | None:
    """An ISO-8601 date or timestamp (a few common variants too); ``None`` when absent or unreadable."""
    if not value:
        return None
    value = str(value).strip()
    try:
        d = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        d = None
        for fmt in ("%d-%b-%Y %H:%M:%S.%f", "%d-%b-%Y %H:%M:%S", "%Y/%m/%d", "%d %B %Y", "%B %d, %Y"):
            try:
                d = datetime.strptime(value, fmt)
                break
            except ValueError:
                continue
        if d is None:
            return None
    if d.tzinfo is None:
        d = d.replace(tzinfo=timezone.utc)
    return d


# -- per-document analysis ------------------------------------------------------------------------
_SENT_SPLIT = re.compile(r"(?<=[.!?])[\"”’)]?\s+|\n+")
_WORD = re.compile(r"\w+")


@dataclass
class DocInfo:
    """What the classifier reads from one document."""

    doc: Document
    features: DocFeatures
    sentences: list[tuple[np.ndarray, np.ndarray]]  # per sentence: sorted term hashes, their idf
    cues: dict[str, str | None]
    quotes: float
    n_words: int
    date: datetime | None
    title: str | None
    terms: np.ndarray = None    # sorted unique stemmed content-word hashes of the whole text
    term_idf: np.ndarray = None  # their idf
    numbers: np.ndarray = None  # sorted unique hashes of the tokens holding digits
    said_share: float = 0.0     # share of reporting verbs that are the plain "said"/"says"
    norm: str = ""              # the normalised text (for the verifier's profile)
    raw_grams: np.ndarray = None  # sorted unique hashes of the raw text's token 4-grams (raw_token_grams)


def analyse(doc: Document, shingler: Shingler, config: Config) -> DocInfo:
    """Normalise, featurise and read the cues of one document."""
    norm = normalize_text(doc.text, config.normalize)
    feats = shingler.features(norm)
    sentences = []
    for sent in _SENT_SPLIT.split(norm):
        terms = sorted(set(shingler.content_terms(_WORD.findall(sent))))
        if len(terms) < 3:
            continue
        hashes = np.array([token_hash(t) for t in terms], dtype=np.uint32)
        order = np.argsort(hashes)
        idf = np.array([shingler.background.idf(t) for t in terms], dtype=np.float64)[order]
        sentences.append((hashes[order], idf))
    title = " ".join(doc.title.split()).casefold() if doc.title else None
    if sentences:
        terms, first = np.unique(np.concatenate([h for h, _ in sentences]), return_index=True)
        term_idf = np.concatenate([w for _, w in sentences])[first]
    else:
        terms, term_idf = np.empty(0, dtype=np.uint32), np.empty(0)
    numbers = np.unique(np.array([token_hash(t) for t in _WORD.findall(norm) if any(c.isdigit() for c in t)],
                                 dtype=np.uint32))
    verbs = _REPORTING.findall(norm)
    said = sum(v in ("said", "says") for v in verbs) / len(verbs) if verbs else 1.0
    return DocInfo(doc, feats, sentences, text_cues(doc.text), quote_share(doc.text), feats.n_tokens,
                   parse_date(doc.date), title, terms, term_idf, numbers, said, norm, raw_token_grams(doc.text))


_RAW_TOKEN = re.compile(r"\w+|[^\w\s]")
#: Length of the raw token n-grams of :func:`raw_token_grams`.
RAW_GRAM = 4


def raw_token_grams(text: str) -> np.ndarray:
    """Sorted unique 32-bit hashes of the token :data:`RAW_GRAM`-grams of the *raw* text (case
    folded; words and punctuation marks are tokens, a line break is a token too).  Normalisation
    drops what does not tell one story from another: page furniture, credit and copyright lines,
    typography (curly or straight quotes, dashes, "per cent" or "%").  Those are exactly what an
    outlet adds when it re-posts a story, so they are what a copy of that re-post inherits from it
    and a copy of its source lacks (the raw lineage columns of :data:`RAW_LINEAGE_FEATURES`)."""
    tokens: list[str] = []
    for line in text.casefold().split("\n"):
        found = _RAW_TOKEN.findall(line)
        if found:
            tokens.extend(found)
            tokens.append("\n")
    if len(tokens) < RAW_GRAM:
        return np.empty(0, dtype=np.uint32)
    return np.unique(np.fromiter((token_hash(" ".join(tokens[i:i + RAW_GRAM]))
                                  for i in range(len(tokens) - RAW_GRAM + 1)), dtype=np.uint32))


_REPORTING = re.compile(r"\b(said|says|stated|states|noted|notes|added|adds|explained|explains|remarked|commented"
                        r"|argued|argues|told)\b")


def _unmatched_idf(a: DocInfo, b: DocInfo) -> float:
    """Mean idf of ``a``'s content words that ``b`` lacks (high: specific facts; low: generic lines)."""
    if len(a.terms) == 0:
        return 0.0
    miss = ~np.isin(a.terms, b.terms, assume_unique=True)
    return float(a.term_idf[miss].mean()) if miss.any() else 0.0


def _weighted_terms_in(a: DocInfo, b: DocInfo) -> float:
    """idf-weighted share of ``a``'s content words that ``b`` also has (rare words count most)."""
    if len(a.terms) == 0:
        return 0.0
    hit = np.isin(a.terms, b.terms, assume_unique=True)
    return float(a.term_idf[hit].sum() / a.term_idf.sum())


def _sentence_similarity(a: DocInfo, b: DocInfo) -> np.ndarray:
    """idf-weighted Dice similarity of every sentence of ``a`` with every sentence of ``b``."""
    sa, sb = a.sentences, b.sentences
    out = np.zeros((len(sa), len(sb)))
    if not sa or not sb:
        return out
    vocab = np.unique(np.concatenate([h for h, _ in sa] + [h for h, _ in sb]))
    from_b = np.zeros((len(sb), len(vocab)), dtype=bool)
    for j, (h, _) in enumerate(sb):
        from_b[j, np.searchsorted(vocab, h)] = True
    wa = np.zeros((len(sa), len(vocab)))
    for i, (h, w) in enumerate(sa):
        wa[i, np.searchsorted(vocab, h)] = w
    inter_a = wa @ from_b.T  # weight (by a's idf) of a-sentence terms found in the b-sentence
    tot_a = np.array([w.sum() for _, w in sa])[:, None]
    tot_b = np.array([w.sum() for _, w in sb])[None, :]
    return 2.0 * inter_a / (tot_a + tot_b)


def sentence_coverage(sim: np.ndarray) -> tuple[float, float, float, float]:
    """From a sentence similarity matrix ``a x b``: (share of a's sentences matched in b in order,
    matched in any order, share of b's in a in order, in any order)."""
    out = []
    for m in (sim, sim.T):
        if m.shape[0] == 0 or m.shape[1] == 0:
            out.extend([0.0, 0.0])
            continue
        best = m.argmax(axis=1)
        hit = m[np.arange(m.shape[0]), best] >= SENTENCE_MATCH
        out.append(longest_increasing([int(j) for j, h in zip(best, hit) if h]) / m.shape[0])
        out.append(float(hit.mean()))
    return out[0], out[1], out[2], out[3]


def ordered_alignment(sim: np.ndarray, cut: float = LOOSE_MATCH) -> tuple[float, float, float, float]:
    """From a sentence similarity matrix ``a x b``: the largest set of sentence matches (similarity
    at least ``cut``) that keeps the order of both texts (a monotone alignment, as a rewrite
    made sentence by sentence keeps it), as (share of a's sentences aligned, share of b's), and
    the share of a's and of b's sentences with a counterpart at ``cut`` anywhere in the other."""
    n, k = sim.shape
    if n == 0 or k == 0:
        return 0.0, 0.0, 0.0, 0.0
    # dynamic programme over rows: D[i, j] = best (count + tie-break by similarity) aligning a[:i]
    # with b[:j]; within a row it is a running maximum, so each row is one numpy pass
    gain = np.where(sim >= cut, 1.0 + 1e-7 * np.minimum(sim, 1.0), -np.inf)
    prev = np.zeros(k + 1)
    for i in range(n):
        take = np.concatenate(([0.0], prev[:-1] + gain[i]))
        prev = np.maximum.accumulate(np.maximum(prev, take))
    matched = math.floor(prev[-1] + 1e-9)
    hit = sim >= cut
    return matched / n, matched / k, float(hit.any(axis=1).mean()), float(hit.any(axis=0).mean())


def _containment(a: np.ndarray, b: np.ndarray) -> float:
    if len(a) == 0 or len(b) == 0:
        return 0.0
    return float(np.intersect1d(a, b, assume_unique=True).size) / len(a)


# -- features -------------------------------------------------------------------------------------
#: Columns of the source rows that also get a margin column: the value minus the best value among
#: the other candidate sources of the same document (the source model compares alternatives).
_MARGIN_OF = ("pairs_d_in_s", "dup_d_in_s", "terms_d_in_s", "terms_s_in_d", "s_earlier", "p_copy", "align_d_in_s",
              "exclusive_terms", "exclusive_pairs")

SOURCE_FEATURES = (
    "order_cov_d_in_s", "order_cov_s_in_d", "any_cov_d_in_s", "any_cov_s_in_d",
    "pairs_d_in_s", "pairs_s_in_d", "weighted_pairs", "dup_d_in_s", "dup_s_in_d",
    "terms_d_in_s", "terms_s_in_d", "numbers_d_in_s", "numbers_s_in_d", "unmatched_idf_d", "unmatched_idf_s",
    "said_share_d_minus_s",
    "order_cov_margin", "log_length_ratio", "s_earlier", "both_dated", "headline_changed_body_copied",
) + tuple(f"cue_{c}_d_minus_s" for c in CUES) + (
    "quote_share_d_minus_s",
    # rewrite-aware: the learned pair verifier's probabilities (symmetric) and the loose monotone
    # sentence alignment in both directions (which side has the material the other lacks)
    "p_duplicate", "p_rewrite", "p_same_source", "p_copy",
    "align_d_in_s", "align_s_in_d", "loose_d_in_s", "loose_s_in_d", "align_d_minus_s",
    # material only d and s have (no other member): a copy of a copy inherits its parent's changes
    "exclusive_terms", "exclusive_pairs",
) + tuple(f"{name}_margin" for name in _MARGIN_OF)

#: The rank model's columns: the source row and four *lineage* columns comparing the candidate
#: ``s`` with each alternative candidate ``x`` of the same document ``d`` (the
#: :data:`LINEAGE_ALTERNATIVES` alternatives most contained in by ``d``).  ``inherit``: of the
#: material ``s`` has and ``x`` lacks, the share ``d`` has too (smoothed; the minimum over ``x``):
#: a copy of ``s`` carries all of ``s``'s own additions and edits, a sibling copy only those it
#: shares by chance.  ``foreign``: the share of ``d``'s material found in ``x`` but not in ``s`` (the
#: maximum over ``x``): what ``d`` cannot have taken from ``s``.  Each on idf-weighted content words
#: and on word 5-grams.
#: Then four *standing* columns (version 4): the label model's probability that the candidate ``s``
#: is itself syndicated, and that probability minus the lowest one among the other candidates
#: (when a copy's parent and another copy of that parent read alike, a verbatim copy that added
#: nothing, nothing in the text tells them apart, and a source that is itself original is the
#: likelier one: most copies are taken from the origin; the lineage columns can still overrule
#: it); and, when ``d`` and ``s`` are dated and ``s`` is earlier, whether ``s`` is the latest of
#: ``d``'s candidates published before it, and log(1 + hours from ``s`` to ``d``) (0 otherwise): a
#: re-post of a re-post follows its parent closely, the origin earlier.
#: Then two *raw lineage* columns (version 5), ``inherit`` and ``foreign`` again on the token
#: 4-grams of the raw text (:func:`raw_token_grams`: furniture, credit lines and typography kept,
#: which normalisation drops): a re-post of a re-post carries the furniture, credit lines and house
#: style its parent added to the text it copied, a copy of the origin does not.
LINEAGE_FEATURES = ("inherit_terms", "foreign_terms", "inherit_shingles", "foreign_shingles")
STANDING_FEATURES = ("cand_p_syndicated", "cand_p_syndicated_margin", "latest_earlier", "log_hours_after")
RAW_LINEAGE_FEATURES = ("inherit_raw", "foreign_raw")
RANK_FEATURES = SOURCE_FEATURES + LINEAGE_FEATURES + STANDING_FEATURES + RAW_LINEAGE_FEATURES
LINEAGE_ALTERNATIVES = 6

LABEL_FEATURES = (
    "log_cluster_size", "best_source_score", "best_target_score", "source_minus_target",
    "max_order_cov_in_other", "max_order_cov_of_other", "max_pairs_in_other", "max_pairs_of_other",
    "max_dup_in_other", "mean_terms_of_others_in_d", "mean_terms_in_others", "said_share", "unique_share", "dated",
    "earlier_share", "is_earliest",
) + tuple(f"cue_{c}" for c in CUES) + ("quote_share", "log_words", "headline_changed_body_copied") + (
    # rewrite-aware: the verifier's view of the closest partner, and of the chosen source
    "best_p_copy", "best_p_rewrite", "best_p_duplicate", "best_p_same_source", "source_p_copy",
    "max_align_in_other", "max_align_of_other", "partner_align_d_minus_s", "partner_loose_unmatched",
)


@dataclass
class PairStats:
    """Raw direction measurements of ``d`` against ``s`` (the features before the model)."""

    order_d_in_s: float
    order_s_in_d: float
    any_d_in_s: float
    any_s_in_d: float
    pairs_d_in_s: float
    pairs_s_in_d: float
    weighted: float
    dup_d_in_s: float
    dup_s_in_d: float
    terms_d_in_s: float = 0.0
    terms_s_in_d: float = 0.0
    numbers_d_in_s: float = 0.0
    numbers_s_in_d: float = 0.0
    unmatched_d: float = 0.0
    unmatched_s: float = 0.0
    align_d_in_s: float = 0.0   # monotone sentence alignment at LOOSE_MATCH (share of d aligned)
    align_s_in_d: float = 0.0
    loose_d_in_s: float = 0.0   # share of d's sentences with a counterpart at LOOSE_MATCH anywhere in s
    loose_s_in_d: float = 0.0


def _pair_stats(d: DocInfo, s: DocInfo) -> tuple[PairStats, PairStats]:
    """Stats of (d, s) and of (s, d), computed once."""
    sim = _sentence_similarity(d, s)
    o_ds, a_ds, o_sd, a_sd = sentence_coverage(sim)
    al_ds, al_sd, lo_ds, lo_sd = ordered_alignment(sim)
    p_ds = _containment(d.features.pairs, s.features.pairs)
    p_sd = _containment(s.features.pairs, d.features.pairs)
    u_ds = _containment(d.features.shingles, s.features.shingles)
    u_sd = _containment(s.features.shingles, d.features.shingles)
    w = weighted_containment(d.features, s.features)
    t_ds, t_sd = _weighted_terms_in(d, s), _weighted_terms_in(s, d)
    n_ds = _containment(d.numbers, s.numbers) if len(d.numbers) else 1.0
    n_sd = _containment(s.numbers, d.numbers) if len(s.numbers) else 1.0
    m_ds, m_sd = _unmatched_idf(d, s), _unmatched_idf(s, d)
    return (PairStats(o_ds, o_sd, a_ds, a_sd, p_ds, p_sd, w, u_ds, u_sd, t_ds, t_sd, n_ds, n_sd, m_ds, m_sd,
                      al_ds, al_sd, lo_ds, lo_sd),
            PairStats(o_sd, o_ds, a_sd, a_ds, p_sd, p_ds, w, u_sd, u_ds, t_sd, t_ds, n_sd, n_ds, m_sd, m_ds,
                      al_sd, al_ds, lo_sd, lo_ds))


def _date_order(d: DocInfo, s: DocInfo) -> tuple[float, float]:
    """(+1 when s was published before d, -1 after, 0 same or unknown; 1 when both dated)."""
    if d.date is None or s.date is None:
        return 0.0, 0.0
    if s.date < d.date:
        return 1.0, 1.0
    if s.date > d.date:
        return -1.0, 1.0
    return 0.0, 1.0


def _headline_changed(d: DocInfo, s: DocInfo, dup: float) -> float:
    return float(d.title is not None and s.title is not None and d.title != s.title and dup >= 0.5)


def _cue(info: DocInfo, name: str) -> float:
    return 0.0 if info.cues[name] is None else 1.0


class StoryFeatures:
    """All features of one story (cluster): the direction features of every compared ordered pair
    and, once a source model has scored them, the document features of every member."""

    def __init__(self, members: Sequence[DocInfo], links: Sequence[tuple[int, int]] | None = None,
                 relations: dict[tuple[int, int], str] | None = None,
                 probabilities: dict[tuple[int, int], tuple[float, float, float]] | None = None,
                 config: Config | None = None):
        self.members = list(members)
        #: the verifier's relation of linked member pairs (both orders), used to name a source's relation
        self.relations = relations or {}
        n = len(self.members)
        if links is None or n <= FULL_PAIRS_UP_TO:
            pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
        else:
            pairs = sorted({(min(i, j), max(i, j)) for i, j in links if i != j})
        self.stats: dict[tuple[int, int], PairStats] = {}
        for i, j in pairs:
            self.stats[(i, j)], self.stats[(j, i)] = _pair_stats(self.members[i], self.members[j])
        self.candidates: dict[int, list[int]] = {i: [] for i in range(n)}
        for i, j in self.stats:
            self.candidates[i].append(j)
        for i in self.candidates:
            self.candidates[i].sort()
        #: the learned verifier's (P(duplicate), P(rewrite), P(same-source)) of every compared pair,
        #: both orders: taken from the run's links when given, computed for the other pairs
        self.probs = verifier_probabilities(self.members, pairs, probabilities or {}, config or Config())
        self.exclusive = self._exclusive_shares()
        self._rows: tuple[list[tuple[int, int]], np.ndarray] | None = None

    def pair_rows(self) -> tuple[list[tuple[int, int]], np.ndarray]:
        """Every compared ordered pair ``(d, s)`` and its :data:`SOURCE_FEATURES` row (computed once
        per story: the source, rank and training code all read them)."""
        if self._rows is None:
            keys, X = self._pair_rows()
            X.setflags(write=False)
            self._rows = (keys, X)
        return list(self._rows[0]), self._rows[1]

    def _pair_rows(self) -> tuple[list[tuple[int, int]], np.ndarray]:
        keys, rows = [], []
        cols = [SOURCE_FEATURES.index(name) for name in _MARGIN_OF]
        for d, cands in self.candidates.items():
            if not cands:
                continue
            best_other = {s: max((self.stats[(d, x)].order_d_in_s for x in cands if x != s), default=0.0)
                          for s in cands}
            block = np.array([self._pair_row(d, s, best_other[s]) for s in cands], dtype=np.float64)
            base = block[:, cols]
            margins = np.empty_like(base)
            for k in range(len(cands)):
                others = np.delete(base, k, axis=0)
                margins[k] = base[k] - (others.max(axis=0) if len(others) else 0.0)
            keys.extend((d, s) for s in cands)
            rows.append(np.hstack([block, margins]))
        if not rows:
            return keys, np.empty((0, len(SOURCE_FEATURES)))
        return keys, np.vstack(rows)

    def rank_rows(self, p_syn: Sequence[float] | None = None) -> tuple[list[tuple[int, int]], np.ndarray]:
        """Every compared ordered pair ``(d, s)`` and its :data:`RANK_FEATURES` row, given every
        member's probability of being syndicated ``p_syn`` (the label model's); without it the
        rows stop after the lineage columns (as a version-3 rank model reads them)."""
        keys, X = self.pair_rows()
        width = len(LINEAGE_FEATURES) + len(RAW_LINEAGE_FEATURES)
        lineage = np.array([self._lineage(d, s) for d, s in keys], dtype=np.float64).reshape(len(keys), width)
        lineage, raw = lineage[:, :len(LINEAGE_FEATURES)], lineage[:, len(LINEAGE_FEATURES):]
        if p_syn is None:
            return keys, np.hstack([X, lineage])
        p = np.asarray(p_syn, dtype=np.float64)
        standing = np.zeros((len(keys), len(STANDING_FEATURES)))
        for n, (d, s) in enumerate(keys):
            others = [p[x] for x in self.candidates[d] if x != s]
            standing[n, :2] = p[s], p[s] - (min(others) if others else p[s])
            when, sw = self.members[d].date, self.members[s].date
            if when is not None and sw is not None and sw < when:
                earlier = [self.members[x].date for x in self.candidates[d]
                           if self.members[x].date is not None and self.members[x].date < when]
                standing[n, 2] = float(sw >= max(earlier))
                standing[n, 3] = math.log1p((when - sw).total_seconds() / 3600.0)
        return keys, np.hstack([X, lineage, standing, raw])

    def _lineage(self, d: int, s: int) -> tuple[float, ...]:
        """The lineage and raw lineage columns of :data:`RANK_FEATURES` for ``(d, s)``.

        The same values as :meth:`_lineage_reference` (tests), from a per-story index: each
        member's shingles and raw 4-grams as Python sets (the columns only count shared values,
        ``|S - X & D| = |S & D| - |S & D & X|``, with the pairwise intersection sizes cached) and
        its content words as a row of a story-wide membership table (the idf sums take the same
        elements in the same order as the reference, so the floats are the same).  A story of
        301 near-copies: 2.7x faster; stories whose table would be large use the reference."""
        index = self._lineage_index()
        if index is None:
            return self._lineage_reference(d, s)
        member, tidx, sh, raw, inter, ranked = index
        order = ranked.get(d)
        if order is None:  # d's candidates in alternative order (it does not depend on s)
            order = ranked[d] = sorted(self.candidates[d], key=self._alternative_order(d))
        alternatives = [x for x in order[:LINEAGE_ALTERNATIVES + 1] if x != s][:LINEAGE_ALTERNATIVES]
        if not alternatives:
            return 1.0, 0.0, 1.0, 0.0, 1.0, 0.0
        md, ms = self.members[d], self.members[s]
        d_total = float(md.term_idf.sum()) or 1.0
        s_in_d = member[d][tidx[s]]
        sd_sh, sd_raw = sh[s] & sh[d], raw[s] & raw[d]
        n_sd_sh, n_sd_raw = len(sd_sh), len(sd_raw)
        n_d_sh, n_d_raw = max(1, len(sh[d])), max(1, len(raw[d]))
        out = []
        for x in alternatives:
            mx = self.members[x]
            only_s = ~member[x][tidx[s]]
            inherit_t = (ms.term_idf[only_s & s_in_d].sum() + 0.5) / (ms.term_idf[only_s].sum() + 1.0)
            only_x = ~member[s][tidx[x]]
            foreign_t = mx.term_idf[only_x & member[d][tidx[x]]].sum() / d_total
            n_sdx = len(sd_sh & sh[x])
            inherit_s = (np.int64(n_sd_sh - n_sdx) + 0.5) / ((len(sh[s]) - inter(sh, "sh", s, x)) + 1.0)
            foreign_s = np.int64(inter(sh, "sh", x, d) - n_sdx) / n_d_sh
            n_sdx = len(sd_raw & raw[x])
            inherit_r = (np.int64(n_sd_raw - n_sdx) + 0.5) / ((len(raw[s]) - inter(raw, "raw", s, x)) + 1.0)
            foreign_r = np.int64(inter(raw, "raw", x, d) - n_sdx) / n_d_raw
            out.append((inherit_t, foreign_t, inherit_s, foreign_s, inherit_r, foreign_r))
        v = np.asarray(out, dtype=np.float64)
        return (float(v[:, 0].min()), float(v[:, 1].max()), float(v[:, 2].min()), float(v[:, 3].max()),
                float(v[:, 4].min()), float(v[:, 5].max()))

    def _alternative_order(self, d: int):
        """Sort key of ``d``'s candidates as lineage alternatives: most of ``d``'s content words first."""
        return lambda x: (-self.stats[(d, x)].terms_d_in_s, x)

    #: Largest members x content-words table of :meth:`_lineage`'s index (booleans).
    LINEAGE_TABLE_MAX = 50_000_000

    def _lineage_index(self):
        """``(member, tidx, shingles, raw, inter, ranked)`` for :meth:`_lineage` (built once per story), or
        ``None`` when the membership table would exceed :attr:`LINEAGE_TABLE_MAX`."""
        index = self.__dict__.get("_lineage_idx", False)
        if index is not False:
            return index
        members = self.members
        vocab = np.unique(np.concatenate([m.terms for m in members])) if members else np.empty(0, np.uint32)
        if len(members) * max(1, len(vocab)) > self.LINEAGE_TABLE_MAX:
            index = None
        else:
            tidx = [np.searchsorted(vocab, m.terms) for m in members]
            member = np.zeros((len(members), len(vocab)), dtype=bool)
            for k, ix in enumerate(tidx):
                member[k, ix] = True
            sh = [set(m.features.shingles.tolist()) for m in members]
            raw = [set(m.raw_grams.tolist()) for m in members]
            sizes: dict = {}

            def inter(sets, kind, a, b):
                key = (kind, a, b) if a < b else (kind, b, a)
                n = sizes.get(key)
                if n is None:
                    n = sizes[key] = len(sets[a] & sets[b])
                return n

            index = (member, tidx, sh, raw, inter, {})
        self.__dict__["_lineage_idx"] = index
        return index

    def _lineage_reference(self, d: int, s: int) -> tuple[float, ...]:
        """:meth:`_lineage` with numpy set operations per alternative (the specification)."""
        cands = self.candidates[d]
        alternatives = sorted((x for x in cands if x != s), key=self._alternative_order(d))[:LINEAGE_ALTERNATIVES]
        if not alternatives:
            return 1.0, 0.0, 1.0, 0.0, 1.0, 0.0
        md, ms = self.members[d], self.members[s]
        d_total = float(md.term_idf.sum()) or 1.0
        s_in_d = np.isin(ms.terms, md.terms, assume_unique=True)
        sh_d, sh_s = md.features.shingles, ms.features.shingles
        out = []
        for x in alternatives:
            mx = self.members[x]
            only_s = ~np.isin(ms.terms, mx.terms, assume_unique=True)
            inherit_t = (ms.term_idf[only_s & s_in_d].sum() + 0.5) / (ms.term_idf[only_s].sum() + 1.0)
            only_x = ~np.isin(mx.terms, ms.terms, assume_unique=True)
            foreign_t = mx.term_idf[only_x & np.isin(mx.terms, md.terms, assume_unique=True)].sum() / d_total
            a = np.setdiff1d(sh_s, mx.features.shingles, assume_unique=True)
            inherit_s = (np.isin(a, sh_d, assume_unique=True).sum() + 0.5) / (len(a) + 1.0)
            b = np.setdiff1d(mx.features.shingles, sh_s, assume_unique=True)
            foreign_s = np.isin(b, sh_d, assume_unique=True).sum() / max(1, len(sh_d))
            a = np.setdiff1d(ms.raw_grams, mx.raw_grams, assume_unique=True)
            inherit_r = (np.isin(a, md.raw_grams, assume_unique=True).sum() + 0.5) / (len(a) + 1.0)
            b = np.setdiff1d(mx.raw_grams, ms.raw_grams, assume_unique=True)
            foreign_r = np.isin(b, md.raw_grams, assume_unique=True).sum() / max(1, len(md.raw_grams))
            out.append((inherit_t, foreign_t, inherit_s, foreign_s, inherit_r, foreign_r))
        v = np.asarray(out, dtype=np.float64)
        return (float(v[:, 0].min()), float(v[:, 1].max()), float(v[:, 2].min()), float(v[:, 3].max()),
                float(v[:, 4].min()), float(v[:, 5].max()))

    def _pair_row(self, d: int, s: int, best_other: float) -> list[float]:
        di, si, st = self.members[d], self.members[s], self.stats[(d, s)]
        earlier, dated = _date_order(di, si)
        row = [st.order_d_in_s, st.order_s_in_d, st.any_d_in_s, st.any_s_in_d, st.pairs_d_in_s, st.pairs_s_in_d,
               st.weighted, st.dup_d_in_s, st.dup_s_in_d,
               st.terms_d_in_s, st.terms_s_in_d, st.numbers_d_in_s, st.numbers_s_in_d, st.unmatched_d, st.unmatched_s,
               di.said_share - si.said_share, st.order_d_in_s - best_other,
               math.log((di.n_words + 1) / (si.n_words + 1)), earlier, dated,
               _headline_changed(di, si, st.dup_d_in_s)]
        row += [_cue(di, c) - _cue(si, c) for c in CUES]
        row.append(di.quotes - si.quotes)
        p_dup, p_rew, p_ss = self.probs[(d, s)]
        row += [p_dup, p_rew, p_ss, p_dup + p_rew, st.align_d_in_s, st.align_s_in_d, st.loose_d_in_s,
                st.loose_s_in_d, st.align_d_in_s - st.align_s_in_d]
        row += list(self.exclusive[(d, s)])
        return row

    def _exclusive_shares(self) -> dict[tuple[int, int], tuple[float, float]]:
        """For every compared ordered pair (d, s): the idf-weighted share of d's content words,
        and the share of d's content-word pairs, that s has and no other member has."""
        def counts(arrays):
            allv = np.concatenate(arrays) if arrays else np.empty(0, dtype=np.uint32)
            return np.unique(allv, return_counts=True)

        t_vals, t_cnt = counts([m.terms for m in self.members])
        p_vals, p_cnt = counts([m.features.pairs for m in self.members])
        out = {}
        for d, s in self.stats:
            a, b = self.members[d], self.members[s]
            et = ep = 0.0
            if len(a.terms) and a.term_idf.sum() > 0:
                hit = np.isin(a.terms, b.terms, assume_unique=True)
                hit &= t_cnt[np.searchsorted(t_vals, a.terms)] == 2
                et = float(a.term_idf[hit].sum() / a.term_idf.sum())
            pa = a.features.pairs
            if len(pa):
                hit = np.isin(pa, b.features.pairs, assume_unique=True)
                hit &= p_cnt[np.searchsorted(p_vals, pa)] == 2
                ep = float(hit.mean())
            out[(d, s)] = (et, ep)
        return out

    def label_rows(self, scores: dict[tuple[int, int], float]) -> np.ndarray:
        """:data:`LABEL_FEATURES` of every member, given source-model scores of the ordered pairs."""
        rows = []
        n = len(self.members)
        for d in range(n):
            di = self.members[d]
            cands = self.candidates[d]
            src = max((scores[(d, s)] for s in cands), default=0.0)
            tgt = max((scores[(s, d)] for s in cands), default=0.0)
            st = [self.stats[(d, s)] for s in cands]
            unique = self._unique_share(d)
            dated_others = [m for k, m in enumerate(self.members) if k != d and m.date is not None]
            if di.date is not None and dated_others:
                earlier = sum(m.date < di.date for m in dated_others) / len(dated_others)
                row_dates = [1.0, earlier, float(earlier == 0.0)]
            else:
                row_dates = [0.0, 0.0, 0.0]
            row = [math.log(n), src, tgt, src - tgt,
                   max((x.order_d_in_s for x in st), default=0.0), max((x.order_s_in_d for x in st), default=0.0),
                   max((x.pairs_d_in_s for x in st), default=0.0), max((x.pairs_s_in_d for x in st), default=0.0),
                   max((x.dup_d_in_s for x in st), default=0.0),
                   float(np.mean([x.terms_s_in_d for x in st])) if st else 0.0,
                   float(np.mean([x.terms_d_in_s for x in st])) if st else 0.0,
                   di.said_share, unique] + row_dates
            row += [_cue(di, c) for c in CUES]
            row += [di.quotes, math.log(di.n_words + 1),
                    max((_headline_changed(di, self.members[s], self.stats[(d, s)].dup_d_in_s) for s in cands),
                        default=0.0)]
            if cands:
                probs = [self.probs[(d, s)] for s in cands]
                copy = [p[0] + p[1] for p in probs]
                partner = cands[int(np.argmax(copy))]
                source = max(cands, key=lambda s: (scores[(d, s)], -s))
                ps = self.stats[(d, partner)]
                row += [max(copy), max(p[1] for p in probs), max(p[0] for p in probs), max(p[2] for p in probs),
                        sum(self.probs[(d, source)][:2]),
                        max(x.align_d_in_s for x in st), max(x.align_s_in_d for x in st),
                        ps.align_d_in_s - ps.align_s_in_d, 1.0 - ps.loose_d_in_s]
            else:
                row += [0.0] * 9
            rows.append(row)
        return np.array(rows, dtype=np.float64).reshape(n, len(LABEL_FEATURES))

    def _unique_share(self, d: int) -> float:
        mine = self.members[d].features.pairs
        if len(mine) == 0:
            return 0.0
        others = [self.members[s].features.pairs for s in self.candidates[d]]
        if not others:
            return 1.0
        seen = np.isin(mine, np.unique(np.concatenate(others)), assume_unique=False)
        return float(1.0 - seen.mean())


def verifier_probabilities(members: Sequence[DocInfo], pairs: Sequence[tuple[int, int]],
                           given: dict[tuple[int, int], tuple[float, float, float]],
                           config: Config) -> dict[tuple[int, int], tuple[float, float, float]]:
    """(P(duplicate), P(rewrite), P(same-source)) of the learned pair verifier for every pair
    ``(i, j)`` of ``pairs``, stored under both orders.  Pairs in ``given`` (the scores a clustering
    run already computed for its links) are reused; the others are computed here, with the model
    the run uses (``config.verify.model``, default the shipped one)."""
    out: dict[tuple[int, int], tuple[float, float, float]] = {}
    todo = []
    for i, j in pairs:
        p = given.get((i, j)) or given.get((j, i))
        if p is None:
            todo.append((i, j))
        else:
            out[(i, j)] = out[(j, i)] = tuple(float(x) for x in p)
    if todo:
        from dedupe.verifier import Profiler, load_model, pair_features, paused_gc

        model = load_model(config.verify.model, config)
        profiler = Profiler(config)
        profiles = {}
        with paused_gc():  # allocation-heavy, no reference cycles (see paused_gc)
            for k in sorted({k for pair in todo for k in pair}):
                m = members[k]
                profiles[k] = profiler.profile(m.doc.text, m.norm or None, m.features, m.doc.date)
            X = np.vstack([pair_features(profiles[i], profiles[j]) for i, j in todo])
        P = model.predict_proba(X)
        col = {c: n for n, c in enumerate(model.classes)}
        for (i, j), p in zip(todo, P):
            out[(i, j)] = out[(j, i)] = (float(p[col["duplicate"]]), float(p[col["rewrite"]]),
                                         float(p[col["same-source"]]))
    return out


# -- the estimator --------------------------------------------------------------------------------
_ESTIMATOR = None


def _estimator_class():
    """Build :class:`SyndicationClassifier` on first use (scikit-learn is imported only then)."""
    global _ESTIMATOR
    if _ESTIMATOR is not None:
        return _ESTIMATOR
    from sklearn.base import BaseEstimator, ClassifierMixin
    from sklearn.utils.multiclass import check_classification_targets
    from sklearn.utils.validation import check_is_fitted, validate_data

    class SyndicationClassifier(ClassifierMixin, BaseEstimator):
        """A classifier storable as plain JSON: logistic regression on standardised features
        (``method="logistic"``) or gradient-boosted regression trees (``method="trees"``,
        scikit-learn's ``HistGradientBoostingClassifier`` fitted, then kept as flat node arrays
        and evaluated with numpy).

        The trees serve where one feature must be able to overrule the others: the rank model
        picks a copy's source among candidates, and a copy of a copy shares its parent's edits
        (material no other member has) while the grandparent looks more like an original on
        every cue; a linear score could not let the first overrule the second (measured on the
        held-apart stories: 31 of 48 copies of copies attributed right by the logistic rank
        model, 44 of 48 by the trees).

        Parameters
        ----------
        method : "logistic" or "trees", default="logistic"
        C : float, default=1.0
            Inverse L2 regularisation strength (logistic).
        class_weight : "balanced" or None, default="balanced"
            Weight classes inversely to their frequency (both methods; sample weights for the trees).
        max_iter : int, default=2000
            Iterations of the LBFGS solver (logistic).
        n_estimators, max_depth, learning_rate, min_samples_leaf, random_state : boosting
            iterations, tree depth, shrinkage, smallest leaf and seed (trees; no early stopping).

        Attributes (after ``fit``): ``classes_``, ``n_features_in_``; logistic: ``mean_`` and
        ``scale_`` (the standardisation), ``coef_`` (n_classes or 1, n_features) and
        ``intercept_``; trees: ``init_`` (per score column), ``trees_`` (flat node arrays
        ``feature``, ``threshold``, ``left``, ``right``, ``value``, ``roots`` (stages, score
        columns)) and ``depth_``.
        """

        def __init__(self, method: str = "logistic", C: float = 1.0, class_weight: str | None = "balanced",
                     max_iter: int = 2000, n_estimators: int = 200, max_depth: int = 3, learning_rate: float = 0.1,
                     min_samples_leaf: int = 20, random_state: int = 0):
            self.method = method
            self.C = C
            self.class_weight = class_weight
            self.max_iter = max_iter
            self.n_estimators = n_estimators
            self.max_depth = max_depth
            self.learning_rate = learning_rate
            self.min_samples_leaf = min_samples_leaf
            self.random_state = random_state

        def fit(self, X, y):
            X, y = validate_data(self, X, y)
            check_classification_targets(y)
            if self.method not in ("logistic", "trees"):
                raise ValueError(f"method must be 'logistic' or 'trees', not {self.method!r}")
            if self.method == "trees":
                return self._fit_trees(X, y)
            from sklearn.linear_model import LogisticRegression

            mean = X.mean(axis=0)
            scale = X.std(axis=0)
            scale[scale < 1e-12] = 1.0
            lr = LogisticRegression(C=self.C, class_weight=self.class_weight, max_iter=self.max_iter)
            lr.fit((X - mean) / scale, y)
            self.classes_ = lr.classes_
            self.mean_, self.scale_ = mean, scale
            self.coef_, self.intercept_ = lr.coef_.copy(), lr.intercept_.copy()
            self.n_iter_ = lr.n_iter_.copy()
            return self

        def _fit_trees(self, X, y):
            from sklearn.ensemble import HistGradientBoostingClassifier

            hgb = HistGradientBoostingClassifier(
                max_iter=self.n_estimators, max_depth=self.max_depth, learning_rate=self.learning_rate,
                min_samples_leaf=self.min_samples_leaf, class_weight=self.class_weight, early_stopping=False,
                random_state=self.random_state)
            hgb.fit(X, y)
            self.classes_ = hgb.classes_
            # scikit-learn keeps the fitted trees as node records (a private attribute, read here
            # once; the test suite checks that the exported arrays reproduce predict_proba)
            feature, threshold, left, right, value, roots = [], [], [], [], [], []
            depth = 0
            for stage in hgb._predictors:
                row = []
                for predictor in stage:
                    nodes = predictor.nodes
                    base = len(feature)
                    row.append(base)
                    depth = max(depth, int(nodes["depth"].max()))
                    for node in nodes:
                        leaf = bool(node["is_leaf"])
                        feature.append(-1 if leaf else int(node["feature_idx"]))
                        threshold.append(0.0 if leaf else float(node["num_threshold"]))
                        left.append(-1 if leaf else base + int(node["left"]))
                        right.append(-1 if leaf else base + int(node["right"]))
                        value.append(float(node["value"]))
                roots.append(row)
            self.trees_ = {"feature": np.asarray(feature, dtype=np.int64),
                           "threshold": np.asarray(threshold, dtype=np.float64),
                           "left": np.asarray(left, dtype=np.int64), "right": np.asarray(right, dtype=np.int64),
                           "value": np.asarray(value, dtype=np.float64),
                           "roots": np.asarray(roots, dtype=np.int64).reshape(len(roots), -1)}
            self.depth_ = depth
            self.init_ = np.asarray(hgb._baseline_prediction, dtype=np.float64).ravel()
            self.n_iter_ = np.asarray([hgb.n_iter_])
            return self

        def _tree_sum(self, X):
            t = self.trees_
            X = np.asarray(X, dtype=np.float64)
            node = tree_leaves(X, t["feature"], t["threshold"], t["left"], t["right"], t["roots"].ravel(), self.depth_)
            k = t["roots"].shape[1]
            return t["value"][node].reshape(X.shape[0], -1, k).sum(axis=1)

        def decision_function(self, X):
            check_is_fitted(self)
            X = validate_data(self, X, reset=False)
            if self.method == "trees":
                z = self.init_ + self._tree_sum(X)
            else:
                z = ((X - self.mean_) / self.scale_) @ self.coef_.T + self.intercept_
            return z[:, 0] if z.shape[1] == 1 else z

        def predict_proba(self, X):
            check_is_fitted(self)
            z = self.decision_function(X)
            if z.ndim == 1:
                p = 1.0 / (1.0 + np.exp(-z))
                return np.column_stack([1.0 - p, p])
            z = z - z.max(axis=1, keepdims=True)
            e = np.exp(z)
            return e / e.sum(axis=1, keepdims=True)

        def predict(self, X):
            check_is_fitted(self)
            return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

        def to_dict(self) -> dict:
            """The fitted model as JSON-ready data (see :meth:`from_dict`)."""
            check_is_fitted(self)
            out = {"params": self.get_params(), "classes": self.classes_.tolist(),
                   "n_features": int(self.n_features_in_)}
            if self.method == "trees":
                out.update({"init": self.init_.tolist(), "depth": self.depth_,
                            "trees": {k: v.tolist() for k, v in self.trees_.items()}})
            else:
                out.update({"mean": self.mean_.tolist(), "scale": self.scale_.tolist(),
                            "coef": self.coef_.tolist(), "intercept": self.intercept_.tolist()})
            return out

        @classmethod
        def from_dict(cls, data: dict) -> "SyndicationClassifier":
            est = cls(**data["params"])
            est.classes_ = np.asarray(data["classes"])
            if est.method == "trees":
                est.init_ = np.asarray(data["init"], dtype=np.float64)
                est.depth_ = int(data["depth"])
                t = data["trees"]
                est.trees_ = {k: np.asarray(t[k], dtype=np.float64 if k in ("threshold", "value") else np.int64)
                              for k in ("feature", "threshold", "left", "right", "value")}
                est.trees_["roots"] = np.asarray(t["roots"], dtype=np.int64).reshape(len(t["roots"]), -1)
                est.n_features_in_ = int(data["n_features"])
                n = len(est.trees_["feature"])
                if (any(len(est.trees_[k]) != n for k in ("threshold", "left", "right", "value"))
                        or est.trees_["roots"].shape[1] != est.init_.shape[0]
                        or est.trees_["feature"].max(initial=-1) >= est.n_features_in_
                        or est.trees_["roots"].max(initial=0) >= n or est.trees_["roots"].min(initial=0) < 0
                        or max(est.trees_["left"].max(initial=-1), est.trees_["right"].max(initial=-1)) >= n):
                    raise ValueError("inconsistent model shapes")
                return est
            est.mean_ = np.asarray(data["mean"], dtype=np.float64)
            est.scale_ = np.asarray(data["scale"], dtype=np.float64)
            est.coef_ = np.asarray(data["coef"], dtype=np.float64)
            est.intercept_ = np.asarray(data["intercept"], dtype=np.float64)
            est.n_features_in_ = est.mean_.shape[0]
            if est.coef_.shape[1] != est.n_features_in_ or est.scale_.shape != est.mean_.shape:
                raise ValueError("inconsistent model shapes")
            return est

    SyndicationClassifier.__qualname__ = "SyndicationClassifier"
    SyndicationClassifier.__module__ = __name__
    _ESTIMATOR = SyndicationClassifier
    return _ESTIMATOR


def __getattr__(name: str):
    if name == "SyndicationClassifier":
        return _estimator_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# -- the two models together ----------------------------------------------------------------------
class SyndicationModel:
    """The source model, the label model and the rank model, with the settings they were trained
    under.  The source model says how likely ``s`` is where ``d`` came from (its probabilities feed
    the label model and the relation); the rank model, trained on differences of source rows
    between the true source and the other candidates of a syndicated document, picks the source
    among the candidates (a copy of a copy is closer to its parent than to the original, even when
    the original looks more like an original)."""

    def __init__(self, source_model, label_model, fingerprint: str, info: dict | None = None, rank_model=None):
        self.source_model = source_model
        self.label_model = label_model
        self.rank_model = rank_model
        self.fingerprint = fingerprint
        self.info = info or {}

    # persistence
    def to_dict(self, config: Config) -> dict:
        return {"format": FORMAT, "version": VERSION, "fingerprint": self.fingerprint,
                "signature_settings": config.signature_settings(),
                "source_features": list(SOURCE_FEATURES), "label_features": list(LABEL_FEATURES),
                "rank_features": list(RANK_FEATURES),
                "source_model": self.source_model.to_dict(), "label_model": self.label_model.to_dict(),
                "rank_model": self.rank_model.to_dict(), **self.info}

    def save(self, path: str | Path, config: Config) -> None:
        if config.fingerprint() != self.fingerprint:
            raise ModelError("model was trained with other settings than the ones given to save it")
        Path(path).write_text(json.dumps(self.to_dict(config), indent=1) + "\n", encoding="utf-8")

    @classmethod
    def from_dict(cls, data: Any, config: Config, origin: str = "model") -> "SyndicationModel":
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ModelError(f"{origin}: not a dedupe syndication model")
        if data.get("version") not in READABLE_VERSIONS:
            raise ModelError(f"{origin}: syndication model version {data.get('version')!r} is not supported "
                             f"(this dedupe reads version {VERSION})", hint="retrain it with this dedupe")
        if data.get("fingerprint") != config.fingerprint():
            raise ModelError(f"{origin}: model was trained with other settings (fingerprint "
                             f"{data.get('fingerprint')}, current {config.fingerprint()})",
                             hint="use the settings it was trained with or retrain it")
        if (tuple(data.get("source_features", ())) != SOURCE_FEATURES
                or tuple(data.get("label_features", ())) != LABEL_FEATURES):
            raise ModelError(f"{origin}: model features differ from this dedupe's", hint="retrain it")
        # version 2 had no lineage columns: its rank model reads the source row
        rank_features = tuple(data.get("rank_features", ())) if data["version"] >= 3 else SOURCE_FEATURES
        widths = (len(SOURCE_FEATURES), len(SOURCE_FEATURES) + len(LINEAGE_FEATURES),
                  len(RANK_FEATURES) - len(RAW_LINEAGE_FEATURES), len(RANK_FEATURES))
        if rank_features != RANK_FEATURES[:len(rank_features)] or len(rank_features) not in widths:
            raise ModelError(f"{origin}: model features differ from this dedupe's", hint="retrain it")
        est = _estimator_class()
        try:
            source, label = est.from_dict(data["source_model"]), est.from_dict(data["label_model"])
            rank = est.from_dict(data["rank_model"])
            if rank.n_features_in_ != len(rank_features):
                raise ValueError(f"the rank model reads {rank.n_features_in_} features, not {len(rank_features)}")
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise ModelError(f"{origin}: corrupt syndication model ({exc})") from exc
        info = {k: v for k, v in data.items() if k in ("training", "metrics", "metrics_note")}
        return cls(source, label, data["fingerprint"], info, rank)

    @classmethod
    def load(cls, path: str | Path | None = None, config: Config | None = None) -> "SyndicationModel":
        """Load a model file (default: the one shipped in the package)."""
        config = config or Config()
        if path is None:
            origin = f"dedupe/resources/{MODEL_RESOURCE}"
            try:
                raw = resources.files("dedupe.resources").joinpath(MODEL_RESOURCE).read_text(encoding="utf-8")
            except (FileNotFoundError, OSError) as exc:
                raise ModelError(f"{origin} is missing", hint="reinstall dedupe or train one with "
                                 "python -m dedupe.training.syndication train") from exc
        else:
            origin = str(path)
            try:
                raw = Path(path).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise ModelError(f"{origin}: cannot read model ({exc.__class__.__name__})") from exc
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ModelError(f"{origin}: not valid JSON (line {exc.lineno})") from exc
        return cls.from_dict(data, config, origin)

    # prediction
    def source_scores(self, story: StoryFeatures) -> dict[tuple[int, int], float]:
        keys, X = story.pair_rows()
        if not keys:
            return {}
        p = self.source_model.predict_proba(X)[:, 1]
        return {k: float(v) for k, v in zip(keys, p)}

    def label_probabilities(self, story: StoryFeatures,
                            scores: dict[tuple[int, int], float] | None = None) -> np.ndarray:
        """Every member's probability of being syndicated (the label model's)."""
        scores = self.source_scores(story) if scores is None else scores
        return self.label_model.predict_proba(story.label_rows(scores))[:, 1]

    def rank_scores(self, story: StoryFeatures, p_syn: Sequence[float] | None = None) -> dict[tuple[int, int], float]:
        """The rank model's score of every compared ordered pair (only comparable among the
        candidate sources of one document); the source scores when there is no rank model.
        ``p_syn`` (see :meth:`label_probabilities`, computed when not given) feeds the standing
        columns."""
        if self.rank_model is None:
            return self.source_scores(story)
        # a version-2 rank model reads the source row only, a version-3 one no standing columns,
        # a version-4 one no raw lineage columns
        n = self.rank_model.n_features_in_
        if n <= len(SOURCE_FEATURES):
            keys, X = story.pair_rows()
        elif n <= len(SOURCE_FEATURES) + len(LINEAGE_FEATURES):
            keys, X = story.rank_rows()
        else:  # a version-4 rank model stops before the raw lineage columns
            keys, X = story.rank_rows(self.label_probabilities(story) if p_syn is None else p_syn)
            X = X[:, :n]
        if not keys:
            return {}
        z = self.rank_model.decision_function(X)
        return {k: float(v) for k, v in zip(keys, z)}

    def judge(self, story: StoryFeatures, cluster_id: str, config: Config) -> list[Verdict]:
        scores = self.source_scores(story)
        p_syn = self.label_probabilities(story, scores)
        rank = self.rank_scores(story, p_syn)
        moved: dict[int, int] = {}
        flipped = _break_cycles(story, scores, p_syn, rank, moved)
        decided = []
        for d in range(len(story.members)):
            cands = story.candidates[d]
            orphan = d in flipped and p_syn[d] >= ORPHAN_AT
            syndicated = p_syn[d] >= 0.5 and (d not in flipped or orphan)
            source = relation = None
            if syndicated and cands and not orphan:
                best = moved[d] if d in moved else max(cands, key=lambda s: (rank[(d, s)], -s))
                source = best
                if (d, best) in story.relations:
                    relation = story.relations[(d, best)]
                elif scores[(d, best)] >= SOURCE_AT:
                    st = story.stats[(d, best)]
                    relation = "duplicate" if st.dup_d_in_s >= config.verify.duplicate_at else "rewrite"
                else:
                    relation = "same-source"
            elif syndicated:
                relation = "same-source"
            decided.append((syndicated, source, relation, float(p_syn[d] if syndicated else 1.0 - p_syn[d])))
        twin_of = _one_original_per_twins(story, decided, p_syn)
        for d, k in twin_of.items():
            decided[d] = (True, k, "duplicate", float(max(p_syn[d], 0.5)))
        copies: dict[int, list[int]] = {}
        for d, (_, source, _, _) in enumerate(decided):
            if source is not None:
                copies.setdefault(source, []).append(d)
        out = []
        for d, (syndicated, source, relation, conf) in enumerate(decided):
            reasons = _reasons(story, d, syndicated, source, scores, copies.get(d, []), d in twin_of)
            out.append(Verdict(story.members[d].doc.id, cluster_id, "syndicated" if syndicated else "original",
                               relation, None if source is None else story.members[source].doc.id,
                               round(conf, 4), tuple(reasons)))
        return out


def _one_original_per_twins(story: StoryFeatures, decided: list, p_syn: np.ndarray) -> dict[int, int]:
    """Two near-verbatim texts (word 5-gram containment of at least :data:`TWIN_AT` both ways)
    are not both original reporting: one copied the other, or both a common source.  The members
    called original are taken in order -- dated before undated and earlier before later, then the
    one most copies name as their source, then the one the label model finds most original -- and
    each one with a near-verbatim twin already kept becomes the copy of the first such twin.
    Returns ``{member: its twin}`` for the members turned to copies.

    Stories of one wire text re-posted many times were the reason: the label model judges each
    member on its own, and on the 12 large stories of ``benchmarks/quality_syndication.py``
    (8-30 copies each) it called 63 of 198 copies original without dates, 9 with dates."""
    originals = [d for d, (syndicated, *_rest) in enumerate(decided) if not syndicated]
    if len(originals) < 2:
        return {}
    named = [0] * len(decided)
    for _, source, *_rest in decided:
        if source is not None:
            named[source] += 1

    def priority(d: int):
        date = story.members[d].date
        return (date is None, date.timestamp() if date is not None else 0.0, -named[d], p_syn[d], d)

    kept: list[int] = []
    twin_of: dict[int, int] = {}
    for d in sorted(originals, key=priority):
        twin = next((k for k in kept if (d, k) in story.stats
                     and min(story.stats[(d, k)].dup_d_in_s, story.stats[(d, k)].dup_s_in_d) >= TWIN_AT), None)
        if twin is None:
            kept.append(d)
        else:
            twin_of[d] = twin
    return twin_of


def _break_cycles(story: StoryFeatures, scores: dict[tuple[int, int], float], p_syn: np.ndarray,
                  rank: dict[tuple[int, int], float] | None = None,
                  moved: dict[int, int] | None = None) -> set[int]:
    """Copies cannot come from each other in a circle.  When following each syndicated member to
    its best source (by ``rank``, default ``scores``) loops, the member of the loop with the
    weakest evidence of copying its source (lowest source score) gives up that source.  Given
    ``moved`` (a dict, filled here), it takes instead its best candidate outside the loop whose
    own chain of sources ends outside the loop, when the verifier's P(duplicate) + P(rewrite) of
    the two reaches :data:`REDIRECT_AT` (a copy of a copy of X, whose parent read as close to it as
    X did); otherwise it is called original (unless its own probability of being syndicated
    reaches :data:`ORPHAN_AT`: see :meth:`SyndicationModel.judge`).  Returns the members called
    original (or orphan)."""
    rank = scores if rank is None else rank
    best = {}
    for d in range(len(story.members)):
        if p_syn[d] >= 0.5 and story.candidates[d]:
            best[d] = max(story.candidates[d], key=lambda s: (rank[(d, s)], -s))
    flipped: set[int] = set()
    while True:
        loop = _find_loop(best)
        if not loop:
            return flipped
        k = min(loop, key=lambda x: (scores[(x, best[x])], p_syn[x], x))
        target = None
        if moved is not None:
            outside = [c for c in story.candidates[k]
                       if c not in loop and sum(story.probs[(k, c)][:2]) >= REDIRECT_AT and _ends_outside(best, c, loop)]
            if outside:
                target = max(outside, key=lambda c: (rank[(k, c)], -c))
        if target is None:
            flipped.add(k)
            del best[k]
        else:
            best[k] = moved[k] = target


def _find_loop(best: dict[int, int]) -> list[int]:
    """The first loop of the source pointers ``best`` (empty when there is none)."""
    done: set[int] = set()
    for start in sorted(best):
        path, d = [], start
        while d in best and d not in done and d not in path:
            path.append(d)
            d = best[d]
        if d in path:
            return path[path.index(d):]
        done.update(path)
    return []


def _ends_outside(best: dict[int, int], c: int, loop: list[int]) -> bool:
    """Whether following the source pointers from ``c`` ends without touching ``loop``."""
    seen = set()
    while c in best:
        if c in loop or c in seen:
            return False
        seen.add(c)
        c = best[c]
    return c not in loop


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def _reasons(story: StoryFeatures, d: int, syndicated: bool, source: int | None,
             scores: dict[tuple[int, int], float], copies: Sequence[int] = (), twin: bool = False) -> list[str]:
    """The verdict's reasons; ``copies``: the members whose verdict names ``d`` as their source;
    ``twin``: ``d`` was made a copy of its near-verbatim twin (:func:`_one_original_per_twins`)."""
    me = story.members[d]
    cands = story.candidates[d]
    reasons: list[str] = []
    if twin and source is not None:
        reasons.append(f"near-verbatim copy of {story.members[source].doc.id}, which reads as more original "
                       "(two near-identical texts are not both original reporting)")
    if not cands:
        reasons.append("no other document in the input tells this story")
    if source is not None:
        s = story.members[source]
        st = story.stats[(d, source)]
        if scores.get((d, source), 0.0) < SOURCE_AT:
            reasons.append(f"shares material with {s.doc.id} but shows no clear sign of copying it "
                           "(most likely a common source)")
        reasons.append(f"{_pct(st.order_d_in_s)} of its sentences follow {s.doc.id} in the same order")
        reasons.append(f"{_pct(st.terms_d_in_s)} of its (rarity-weighted) content words are in {s.doc.id}, "
                       f"{_pct(st.terms_s_in_d)} the other way")
        if st.dup_d_in_s >= 0.5:
            reasons.append(f"{_pct(st.dup_d_in_s)} of its word 5-grams are copied from {s.doc.id}")
        if me.date is not None and s.date is not None and s.date < me.date:
            reasons.append(f"published after {s.doc.id}")
        if _headline_changed(me, s, st.dup_d_in_s):
            reasons.append(f"headline changed, body copied from {s.doc.id}")
    elif syndicated:
        reasons.append("reads as copied material whose origin is not in the input")
    if not syndicated and cands:
        # the copies whose verdict names it as their source, most confident first (as the table's
        # arrows show them; until 2026-12 this listed the members whose source-model score of it
        # reached 0.5, which could name a copy given another source, or miss one given this one)
        targets = sorted(copies, key=lambda s: (-scores.get((s, d), 0.0), s))
        if targets:
            reasons.append("likely origin of " + ", ".join(story.members[s].doc.id for s in targets[:3])
                           + (f" and {len(targets) - 3} more" if len(targets) > 3 else ""))
        unique = story._unique_share(d)
        reasons.append(f"{_pct(unique)} of its content is found nowhere else in the story")
        others = [story.members[s] for s in cands if story.members[s].date is not None]
        if me.date is not None and others and all(me.date <= o.date for o in others):
            reasons.append("earliest dated member of the story")
    for cue in CUES:
        hit = me.cues[cue]
        if hit is not None:
            reasons.append(f"{_CUE_TEXT[cue]}: {hit[:40]!r}")
    if me.quotes >= 0.15:
        reasons.append(f"{_pct(me.quotes)} of its text is quotation")
    return reasons


# -- running over a clustering result -------------------------------------------------------------
def classify_clusters(documents: Sequence[Document], clusters: Sequence[Cluster], config: Config | None = None,
                      model: SyndicationModel | None = None, shingler: Shingler | None = None,
                      progress=None) -> list[Verdict]:
    """A :class:`~dedupe.model.Verdict` for every document (in input order), given the clusters a
    run found.  ``model`` defaults to the shipped one.  ``progress(stage, done, total)``, when
    given, is called with stage ``"judging"`` and the documents judged so far."""
    config = config or Config()
    model = model or SyndicationModel.load(config=config)
    shingler = shingler or Shingler(config.shingle)
    by_id = {d.id: d for d in documents}
    verdicts: dict[str, Verdict] = {}
    total = sum(len(cl.members) for cl in clusters)
    done = 0
    if progress is not None:
        progress("judging", 0, total)
    for story, cl in iter_stories(documents, clusters, config, shingler):
        for v in model.judge(story, cl.id, config):
            verdicts[v.id] = v
        done += len(cl.members)
        if progress is not None:
            progress("judging", done, total)
    return [verdicts[d.id] for d in documents if d.id in by_id]


def iter_stories(documents: Sequence[Document], clusters: Sequence[Cluster], config: Config,
                 shingler: Shingler):
    """``(StoryFeatures, cluster)`` for every cluster, members in cluster order."""
    by_id = {d.id: d for d in documents}
    for cl in clusters:
        infos = [analyse(by_id[m.id], shingler, config) for m in cl.members]
        pos = {m.id: k for k, m in enumerate(cl.members)}
        linked = [lk for lk in cl.links if lk.a in pos and lk.b in pos]
        links = [(pos[lk.a], pos[lk.b]) for lk in linked]
        relations = {}
        probabilities = {}
        for lk in linked:
            if lk.relation in ("duplicate", "rewrite", "same-source"):
                relations[(pos[lk.a], pos[lk.b])] = relations[(pos[lk.b], pos[lk.a])] = lk.relation
            sc = lk.scores or {}
            if all(k in sc for k in ("p_duplicate", "p_rewrite", "p_same-source")):
                probabilities[(pos[lk.a], pos[lk.b])] = (sc["p_duplicate"], sc["p_rewrite"], sc["p_same-source"])
        yield StoryFeatures(infos, links, relations, probabilities, config), cl

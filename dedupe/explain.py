"""Why two documents are (or are not) the same story: verdict, features, aligned passages.

:func:`explain_pair` returns an :class:`Explanation`:

* the verdict of the configured verifier (``config.verify.method``: the containment rule of
  :func:`dedupe.compare.decide` by default, or the learned model), and the learned model's
  probability of each relation beside it;
* the features that drove the verdict: each feature's contribution to the log-odds of the
  verdict against its strongest alternative (positive = pushed towards the verdict), with the
  feature's value;
* the aligned passages: every sentence of A paired with its closest sentence of B (Dice
  similarity of stemmed content words, at least ``min_similarity``), in A's order, with the
  shared words marked.

:func:`render_text` lays the passages out side by side (``[shared words]`` in brackets, or in
bold colour with ``color=True``); :meth:`Explanation.to_dict` is the JSON form.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass, field

import numpy as np

from dedupe.compare import decide, pair_scores
from dedupe.config import Config
from dedupe.model import Document
from dedupe.normalize import normalize_text

_SENT = re.compile(r"(?<=[.!?])[\"'\u201d)\]]*\s+|\n+")
_WORD = re.compile(r"\w+")


@dataclass
class Passage:
    a_index: int
    b_index: int
    similarity: float
    a_text: str
    b_text: str
    a_marked: str
    b_marked: str


@dataclass
class Explanation:
    a: str
    b: str
    relation: str
    probability: float
    linked: bool
    similarity: float
    probabilities: dict[str, float]
    rule: dict
    drivers: list[tuple[str, float, float]]       # (feature, value, contribution)
    passages: list[Passage] = field(default_factory=list)
    sentences: tuple[int, int] = (0, 0)
    method: str = "rule"
    model_relation: str = "unrelated"

    def to_dict(self) -> dict:
        return {
            "a": self.a, "b": self.b, "verifier": self.method, "relation": self.relation,
            "linked": self.linked, "similarity": round(self.similarity, 4),
            "model": {"relation": self.model_relation, "probability": round(self.probability, 4),
                      "probabilities": {k: round(v, 4) for k, v in self.probabilities.items()}},
            "rule": self.rule,
            "drivers": [{"feature": f, "value": round(v, 4), "contribution": round(c, 4)} for f, v, c in self.drivers],
            "sentences": {"a": self.sentences[0], "b": self.sentences[1]},
            "passages": [{"a": p.a_index, "b": p.b_index, "similarity": round(p.similarity, 4),
                          "a_text": p.a_text, "b_text": p.b_text} for p in self.passages],
        }


def split_sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENT.split(text) if s and len(_WORD.findall(s)) >= 3]


def explain_pair(a: Document, b: Document, config: Config | None = None, model=None,
                 min_similarity: float = 0.3, top: int = 8) -> Explanation:
    """Explain the verdict on documents ``a`` and ``b`` (see the module docstring)."""
    from dedupe.verifier import CLASSES, LINKED, Profiler, load_model, pair_features, verdicts

    config = config or Config()
    model = model or load_model(config.verify.model, config)
    profiler = Profiler(config)
    na, nb = normalize_text(a.text, config.normalize), normalize_text(b.text, config.normalize)
    pa = profiler.profile(a.text, na, date_str=a.date)
    pb = profiler.profile(b.text, nb, date_str=b.date)
    x = pair_features(pa, pb)
    v = verdicts(model, x[None, :], config.verify.learned_threshold)[0]
    # drivers: contribution to raw[verdict] - raw[strongest alternative]
    contrib = model.contributions(x)
    probs = v.probabilities
    if v.linked:
        k, alt = CLASSES.index(v.relation), CLASSES.index("unrelated")
    else:
        k = CLASSES.index("unrelated")
        alt = CLASSES.index(max(LINKED, key=lambda c: probs[c]))
    delta = contrib[:, k] - contrib[:, alt]
    order = np.argsort(-np.abs(delta))[:top]
    drivers = [(model.features[i], float(x[i]), float(delta[i])) for i in order if abs(delta[i]) > 1e-9]
    # the rule, for comparison
    scores = pair_scores(pa.features, pb.features)
    rv = decide(scores, config.verify)
    rule = {"linked": rv is not None, "similarity": rv[0] if rv else round(max(scores["dup_containment"],
                                                                              scores["weighted_containment"]), 6),
            "relation": rv[1] if rv else "unrelated",
            "dup_containment": round(scores["dup_containment"], 4),
            "weighted_containment": round(scores["weighted_containment"], 4)}
    passages, n_a, n_b = align_passages(a.text, b.text, profiler, min_similarity)
    if config.verify.method == "learned":
        relation, linked, similarity = v.relation, v.linked, v.similarity
    else:
        relation, linked, similarity = rule["relation"], rule["linked"], rule["similarity"]
    return Explanation(a.id, b.id, relation, v.probability, linked, similarity, probs, rule, drivers,
                       passages, (n_a, n_b), config.verify.method, v.relation)


def align_passages(text_a: str, text_b: str, profiler, min_similarity: float = 0.3):
    """Sentence alignment: each sentence of A with its closest sentence of B (in A's order)."""
    sa = split_sentences(normalize_text(text_a, profiler.config.normalize))
    sb = split_sentences(normalize_text(text_b, profiler.config.normalize))
    stems_a = [set(profiler.content_terms(_WORD.findall(s))) for s in sa]
    stems_b = [set(profiler.content_terms(_WORD.findall(s))) for s in sb]
    out = []
    for i, x in enumerate(stems_a):
        if not x:
            continue
        best, best_j = 0.0, -1
        for j, y in enumerate(stems_b):
            if y:
                d = 2 * len(x & y) / (len(x) + len(y))
                if d > best:
                    best, best_j = d, j
        if best_j >= 0 and best >= min_similarity:
            shared = x & stems_b[best_j]
            out.append(Passage(i, best_j, best, sa[i], sb[best_j], _mark(sa[i], shared, profiler),
                               _mark(sb[best_j], shared, profiler)))
    return out, len(sa), len(sb)


def _mark(sentence: str, shared: set, profiler) -> str:
    """Bracket runs of words whose stem is shared (stop words inside a run stay in it)."""
    tokens = re.findall(r"\w+|\W+", sentence)
    flags = []
    for t in tokens:
        if _WORD.fullmatch(t):
            st = profiler.content_terms([t])
            flags.append(True if st and st[0] in shared else (None if not st else False))
        else:
            flags.append(None)
    # a neutral token (stop word, space, punctuation) is inside a run when both sides are shared
    out, i, n = [], 0, len(tokens)
    while i < n:
        if flags[i]:
            j = i
            last = i
            while j + 1 < n and flags[j + 1] is not False:
                j += 1
                if flags[j]:
                    last = j
            out.append("[" + "".join(tokens[i:last + 1]) + "]")
            i = last + 1
        else:
            out.append(tokens[i])
            i += 1
    return "".join(out)


def render_text(ex: Explanation, width: int = 100, color: bool = False, max_passages: int = 40) -> str:
    """A human-readable report: verdict, drivers, passages side by side."""
    from tabulate import tabulate

    lines = []
    verdict = ex.relation if ex.linked else "not the same story"
    lines.append(f"A: {ex.a}")
    lines.append(f"B: {ex.b}")
    lines.append(f"verdict: {verdict} (similarity {ex.similarity:.3f}, {ex.method} verifier)")
    r = ex.rule
    lines.append(f"rule: 5-gram containment {r['dup_containment']:.3f}, weighted pair containment "
                 f"{r['weighted_containment']:.3f}")
    model_verdict = ex.model_relation if ex.model_relation != "unrelated" else "not the same story"
    lines.append(f"learned model: {model_verdict} (p={ex.probability:.2f}); "
                 + ", ".join(f"{k} {v:.3f}" for k, v in ex.probabilities.items()))
    lines.append("")
    lines.append("features that drove the learned model (contribution to the log-odds of its verdict):")
    lines.append(tabulate([(f, f"{v:.3f}", f"{c:+.3f}") for f, v, c in ex.drivers],
                          headers=["feature", "value", "contribution"], tablefmt="simple"))
    lines.append("")
    lines.append(f"aligned passages: {len(ex.passages)} of {ex.sentences[0]} sentences of A have a close "
                 f"sentence in B ({ex.sentences[1]} sentences); [shared words] in brackets")
    col = max(20, (width - 14) // 2)
    rows = []
    for p in ex.passages[:max_passages]:
        a_txt, b_txt = p.a_marked, p.b_marked
        if color:
            a_txt, b_txt = _ansi(a_txt), _ansi(b_txt)
        rows.append((f"{p.a_index + 1}\u2194{p.b_index + 1}\n{p.similarity:.2f}", textwrap.fill(a_txt, col),
                     textwrap.fill(b_txt, col)))
    if rows:
        lines.append(tabulate(rows, headers=["A\u2194B", "A", "B"], tablefmt="grid"))
    if len(ex.passages) > max_passages:
        lines.append(f"... {len(ex.passages) - max_passages} more passages (use --format json for all)")
    return "\n".join(lines) + "\n"


def _ansi(text: str) -> str:
    return re.sub(r"\[([^\[\]]+)\]", "\x1b[1;32m\\1\x1b[0m", text)

"""Labelled pair sets built from the shared corpora (the data recipe of the verifier).

:func:`build_pairs` draws real articles from BBC News and Reuters-21578 and makes, per article:

* ``duplicate``: (original, syndicated copy) and (original, partial copy);
* ``rewrite``: (original, rewritten copy), sometimes (syndicated copy, rewritten copy);
* ``same-source``: two write-ups of the article quoting the same passages;

and negatives (``unrelated``):

* ``hard``: different articles on the same topic (same BBC category / first Reuters topic) that
  are each other's nearest neighbours by TF-IDF cosine: formulaic wire items (earnings tables,
  commodity price lists) and same-company stories land here;
* ``hard-rewrite``: the same, with one side a generated copy (so copying artefacts alone never
  mean "same story");
* ``hard-short``: the same among short wire items (20-80 words: earnings tables, price lists),
  whose template wording is shared by different stories (plus ``syndicated-short`` copies of
  such items as positives);
* ``random``: two random articles of the same topic;
* ``template``: an article and a template sibling of it
  (:func:`dedupe.training.generate.template_sibling`: the same wording with other figures,
  months, weekdays and names: the next month's index, another company's dividend), for half of
  the drawn articles and a fifth as many short wire items;

and, as positives, ``corrected`` copies (a syndicated copy with one or two figures changed,
labelled ``duplicate``) for 30% of the drawn articles.  Template siblings and corrected copies
are drawn with their own random stream (seed + 7), so the other pairs of a seed are the same
with or without them.

Articles are split by a hash of their id: ``split="train"`` uses 4/5 of them, ``split="eval"``
the other fifth, so the evaluation sets of ``benchmarks/quality.py`` (another seed) never reuse a
training article.  MSRP's own train/test split is used for its sentence pairs (:func:`msrp_pairs`).
"""

from __future__ import annotations

import random
import zlib
from dataclasses import dataclass

from dedupe.training.corpora import Article, load_bbc, load_msrp, load_reuters
from dedupe.training.generate import (degrade, free_rewrite, make_copy, make_same_source, names_in, paragraphs,
                                      rewrite, rewrite_headline, sentences, template_sibling)


@dataclass(frozen=True)
class Pair:
    a: str
    b: str
    label: str   # duplicate | rewrite | same-source | unrelated
    kind: str    # finer origin: syndicated, partial, rewrite, same-source, hard, hard-rewrite, random, msrp


def in_split(article_id: str, split: str) -> bool:
    bucket = zlib.crc32(article_id.encode()) % 5
    return bucket == 0 if split == "eval" else bucket != 0


def load_articles(data, split: str) -> list[Article]:
    arts = [a for a in load_bbc(data) + load_reuters(data, min_words=20) if in_split(a.id, split)]
    return arts


def _full(a: Article) -> str:
    return f"{a.title}\n\n{a.text}" if a.title else a.text


def _headed(title: str, body: str, rng: random.Random) -> str:
    if not title:
        return body
    return f"{rewrite_headline(title, rng)}\n\n{body}"


def build_pairs(data, seed: int, n_articles: int = 400, split: str = "train", n_negatives: int | None = None,
                articles: list[Article] | None = None, templates: bool = True) -> list[Pair]:
    """Labelled document pairs (see the module docstring).  Deterministic for a seed;
    ``templates=False`` leaves out the ``template`` negatives and ``corrected`` positives (and
    nothing else: they have their own random stream)."""
    rng = random.Random(seed)
    arts = articles if articles is not None else load_articles(data, split)
    pool = [a for a in arts if 80 <= len(a.text.split()) <= 1500]
    chosen = rng.sample(pool, min(n_articles, len(pool)))
    pairs: list[Pair] = []
    by_topic: dict[str, list[Article]] = {}
    for a in pool:
        by_topic.setdefault(a.topic, []).append(a)

    def extra(topic: str, exclude: str, k: int) -> list[str]:
        """``k`` paragraphs from other articles of the topic: an outlet's own material."""
        out: list[str] = []
        group = by_topic.get(topic, [])
        for _ in range(k):
            other = rng.choice(group) if len(group) > 1 else None
            if other is None or other.id == exclude:
                continue
            paras = paragraphs(other.text)
            out.append(rng.choice(paras))
        return out

    for art in chosen:
        full = _full(art)
        syn = _headed(art.title, make_copy(art.text, rng, "duplicate"), rng)
        pairs.append(Pair(full, syn, "duplicate", "syndicated"))
        if rng.random() < 0.6:
            pairs.append(Pair(full, _headed(art.title, make_copy(art.text, rng, "partial"), rng),
                              "duplicate", "partial"))
        rew = _headed(art.title, make_copy(art.text, rng, "rewrite"), rng)
        pairs.append(Pair(full if rng.random() < 0.75 else syn, rew, "rewrite", "rewrite"))
        # a heavy rewrite of part of the story, padded with the outlet's own material
        body = paragraphs(art.text)
        if len(body) >= 3:
            keep = max(2, int(len(body) * rng.uniform(0.5, 0.9)))
            start = rng.randint(0, len(body) - keep)
            part = "\n\n".join(body[start:start + keep])
        else:
            part = art.text
        heavy = paragraphs(rewrite(part, rng, strength=rng.uniform(0.85, 1.0)))
        for para in extra(art.topic, art.id, rng.randint(1, 4)):
            heavy.insert(rng.randint(0, len(heavy)), para)
        pairs.append(Pair(full if rng.random() < 0.7 else syn, _headed(art.title, "\n\n".join(heavy), rng),
                          "rewrite", "rewrite-heavy"))
        # free paraphrase: rewritten twice, wording degraded, own material on both sides
        own = extra(art.topic, art.id, 3)
        vocab = [w for p in own for w in p.split(" ") if w.isalpha() and w.islower()] or None
        free = free_rewrite(part, rng, own)
        src_paras = paragraphs(full) + extra(art.topic, art.id, rng.randint(0, 2))
        pairs.append(Pair("\n\n".join(src_paras), _headed(art.title, free, rng), "rewrite", "rewrite-free"))
        # two free write-ups of one source: 1-3 verbatim quotes, little else in common
        sents = [x for p in paragraphs(art.text) for x in sentences(p)]
        if len(sents) >= 6:
            q = set(rng.sample(range(len(sents)), rng.randint(1, 3)))
            sides = []
            for _ in range(2):
                chosen_s = [i for i in range(len(sents)) if i in q or rng.random() < 0.35]
                body_s = []
                for i in chosen_s:
                    if i in q:
                        body_s.append(sents[i])
                    else:
                        body_s.append(degrade(rewrite(rewrite(sents[i], rng, 1.0), rng, 1.0), rng, 0.3, vocab))
                paras_s = [" ".join(body_s[k:k + 3]) for k in range(0, len(body_s), 3)]
                for para in extra(art.topic, art.id, rng.randint(2, 5)):
                    paras_s.insert(rng.randint(0, len(paras_s)), para)
                sides.append(_headed(art.title, "\n\n".join(paras_s), rng))
            pairs.append(Pair(sides[0], sides[1], "same-source", "same-source-free"))
        context = [s for p in extra(art.topic, art.id, 3) for s in sentences(p)]
        x, y = make_same_source(art.text, rng, context)
        pairs.append(Pair(_headed(art.title, x, rng), _headed(art.title, y, rng), "same-source", "same-source"))
    # negatives
    from dedupe.training.generate import hard_negatives

    n_neg = n_negatives if n_negatives is not None else int(len(pairs) * 0.8)
    texts = [a.text for a in pool]
    hard = hard_negatives(texts, [a.topic for a in pool], rng, int(n_neg * 0.7))
    for k, (i, j, _) in enumerate(hard):
        a, b = pool[i], pool[j]
        if k % 3 == 0:
            kind = rng.choice(("duplicate", "rewrite", "partial"))
            pairs.append(Pair(_full(a), _headed(b.title, make_copy(b.text, rng, kind), rng), "unrelated",
                              "hard-rewrite"))
        else:
            pairs.append(Pair(_full(a), _full(b), "unrelated", "hard"))
    # short templated wire items (earnings tables, price lists): same-topic neighbours are
    # different stories; a syndicated copy of one is still a duplicate
    short = [a for a in arts if 20 <= len(a.text.split()) < 80]
    if len(short) > 10:
        hs = hard_negatives([a.text for a in short], [a.topic for a in short], rng, int(n_neg * 0.3))
        for i, j, _ in hs:
            pairs.append(Pair(_full(short[i]), _full(short[j]), "unrelated", "hard-short"))
        for a in rng.sample(short, min(len(short), max(1, len(chosen) // 5))):
            pairs.append(Pair(_full(a), _headed(a.title, make_copy(a.text, rng, "duplicate"), rng), "duplicate",
                              "syndicated-short"))
    topics = [t for t, v in by_topic.items() if len(v) >= 2]
    for _ in range(int(n_neg * 0.3) if topics else 0):
        t = rng.choice(topics)
        a, b = rng.sample(by_topic[t], 2)
        pairs.append(Pair(_full(a), _full(b), "unrelated", "random"))
    if templates:
        pairs.extend(_template_pairs(chosen, [a for a in arts if 20 <= len(a.text.split()) < 80], pool,
                                     random.Random(seed + 7)))
    rng.shuffle(pairs)
    return pairs


def _words(text: str) -> list[str]:
    return text.lower().split()


#: ``template`` negatives: the share of drawn articles that get one, and how many short wire items
#: (as a share of the drawn articles)
TEMPLATE_SHARE = 0.5
TEMPLATE_SHORT = 0.2
#: ``corrected`` positives: the share of drawn articles that get a corrected copy
CORRECTED_SHARE = 0.3


def _template_pairs(chosen: list[Article], short: list[Article], pool: list[Article],
                    rng: random.Random) -> list[Pair]:
    """``template`` negatives: (article, template sibling) for half of ``chosen`` and a fifth as
    many ``short`` items, the names put in coming from other articles of ``pool``; and
    ``corrected`` positives for 30% of ``chosen``."""
    names = [n for a in rng.sample(pool, min(len(pool), 300)) for n in names_in(a.text)]
    out = []
    picks = [a for a in chosen if rng.random() < TEMPLATE_SHARE]
    picks += rng.sample(short, min(len(short), max(1, int(len(chosen) * TEMPLATE_SHORT)))) if short else []
    for a in picks:
        full = _full(a)
        sib = template_sibling(full, rng, names)
        if _words(sib) != _words(full):  # an item with no figure or name to change has no sibling
            out.append(Pair(full, sib, "unrelated", "template"))
    # corrected re-issues: a copy with one or two figures changed is still the same story
    for a in chosen:
        if rng.random() < CORRECTED_SHARE:
            copy = make_copy(a.text, rng, "duplicate")
            fixed = template_sibling(copy, rng, changes=rng.randint(1, 2))
            if _words(fixed) != _words(copy):
                out.append(Pair(_full(a), _headed(a.title, fixed, rng), "duplicate", "corrected"))
    return out


def msrp_pairs(data, split: str) -> list[Pair]:
    """MSRP sentence pairs: paraphrases as ``rewrite``, the others ``unrelated``."""
    return [Pair(a, b, "rewrite" if y == 1 else "unrelated", "msrp") for a, b, y in load_msrp(split, data)]


def msrp_documents(pairs: list[Pair], n: int, seed: int, k_min: int = 3, k_max: int = 8) -> list[Pair]:
    """Human sentence-by-sentence rewrites at document length: up to ``n`` ``rewrite`` pairs, each
    joining the first sentences of ``k_min``-``k_max`` MSRP paraphrase pairs into one document and
    their paraphrases, in the same order, into the other (each paraphrase pair used once).  MSRP's
    non-paraphrase pairs are not used: joined, they report the same events and are no negatives."""
    pos = [p for p in pairs if p.label == "rewrite"]
    rng = random.Random(seed)
    rng.shuffle(pos)
    out, at = [], 0
    while len(out) < n:
        k = rng.randint(k_min, k_max)
        group = pos[at:at + k]
        if len(group) < k:
            break
        at += k
        out.append(Pair(" ".join(p.a for p in group), " ".join(p.b for p in group), "rewrite", "msrp-doc"))
    return out

"""Formatting results for people (tables, via tabulate) and for programs (JSON, JSONL, CSV).

Every formatter returns a string; the CLI decides where it goes.  Floats are rounded to 3
decimals in tables and 4 in machine formats.
"""

from __future__ import annotations

import csv
import io
import json
import textwrap

from tabulate import tabulate

from dedupe.model import Cluster, Document
from dedupe.pipeline import RunResult

FORMATS = ("table", "json", "jsonl", "csv")


def _label(doc: Document | None, member_title: str | None, width: int = 60) -> str:
    text = member_title or ""
    if not text and doc is not None:
        text = " ".join(doc.text.split()[:14])
    text = " ".join(text.split())
    return textwrap.shorten(text, width=width, placeholder="…") if text else ""


def _num(x: float | None, digits: int) -> float | None:
    return None if x is None else round(float(x), digits)


def document_rows(result: RunResult) -> list[dict]:
    """One record per document, in input order: id, cluster, size, similarity, closest, relation."""
    where = result.cluster_of()
    rows = []
    for doc in result.documents:
        cl = where[doc.id]
        member = next(m for m in cl.members if m.id == doc.id)
        rows.append({
            "id": doc.id,
            "cluster": cl.id,
            "size": cl.size,
            "similarity": _num(member.similarity, 4),
            "closest": member.closest,
            "relation": member.relation,
        })
    return rows


def cluster_record(cl: Cluster) -> dict:
    weakest = cl.weakest_link
    return {
        "id": cl.id,
        "size": cl.size,
        "members": [
            {"id": m.id, "title": m.title, "similarity": _num(m.similarity, 4), "closest": m.closest,
             "relation": m.relation}
            for m in cl.members
        ],
        "weakest_link": None if weakest is None else {
            "a": weakest.a, "b": weakest.b, "similarity": _num(weakest.similarity, 4),
            "relation": weakest.relation},
    }


def format_json(result: RunResult) -> str:
    payload = {
        "documents": len(result.documents),
        "clusters": [cluster_record(c) for c in result.clusters],
    }
    return json.dumps(payload, ensure_ascii=False, indent=2) + "\n"


def format_jsonl(result: RunResult) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in document_rows(result))


def format_csv(result: RunResult) -> str:
    buf = io.StringIO()
    fields = ["id", "cluster", "size", "similarity", "closest", "relation"]
    writer = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    for row in document_rows(result):
        writer.writerow({k: "" if row[k] is None else row[k] for k in fields})
    return buf.getvalue()


def format_table(result: RunResult, show_singletons: bool = True) -> str:
    """Stories with more than one member, each member with its title (or first words), its
    closest member and their similarity; then the documents that stand alone."""
    docs = {d.id: d for d in result.documents}
    multi = [c for c in result.clusters if c.size > 1]
    single = [c for c in result.clusters if c.size == 1]
    out = []
    if multi:
        rows = []
        for n, cl in enumerate(multi, start=1):
            for k, m in enumerate(cl.members):
                rows.append([
                    n if k == 0 else "",
                    cl.size if k == 0 else "",
                    m.id,
                    _label(docs.get(m.id), m.title),
                    m.closest or "",
                    "" if m.similarity is None else f"{m.similarity:.3f}",
                    m.relation or "",
                ])
        out.append(tabulate(rows, headers=["story", "size", "id", "title / first words", "closest",
                                           "similarity", "relation"], tablefmt="simple", disable_numparse=True,
                            colalign=("right", "right", "left", "left", "left", "right", "left")))
    if single and show_singletons:
        rows = [[c.members[0].id, _label(docs.get(c.members[0].id), c.members[0].title)] for c in single]
        out.append(tabulate(rows, headers=["stands alone", "title / first words"], tablefmt="simple", disable_numparse=True))
    n_docs = len(result.documents)
    out.append(f"{n_docs} document{'s' if n_docs != 1 else ''}, {len(multi)} "
               f"stor{'ies' if len(multi) != 1 else 'y'} with copies, {len(single)} standing alone")
    return "\n\n".join(out) + "\n"


def render(result: RunResult, fmt: str) -> str:
    if fmt == "table":
        return format_table(result)
    if fmt == "json":
        return format_json(result)
    if fmt == "jsonl":
        return format_jsonl(result)
    if fmt == "csv":
        return format_csv(result)
    raise ValueError(f"unknown format {fmt!r}")


# -- classify (issue 4): verdicts, original vs syndicated ----------------------------------------
VERDICT_FIELDS = ("id", "cluster", "label", "relation", "source", "confidence", "reasons")


def story_order(verdicts) -> list[list]:
    """Verdicts grouped by story (cluster), stories with copies first (largest first, then by id),
    then documents standing alone; inside a story originals first, then each copy after its source."""
    groups: dict[str, list] = {}
    for v in verdicts:
        groups.setdefault(v.cluster, []).append(v)
    out = []
    for cid in sorted(groups, key=lambda c: (-len(groups[c]), c)):
        members = groups[cid]
        by_id = {v.id: v for v in members}

        def depth(v, seen=()):
            if v.source is None or v.source not in by_id or v.source in seen or v.label == "original":
                return 0
            return 1 + depth(by_id[v.source], seen + (v.id,))

        out.append(sorted(members, key=lambda v: (v.label != "original", depth(v), v.id)))
    return out


def format_verdicts_table(verdicts, documents=None, width: int = 48) -> str:
    """One row per document, grouped by story, original first, ``→ source`` for each copy.
    (``documents`` is accepted for symmetry with the other formatters; the table does not use it.)"""
    rows = []
    groups = story_order(verdicts)
    n_story = 0
    for members in groups:
        if len(members) > 1:
            n_story += 1
        for k, v in enumerate(members):
            why = v.reasons[0] if v.reasons else ""
            rows.append([
                (n_story if len(members) > 1 else "-") if k == 0 else "",
                v.id,
                v.label,
                v.relation or "",
                f"→ {v.source}" if v.source else "",
                f"{v.confidence:.2f}",
                textwrap.shorten(why, width=width, placeholder="…") if why else "",
            ])
    table = tabulate(rows, headers=["story", "id", "label", "relation", "source", "conf", "main reason"],
                     tablefmt="simple")
    n_syn = sum(v.label == "syndicated" for v in verdicts)
    n = len(verdicts)
    summary = (f"{n} document{'s' if n != 1 else ''}: {n - n_syn} original, {n_syn} syndicated; "
               f"{n_story} stor{'ies' if n_story != 1 else 'y'} with copies")
    return table + "\n\n" + summary + "\n"


def format_verdicts_json(verdicts) -> str:
    payload = {"documents": len(verdicts), "verdicts": [v.as_dict() for v in verdicts]}
    return json.dumps(payload, ensure_ascii=False, indent=2) + "\n"


def format_verdicts_jsonl(verdicts) -> str:
    return "".join(json.dumps(v.as_dict(), ensure_ascii=False) + "\n" for v in verdicts)


def format_verdicts_csv(verdicts) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(VERDICT_FIELDS)
    for v in verdicts:
        writer.writerow([v.id, v.cluster, v.label, v.relation or "", v.source or "", f"{v.confidence:.4f}",
                         "; ".join(v.reasons)])
    return buf.getvalue()


def render_verdicts(verdicts, fmt: str, documents=None) -> str:
    """Verdicts (in input order) as ``table``, ``json`` (one object), ``jsonl`` or ``csv``."""
    if fmt == "table":
        return format_verdicts_table(verdicts, documents)
    if fmt == "json":
        return format_verdicts_json(verdicts)
    if fmt == "jsonl":
        return format_verdicts_jsonl(verdicts)
    if fmt == "csv":
        return format_verdicts_csv(verdicts)
    raise ValueError(f"unknown format {fmt!r}")

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

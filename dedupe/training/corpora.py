"""Readers for the shared corpora used to build training and evaluation data.

Each article is an :class:`Article` (``id``, ``title``, ``text`` body without the headline,
``topic``: the BBC category or the first Reuters topic, ``source``: ``bbc`` or ``reuters``).
Paths default to ``../shared/data`` (the layout described in its README files); a missing corpus
raises :class:`FileNotFoundError` with the path, so callers can skip cleanly.
"""

from __future__ import annotations

import csv
import html
import re
from dataclasses import dataclass
from pathlib import Path

DEFAULT_DATA = Path("../shared/data")


@dataclass(frozen=True)
class Article:
    id: str
    title: str
    text: str
    topic: str
    source: str


def _root(data: str | Path | None) -> Path:
    return Path(data) if data is not None else DEFAULT_DATA


def load_bbc(data: str | Path | None = None) -> list[Article]:
    """The 2,225 BBC articles (headline on line 1, body after), exact duplicates removed."""
    root = _root(data) / "bbc-news" / "bbc"
    if not root.is_dir():
        raise FileNotFoundError(f"BBC corpus not found at {root}")
    out, seen = [], set()
    for topic_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        for f in sorted(topic_dir.glob("*.txt")):
            raw = f.read_bytes()
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                text = raw.decode("latin-1")
            title, _, body = text.strip().partition("\n")
            body = re.sub(r"\n\s*\n+", "\n\n", body.strip())
            key = " ".join(body.split())
            if not body or key in seen:
                continue
            seen.add(key)
            out.append(Article(f"bbc/{topic_dir.name}/{f.stem}", title.strip(), body, topic_dir.name, "bbc"))
    return out


_REUTERS = re.compile(r"<REUTERS(.*?)</REUTERS>", re.S)


def _tag(block: str, name: str) -> str:
    m = re.search(rf"<{name}>(.*?)</{name}>", block, re.S)
    return m.group(1) if m else ""


def load_reuters(data: str | Path | None = None, min_words: int = 60) -> list[Article]:
    """Reuters-21578 stories with a body of at least ``min_words`` words and at least one topic;
    exact duplicate bodies removed.  The wire sign-off (`` Reuter``) is stripped."""
    root = _root(data) / "reuters21578"
    files = sorted(root.glob("reut2-*.sgm"))
    if not files:
        raise FileNotFoundError(f"Reuters-21578 corpus not found at {root}")
    out, seen = [], set()
    for f in files:
        raw = f.read_bytes().decode("latin-1")
        for m in _REUTERS.finditer(raw):
            block = m.group(1)
            newid = re.search(r'NEWID="(\d+)"', block)
            topics = re.findall(r"<D>(.*?)</D>", _tag(block, "TOPICS"))
            body = html.unescape(_tag(block, "BODY"))
            body = re.sub(r"[\x00-\x08\x0b-\x1f\x7f]", "", body)
            body = re.sub(r"\s*reuter\s*$", "", body.strip(), flags=re.I)
            if not newid or not topics or len(body.split()) < min_words:
                continue
            # wire bodies are hard-wrapped; paragraphs start with an indented line
            paras = [" ".join(p.split()) for p in re.split(r"\n\s{2,}|\n\s*\n", body)]
            text = "\n\n".join(p for p in paras if p)
            key = " ".join(text.split())
            if key in seen:
                continue
            seen.add(key)
            title = " ".join(html.unescape(_tag(block, "TITLE")).split())
            out.append(Article(f"reuters/{newid.group(1)}", title, text, topics[0], "reuters"))
    return out


def load_msrp(split: str, data: str | Path | None = None) -> list[tuple[str, str, int]]:
    """MSRP sentence pairs ``(s1, s2, label)`` for ``split`` ``train`` or ``test``."""
    path = _root(data) / "msrp" / f"msr_paraphrase_{split}.txt"
    if not path.is_file():
        raise FileNotFoundError(f"MSRP corpus not found at {path}")
    rows = []
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
        next(reader)
        for row in reader:
            if len(row) >= 5:
                rows.append((row[3], row[4], int(row[0])))
    return rows

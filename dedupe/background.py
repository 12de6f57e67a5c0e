"""The background term table: how common each (stemmed) word is in ordinary news text.

The rewrite candidate view keeps each document's most *distinctive* words, which needs to know
what is common.  Computing that from the run itself would make a document's signature depend on
the other documents (and change as a streaming index grows), so dedupe ships a fixed table,
built once from public news corpora by a reproducible command::

    python -m dedupe.background build ../shared/data --output dedupe/resources/background.tsv.gz

The file is a gzip'd TSV: a header ``#dedupe-background<TAB>v1<TAB>N=<documents>``, then one
``term<TAB>document-frequency`` line per stemmed term seen in at least 2 documents.  Its content
hash is part of the settings fingerprint, so signatures made with another table are refused.
"""

from __future__ import annotations

import gzip
import hashlib
import math
from functools import lru_cache
from importlib import resources

from dedupe.errors import ConfigError

FORMAT = "#dedupe-background"
VERSION = "v1"


class Background:
    """Document frequencies of stemmed terms; :meth:`idf` for unknown terms is the maximum."""

    def __init__(self, n_docs: int, df: dict[str, int], digest: str = "custom"):
        self.n_docs = max(1, int(n_docs))
        self.df = df
        self.digest = digest
        self._max_idf = math.log((self.n_docs + 1) / 1.0) + 1.0

    def idf(self, term: str) -> float:
        freq = self.df.get(term)
        if freq is None:
            return self._max_idf
        return math.log((self.n_docs + 1) / (freq + 1)) + 1.0


def parse_background(data: bytes, digest: str | None = None) -> Background:
    text = gzip.decompress(data).decode("utf-8")
    lines = text.split("\n")
    head = lines[0].split("\t")
    if len(head) != 3 or head[0] != FORMAT or not head[2].startswith("N="):
        raise ConfigError("background table has no dedupe header; rebuild it with "
                          "'python -m dedupe.background build'")
    if head[1] != VERSION:
        raise ConfigError(f"background table version {head[1]} is not supported (expected {VERSION})")
    df: dict[str, int] = {}
    for line in lines[1:]:
        if line:
            term, _, freq = line.rpartition("\t")
            df[term] = int(freq)
    return Background(int(head[2][2:]), df, digest or hashlib.sha256(data).hexdigest()[:16])


@lru_cache(maxsize=1)
def load_background() -> Background:
    """The table shipped in the package (read once per process; immutable)."""
    ref = resources.files("dedupe").joinpath("resources/background.tsv.gz")
    try:
        data = ref.read_bytes()
    except FileNotFoundError:  # pragma: no cover - broken install
        raise ConfigError("the shipped background table is missing; reinstall dedupe") from None
    return parse_background(data)


def build_background(texts, min_df: int = 2) -> bytes:
    """Count stemmed content terms per document over an iterable of raw texts."""
    from collections import Counter

    from dedupe.normalize import normalize_text
    from dedupe.shingle import Shingler

    shingler = Shingler(background=Background(1, {}))
    df: Counter = Counter()
    n = 0
    for raw in texts:
        n += 1
        toks = shingler.tokens(normalize_text(raw))
        df.update(set(shingler.content_terms(toks)))
    rows = [f"{FORMAT}\t{VERSION}\tN={n}"]
    rows += [f"{t}\t{c}" for t, c in sorted(df.items()) if c >= min_df and "\t" not in t and "\n" not in t]
    return gzip.compress(("\n".join(rows) + "\n").encode("utf-8"), mtime=0)


def _corpus_texts(root):
    """Raw texts of the BBC and Reuters corpora under ``root`` (the shared data folder)."""
    import html
    import re
    from pathlib import Path

    root = Path(root)
    for path in sorted((root / "bbc-news" / "bbc").glob("*/*.txt")):
        yield path.read_bytes().decode("utf-8", errors="replace")
    for path in sorted((root / "reuters21578").glob("reut2-*.sgm")):
        raw = path.read_text(encoding="latin-1")
        for body in re.findall(r"<BODY>(.*?)</BODY>", raw, re.S):
            yield html.unescape(body)


def main(argv=None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m dedupe.background",
                                     description="Build the background term table.")
    sub = parser.add_subparsers(dest="cmd", required=True)
    build = sub.add_parser("build", help="count document frequencies in the BBC and Reuters corpora")
    build.add_argument("data", help="folder holding bbc-news/ and reuters21578/")
    build.add_argument("--output", default="dedupe/resources/background.tsv.gz")
    args = parser.parse_args(argv)
    data = build_background(_corpus_texts(args.data))
    with open(args.output, "wb") as fh:
        fh.write(data)
    table = parse_background(data)
    print(f"wrote {args.output}: {len(table.df)} terms from {table.n_docs} documents, digest {table.digest}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())

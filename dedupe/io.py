"""Readers: files, directories, JSONL, CSV (plain or gzip'd) and standard input -> Documents.

Ids
    a file's id is its path relative to the directory given on the command line, without
    extension (``politics/042`` for ``corpus/politics/042.txt``); a file named directly gets its
    name without extension; a JSONL/CSV record's id is its id field.

Directories
    walked recursively in name order; hidden files and folders, files of other types and those
    matching an ``exclude`` glob (by name or by path relative to the directory; ``--exclude``)
    are skipped.

Bad input
    every problem (unreadable, empty or binary file, malformed JSONL line or CSV row, missing
    field, duplicate id) becomes an :class:`~dedupe.errors.InputError` naming the file and line.
    With ``on_error="skip"`` (the default) the record is skipped, the problem is kept in
    :attr:`DocumentReader.problems` and reading goes on, so nothing already read is lost; with
    ``on_error="fail"`` the first problem is raised.  Text that is not valid UTF-8 is decoded as
    Windows-1252/Latin-1 with a warning; a document longer than ``max_chars`` is cut, with a
    warning.
"""

from __future__ import annotations

import csv
import fnmatch
import gzip
import html
import io
import json
import os
import sys
import zlib
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import IO, Iterable, Iterator

from dedupe.errors import ConfigError, InputError
from dedupe.model import Document

TEXT_SUFFIXES = (".txt", ".md", ".text", ".markdown")
HTML_SUFFIXES = (".html", ".htm", ".xhtml")
RECORD_SUFFIXES = (".jsonl", ".ndjson", ".csv", ".tsv")
FILE_SUFFIXES = TEXT_SUFFIXES + HTML_SUFFIXES


@dataclass(frozen=True)
class Fields:
    """Which record fields hold what (JSONL and CSV)."""

    id: str = "id"
    text: str = "text"
    title: str | None = None
    date: str | None = None
    source: str | None = None


class DocumentReader:
    """Reads documents from paths; collects or raises problems according to ``on_error``.

    >>> reader = DocumentReader(on_error="skip")
    >>> docs = list(reader.read(["samples/xiaomi-leica"]))          # doctest: +SKIP
    >>> reader.problems, reader.warnings                              # doctest: +SKIP
    """

    def __init__(self, fields: Fields | None = None, on_error: str = "skip",
                 max_chars: int = 2_000_000, input_format: str | None = None, stdin: IO[bytes] | None = None,
                 exclude: Iterable[str] = ()):
        if on_error not in ("skip", "fail"):
            raise ConfigError(f"on_error must be 'skip' or 'fail', not {on_error!r}")
        if input_format not in (None, "jsonl", "csv", "text", "html"):
            raise ConfigError(f"unknown input format {input_format!r}")
        self.fields = fields or Fields()
        self.on_error = on_error
        self.max_chars = max_chars
        self.input_format = input_format
        self.stdin = stdin
        #: glob patterns: files and folders met while walking a directory are skipped when their
        #: name or their path relative to that directory matches one (``README*``, ``labels``,
        #: ``drafts/*.txt``); paths named directly are always read
        self.exclude = tuple(exclude)
        self.problems: list[InputError] = []
        self.warnings: list[str] = []
        self._seen: dict[str, str] = {}

    # -- problem handling -------------------------------------------------------------------
    def _problem(self, message: str, source: str, line: int | None = None, hint: str | None = None) -> None:
        err = InputError(message, source=source, line=line, hint=hint)
        if self.on_error == "fail":
            raise err
        self.problems.append(err)

    def _warn(self, message: str, source: str, line: int | None = None) -> None:
        where = source if line is None else f"{source}:{line}"
        self.warnings.append(f"{where}: {message}")

    # -- entry points -----------------------------------------------------------------------
    def read(self, paths: Iterable[str | os.PathLike]) -> Iterator[Document]:
        """Documents from each path in turn (``-`` is standard input)."""
        for raw in paths:
            path = str(raw)
            if path == "-":
                yield from self._read_stdin()
                continue
            p = Path(path)
            if p.is_dir():
                yield from self._read_dir(p)
            elif p.is_file():
                yield from self._read_path(p, _strip_suffixes(p.name), path)
            else:
                self._problem("no such file or directory", path, hint="check the path")

    def _accept(self, doc: Document, source: str, line: int | None) -> Document | None:
        first = self._seen.get(doc.id)
        if first is not None:
            self._problem(f"duplicate id {doc.id!r} (first seen at {first})", source, line,
                          hint="ids must be unique; choose another --id-field or rename the file")
            return None
        if not doc.text.strip():
            self._problem("empty document", source, line, hint="it has no text to compare")
            return None
        if len(doc.text) > self.max_chars:
            self._warn(f"document {doc.id!r} has {len(doc.text):,} characters; only the first "
                       f"{self.max_chars:,} are used", source, line)
            doc = Document(doc.id, doc.text[: self.max_chars], doc.title, doc.date, doc.source, doc.origin, doc.extra)
        self._seen[doc.id] = doc.origin or source
        return doc

    # -- directories and files --------------------------------------------------------------
    def _read_dir(self, root: Path) -> Iterator[Document]:
        found = 0
        for dirpath, dirnames, filenames in os.walk(root):
            here = Path(dirpath)
            dirnames[:] = sorted(d for d in dirnames
                                 if not d.startswith(".") and not self._excluded(d, (here / d).relative_to(root)))
            for name in sorted(filenames):
                if name.startswith("."):
                    continue
                p = here / name
                kind = _kind(p)
                if kind is None or self._excluded(name, p.relative_to(root)):
                    continue
                found += 1
                rel = p.relative_to(root).as_posix()
                yield from self._read_path(p, _strip_suffixes(rel), str(p))
        if not found:
            self._problem("no documents found", str(root),
                          hint="a directory is searched recursively for .txt, .md, .html, .jsonl and "
                               ".csv files, optionally gzip'd" + (", not matching --exclude" if self.exclude else ""))

    def _excluded(self, name: str, rel: Path) -> bool:
        return any(fnmatch.fnmatch(name, pat) or fnmatch.fnmatch(rel.as_posix(), pat) for pat in self.exclude)

    def _read_path(self, p: Path, doc_id: str, label: str) -> Iterator[Document]:
        kind = self.input_format or _kind(p) or "text"
        try:
            data = p.read_bytes()
        except OSError as exc:
            self._problem(f"cannot read: {exc.strerror or exc}", label)
            return
        if p.suffix.lower() == ".gz":
            try:
                data = gzip.decompress(data)
            except (OSError, EOFError, zlib.error) as exc:
                self._problem(f"not a valid gzip file ({exc})", label)
                return
        yield from self._read_bytes(data, kind, doc_id, label)

    def _read_stdin(self) -> Iterator[Document]:
        stream = self.stdin if self.stdin is not None else sys.stdin.buffer
        data = stream.read()
        if data[:2] == b"\x1f\x8b":
            try:
                data = gzip.decompress(data)
            except (OSError, EOFError, zlib.error) as exc:
                self._problem(f"not a valid gzip stream ({exc})", "<stdin>")
                return
        yield from self._read_bytes(data, self.input_format or "jsonl", "stdin", "<stdin>")

    def _read_bytes(self, data: bytes, kind: str, doc_id: str, label: str) -> Iterator[Document]:
        if kind in ("text", "html"):
            if b"\x00" in data[:8192]:
                self._problem("binary file, not text", label, hint="only text, HTML, JSONL and CSV are read")
                return
            text = self._decode(data, label)
            title = None
            if kind == "html":
                title, text = html_to_text(text)
            else:
                title = guess_title(text)
            doc = self._accept(Document(doc_id, text, title, origin=label), label, None)
            if doc is not None:
                yield doc
        elif kind == "jsonl":
            yield from self._read_jsonl(data, label)
        elif kind in ("csv", "tsv"):
            yield from self._read_csv(data, label, "\t" if kind == "tsv" else ",")
        else:  # pragma: no cover - guarded by _kind
            raise ConfigError(f"unknown input kind {kind}")

    def _decode(self, data: bytes, label: str, line: int | None = None) -> str:
        if data.startswith(b"\xef\xbb\xbf"):
            data = data[3:]
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            self._warn(f"not valid UTF-8 (byte {exc.start}); decoded as Windows-1252/Latin-1", label, line)
            try:
                return data.decode("cp1252")
            except UnicodeDecodeError:
                return data.decode("latin-1")

    # -- records ----------------------------------------------------------------------------
    def _record(self, rec: dict, label: str, line: int) -> Document | None:
        f = self.fields
        if f.id not in rec or rec[f.id] in (None, ""):
            self._problem(f"record has no {f.id!r} field", label, line, hint="set --id-field")
            return None
        if f.text not in rec or rec[f.text] is None:
            self._problem(f"record has no {f.text!r} field", label, line, hint="set --text-field")
            return None
        text = rec[f.text]
        if not isinstance(text, str):
            self._problem(f"field {f.text!r} is not a string", label, line)
            return None
        def opt(name):
            if name is None or rec.get(name) in (None, ""):
                return None
            return str(rec[name])
        extra = {k: v for k, v in rec.items() if k not in (f.id, f.text)}
        doc = Document(str(rec[f.id]), text, opt(f.title), opt(f.date), opt(f.source),
                       origin=f"{label}:{line}", extra=extra)
        return self._accept(doc, label, line)

    def _read_jsonl(self, data: bytes, label: str) -> Iterator[Document]:
        for n, raw in enumerate(data.split(b"\n"), start=1):
            if not raw.strip():
                continue
            line = self._decode(raw, label, n)
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                self._problem(f"malformed JSON ({exc.msg} at column {exc.colno})", label, n,
                              hint="each line must be one JSON object")
                continue
            if not isinstance(rec, dict):
                self._problem("JSON line is not an object", label, n, hint="each line must be one JSON object")
                continue
            doc = self._record(rec, label, n)
            if doc is not None:
                yield doc

    def _read_csv(self, data: bytes, label: str, delimiter: str) -> Iterator[Document]:
        text = self._decode(data, label)
        csv.field_size_limit(max(self.max_chars * 4, 1 << 20))
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        try:
            header = next(reader)
        except StopIteration:
            self._problem("empty CSV file", label)
            return
        except csv.Error as exc:
            self._problem(f"malformed CSV header ({exc})", label, 1)
            return
        if self.fields.text not in header:
            self._problem(f"CSV header has no {self.fields.text!r} column (columns: {', '.join(header)})",
                          label, 1, hint="set --text-field")
            return
        while True:
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                self._problem(f"malformed CSV row ({exc})", label, reader.line_num)
                continue
            if not row or all(not c.strip() for c in row):
                continue
            if len(row) != len(header):
                self._problem(f"CSV row has {len(row)} fields, the header has {len(header)}", label,
                              reader.line_num, hint="quote fields that contain the delimiter")
                continue
            doc = self._record(dict(zip(header, row)), label, reader.line_num)
            if doc is not None:
                yield doc


def read_documents(paths, fields: Fields | None = None, on_error: str = "skip", **kwargs) -> list[Document]:
    """Read every document under ``paths``; see :class:`DocumentReader` for options."""
    return list(DocumentReader(fields, on_error, **kwargs).read(paths))


def _strip_suffixes(name: str) -> str:
    if name.lower().endswith(".gz"):
        name = name[:-3]
    stem, dot, suffix = name.rpartition(".")
    return stem if dot and ("." + suffix.lower()) in FILE_SUFFIXES + RECORD_SUFFIXES else name


def _kind(p: Path) -> str | None:
    name = p.name.lower()
    if name.endswith(".gz"):
        name = name[:-3]
    suffix = "." + name.rsplit(".", 1)[-1] if "." in name else ""
    if suffix in TEXT_SUFFIXES:
        return "text"
    if suffix in HTML_SUFFIXES:
        return "html"
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    if suffix == ".csv":
        return "csv"
    if suffix == ".tsv":
        return "tsv"
    return None


def guess_title(text: str) -> str | None:
    """The first line, when it looks like a headline (short, no final full stop)."""
    for line in text[:2000].split("\n")[:20]:
        line = line.strip().lstrip("#").strip()
        if not line or line.count(" > ") >= 2 or line.count(" » ") >= 2:  # blank or breadcrumb
            continue
        low = line.lower()
        if "reading time" in low or low.endswith(("min read", "minute read")):
            continue
        if len(line.split()) <= 20 and not line.endswith((".", ":", ";", ",")):
            return line
        return None
    return None


_BLOCK = {"p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "section", "article",
          "header", "footer", "blockquote", "pre", "ul", "ol", "table", "figure", "figcaption"}
_SKIP = {"script", "style", "noscript", "nav", "aside", "form", "svg", "iframe", "template"}


class _TextExtractor(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title: list[str] = []
        self.h1: list[str] = []
        self._skip = 0
        self._in_title = False
        self._in_h1 = False

    def handle_starttag(self, tag, attrs):
        if tag in _SKIP:
            self._skip += 1
        elif tag == "title":
            self._in_title = True
        elif tag == "h1":
            self._in_h1 = True
        if tag in _BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in _SKIP and self._skip:
            self._skip -= 1
        elif tag == "title":
            self._in_title = False
        elif tag == "h1":
            self._in_h1 = False
        if tag in _BLOCK:
            self.parts.append("\n")

    def handle_data(self, data):
        if self._in_title:
            self.title.append(data)
            return
        if self._skip:
            return
        if self._in_h1:
            self.h1.append(data)
        self.parts.append(data)


def html_to_text(markup: str) -> tuple[str | None, str]:
    """``(title, text)`` of an HTML page: ``<title>`` (or the first ``<h1>``) and the visible
    text with one paragraph per block element; scripts, styles, navigation and forms dropped.
    With the ``html`` extra installed (trafilatura), its main-content extraction is used."""
    try:  # optional, better boilerplate removal
        import trafilatura  # type: ignore
    except ImportError:
        trafilatura = None
    parser = _TextExtractor()
    parser.feed(markup)
    parser.close()
    title = " ".join("".join(parser.title).split()) or " ".join("".join(parser.h1).split()) or None
    text = None
    if trafilatura is not None:
        text = trafilatura.extract(markup, include_comments=False)
    if not text:
        lines = (" ".join(chunk.split()) for chunk in "".join(parser.parts).split("\n"))
        text = "\n".join(line for line in lines if line)
    return title, html.unescape(text) if "&" in text else text

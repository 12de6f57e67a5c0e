"""The ``dedupe`` command: a thin layer over the library (the only module that imports click).

Results go to stdout (or ``--output``), warnings, progress and errors to stderr.  Exit codes:
0 success, 1 a fatal error (bad input with ``--on-error fail``, nothing readable, bad settings),
2 a usage error (click's own), 130 interrupted.
"""

from __future__ import annotations

import functools
import os
import sys
import time
from pathlib import Path

import click

from dedupe import __version__
from dedupe.config import Config
from dedupe.errors import DedupeError
from dedupe.io import DocumentReader, Fields
from dedupe.pipeline import Deduplicator
from dedupe.report import FORMATS, render


class Progress:
    """A one-line progress bar on stderr, shown only on a terminal and only once a run has taken
    longer than ``delay`` seconds (short runs and pipelines stay quiet)."""

    def __init__(self, enabled: bool | None = None, delay: float = 2.0, stream=None):
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.delay = 0.0 if enabled else delay
        self.start = time.monotonic()
        self.drawn = False
        self._last = 0.0

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self.start < self.delay or (now - self._last < 0.1 and done < total):
            return
        self._last = now
        width = 30
        frac = done / total if total else 1.0
        bar = "#" * int(frac * width) + "-" * (width - int(frac * width))
        self.stream.write(f"\r{stage:<10} [{bar}] {done:>9,}/{total:,}")
        self.stream.flush()
        self.drawn = True

    def close(self) -> None:
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    raise SystemExit(1)


def handle_errors(func):
    """Turn DedupeError into a one-line message and exit code 1, never a traceback."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except DedupeError as exc:
            _fail(str(exc))
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            raise SystemExit(130)
        except BrokenPipeError:
            # the reader of our stdout went away (| head): not an error of ours
            try:
                sys.stdout = open(os.devnull, "w")
            finally:
                raise SystemExit(0)

    return wrapper


def input_options(func):
    """Options shared by every command that reads documents."""
    options = [
        click.argument("paths", nargs=-1, required=True, type=click.Path(allow_dash=True)),
        click.option("--id-field", default="id", show_default=True, help="JSONL/CSV field holding the document id."),
        click.option("--text-field", default="text", show_default=True, help="JSONL/CSV field holding the text."),
        click.option("--title-field", default=None, help="JSONL/CSV field holding the headline."),
        click.option("--date-field", default=None, help="JSONL/CSV field holding the publication date."),
        click.option("--source-field", default=None, help="JSONL/CSV field naming the outlet."),
        click.option("--input-format", type=click.Choice(["jsonl", "csv", "text", "html"]), default=None,
                     help="Read every input as this format (default: by extension; stdin is JSONL)."),
        click.option("--on-error", type=click.Choice(["skip", "fail"]), default="skip", show_default=True,
                     help="Bad records: skip them and report at the end, or stop at the first."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def read_inputs(paths, id_field, text_field, title_field, date_field, source_field, input_format, on_error,
                max_chars: int):
    reader = DocumentReader(Fields(id_field, text_field, title_field, date_field, source_field),
                            on_error=on_error, max_chars=max_chars, input_format=input_format)
    docs = list(reader.read(paths))
    return docs, reader


def report_problems(reader: DocumentReader, total: int) -> None:
    for warning in reader.warnings:
        click.echo(f"warning: {warning}", err=True)
    for problem in reader.problems:
        click.echo(f"skipped: {problem}", err=True)
    if reader.problems:
        click.echo(f"dedupe: skipped {len(reader.problems)} bad input(s); {total} document(s) read", err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="dedupe")
def main():
    """Find copies, near-copies and rewrites of the same news story.

    \b
    dedupe cluster DIR            group a pile of articles into stories
    dedupe cluster a.jsonl -f csv -o stories.csv
    """


@main.command("cluster")
@input_options
@click.option("--threshold", type=click.FloatRange(0.0, 1.0, min_open=True), default=None,
              help="Similarity needed to link two documents (default 0.1; 0.5+ keeps only near-copies).")
@click.option("--format", "-f", "fmt", type=click.Choice(FORMATS), default=None,
              help="Output format [default: table; with --output, from the file's extension].")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write the result to FILE (the table still goes to stdout).")
@click.option("--progress/--no-progress", default=None, help="Force the progress bar on or off.")
@handle_errors
def cluster_cmd(paths, id_field, text_field, title_field, date_field, source_field, input_format, on_error,
                threshold, fmt, output, progress):
    """Group the documents under PATHS into stories.

    PATHS are files, directories (searched recursively for .txt, .md, .html, .jsonl and .csv,
    optionally .gz), or - for JSONL on standard input.  Every document lands in exactly one
    cluster; one standing alone is a cluster of size 1.
    """
    config = Config()
    if threshold is not None:
        config = config.with_(**{"verify.threshold": threshold})
    out_fmt = fmt
    if output and out_fmt is None:
        suffix = Path(output).suffix.lower().lstrip(".")
        if suffix not in ("json", "jsonl", "csv"):
            raise click.UsageError(f"cannot tell the format of {output!r} from its extension; use --format")
        out_fmt = suffix
    docs, reader = read_inputs(paths, id_field, text_field, title_field, date_field, source_field,
                               input_format, on_error, config.max_chars)
    if not docs:
        report_problems(reader, 0)
        _fail("no documents to cluster")
    bar = Progress(progress)
    try:
        result = Deduplicator(config, progress=bar).run(docs)
    finally:
        bar.close()
    report_problems(reader, len(docs))
    if output:
        Path(output).write_text(render(result, out_fmt), encoding="utf-8")
        click.echo(render(result, "table"), nl=False)
        click.echo(f"wrote {out_fmt} for {len(result.documents)} documents to {output}", err=True)
    else:
        click.echo(render(result, out_fmt or "table"), nl=False)


# -- classify (issue 4): original reporting or syndication -----------------------------------------
@main.command("classify")
@input_options
@click.option("--format", "-f", "fmt", type=click.Choice(FORMATS), default="table", show_default=True,
              help="Output format: a table grouped by story, or one record per document (json, jsonl, csv).")
@click.option("--model", "model_path", type=click.Path(dir_okay=False), default=None,
              help="A syndication model file (default: the one shipped with dedupe).")
@click.option("--progress/--no-progress", default=None, help="Force the progress bar on or off.")
@handle_errors
def classify_cmd(paths, id_field, text_field, title_field, date_field, source_field, input_format, on_error,
                 fmt, model_path, progress):
    """Say for each document under PATHS whether it is original reporting or syndication.

    \b
    Each document gets: label (original | syndicated), relation to its source (duplicate |
    rewrite | same-source, for syndicated ones), source (the document of the input it most
    likely came from), confidence (0..1) and the reasons behind the verdict.  The table groups
    documents by story, originals first, with an arrow to each copy's source.  Publication dates
    (--date-field) help when present; the verdicts work without them.
    """
    from dedupe.classify import SyndicationModel
    from dedupe.pipeline import classify_result
    from dedupe.report import render_verdicts

    config = Config()
    model = SyndicationModel.load(model_path, config)
    docs, reader = read_inputs(paths, id_field, text_field, title_field, date_field, source_field,
                               input_format, on_error, config.max_chars)
    if not docs:
        report_problems(reader, 0)
        _fail("no documents to classify")
    bar = Progress(progress)
    try:
        deduplicator = Deduplicator(config, progress=bar)
        result = deduplicator.run(docs)
        verdicts = classify_result(result, config, model, deduplicator.shingler)
    finally:
        bar.close()
    report_problems(reader, len(docs))
    click.echo(render_verdicts(verdicts, fmt, result.documents), nl=False)
# -- end classify (issue 4) --------------------------------------------------------------------------


if __name__ == "__main__":  # pragma: no cover
    main()

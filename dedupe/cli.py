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
@click.option("--output", "-o", type=click.Path(writable=True), default=None,
              help="Write the result to FILE (the table still goes to stdout).")
@click.option("--progress/--no-progress", default=None, help="Force the progress bar on or off.")
@click.option("--engine", type=click.Choice(["local", "spark"]), default="local", show_default=True,
              help="Run here, or on Apache Spark (needs the spark extra and Java 17); both give the same "
                   "clusters.  With spark, Parquet and JSONL inputs are read by Spark, and an --output "
                   "ending in .parquet or .jsonl is written by Spark as a directory of part files.")
@click.option("--master", default=None, metavar="URL",
              help="Spark master for --engine spark, e.g. local[2] or spark://host:7077 [default: local[*]].")
@handle_errors
def cluster_cmd(paths, id_field, text_field, title_field, date_field, source_field, input_format, on_error,
                threshold, fmt, output, progress, engine, master):
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
        if suffix not in ("json", "jsonl", "csv") + (("parquet",) if engine == "spark" else ()):
            raise click.UsageError(f"cannot tell the format of {output!r} from its extension; use --format")
        out_fmt = suffix
    if master and engine != "spark":
        raise click.UsageError("--master needs --engine spark")
    if output and Path(output).is_dir() and out_fmt not in ("parquet", "jsonl") or (
            output and engine == "local" and Path(output).is_dir()):
        raise click.UsageError(f"{output!r} is a directory")
    if engine == "spark":
        return _cluster_on_spark(paths, Fields(id_field, text_field, title_field, date_field, source_field),
                                 input_format, on_error, config, out_fmt, output, master)
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


def _cluster_on_spark(paths, fields, input_format, on_error, config, out_fmt, output, master):
    from types import SimpleNamespace

    from dedupe.spark import cluster_paths

    run = cluster_paths(paths, fields, config, on_error=on_error, input_format=input_format, master=master,
                        output=output if out_fmt in ("parquet", "jsonl") else None)
    report_problems(SimpleNamespace(warnings=run.warnings, problems=run.problems), run.n_docs)
    if run.result is None:  # written by Spark: a summary, not a table of every document
        click.echo(run.summary)
        click.echo(f"wrote {run.written} for {run.n_docs} documents to {output} (a Spark output directory)",
                   err=True)
    elif output:
        Path(output).write_text(render(run.result, out_fmt), encoding="utf-8")
        click.echo(render(run.result, "table"), nl=False)
        click.echo(f"wrote {out_fmt} for {run.n_docs} documents to {output}", err=True)
    else:
        click.echo(render(run.result, out_fmt or "table"), nl=False)


if __name__ == "__main__":  # pragma: no cover
    main()

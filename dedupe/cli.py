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


def field_options(func):
    """The record-field, input-format and error-policy options of every command that reads documents."""
    options = [
        click.option("--id-field", default="id", show_default=True, help="JSONL/CSV field holding the document id."),
        click.option("--text-field", default="text", show_default=True, help="JSONL/CSV field holding the text."),
        click.option("--title-field", default=None, help="JSONL/CSV field holding the headline."),
        click.option("--date-field", default=None, help="JSONL/CSV field holding the publication date."),
        click.option("--source-field", default=None, help="JSONL/CSV field naming the outlet."),
        click.option("--input-format", type=click.Choice(["jsonl", "csv", "text", "html"]), default=None,
                     help="Read every input as this format (default: by extension; stdin is JSONL)."),
        click.option("--on-error", type=click.Choice(["skip", "fail"]), default="skip", show_default=True,
                     help="Bad records: skip them and report at the end, or stop at the first."),
        click.option("--exclude", multiple=True, metavar="GLOB", expose_value=False, callback=_keep_exclude,
                     help="In a directory, skip files and folders whose name or path relative to it "
                          "matches GLOB (repeatable), e.g. --exclude 'README*' --exclude labels."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _keep_exclude(ctx, param, value):
    """--exclude is kept in the command's context (read by :func:`read_inputs`), so the commands
    do not each take and pass it on."""
    ctx.meta["dedupe.exclude"] = tuple(value)
    return value


def _exclude() -> tuple[str, ...]:
    ctx = click.get_current_context(silent=True)
    return ctx.meta.get("dedupe.exclude", ()) if ctx is not None else ()


def input_options(func):
    """PATHS (one or more) and :func:`field_options`."""
    return click.argument("paths", nargs=-1, required=True, type=click.Path(allow_dash=True))(field_options(func))


def read_inputs(paths, id_field, text_field, title_field, date_field, source_field, input_format, on_error,
                max_chars: int):
    reader = DocumentReader(Fields(id_field, text_field, title_field, date_field, source_field),
                            on_error=on_error, max_chars=max_chars, input_format=input_format,
                            exclude=_exclude())
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
    dedupe explain A.txt B.txt    why two articles are (not) the same story
    dedupe evaluate --labels labels.csv DIR
    """


def engine_options(same: str):
    """``--engine local|spark`` and ``--master`` (``same``: what both engines give, and more)."""
    def decorate(f):
        f = click.option("--master", default=None, metavar="URL",
                         help="Spark master for --engine spark, e.g. local[2] or spark://host:7077 "
                              "[default: local[*]].")(f)
        return click.option("--engine", type=click.Choice(["local", "spark"]), default="local", show_default=True,
                            help="Run here, or on Apache Spark (needs the spark extra and Java 17); both give "
                                 f"the same {same}")(f)
    return decorate


@main.command("cluster")
@input_options
@click.option("--threshold", type=click.FloatRange(0.0, 1.0, min_open=True), default=None,
              help="Similarity needed to link two documents (default 0.1). Learned verifier: P(duplicate) + "
                   "P(rewrite) + P(same-source)/2, 0.9+ keeps confident copies; rule: containment, 0.5+ keeps only "
                   "near-copies.")
@click.option("--format", "-f", "fmt", type=click.Choice(FORMATS), default=None,
              help="Output format [default: table; with --output, from the file's extension].")
@click.option("--output", "-o", type=click.Path(writable=True), default=None,
              help="Write the result to FILE (the table still goes to stdout).")
@click.option("--progress/--no-progress", default=None, help="Force the progress bar on or off.")
@click.option("--verifier", type=click.Choice(["learned", "rule"]), default=None,
              help="How candidate pairs are verified: the shipped pair model or the containment rule "
                   "[default: Config().verify.method, learned].")
@engine_options("clusters.  With spark, Parquet and JSONL inputs are read by Spark, and an --output "
                "ending in .parquet or .jsonl is written by Spark as a directory of part files.")
@handle_errors
def cluster_cmd(paths, id_field, text_field, title_field, date_field, source_field, input_format, on_error,
                threshold, fmt, output, progress, verifier, engine, master):
    """Group the documents under PATHS into stories.

    PATHS are files, directories (searched recursively for .txt, .md, .html, .jsonl and .csv,
    optionally .gz), or - for JSONL on standard input.  Every document lands in exactly one
    cluster; one standing alone is a cluster of size 1.
    """
    config = _with_verifier(Config(), verifier)
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


# ---------------------------------------------------------------------------------------------
# issue 3: explain and evaluate
# ---------------------------------------------------------------------------------------------
def _with_verifier(config: Config, verifier: str | None) -> Config:
    return config if verifier is None else config.with_(**{"verify.method": verifier})


@main.command("explain")
@click.argument("a")
@click.argument("b")
@click.argument("paths", nargs=-1, type=click.Path(allow_dash=True))
@field_options
@click.option("--format", "-f", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="Output format.")
@click.option("--min-similarity", type=click.FloatRange(0.0, 1.0), default=0.3, show_default=True,
              help="Smallest sentence similarity (Dice of stemmed content words) shown as an aligned passage.")
@click.option("--width", type=click.IntRange(40, 400), default=None, help="Width of the side-by-side table.")
@click.option("--verifier", type=click.Choice(["learned", "rule"]), default=None,
              help="Whose verdict heads the report (the rule's measures and the model's evidence are always "
                   "shown) [default: Config().verify.method, learned].")
@click.option("--color/--no-color", default=None, help="Highlight shared words in colour (default: on a terminal).")
@handle_errors
def explain_cmd(a, b, paths, id_field, text_field, title_field, date_field, source_field, input_format, on_error,
                fmt, min_similarity, width, color, verifier):
    """Explain why documents A and B are (or are not) the same story.

    \b
    dedupe explain one.txt two.txt             A and B are files
    dedupe explain ID1 ID2 corpus.jsonl DIR    A and B are ids in the inputs PATHS

    Prints the verdict (duplicate, rewrite, same-source or unrelated, with probabilities), the
    features that drove it and the aligned passages: each sentence of A beside the closest
    sentence of B, shared words in [brackets].
    """
    import json as _json

    from dedupe.explain import explain_pair, render_text

    config = _with_verifier(Config(), verifier)
    if paths:
        docs, reader = read_inputs(paths, id_field, text_field, title_field, date_field, source_field,
                                   input_format, on_error, config.max_chars)
        report_problems(reader, len(docs))
        by_id = {d.id: d for d in docs}
        missing = [x for x in (a, b) if x not in by_id]
        if missing:
            _fail(f"no document with id {missing[0]!r} in {', '.join(paths)} (ids look like {next(iter(by_id), '?')!r})")
        da, db = by_id[a], by_id[b]
    else:
        docs, reader = read_inputs([a, b], id_field, text_field, title_field, date_field, source_field,
                                   input_format, "fail", config.max_chars)
        if len(docs) != 2:
            _fail(f"A and B must be two files holding one document each (read {len(docs)}); "
                  "for records in JSONL/CSV give their ids and the file: dedupe explain ID1 ID2 FILE")
        da, db = docs
    ex = explain_pair(da, db, config, min_similarity=min_similarity)
    if fmt == "json":
        click.echo(_json.dumps(ex.to_dict(), ensure_ascii=False, indent=1))
    else:
        use_color = sys.stdout.isatty() if color is None else color
        term = width or min(160, max(80, _terminal_width()))
        click.echo(render_text(ex, width=term, color=use_color), nl=False)


def _terminal_width() -> int:
    import shutil

    return shutil.get_terminal_size((100, 24)).columns


@main.command("evaluate")
@click.option("--labels", "labels_path", required=True, type=click.Path(dir_okay=False),
              help="Gold clusters: CSV with header id,cluster[,relation] or JSONL {id, cluster, relation}.")
@input_options
@click.option("--verifier", type=click.Choice(["learned", "rule"]), default=None,
              help="How candidate pairs are verified: the shipped pair model or the containment rule "
                   "[default: Config().verify.method, learned].")
@click.option("--format", "-f", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True,
              help="Output format.")
@handle_errors
def evaluate_cmd(labels_path, paths, id_field, text_field, title_field, date_field, source_field, input_format,
                 on_error, verifier, fmt):
    """Cluster PATHS and score the result against gold labels.

    Prints the adjusted Rand index, pairwise precision, recall and F1 (pairs of documents put in
    one cluster) and, when the labels have a relation column, the recall of each relation.
    Documents without a label are clustered but not scored.
    """
    import json as _json

    from tabulate import tabulate

    from dedupe.metrics import evaluate, load_labels

    labels = load_labels(labels_path)
    config = _with_verifier(Config(), verifier)
    docs, reader = read_inputs(paths, id_field, text_field, title_field, date_field, source_field,
                               input_format, on_error, config.max_chars)
    if not docs:
        report_problems(reader, 0)
        _fail("no documents to evaluate")
    result = Deduplicator(config).run(docs)
    report_problems(reader, len(docs))
    predicted = {m.id: c.id for c in result.clusters for m in c.members}
    missing = [i for i in labels.cluster if i not in predicted]
    if len(missing) == len(labels.cluster):
        _fail(f"none of the {len(labels.cluster)} labelled ids is among the documents read "
              f"(labels have {next(iter(labels.cluster))!r}, documents {next(iter(predicted))!r})")
    if missing:
        click.echo(f"warning: {len(missing)} labelled id(s) not among the documents, e.g. {missing[0]!r}", err=True)
    ev = evaluate(labels, predicted)
    if ev.unlabelled:
        click.echo(f"warning: {ev.unlabelled} document(s) have no label and are not scored", err=True)
    if fmt == "json":
        out = {"documents": ev.n_docs, "ari": round(ev.ari, 6), "precision": round(ev.precision, 6),
               "recall": round(ev.recall, 6), "f1": round(ev.f1, 6), "true_pairs": ev.true_pairs,
               "predicted_pairs": ev.predicted_pairs,
               "relation_recall": {k: {"recall": round(r, 6), "pairs": n} for k, (r, n) in ev.relation_recall.items()}}
        click.echo(_json.dumps(out, indent=1))
    else:
        click.echo(tabulate(ev.rows(), headers=["metric", "value"], tablefmt="simple", disable_numparse=True))
# --------------------------------------------------------------------------- end of issue 3 section


# ---------------------------------------------------------------------------------------------
# Pre-ingest filter: `dedupe filter` and `dedupe index add|query|remove|stats|compact` (issue 5)
# ---------------------------------------------------------------------------------------------

INDEX_URL_HELP = ("Index URL: memory://, sqlite:///path/to/index.db (default backend; a plain file path "
                  "means the same) or redis://host:port/db.")


def _filter_config(threshold):
    config = Config()
    if threshold is not None:
        config = config.with_(**{"verify.threshold": threshold})
    return config


def _open_filter(url, threshold=None, mode="drop", window=None):
    from dedupe.pipeline.stream import StreamFilter

    return StreamFilter(url, _filter_config(threshold), mode=mode, window=window)


def _open_existing_index(url):
    """The filter over the index at ``url``; an error (not a new empty index) when there is none."""
    from dedupe.index.store import read_meta

    if read_meta(url) is None:
        raise DedupeError(f"no index at {url}", hint="create one with `dedupe index add` or `dedupe filter`")
    return _open_filter(url)


def _jsonl_records(stream, label, fields, on_error, problems):
    """``(line_number, raw_line, record, Document)`` for each good JSONL line of ``stream``, read
    lazily; bad lines are raised (fail) or collected in ``problems`` (skip)."""
    import json

    from dedupe.errors import InputError
    from dedupe.model import Document

    def bad(message, n, hint=None):
        err = InputError(message, source=label, line=n, hint=hint)
        if on_error == "fail":
            raise err
        problems.append(err)

    for n, raw in enumerate(stream, start=1):
        if not raw.strip():
            continue
        try:
            rec = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            msg = exc.msg if isinstance(exc, json.JSONDecodeError) else "not valid UTF-8"
            bad(f"malformed JSON ({msg})", n, "each line must be one JSON object")
            continue
        if not isinstance(rec, dict):
            bad("JSON line is not an object", n, "each line must be one JSON object")
            continue
        doc_id, text = rec.get(fields.id), rec.get(fields.text)
        if doc_id in (None, ""):
            bad(f"record has no {fields.id!r} field", n, "set --id-field")
            continue
        if not isinstance(text, str) or not text.strip():
            bad(f"record has no text in {fields.text!r}", n, "set --text-field")
            continue

        def opt(name):
            return None if name is None or rec.get(name) in (None, "") else str(rec[name])

        yield n, raw, rec, Document(str(doc_id), text, opt(fields.title), opt(fields.date), opt(fields.source),
                                    origin=f"{label}:{n}")


@main.command("filter")
@click.option("--index", "index_url", required=True, metavar="URL", help=INDEX_URL_HELP)
@click.option("--mode", type=click.Choice(["drop", "flag"]), default="drop", show_default=True,
              help="drop: write only new stories; flag: write every record with a \"dedupe\" verdict field.")
@click.option("--window", default=None, metavar="SPAN",
              help="Forget documents older than SPAN (e.g. 7d, 12h, 30m), by --date-field or insertion time.")
@click.option("--rejects", type=click.File("w", encoding="utf-8", lazy=True), default=None, metavar="FILE",
              help="In drop mode, write the dropped records (with their verdict) to FILE.")
@click.option("--output", "-o", type=click.File("w", encoding="utf-8", lazy=True), default="-",
              show_default=True, help="Where to write the records that pass.")
@click.option("--id-field", default="id", show_default=True, help="Field holding the document id.")
@click.option("--text-field", default="text", show_default=True, help="Field holding the text.")
@click.option("--title-field", default=None, help="Field holding the headline.")
@click.option("--date-field", default=None, help="Field holding the publication date (ISO 8601), for --window.")
@click.option("--threshold", type=click.FloatRange(0.0, 1.0, min_open=True), default=None,
              help="Similarity from which a document counts as seen before (default 0.1).")
@click.option("--batch", type=click.IntRange(1, 10000), default=64, show_default=True,
              help="Records checked per transaction (use 1 when records arrive one at a time).")
@click.option("--on-error", type=click.Choice(["skip", "fail"]), default="skip", show_default=True,
              help="Bad lines: skip them and report on stderr, or stop at the first (after writing the ones before).")
@click.argument("input_file", type=click.File("rb"), default="-", metavar="[INPUT]")
@handle_errors
def filter_cmd(index_url, mode, window, rejects, output, id_field, text_field, title_field, date_field,
               threshold, batch, on_error, input_file):
    """Pass through only the stories the index has not seen; remember the new ones.

    Reads JSONL (INPUT or standard input), checks each record against the index at --index and
    adds the new stories to it in the same atomic step, so several filters can share one index.
    New stories are written to standard output unchanged.  With --mode flag every record is
    written, with a "dedupe" field: {"decision": "keep"|"flag", "matches": [{"id", "relation",
    "similarity"}], "reason"}.  Running again on the same input after a crash gives the same
    output: a record already indexed under its id and text is kept, not reported as a copy of
    itself.

    \b
    dedupe filter --index sqlite:///seen.db < today.jsonl > new.jsonl
    dedupe filter --index redis://127.0.0.1:6379/0 --mode flag --window 7d --date-field published
    """
    import json

    flt = _open_filter(index_url, threshold, mode, window)
    fields = Fields(id_field, text_field, title_field, date_field)
    name = getattr(input_file, "name", "-")
    label = "<stdin>" if not isinstance(name, str) or name in ("<stdin>", "-") else name
    problems: list = []
    counts = {"read": 0, "keep": 0, "drop": 0, "flag": 0}
    pending: list = []

    def flush():
        verdicts = flt.check_and_add_many([p[3] for p in pending])
        for (_n, raw, rec, _doc), verdict in zip(pending, verdicts):
            counts[verdict.decision] += 1
            if mode == "flag":
                rec = dict(rec)
                rec["dedupe"] = verdict.to_dict()
                output.write(json.dumps(rec, ensure_ascii=False) + "\n")
            elif verdict.decision == "keep":
                line = raw.decode("utf-8").rstrip("\r\n")
                output.write(line + "\n")
            elif rejects is not None:
                rec = dict(rec)
                rec["dedupe"] = verdict.to_dict()
                rejects.write(json.dumps(rec, ensure_ascii=False) + "\n")
        output.flush()
        if rejects is not None:
            rejects.flush()
        pending.clear()

    try:
        if window:
            flt.evict()
        try:
            for item in _jsonl_records(input_file, label, fields, on_error, problems):
                counts["read"] += 1
                pending.append(item)
                if len(pending) >= batch:
                    flush()
        finally:
            if pending:
                flush()  # what was read before a bad line (--on-error fail) is not lost
    finally:
        flt.close()
    for problem in problems:
        click.echo(f"skipped: {problem}", err=True)
    seen = counts["drop"] + counts["flag"]
    click.echo(f"dedupe: {counts['read']} read, {counts['keep']} new, {seen} seen before "
               f"({'dropped' if mode == 'drop' else 'flagged'})"
               + (f", {len(problems)} bad line(s) skipped" if problems else ""), err=True)


@main.group("index")
def index_group():
    """Manage a filter index (URL: memory://, sqlite:///path.db or redis://host:port/db).

    \b
    dedupe index add sqlite:///seen.db archive/      seed an index from an archive
    dedupe index query sqlite:///seen.db new.jsonl   would these be new? (nothing is added)
    dedupe index remove sqlite:///seen.db ID...      forget documents
    dedupe index stats sqlite:///seen.db             size and age of the index
    dedupe index compact sqlite:///seen.db           reclaim space after removals
    """


@index_group.command("add")
@click.argument("url")
@input_options
@handle_errors
def index_add_cmd(url, paths, id_field, text_field, title_field, date_field, source_field, input_format,
                  on_error):
    """Add the documents under PATHS to the index at URL without checking them.

    For seeding an index from an archive; use `dedupe filter` to add only new stories.  A document
    whose id is already indexed is replaced.
    """
    flt = _open_filter(url)
    try:
        docs, reader = read_inputs(paths, id_field, text_field, title_field, date_field, source_field,
                                   input_format, on_error, flt.config.max_chars)
        report_problems(reader, len(docs))
        n = flt.add(docs)
        total = flt.store.count()
    finally:
        flt.close()
    click.echo(f"added {n} document(s) to {url}; it holds {total}")


@index_group.command("query")
@click.argument("url")
@input_options
@click.option("--threshold", type=click.FloatRange(0.0, 1.0, min_open=True), default=None,
              help="Similarity from which a document counts as seen before (default 0.1).")
@click.option("--format", "-f", "fmt", type=click.Choice(["table", "jsonl"]), default="table", show_default=True,
              help="table for people, jsonl for programs (one verdict per line).")
@handle_errors
def index_query_cmd(url, paths, id_field, text_field, title_field, date_field, source_field, input_format,
                    on_error, threshold, fmt):
    """Say, for each document under PATHS, whether the index at URL has seen its story.

    Nothing is added.  Decisions: keep (new, or already indexed under the same id and text) or
    drop (seen before), with the best match and its similarity.
    """
    import json

    from tabulate import tabulate

    flt = _open_filter(url, threshold)
    try:
        docs, reader = read_inputs(paths, id_field, text_field, title_field, date_field, source_field,
                                   input_format, on_error, flt.config.max_chars)
        verdicts = flt.check_many(docs)
    finally:
        flt.close()
    report_problems(reader, len(docs))
    if fmt == "jsonl":
        for doc, v in zip(docs, verdicts):
            click.echo(json.dumps({"id": doc.id, **v.to_dict()}, ensure_ascii=False))
        return
    def label(v):
        if v.decision != "keep":
            return "seen"
        return "indexed" if v.reason.startswith("already indexed") else "new"

    rows = [(doc.id, label(v),
             v.matches[0][0] if v.matches else "", f"{v.matches[0][2]:.2f}" if v.matches else "", v.reason)
            for doc, v in zip(docs, verdicts)]
    click.echo(tabulate(rows, headers=["id", "verdict", "match", "similarity", "reason"], disable_numparse=True))


@index_group.command("remove")
@click.argument("url")
@click.argument("ids", nargs=-1, required=True)
@handle_errors
def index_remove_cmd(url, ids):
    """Forget the documents IDS from the index at URL."""
    flt = _open_filter(url)
    try:
        n = flt.remove(ids)
    finally:
        flt.close()
    click.echo(f"removed {n} of {len(ids)} id(s)")
    missing = len(ids) - n
    if missing:
        click.echo(f"warning: {missing} id(s) were not in the index", err=True)


def _echo_stats(stats: dict) -> None:
    n = stats["documents"]
    meta = stats.get("meta") or {}
    per_doc = f" ({stats['bytes'] / n:,.0f} bytes per document)" if n and stats.get("bytes") else ""

    def when(ts):
        if ts is None:
            return "-"
        from datetime import datetime, timezone
        return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")

    click.echo(f"index:          {stats['url']} ({stats['backend']})")
    click.echo(f"documents:      {n}")
    if stats.get("bucket_entries") is not None:
        click.echo(f"bucket entries: {stats['bucket_entries']}")
    click.echo(f"size:           {stats['bytes'] if stats.get('bytes') is not None else '-'} bytes{per_doc}")
    click.echo(f"oldest:         {when(stats.get('oldest'))}")
    click.echo(f"newest:         {when(stats.get('newest'))}")
    click.echo(f"format:         {meta.get('format')} v{meta.get('version')}, settings {meta.get('fingerprint')}")


@index_group.command("stats")
@click.argument("url")
@handle_errors
def index_stats_cmd(url):
    """Size, document count and age of the index at URL."""
    flt = _open_existing_index(url)
    try:
        _echo_stats(flt.stats())
    finally:
        flt.close()


@index_group.command("compact")
@click.argument("url")
@handle_errors
def index_compact_cmd(url):
    """Reclaim the space of removed and evicted documents in the index at URL."""
    flt = _open_existing_index(url)
    try:
        before = flt.stats().get("bytes")
        after = flt.store.compact()
    finally:
        flt.close()
    click.echo(f"compacted {url}: {before} -> {after.get('bytes')} bytes")


# -- classify (issue 4): original reporting or syndication -----------------------------------------
@main.command("classify")
@input_options
@click.option("--format", "-f", "fmt", type=click.Choice(FORMATS), default="table", show_default=True,
              help="Output format: a table grouped by story, or one record per document (json, jsonl, csv).")
@click.option("--model", "model_path", type=click.Path(dir_okay=False), default=None,
              help="A syndication model file (default: the one shipped with dedupe).")
@click.option("--progress/--no-progress", default=None, help="Force the progress bar on or off.")
@engine_options("verdicts.  With spark, Parquet and JSONL inputs are read by Spark.")
@handle_errors
def classify_cmd(paths, id_field, text_field, title_field, date_field, source_field, input_format, on_error,
                 fmt, model_path, progress, engine, master):
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
    if master and engine != "spark":
        raise click.UsageError("--master needs --engine spark")
    if engine == "spark":
        from dedupe.spark import cluster_paths

        run = cluster_paths(paths, Fields(id_field, text_field, title_field, date_field, source_field), config,
                            on_error=on_error, input_format=input_format, master=master, classify=True,
                            model=model, exclude=_exclude())
        _report_spark_problems(run)
        if not run.n_docs:
            _fail("no documents to classify")
        click.echo(render_verdicts(run.verdicts, fmt, run.result.documents), nl=False)
        return
    docs, reader = read_inputs(paths, id_field, text_field, title_field, date_field, source_field,
                               input_format, on_error, config.max_chars)
    if not docs:
        report_problems(reader, 0)
        _fail("no documents to classify")
    bar = Progress(progress)
    try:
        deduplicator = Deduplicator(config, progress=bar)
        result = deduplicator.run(docs)
        verdicts = classify_result(result, config, model, deduplicator.shingler, bar)
    finally:
        bar.close()
    report_problems(reader, len(docs))
    click.echo(render_verdicts(verdicts, fmt, result.documents), nl=False)
# -- end classify (issue 4) --------------------------------------------------------------------------


def _report_spark_problems(run):
    """The skipped records and warnings of a :func:`dedupe.spark.cluster_paths` run, on stderr."""
    from types import SimpleNamespace

    report_problems(SimpleNamespace(warnings=run.warnings, problems=run.problems), run.n_docs)


def _cluster_on_spark(paths, fields, input_format, on_error, config, out_fmt, output, master):
    from dedupe.spark import cluster_paths

    run = cluster_paths(paths, fields, config, on_error=on_error, input_format=input_format, master=master,
                        output=output if out_fmt in ("parquet", "jsonl") else None, exclude=_exclude())
    _report_spark_problems(run)
    if not run.n_docs:
        _fail("no documents to cluster")
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

"""CLI: `dedupe filter` and `dedupe index add|query|remove|stats|compact` (exact output and codes)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from dedupe.cli import main

from test_stream import article, near_copy


def jsonl(*records) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in records).encode()


A, B = article(1), article(2)


@pytest.fixture
def db(tmp_path):
    return f"sqlite:///{tmp_path / 'seen.db'}"


def run(args, stdin=None):
    return CliRunner().invoke(main, args, input=stdin)


def test_filter_drop_mode_writes_new_records_unchanged(db):
    stdin = jsonl({"id": "a", "text": A, "x": [1, 2]}, {"id": "b", "text": A}, {"id": "c", "text": B})
    r = run(["filter", "--index", db], stdin)
    assert r.exit_code == 0
    lines = stdin.decode().splitlines(keepends=True)
    assert r.stdout == lines[0] + lines[2]
    assert r.stderr == "dedupe: 3 read, 2 new, 1 seen before (dropped)\n"
    # the same input again: already indexed under the same ids -> same output, nothing dropped anew
    r = run(["filter", "--index", db], stdin)
    assert r.stdout == lines[0] + lines[2]
    assert r.stderr == "dedupe: 3 read, 2 new, 1 seen before (dropped)\n"


def test_filter_flag_mode_adds_the_verdict(db):
    stdin = jsonl({"id": "a", "text": A}, {"id": "b", "text": near_copy(A, 3)})
    r = run(["filter", "--index", db, "--mode", "flag"], stdin)
    assert r.exit_code == 0
    out = [json.loads(line) for line in r.stdout.splitlines()]
    assert out[0]["dedupe"] == {"decision": "keep", "matches": [], "reason": "new story"}
    assert out[1]["dedupe"]["decision"] == "flag"
    assert out[1]["dedupe"]["matches"][0]["id"] == "a"
    assert out[1]["dedupe"]["matches"][0]["relation"] == "duplicate"
    assert r.stderr == "dedupe: 2 read, 1 new, 1 seen before (flagged)\n"


def test_filter_rejects_file(db, tmp_path):
    rejects = tmp_path / "rejects.jsonl"
    r = run(["filter", "--index", db, "--rejects", str(rejects)],
            jsonl({"id": "a", "text": A}, {"id": "b", "text": A}))
    assert r.exit_code == 0 and r.stdout == json.dumps({"id": "a", "text": A}) + "\n"
    rec = json.loads(rejects.read_text())
    assert rec["id"] == "b"
    assert rec["dedupe"] == {"decision": "drop", "matches": [{"id": "a", "relation": "duplicate", "similarity": 1.0}],
                             "reason": "duplicate of a (similarity 1.00)"}


def test_filter_bad_lines_skip_and_fail(db):
    stdin = jsonl({"id": "a", "text": A}) + b"{not json\n" + jsonl({"text": "no id"}, {"id": "c", "text": B})
    r = run(["filter", "--index", db], stdin)
    assert r.exit_code == 0
    assert [json.loads(x)["id"] for x in r.stdout.splitlines()] == ["a", "c"]
    assert r.stderr == (
        "skipped: <stdin>:2: malformed JSON (Expecting property name enclosed in double quotes) "
        "(each line must be one JSON object)\n"
        "skipped: <stdin>:3: record has no 'id' field (set --id-field)\n"
        "dedupe: 2 read, 2 new, 0 seen before (dropped), 2 bad line(s) skipped\n")
    r = run(["filter", "--index", db.replace("seen", "seen2"), "--on-error", "fail"], stdin)
    assert r.exit_code == 1
    assert r.stdout == json.dumps({"id": "a", "text": A}) + "\n"  # what came before is not lost
    assert r.stderr == ("error: <stdin>:2: malformed JSON (Expecting property name enclosed in double quotes) "
                        "(each line must be one JSON object)\n")


def test_filter_custom_fields_and_window(db):
    stdin = jsonl({"key": 1, "body": A, "published": "2001-01-01"}, {"key": 2, "body": A, "published": "2001-01-02"})
    r = run(["filter", "--index", db, "--id-field", "key", "--text-field", "body", "--date-field", "published",
             "--window", "7d"], stdin)
    # both are far older than the window: the first is forgotten before the second arrives
    assert r.exit_code == 0 and len(r.stdout.splitlines()) == 2
    r = run(["filter", "--index", db, "--id-field", "key", "--text-field", "body"], stdin)
    assert len(r.stdout.splitlines()) == 2  # no window: both were indexed, re-run keeps them as known


def test_filter_usage_errors(db, tmp_path):
    r = run(["filter"], b"")
    assert r.exit_code == 2 and "Missing option '--index'" in r.stderr
    r = run(["filter", "--index", "ftp://x"], b"")
    assert r.exit_code == 1
    assert r.stderr == ("error: unknown index URL 'ftp://x' "
                        "(use memory://, sqlite:///path/to/index.db (or a plain file path) or redis://host:port/db)\n")
    r = run(["filter", "--index", db, "--window", "soon"], b"")
    assert r.exit_code == 1 and r.stderr == "error: bad window 'soon' (write e.g. 7d, 12h, 30m, 90s or 2w)\n"


def test_a_plain_file_path_is_a_sqlite_index(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    stdin = b'{"id": "a", "text": "' + (b"harbour strike grain exports minister " * 8) + b'"}\n'
    r = run(["filter", "--index", "seen.db"], stdin)
    assert r.exit_code == 0 and len(r.stdout.splitlines()) == 1
    assert (tmp_path / "seen.db").is_file()
    # the same file by its URL: the document is known now
    r = run(["filter", "--index", "sqlite:///seen.db"], stdin.replace(b'"a"', b'"b"'))
    assert r.exit_code == 0 and r.stdout == ""
    r = run(["index", "stats", str(tmp_path / "seen.db")])
    assert r.exit_code == 0
    assert r.stdout.splitlines()[:2] == [f"index:          sqlite:///{tmp_path / 'seen.db'} (sqlite)", "documents:      1"]


def test_index_commands(db, tmp_path):
    archive = tmp_path / "archive.jsonl"
    archive.write_bytes(jsonl({"id": "a", "text": A}, {"id": "b", "text": B}))
    r = run(["index", "add", db, str(archive)])
    assert (r.exit_code, r.stdout, r.stderr) == (0, f"added 2 document(s) to {db}; it holds 2\n", "")

    query = tmp_path / "query.jsonl"
    query.write_bytes(jsonl({"id": "q1", "text": A}, {"id": "q2", "text": article(3)}))
    r = run(["index", "query", db, str(query), "-f", "jsonl"])
    assert r.exit_code == 0
    assert [json.loads(x) for x in r.stdout.splitlines()] == [
        {"id": "q1", "decision": "drop", "matches": [{"id": "a", "relation": "duplicate", "similarity": 1.0}],
         "reason": "duplicate of a (similarity 1.00)"},
        {"id": "q2", "decision": "keep", "matches": [], "reason": "new story (not added)"},
    ]
    r = run(["index", "query", db, str(query)])
    assert r.stdout.splitlines()[2].split()[:4] == ["q1", "seen", "a", "1.00"]
    assert r.stdout.splitlines()[3].split()[:2] == ["q2", "new"]

    r = run(["index", "stats", db])
    assert r.exit_code == 0
    out = r.stdout.splitlines()
    assert out[0] == f"index:          {db} (sqlite)"
    assert out[1] == "documents:      2"
    assert out[-1].startswith("format:         dedupe-index v2, settings ")

    r = run(["index", "remove", db, "a", "zz"])
    assert (r.exit_code, r.stdout, r.stderr) == (0, "removed 1 of 2 id(s)\n", "warning: 1 id(s) were not in the index\n")
    r = run(["index", "compact", db])
    assert r.exit_code == 0 and r.stdout.startswith(f"compacted {db}: ")
    r = run(["index", "stats", db])
    assert r.stdout.splitlines()[1] == "documents:      1"


def test_index_commands_on_missing_or_foreign_index(tmp_path):
    missing = f"sqlite:///{tmp_path / 'none.db'}"
    r = run(["index", "stats", missing])
    assert (r.exit_code, r.stdout) == (1, "")
    assert r.stderr == f"error: no index at {missing} (create one with `dedupe index add` or `dedupe filter`)\n"
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not sqlite" * 500)
    r = run(["index", "stats", f"sqlite:///{junk}"])
    assert r.exit_code == 1 and r.stderr.startswith(f"error: cannot open sqlite:///{junk}: file is not a database")
    assert "\n" == r.stderr[-1] and r.stderr.count("\n") == 1

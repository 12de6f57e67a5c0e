"""CLI tests of ``dedupe classify``: exact output formats, exit codes and errors."""

from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner

from dedupe.cli import main

ORIGINAL = """Mining group Alvarado said on Tuesday it would close its Kestrel copper smelter in northern Chile after
a six-month strike cut output by 40 percent and left the plant unprofitable.

Chief executive Maria Dunmore told reporters in Santiago that 1,200 workers would be offered transfers to the
company's Tamarugo mine, and that the closure would cost about 85 million dollars.

"We tried every option to keep Kestrel open," Dunmore said. Union leader Pablo Ruiz called the decision a
betrayal and promised new protests at the Antofagasta port.

Copper prices rose 2 percent in London after the announcement, as traders bet on tighter supply of refined
metal from Chile, the world's largest producer."""
COPY = "\n\n".join(ORIGINAL.split("\n\n")[:3]) + "\n\nThis story was first published by Example Wire."
OTHER = "Leeds beat Hull 3-1 on Saturday with two late goals from their new striker in front of a home crowd."


@pytest.fixture
def corpus(tmp_path):
    path = tmp_path / "docs.jsonl"
    rows = [{"id": "a", "text": ORIGINAL, "date": "2021-03-02T10:00"},
            {"id": "b", "text": COPY, "date": "2021-03-03T09:00"},
            {"id": "c", "text": OTHER, "date": "2021-03-01T09:00"}]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def run(*args):
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_jsonl(corpus):
    code, out, err = run("classify", str(corpus), "--date-field", "date", "-f", "jsonl")
    assert code == 0 and err == ""
    recs = [json.loads(line) for line in out.splitlines()]
    assert [r["id"] for r in recs] == ["a", "b", "c"]
    assert all(list(r) == ["id", "cluster", "label", "relation", "source", "confidence", "reasons"] for r in recs)
    a, b, c = recs
    assert (a["label"], a["source"], a["relation"], a["cluster"]) == ("original", None, None, "a")
    assert (b["label"], b["source"], b["cluster"]) == ("syndicated", "a", "a")
    assert b["relation"] in ("duplicate", "rewrite")
    assert (c["label"], c["cluster"]) == ("original", "c")
    assert all(0.0 <= r["confidence"] <= 1.0 and isinstance(r["reasons"], list) for r in recs)


def test_json(corpus):
    code, out, err = run("classify", str(corpus), "--format", "json")
    assert code == 0 and err == ""
    payload = json.loads(out)
    assert payload["documents"] == 3 and [v["id"] for v in payload["verdicts"]] == ["a", "b", "c"]


def test_csv(corpus):
    code, out, err = run("classify", str(corpus), "-f", "csv")
    assert code == 0 and err == ""
    assert out.splitlines()[0] == "id,cluster,label,relation,source,confidence,reasons"
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["id"] for r in rows] == ["a", "b", "c"]
    assert rows[1]["source"] == "a" and rows[0]["source"] == "" and rows[0]["relation"] == ""
    assert float(rows[1]["confidence"]) > 0.5


def test_table_groups_story_original_first_with_arrow(corpus):
    code, out, err = run("classify", str(corpus), "--date-field", "date")
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0].split() == ["story", "id", "label", "relation", "source", "conf", "main", "reason"]
    body = [line.split() for line in lines[2:5]]
    assert body[0][:3] == ["1", "a", "original"]
    assert body[1][0] == "b" and body[1][1] == "syndicated" and body[1][3:5] == ["→", "a"]
    assert body[2][:3] == ["-", "c", "original"]
    assert lines[-1] == "3 documents: 2 original, 1 syndicated; 1 story with copies"


def test_bad_model_file_is_one_line_error(corpus, tmp_path):
    bad = tmp_path / "model.json"
    bad.write_text("{broken")
    code, out, err = run("classify", str(corpus), "--model", str(bad))
    assert code == 1 and out == ""
    assert err == f"error: {bad}: not valid JSON (line 1)\n"


def test_nothing_readable(tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text('{"id": "x"}\n')
    code, out, err = run("classify", str(empty))
    assert code == 1 and out == ""
    assert err.splitlines()[-1] == "error: no documents to classify"
    assert "skipped:" in err


def test_bad_record_fail_fast(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text(json.dumps({"id": "a", "text": ORIGINAL}) + "\nnot json\n")
    code, out, err = run("classify", str(path), "--on-error", "fail")
    assert code == 1 and out == ""
    assert err.startswith(f"error: {path}:2") and err.count("\n") == 1


def test_usage_error_on_unknown_format(corpus):
    code, _, err = run("classify", str(corpus), "-f", "xml")
    assert code == 2 and "Invalid value for '--format'" in err


def test_help_mentions_labels():
    code, out, _ = run("classify", "--help")
    assert code == 0 and "original" in out and "syndicated" in out and "same-source" in out


def test_classify_progress_bar_covers_the_judging(seeds_dir):
    code, out, err = run("classify", str(seeds_dir), "--progress", "-f", "json")
    assert code == 0
    assert "judging" in err and err.rstrip("\n").endswith("5/5")
    assert len(json.loads(out)["verdicts"]) == 5

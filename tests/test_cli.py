import json

from click.testing import CliRunner

from dedupe.cli import main

STORY = ("The city council approved a new budget on Tuesday after a long debate about school funding, "
         "road repairs and the cost of the new library, which opens next spring.")
OTHER = ("Heavy snow closed the mountain pass for the third day, and officials warned drivers to stay away "
         "until ploughs clear the drifts near the summit tunnel.")


def _corpus(tmp_path):
    d = tmp_path / "docs"
    d.mkdir()
    (d / "a.txt").write_text(STORY)
    (d / "b.txt").write_text(STORY + "\n\nLeave a Reply")
    (d / "c.txt").write_text(OTHER)
    return d


def run(args, input=None):
    return CliRunner().invoke(main, args, input=input)


def test_help_lists_commands():
    result = run(["--help"])
    assert result.exit_code == 0
    assert "cluster" in result.stdout and "Find copies, near-copies and rewrites" in result.stdout


def test_version():
    result = run(["--version"])
    assert result.exit_code == 0 and result.stdout.startswith("dedupe, version ")


def test_cluster_jsonl_exact(tmp_path):
    d = _corpus(tmp_path)
    result = run(["cluster", str(d), "--format", "jsonl"])
    assert result.exit_code == 0
    assert result.stderr == ""
    assert result.stdout == (
        '{"id": "a", "cluster": "a", "size": 2, "similarity": 1.0, "closest": "b", "relation": "duplicate"}\n'
        '{"id": "b", "cluster": "a", "size": 2, "similarity": 1.0, "closest": "a", "relation": "duplicate"}\n'
        '{"id": "c", "cluster": "c", "size": 1, "similarity": null, "closest": null, "relation": null}\n'
    )


def test_cluster_table_exact(tmp_path):
    d = _corpus(tmp_path)
    result = run(["cluster", str(d)])
    assert result.exit_code == 0
    assert result.stderr == ""
    assert result.stdout == (
        '  story    size  id    title / first words                                         closest      similarity  relation\n'
        '-------  ------  ----  ----------------------------------------------------------  ---------  ------------  ----------\n'
        '      1       2  a     The city council approved a new budget on Tuesday after a…  b                 1.000  duplicate\n'
        '                 b     The city council approved a new budget on Tuesday after a…  a                 1.000  duplicate\n'
        '\n'
        'stands alone    title / first words\n'
        '--------------  -----------------------------------------------------------\n'
        'c               Heavy snow closed the mountain pass for the third day, and…\n'
        '\n'
        '3 documents, 1 story with copies, 1 standing alone\n'
    )


def test_cluster_csv_to_file_prints_table_and_writes_file(tmp_path):
    d = _corpus(tmp_path)
    out = tmp_path / "out.csv"
    result = run(["cluster", str(d), "--output", str(out)])
    assert result.exit_code == 0
    assert result.stderr == f"wrote csv for 3 documents to {out}\n"
    assert "3 documents, 1 story with copies, 1 standing alone" in result.stdout
    assert out.read_text() == ("id,cluster,size,similarity,closest,relation\n"
                               "a,a,2,1.0,b,duplicate\n" "b,a,2,1.0,a,duplicate\n" "c,c,1,,,\n")


def test_cluster_json(tmp_path):
    d = _corpus(tmp_path)
    result = run(["cluster", str(d), "-f", "json"])
    payload = json.loads(result.stdout)
    assert payload["documents"] == 3
    assert [c["id"] for c in payload["clusters"]] == ["a", "c"]
    assert payload["clusters"][0]["weakest_link"] == {"a": "a", "b": "b", "similarity": 1.0, "relation": "duplicate"}


def test_unknown_output_extension_is_a_usage_error(tmp_path):
    d = _corpus(tmp_path)
    result = run(["cluster", str(d), "-o", str(tmp_path / "out.xyz")])
    assert result.exit_code == 2
    assert "cannot tell the format of" in result.stderr


def test_stdin_jsonl():
    lines = "".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in [("x", STORY), ("y", STORY), ("z", OTHER)])
    result = run(["cluster", "-", "-f", "csv"], input=lines)
    assert result.exit_code == 0
    assert result.stdout.splitlines()[1:] == ["x,x,2,1.0,y,duplicate", "y,x,2,1.0,x,duplicate", "z,z,1,,,"]


def test_bad_records_are_skipped_and_counted(tmp_path):
    p = tmp_path / "in.jsonl"
    p.write_text(json.dumps({"id": "a", "text": STORY}) + "\nnot json\n" + json.dumps({"id": "b", "body": "x"}) + "\n")
    result = run(["cluster", str(p), "-f", "jsonl"])
    assert result.exit_code == 0
    assert result.stderr == (
        f"skipped: {p}:2: malformed JSON (Expecting value at column 1) (each line must be one JSON object)\n"
        f"skipped: {p}:3: record has no 'text' field (set --text-field)\n"
        "dedupe: skipped 2 bad input(s); 1 document(s) read\n"
    )
    assert result.stdout == '{"id": "a", "cluster": "a", "size": 1, "similarity": null, "closest": null, "relation": null}\n'


def test_fail_mode_stops_with_one_line_and_exit_1(tmp_path):
    p = tmp_path / "in.jsonl"
    p.write_text(json.dumps({"id": "a", "text": STORY}) + "\nnot json\n")
    result = run(["cluster", str(p), "--on-error", "fail"])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == f"error: {p}:2: malformed JSON (Expecting value at column 1) (each line must be one JSON object)\n"


def test_nothing_to_cluster(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    result = run(["cluster", str(empty)])
    assert result.exit_code == 1
    assert result.stderr == (
        f"skipped: {empty}: no documents found (a directory is searched recursively for .txt, .md, .html, "
        ".jsonl and .csv files, optionally gzip'd)\n"
        "dedupe: skipped 1 bad input(s); 0 document(s) read\n"
        "error: no documents to cluster\n"
    )


def test_invalid_threshold_is_a_usage_error(tmp_path):
    result = run(["cluster", str(_corpus(tmp_path)), "--threshold", "0"])
    assert result.exit_code == 2
    assert "--threshold" in result.stderr


def test_seeds_cluster_from_the_cli(seeds_dir):
    result = run(["cluster", str(seeds_dir), "-f", "jsonl"])
    assert result.exit_code == 0
    rows = {r["id"][:3]: r for r in map(json.loads, result.stdout.splitlines())}
    assert {rows[k]["cluster"] for k in ("000", "001", "002", "003")} == {rows["000"]["cluster"]}
    assert rows["004"]["size"] == 1


def test_cluster_exclude_exact(tmp_path):
    d = _corpus(tmp_path)
    (d / "README.md").write_text("These files are test stories.")
    result = run(["cluster", str(d), "-f", "csv", "--exclude", "README*", "--exclude", "c.*"])
    assert result.exit_code == 0 and result.stderr == ""
    assert result.stdout.splitlines() == ["id,cluster,size,similarity,closest,relation",
                                          "a,a,2,1.0,b,duplicate", "b,a,2,1.0,a,duplicate"]
    result = run(["classify", str(d), "-f", "jsonl", "--exclude", "README*", "--exclude", "c.*"])
    assert result.exit_code == 0 and result.stderr == ""
    assert sorted(json.loads(line)["id"] for line in result.stdout.splitlines()) == ["a", "b"]
    result = run(["cluster", str(d), "-f", "csv", "--exclude", "*"])
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr == (f"skipped: {d}: no documents found (a directory is searched recursively for .txt, "
                             ".md, .html, .jsonl and .csv files, optionally gzip'd, not matching --exclude)\n"
                             "dedupe: skipped 1 bad input(s); 0 document(s) read\n"
                             "error: no documents to cluster\n")


def test_python_dash_m_runs_the_cli(tmp_path):
    import subprocess
    import sys

    d = _corpus(tmp_path)
    out = subprocess.run([sys.executable, "-m", "dedupe", "cluster", str(d), "-f", "csv"],
                         capture_output=True, text=True)
    assert out.returncode == 0 and out.stderr == ""
    assert out.stdout.splitlines()[0] == "id,cluster,size,similarity,closest,relation"


def test_progress_bar_draws_only_when_enabled():
    import io

    from dedupe.cli import Progress

    quiet = io.StringIO()
    bar = Progress(enabled=None, stream=quiet)  # StringIO is not a terminal
    bar("reading", 5, 10)
    bar.close()
    assert quiet.getvalue() == ""
    loud = io.StringIO()
    bar = Progress(enabled=True, stream=loud)
    bar("reading", 10, 10)
    bar.close()
    assert loud.getvalue() == "\rreading    [##############################]        10/10\n"


# --- issue 3: explain and evaluate -------------------------------------------------------------
def _seed(seeds_dir, prefix):
    return str(next(seeds_dir.glob(f"{prefix}_*.txt")))


def test_explain_two_files(seeds_dir):
    a, b = _seed(seeds_dir, "001"), _seed(seeds_dir, "003")
    result = run(["explain", a, b, "--no-color", "--width", "120"])
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[0] == "A: 001_5a6b6dda3da054a3" and lines[1] == "B: 003_0e85794110f32b6f"
    assert lines[2].startswith("verdict: rewrite (similarity ")
    assert "aligned passages:" in result.stdout and "[leica" in result.stdout.lower()


def test_explain_json_and_ids_in_an_input(tmp_path):
    src = tmp_path / "d.jsonl"
    src.write_text(json.dumps({"id": "x", "text": STORY}) + "\n" + json.dumps({"id": "y", "text": OTHER}) + "\n")
    result = run(["explain", "x", "y", str(src), "-f", "json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["a"] == "x" and out["b"] == "y" and out["relation"] == "unrelated" and out["linked"] is False
    assert out["verifier"] == "learned" and out["model"]["relation"] == "unrelated"


def test_explain_unknown_id_is_one_line_error(tmp_path):
    src = tmp_path / "d.jsonl"
    src.write_text(json.dumps({"id": "x", "text": STORY}) + "\n")
    result = run(["explain", "x", "nope", str(src)])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == f"error: no document with id 'nope' in {src} (ids look like 'x')\n"


def test_explain_missing_file_is_one_line_error(tmp_path):
    result = run(["explain", str(tmp_path / "a.txt"), str(tmp_path / "b.txt")])
    assert result.exit_code == 1
    assert result.stderr == f"error: {tmp_path / 'a.txt'}: no such file or directory (check the path)\n"


def test_evaluate_seeds_exact(seeds_dir):
    labels = seeds_dir.parent / "labels" / "xiaomi-leica.csv"
    result = run(["evaluate", "--labels", str(labels), str(seeds_dir)])
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert result.stdout == (
        "metric              value\n"
        "------------------  -------\n"
        "documents scored    5\n"
        "ARI                 1.0000\n"
        "pairwise precision  1.0000\n"
        "pairwise recall     1.0000\n"
        "pairwise F1         1.0000\n"
        "true pairs          6\n"
        "predicted pairs     6\n")


def test_evaluate_json_and_relation_recall(tmp_path):
    d = _corpus(tmp_path)
    labels = tmp_path / "l.csv"
    labels.write_text("id,cluster,relation\na,s,original\nb,s,duplicate\nc,t,original\n")
    result = run(["evaluate", "--labels", str(labels), str(d), "-f", "json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["ari"] == 1.0 and out["f1"] == 1.0 and out["relation_recall"] == {"duplicate": {"recall": 1.0, "pairs": 1}}


def test_evaluate_bad_labels(tmp_path):
    d = _corpus(tmp_path)
    labels = tmp_path / "l.csv"
    labels.write_text("name,group\na,1\n")
    result = run(["evaluate", "--labels", str(labels), str(d)])
    assert result.exit_code == 1
    assert result.stderr == (f"error: {labels}:1: header 'name,group' has no id and cluster columns "
                             "(the first line must be id,cluster (optionally ,relation))\n")


def test_evaluate_labels_match_no_document(tmp_path):
    d = _corpus(tmp_path)
    labels = tmp_path / "l.csv"
    labels.write_text("id,cluster\nzz,1\n")
    result = run(["evaluate", "--labels", str(labels), str(d)])
    assert result.exit_code == 1
    assert result.stderr == "error: none of the 1 labelled ids is among the documents read (labels have 'zz', documents 'a')\n"


def test_cluster_rule_verifier_option(seeds_dir):
    result = run(["cluster", str(seeds_dir), "--verifier", "rule", "-f", "csv"])
    assert result.exit_code == 0
    assert result.stdout.count(",000_fca7c5568b56ce35,4,") == 4

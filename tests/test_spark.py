"""The Spark engine (dedupe.spark): same rows as the local engine, readers, writers, the CLI.

Runs Spark in ``local[2]`` with one session for the whole module.  Skipped, with the reason, when
PySpark or Java is missing -- except under CI (env ``CI`` set), where that is a failure.
"""

import json
import random
import shutil

import pytest
from click.testing import CliRunner

from conftest import SAMPLES, SHARED_DATA, in_ci

import dedupe
from dedupe import Config, Deduplicator, Document
from dedupe.errors import InputError
from dedupe.report import document_rows

pytestmark = pytest.mark.spark


def _spark_missing() -> str | None:
    try:
        import pyarrow  # noqa: F401
        import pyspark  # noqa: F401
    except ImportError as exc:
        return f"PySpark/pyarrow not installed ({exc.name}); pip install -e '.[spark]'"
    if not shutil.which("java") and not __import__("os").environ.get("JAVA_HOME"):
        return "Java is not installed (the Spark engine needs Java 17)"
    return None


@pytest.fixture(scope="module")
def spark():
    reason = _spark_missing()
    if reason:
        if in_ci():
            pytest.fail(reason)
        pytest.skip(reason)
    from dedupe.spark import spark_session

    session = spark_session("local[2]", app_name="dedupe-tests", shuffle_partitions=2)
    yield session
    session.stop()


# -- a corpus that exercises every branch of the local engine ----------------------------------
BASE = ("The regional water authority said on Monday it would raise prices by four percent next year to "
        "pay for new reservoirs, pipes and treatment plants, after a dry summer left supplies at their "
        "lowest level since records began. Customers in the northern districts will see the largest rise, "
        "while pensioners on low incomes can apply for a discount. The authority's chief executive, Maria "
        "Okonkwo, told reporters that the investment plan would cost 2.3 billion over ten years.")
OTHER = ("Rain delayed the start of the final day of the cricket test in Colombo, where the visitors need "
         "eight more wickets to win the series. The groundsmen removed the covers at noon and the umpires "
         "inspected the pitch twice before lunch, while the crowd waited in the stands.")


def _variant(text: str, rng: random.Random, n: int) -> str:
    words = text.split()
    words[rng.randrange(len(words))] = f"variant{n}"
    return " ".join(words) + f" Reporting by desk {n}."


def _corpus() -> list[Document]:
    docs = list(dedupe.read_documents([SAMPLES / "xiaomi-leica", SAMPLES / "reuters"]))
    rng = random.Random(3)
    # 70 near-copies of one story: their LSH buckets exceed MAX_BUCKET_PAIRS (chain + star pairs)
    docs += [Document(f"water/{n:03d}", _variant(BASE, rng, n)) for n in range(70)]
    # exact copies (collapse onto the first), including a copy placed before its "original"
    docs += [Document("cricket/b", OTHER), Document("cricket/a", OTHER), Document("cricket/c", OTHER + "  ")]
    docs.append(Document("lonely", "A completely unrelated note about gardening tools and spring bulbs."))
    if SHARED_DATA.is_dir():  # a slice of real articles with their real duplicates
        bbc = sorted((SHARED_DATA / "bbc-news" / "bbc" / "business").glob("*.txt"))[:120]
        docs += [Document(f"bbc/{p.stem}", p.read_bytes().decode("utf-8", "replace")) for p in bbc]
    return docs


@pytest.fixture(scope="module")
def corpus():
    return _corpus()


@pytest.fixture(scope="module")
def local_run(corpus):
    return Deduplicator(Config()).run(corpus)


@pytest.fixture(scope="module")
def spark_run(spark, corpus):
    from dedupe.spark import cluster_dataframe, documents_dataframe

    run = cluster_dataframe(documents_dataframe(spark, corpus), Config(), order_column="ord", links=True)
    return {
        "rows": [r.asDict() for r in run.documents.collect()],
        "links": [r.asDict() for r in run.links.collect()],
        "candidates": run.candidate_count(),
        "members": run.members.collect(),
    }


def _row(r):
    sim = None if r["similarity"] is None else round(r["similarity"], 4)
    return (r["id"], r["cluster"], r["size"], sim, r["closest"], r["relation"])


def test_same_rows_as_local_engine(local_run, spark_run):
    local = [_row(r) for r in document_rows(local_run)]
    assert [_row(r) for r in spark_run["rows"]] == local
    sizes = {r[1]: r[2] for r in local}
    assert max(sizes.values()) >= 70  # the corpus really has a big story, and copies
    assert sizes["cricket/a"] == 3


def test_rule_verifier_same_rows_as_local_engine(spark, corpus):
    """--verifier rule on Spark runs pair_scores/decide, as the local engine does."""
    from dedupe.spark import cluster_dataframe, documents_dataframe

    config = Config().with_(**{"verify.method": "rule"})
    local = [_row(r) for r in document_rows(Deduplicator(config).run(corpus))]
    run = cluster_dataframe(documents_dataframe(spark, corpus), config, order_column="ord")
    assert [_row(r.asDict()) for r in run.collect()] == local
    learned = [_row(r) for r in document_rows(Deduplicator(Config()).run(corpus))]
    assert learned != local  # the two verifiers really differ on this corpus


def test_same_links_and_candidates(local_run, spark_run):
    local = sorted((l.a, l.b, l.similarity, l.relation) for l in local_run.links)
    spark = sorted((l["a"], l["b"], l["similarity"], l["relation"]) for l in spark_run["links"])
    assert spark == local
    assert spark_run["candidates"] == local_run.candidates
    by_pair = {(l.a, l.b): l.scores for l in local_run.links}
    for link in spark_run["links"]:  # the verifier's verdicts come with their scores
        assert json.loads(link["scores"]) == pytest.approx(by_pair[(link["a"], link["b"])])


def test_exact_copies_collapse_onto_first_in_input_order(spark_run):
    dup = {(l["a"], l["b"]) for l in spark_run["links"] if l["scores"] == json.dumps({"exact": 1.0})}
    # cricket/b comes first: the other two copies link to it, not to each other
    assert ("cricket/a", "cricket/b") in dup and ("cricket/b", "cricket/c") in dup
    assert ("cricket/a", "cricket/c") not in dup


def test_result_from_rows_renders_like_local(corpus, local_run, spark_run):
    from dedupe.report import render
    from dedupe.spark import result_from_rows

    docs = [{"id": d.id, "text": d.text, "title": d.title} for d in corpus]
    result = result_from_rows(docs, spark_run["members"], spark_run["candidates"])
    for fmt in ("table", "json", "csv"):
        assert render(result, fmt) == render(local_run, fmt)


def test_classifier_verdicts_equal_local(spark, corpus, local_run):
    """classify=True gives, per document, what dedupe.classify gives locally."""
    from dedupe.pipeline.syndication import classify_result
    from dedupe.spark import cluster_dataframe, documents_dataframe

    run = cluster_dataframe(documents_dataframe(spark, corpus), Config(), order_column="ord", classify=True)
    got = [r.asDict() for r in run.verdicts.collect()]
    want = [v.as_dict() for v in classify_result(local_run)]
    assert [r["id"] for r in got] == [d.id for d in corpus]  # every document, in input order
    for g, w in zip(got, want):
        assert g["confidence"] == pytest.approx(w.pop("confidence"), abs=1e-9)
        assert {k: g[k] for k in w} == w
    labels = {r["id"]: (r["label"], r["source"]) for r in got}
    assert labels["001_5a6b6dda3da054a3"] == ("syndicated", "003_0e85794110f32b6f")  # the seeds' rewrite
    assert sum(r["label"] == "syndicated" for r in got) >= 70  # the copies of the big story


def test_connected_components_chains_and_stars(spark):
    from dedupe.spark import connected_components

    edges = [(i, i + 1) for i in range(100, 160)]            # a long chain
    edges += [(5, 9), (9, 7), (7, 3), (200, 3), (3, 5)]      # a cycle with a tail
    edges += [(1000 + i, 1000) for i in range(1, 30)]        # a star
    edges += [(42, 42)]                                      # a self-loop alone
    df = spark.createDataFrame(edges, schema="u long, v long")
    stats = {}
    got = {r["node"]: r["component"] for r in connected_components(df, stats=stats).collect()}
    want = {n: 100 for n in range(100, 161)}
    want.update({n: 3 for n in (3, 5, 7, 9, 200)})
    want.update({n: 1000 for n in range(1000, 1030)})
    assert got == want
    assert 1 <= stats["rounds"] <= 20


def test_duplicate_ids_and_missing_columns_are_one_line_errors(spark):
    from dedupe.spark import cluster_dataframe

    df = spark.createDataFrame([("a", "x y z"), ("a", "p q r")], schema="id string, text string")
    with pytest.raises(InputError, match="duplicate document id 'a'"):
        cluster_dataframe(df)
    df = spark.createDataFrame([("a", "x y z")], schema="id string, body string")
    with pytest.raises(InputError, match=r"no 'text' column \(columns: id, body\)"):
        cluster_dataframe(df)


def test_pack_features_roundtrip():
    import dataclasses

    import numpy as np

    from dedupe.normalize import normalize_text
    from dedupe.shingle import Shingler
    from dedupe.spark import pack_features, unpack_features

    f = Shingler().features(normalize_text(BASE))
    g = unpack_features(pack_features(f))
    for fld in dataclasses.fields(f):
        a, b = getattr(f, fld.name), getattr(g, fld.name)
        if isinstance(a, np.ndarray):
            assert a.dtype == b.dtype and np.array_equal(a, b)
        else:
            assert a == b


# -- readers, writers and the command line ------------------------------------------------------
def _invoke(args):
    from dedupe.cli import main

    return CliRunner().invoke(main, args)


def test_cli_spark_table_equals_local(spark):
    path = str(SAMPLES / "xiaomi-leica")
    local = _invoke(["cluster", path])
    remote = _invoke(["cluster", "--engine", "spark", "--master", "local[2]", path])
    assert remote.exit_code == 0, remote.output
    assert remote.stderr == ""
    assert remote.stdout == local.stdout


def test_cli_spark_classify_equals_local(spark, tmp_path):
    """dedupe classify --engine spark prints what the local classify prints (table and csv)."""
    paths = [str(SAMPLES / "xiaomi-leica"), str(SAMPLES / "reuters")]
    for fmt in ("table", "csv"):
        local = _invoke(["classify", "-f", fmt, *paths])
        remote = _invoke(["classify", "--engine", "spark", "--master", "local[2]", "-f", fmt, *paths])
        assert local.exit_code == 0 and remote.exit_code == 0, remote.output
        assert remote.stderr == ""
        assert remote.stdout == local.stdout
    assert "001_5a6b6dda3da054a3,000_fca7c5568b56ce35,syndicated,rewrite,003_0e85794110f32b6f," in remote.stdout
    # the same per-record errors as the local reader, and nothing processed is lost
    src = tmp_path / "docs.jsonl"
    src.write_text(json.dumps({"id": "a", "text": BASE}) + "\n{broken\n" + json.dumps({"id": "b", "text": OTHER}) + "\n")
    result = _invoke(["classify", "--engine", "spark", "--master", "local[2]", "-f", "jsonl", str(src)])
    assert result.exit_code == 0
    assert [json.loads(line)["id"] for line in result.stdout.splitlines()] == ["a", "b"]
    assert f"{src}:2" in result.stderr


def test_cli_spark_nothing_readable_reports_the_skipped_lines(spark, tmp_path):
    src = tmp_path / "bad.jsonl"
    src.write_text("{broken\n[1, 2]\n")
    for cmd in ("cluster", "classify"):
        local = _invoke([cmd, str(src)])
        remote = _invoke([cmd, "--engine", "spark", "--master", "local[2]", str(src)])
        assert (remote.exit_code, remote.stdout) == (local.exit_code, local.stdout) == (1, "")
        assert remote.stderr.splitlines()[-1] == f"error: no documents to {cmd}"
        assert f"skipped: {src}:1: malformed JSON" in remote.stderr
        assert "skipped 2 bad input(s); 0 document(s) read" in remote.stderr


def test_cli_classify_master_needs_spark_engine():
    result = _invoke(["classify", "--master", "local[2]", str(SAMPLES / "xiaomi-leica")])
    assert result.exit_code == 2
    assert "--master needs --engine spark" in result.stderr


def _jsonl(tmp_path):
    texts = [BASE, _variant(BASE, random.Random(1), 1), OTHER]
    lines = [json.dumps({"id": f"d{n}", "text": t, "headline": f"Headline {n}"}) for n, t in enumerate(texts)]
    lines.insert(2, "{not json")
    lines.append(json.dumps({"id": "d0", "text": "a repeated id"}))
    lines.append(json.dumps({"id": "d9"}))
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_cli_spark_jsonl_to_parquet_skips_bad_records(spark, tmp_path):
    src, out = _jsonl(tmp_path), tmp_path / "out.parquet"
    result = _invoke(["cluster", "--engine", "spark", str(src), "--title-field", "headline", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stdout == "3 documents, 1 story with copies, 1 standing alone\n"
    assert result.stderr == (
        f"skipped: {src}:3: malformed JSON (Expecting property name enclosed in double quotes at column 2) "
        f"(each line must be one JSON object)\n"
        f"skipped: {src}:5: duplicate id 'd0' (first seen at {src}:1) "
        f"(ids must be unique; choose another --id-field)\n"
        f"skipped: {src}:6: record has no 'text' field (set --text-field)\n"
        f"dedupe: skipped 3 bad input(s); 3 document(s) read\n"
        f"wrote parquet for 3 documents to {out} (a Spark output directory)\n"
    )
    rows = {r["id"]: r for r in spark.read.parquet(str(out)).collect()}
    assert sorted(rows) == ["d0", "d1", "d2"]
    assert rows["d0"]["cluster"] == rows["d1"]["cluster"] == "d0" and rows["d1"]["size"] == 2
    assert rows["d2"]["cluster"] == "d2" and rows["d2"]["similarity"] is None
    assert rows["d1"]["title"] == "Headline 1"


def test_cli_spark_fail_fast_names_file_and_line(spark, tmp_path):
    src = _jsonl(tmp_path)
    result = _invoke(["cluster", "--engine", "spark", str(src), "--on-error", "fail"])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == (f"error: {src}:3: malformed JSON (Expecting property name enclosed in double "
                             f"quotes at column 2) (each line must be one JSON object)\n")


def test_cli_master_needs_spark_engine():
    result = _invoke(["cluster", "--master", "local[2]", str(SAMPLES / "xiaomi-leica")])
    assert result.exit_code == 2
    assert "--master needs --engine spark" in result.stderr


def test_cli_spark_without_java_is_one_line_error(tmp_path):
    import os
    import subprocess
    import sys

    if _spark_missing():
        pytest.skip(_spark_missing())
    env = dict(os.environ, JAVA_HOME=str(tmp_path / "no-java"), TMPDIR=str(tmp_path))
    out = subprocess.run([sys.executable, "-m", "dedupe", "cluster", "--engine", "spark", "--master", "local[1]",
                          str(SAMPLES / "xiaomi-leica")], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 1
    assert out.stdout == ""
    lines = out.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: cannot start Spark (")
    assert "Java 17" in lines[0]

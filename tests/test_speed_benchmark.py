"""The speed benchmark's README table is generated from its JSON (the benchmark itself is not run
here: nothing in the test suite is timed)."""

import importlib.util
import json

from conftest import ROOT


def _speed():
    spec = importlib.util.spec_from_file_location("speed", ROOT / "benchmarks" / "speed.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


RESULT = {
    "date": "2026-01-01 00:00 UTC",
    "machine": {"cpus": 2, "cpu": "test cpu", "load_average_at_start": [1.0, 1.0, 1.0],
                "versions": {"numpy": "2", "datasketch": "2.0.0", "rensa": "0.5.0"}},
    "signature_docs": 100,
    "signature_stage": {"rensa RMinHash": {"seconds": 1.0, "docs_per_s": 100.0},
                        "dedupe (tokenise + hash 5-grams + MinHash)": {"seconds": 0.5, "docs_per_s": 200.0},
                        "_exact_vs_datasketch": True},
    "end_to_end": {"docs": 1000, "docs_per_s": 500.0, "seconds": 2.0, "peak_rss_mb": 300.0,
                   "peak_rss_workers_mb": 0.0},
    "end_to_end_rule": {"docs": 1000, "docs_per_s": 750.0, "seconds": 1.3, "peak_rss_mb": 200.0,
                        "peak_rss_workers_mb": 10.0},
    "datasketch_pipeline": {"docs": 1000, "docs_per_s": 250.0, "seconds": 4.0, "peak_rss_mb": 400.0},
}


def test_readme_block_is_rewritten_from_the_json_and_nothing_else(tmp_path):
    speed = _speed()
    results = tmp_path / "speed.json"
    results.write_text(json.dumps(RESULT))
    readme = tmp_path / "README.md"
    readme.write_text(f"# title\n\nbefore\n\n{speed.BEGIN}\nold table\n{speed.END}\n\nafter\n")
    speed.write_readme(results, readme)
    text = readme.read_text()
    assert text.startswith("# title\n\nbefore\n\n") and text.endswith("\n\nafter\n")
    assert "old table" not in text
    assert "| signature stage: dedupe (tokenise + hash 5-grams + MinHash) | 100 | 200 | 2.0x rensa | |" in text
    assert ("| end to end: dedupe `Deduplicator.run` (default: learned verifier) | 1,000 | 500 | "
            "2.0x datasketch pipeline | 300 MB (+ workers 0 MB) |") in text
    assert ("| end to end: dedupe `Deduplicator.run` (`--verifier rule`) | 1,000 | 750 | "
            "3.0x datasketch pipeline | 200 MB (+ workers 10 MB) |") in text
    # the targets, each stated as reached or not
    assert "| signature stage >= 1.0x rensa | 2.0x on one core | reached |" in text
    assert "| end to end >= 10,000 docs/s, default (learned) verifier | 500 docs/s | **not reached** |" in text
    assert "| end to end >= 6x the datasketch pipeline, rule verifier | 3.0x | **not reached** |" in text
    assert "| 1,000,000 documents in <= 5 min, peak RSS <= 4 GB | not measured | not measured |" in text


def test_targets_are_judged_from_the_figures():
    speed = _speed()
    res = json.loads(json.dumps(RESULT))
    res["end_to_end"]["docs_per_s"] = 12_000.0
    res["big"] = {"docs": 1_000_000, "seconds": 290.0, "peak_rss_mb": 3000.0, "peak_rss_workers_mb": 500.0,
                  "docs_per_s": 3448.0, "verifier": "learned"}
    got = {t: (m, ok) for t, m, ok in speed.targets(res)}
    assert got["end to end >= 10,000 docs/s, default (learned) verifier"] == ("12,000 docs/s", True)
    assert got["end to end >= 6x the datasketch pipeline, default (learned) verifier"] == ("48.0x", True)
    assert got["end to end >= 10,000 docs/s, rule verifier"] == ("750 docs/s", False)
    assert got["1,000,000 documents in <= 5 min, peak RSS <= 4 GB"] == (
        "1,000,000 documents in 4.8 min, 3.4 GB (learned verifier)", True)
    res["big"]["seconds"] = 400.0
    assert speed.targets(res)[-1][2] is False


def test_repository_readme_has_the_generated_block():
    speed = _speed()
    text = (ROOT / "README.md").read_text()
    assert text.count(speed.BEGIN) == 1 and text.count(speed.END) == 1


def test_synthetic_corpus_is_deterministic_and_sized(shared_data):
    speed = _speed()
    base = len(speed.load_base(shared_data))
    a = speed.make_corpus(shared_data, base + 50)
    b = speed.make_corpus(shared_data, base + 50)
    assert a == b and len(a) == base + 50
    assert len({t for _, t in a[base:]}) >= 45  # new stories, a few near copies

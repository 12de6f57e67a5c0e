import csv
import io
import json

from dedupe import Deduplicator, Document
from dedupe.report import format_csv, format_json, format_jsonl, format_table, render

TEXT = "The harbour strike entered its third week as talks between the union and port owners stalled again."


def _result():
    return Deduplicator().run([Document("b", TEXT), Document("a", TEXT, title="Strike drags on"),
                               Document("c", "Completely different: a cat show opened in the town hall.")])


def test_jsonl_keeps_input_order_and_has_the_documented_keys():
    rows = [json.loads(l) for l in format_jsonl(_result()).splitlines()]
    assert [r["id"] for r in rows] == ["b", "a", "c"]
    assert set(rows[0]) == {"id", "cluster", "size", "similarity", "closest", "relation"}
    assert rows[0]["cluster"] == rows[1]["cluster"] == "a" and rows[2]["size"] == 1


def test_csv_round_trips():
    rows = list(csv.DictReader(io.StringIO(format_csv(_result()))))
    assert [(r["id"], r["cluster"], r["size"]) for r in rows] == [("b", "a", "2"), ("a", "a", "2"), ("c", "c", "1")]
    assert rows[2]["similarity"] == "" and rows[2]["closest"] == ""


def test_json_lists_clusters_with_members_and_weakest_link():
    payload = json.loads(format_json(_result()))
    assert payload["documents"] == 3
    first = payload["clusters"][0]
    assert first["id"] == "a" and first["size"] == 2
    assert [m["id"] for m in first["members"]] == ["a", "b"]
    assert first["members"][0]["title"] == "Strike drags on"
    assert first["weakest_link"]["relation"] == "duplicate"


def test_table_uses_title_then_first_words():
    table = format_table(_result())
    assert "Strike drags on" in table
    assert "The harbour strike entered its third week" in table
    assert table.endswith("3 documents, 1 story with copies, 1 standing alone\n")


def test_render_dispatches():
    result = _result()
    assert render(result, "csv") == format_csv(result)

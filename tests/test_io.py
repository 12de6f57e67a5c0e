import gzip
import io
import json

import pytest

from dedupe.errors import InputError
from dedupe.io import DocumentReader, Fields, guess_title, html_to_text, read_documents


def _read(paths, **kw):
    reader = DocumentReader(**kw)
    docs = list(reader.read([str(p) for p in paths]))
    return docs, reader


# -- readers --------------------------------------------------------------------------------
def test_directory_is_read_recursively_with_relative_ids(tmp_path):
    (tmp_path / "politics").mkdir()
    (tmp_path / "politics" / "042.txt").write_text("Budget vote\n\nThe budget passed.", encoding="utf-8")
    (tmp_path / "a.md").write_text("# Notes\nSome markdown text.", encoding="utf-8")
    (tmp_path / "page.html").write_text("<html><title>T</title><body><p>Hello there.</p></body></html>")
    (tmp_path / "skip.bin").write_bytes(b"\x00\x01")
    (tmp_path / ".hidden.txt").write_text("hidden")
    docs, reader = _read([tmp_path])
    assert [d.id for d in docs] == ["a", "page", "politics/042"]
    assert docs[2].title == "Budget vote"
    assert docs[1].title == "T" and docs[1].text == "Hello there."
    assert reader.problems == [] and reader.warnings == []


def test_exclude_skips_files_and_folders_by_name_or_relative_path(tmp_path):
    (tmp_path / "labels").mkdir()
    (tmp_path / "labels" / "gold.csv").write_text("id,cluster\na,1\n", encoding="utf-8")
    (tmp_path / "wire").mkdir()
    (tmp_path / "wire" / "keep.txt").write_text("A wire story.", encoding="utf-8")
    (tmp_path / "wire" / "draft-1.txt").write_text("A draft.", encoding="utf-8")
    (tmp_path / "README.md").write_text("# About these files", encoding="utf-8")
    (tmp_path / "story.txt").write_text("A story.", encoding="utf-8")
    docs, reader = _read([tmp_path], exclude=["README*", "labels", "wire/draft-*"])
    assert [d.id for d in docs] == ["story", "wire/keep"]
    assert reader.problems == []          # the label file is not read, so not reported either
    docs, reader = _read([tmp_path])
    assert [d.id for d in docs] == ["README", "story", "wire/draft-1", "wire/keep"]
    assert [str(p) for p in reader.problems] == [
        f"{tmp_path / 'labels' / 'gold.csv'}:1: CSV header has no 'text' column (columns: id, cluster) (set --text-field)"]
    # a path named directly is read whatever the patterns say
    docs, _ = _read([tmp_path / "README.md"], exclude=["README*"])
    assert [d.id for d in docs] == ["README"]
    _, reader = _read([tmp_path], exclude=["*"])
    assert str(reader.problems[0]).startswith(f"{tmp_path}: no documents found") and "--exclude" in str(reader.problems[0])


def test_a_file_given_directly_is_named_by_its_stem(tmp_path):
    p = tmp_path / "story.txt"
    p.write_text("Some story text.")
    docs, _ = _read([p])
    assert docs[0].id == "story" and docs[0].origin == str(p)


def test_jsonl_with_all_fields(tmp_path):
    p = tmp_path / "in.jsonl"
    p.write_text("\n".join(json.dumps(r) for r in [
        {"uid": 7, "body": "text one", "head": "H1", "when": "2022-05-23", "site": "x.com", "lang": "en"},
        {"uid": "b", "body": "text two"},
    ]) + "\n\n")
    docs, reader = _read([p], fields=Fields(id="uid", text="body", title="head", date="when", source="site"))
    assert [(d.id, d.title, d.date, d.source) for d in docs] == [("7", "H1", "2022-05-23", "x.com"),
                                                                ("b", None, None, None)]
    assert docs[0].extra == {"head": "H1", "when": "2022-05-23", "site": "x.com", "lang": "en"}
    assert docs[0].origin == f"{p}:1"


def test_csv_and_tsv(tmp_path):
    p = tmp_path / "in.csv"
    p.write_text('id,text,title\n1,"hello, world",A\n2,"multi\nline",B\n', encoding="utf-8")
    t = tmp_path / "in.tsv"
    t.write_text("id\ttext\n9\ttab separated\n", encoding="utf-8")
    docs, reader = _read([p, t], fields=Fields(title="title"))
    assert [(d.id, d.text, d.title) for d in docs] == [("1", "hello, world", "A"), ("2", "multi\nline", "B"),
                                                       ("9", "tab separated", None)]
    assert reader.problems == []


def test_gzip_of_jsonl_and_text(tmp_path):
    (tmp_path / "in.jsonl.gz").write_bytes(gzip.compress(b'{"id": "z", "text": "zipped"}\n'))
    (tmp_path / "note.txt.gz").write_bytes(gzip.compress(b"zipped text file"))
    docs, _ = _read([tmp_path])
    assert {d.id: d.text for d in docs} == {"z": "zipped", "note": "zipped text file"}


def test_stdin_is_jsonl(tmp_path):
    stream = io.BytesIO(b'{"id": "s1", "text": "from stdin"}\n')
    docs, _ = _read(["-"], stdin=stream)
    assert [(d.id, d.text) for d in docs] == [("s1", "from stdin")]


def test_read_documents_helper(seeds_dir):
    docs = read_documents([seeds_dir])
    assert len(docs) == 5 and docs[0].id.startswith("000_")


# -- bad input --------------------------------------------------------------------------------
def test_empty_file_is_skipped_and_reported(tmp_path):
    (tmp_path / "empty.txt").write_text("")
    (tmp_path / "ok.txt").write_text("fine")
    docs, reader = _read([tmp_path])
    assert [d.id for d in docs] == ["ok"]
    assert [str(e) for e in reader.problems] == [f"{tmp_path / 'empty.txt'}: empty document (it has no text to compare)"]


def test_binary_file_is_refused(tmp_path):
    (tmp_path / "x.txt").write_bytes(b"PK\x03\x04\x00\x00binary")
    docs, reader = _read([tmp_path])
    assert docs == []
    assert "binary file, not text" in str(reader.problems[0])
    assert str(reader.problems[-1]).startswith(str(tmp_path / "x.txt"))


def test_invalid_utf8_falls_back_with_a_warning(tmp_path):
    (tmp_path / "latin.txt").write_bytes("Price: \xa3 5".encode("latin-1"))
    docs, reader = _read([tmp_path])
    assert docs[0].text == "Price: £ 5"
    assert reader.warnings == [f"{tmp_path / 'latin.txt'}: not valid UTF-8 (byte 7); decoded as Windows-1252/Latin-1"]


def test_malformed_jsonl_line_is_skipped_keeping_the_rest(tmp_path):
    p = tmp_path / "in.jsonl"
    p.write_text('{"id": "a", "text": "one"}\n{"id": "b", "text": \n[1, 2]\n{"id": "c", "text": "three"}\n')
    docs, reader = _read([p])
    assert [d.id for d in docs] == ["a", "c"]
    assert [(e.source, e.line) for e in reader.problems] == [(str(p), 2), (str(p), 3)]
    assert "malformed JSON" in str(reader.problems[0]) and "not an object" in str(reader.problems[1])


def test_missing_text_field_names_the_field_and_the_fix(tmp_path):
    p = tmp_path / "in.jsonl"
    p.write_text('{"id": "a", "body": "one"}\n')
    _, reader = _read([p])
    assert str(reader.problems[0]) == f"{p}:1: record has no 'text' field (set --text-field)"


def test_missing_id_and_non_string_text(tmp_path):
    p = tmp_path / "in.jsonl"
    p.write_text('{"text": "one"}\n{"id": 1, "text": 5}\n')
    _, reader = _read([p])
    assert [str(e) for e in reader.problems] == [
        f"{p}:1: record has no 'id' field (set --id-field)",
        f"{p}:2: field 'text' is not a string",
    ]


def test_malformed_csv_row(tmp_path):
    p = tmp_path / "in.csv"
    p.write_text("id,text\n1,fine\n2,too,many\n3,also fine\n")
    docs, reader = _read([p])
    assert [d.id for d in docs] == ["1", "3"]
    assert str(reader.problems[0]) == (f"{p}:3: CSV row has 3 fields, the header has 2 "
                                       "(quote fields that contain the delimiter)")


def test_csv_without_text_column(tmp_path):
    p = tmp_path / "in.csv"
    p.write_text("id,body\n1,x\n")
    _, reader = _read([p])
    assert "CSV header has no 'text' column (columns: id, body)" in str(reader.problems[0])


def test_duplicate_ids_keep_the_first(tmp_path):
    p = tmp_path / "in.jsonl"
    p.write_text('{"id": "a", "text": "one"}\n{"id": "a", "text": "two"}\n')
    docs, reader = _read([p])
    assert [d.text for d in docs] == ["one"]
    assert str(reader.problems[0]).startswith(f"{p}:2: duplicate id 'a' (first seen at {p}:1)")


def test_huge_document_is_cut_with_a_warning(tmp_path):
    p = tmp_path / "big.txt"
    p.write_bytes(b"word " * (10 * 1024 * 1024))  # 50 MB
    docs, reader = _read([p], max_chars=2_000_000)
    assert len(docs[0].text) == 2_000_000
    assert reader.warnings == [f"{p}: document 'big' has 52,428,800 characters; only the first 2,000,000 are used"]


def test_directory_without_documents(tmp_path):
    (tmp_path / "image.png").write_bytes(b"\x89PNG")
    docs, reader = _read([tmp_path])
    assert docs == []
    assert str(reader.problems[0]).startswith(f"{tmp_path}: no documents found")


def test_missing_path(tmp_path):
    _, reader = _read([tmp_path / "nope"])
    assert str(reader.problems[0]) == f"{tmp_path / 'nope'}: no such file or directory (check the path)"


def test_corrupt_gzip(tmp_path):
    p = tmp_path / "in.jsonl.gz"
    p.write_bytes(b"\x1f\x8b\x08\x00garbage")
    _, reader = _read([p])
    assert str(reader.problems[0]).startswith(f"{p}: not a valid gzip file")


def test_fail_mode_raises_the_first_problem_after_yielding_earlier_documents(tmp_path):
    p = tmp_path / "in.jsonl"
    p.write_text('{"id": "a", "text": "one"}\nnot json\n{"id": "c", "text": "three"}\n')
    reader = DocumentReader(on_error="fail")
    it = reader.read([str(p)])
    assert next(it).id == "a"
    with pytest.raises(InputError) as info:
        next(it)
    assert (info.value.source, info.value.line) == (str(p), 2)


def test_title_guess():
    assert guess_title("Short headline\n\nBody.") == "Short headline"
    assert guess_title("A sentence that ends with a period.\nMore.") is None
    assert guess_title("Home > News > Tech\nReading time: 2 min\nReal headline") == "Real headline"


def test_html_extraction_drops_scripts_and_navigation():
    title, text = html_to_text("<html><head><title>Hi</title><style>p{}</style></head><body><nav>Menu</nav>"
                               "<h1>Head</h1><p>First &amp; second.</p><script>x()</script><p>Third.</p></body></html>")
    assert title == "Hi"
    assert text == "Head\nFirst & second.\nThird."

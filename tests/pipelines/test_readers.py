"""Readers on the bundled real dump and on deliberately broken inputs."""

import bz2
import gzip
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipelines.readers import InputError, detect_format, expand_inputs, read_path
from ramp.records import Document, Reject

MARKUP = ("{{", "}}", "[[", "]]", "<ref", "|}", "{|", "'''")


def split(records):
    docs = [r for r in records if isinstance(r, Document)]
    rejects = [r for r in records if isinstance(r, Reject)]
    assert len(docs) + len(rejects) == len(records)
    return docs, rejects


@pytest.fixture(scope="module")
def xml_records(samples):
    return list(read_path(str(samples / "enwiki-sample-pages-articles.xml.bz2")))


def test_xml_dump_parses_to_its_106_articles_without_markup(xml_records):
    docs, rejects = split(xml_records)
    assert len(docs) == 106
    assert len({d.id for d in docs}) == 106
    reasons = {r.reason for r in rejects}
    assert reasons <= {"redirect", "non_article_namespace"}
    assert sum(r.reason == "redirect" for r in rejects) >= 99
    for doc in docs:
        assert doc.text.strip(), doc.title
        for mark in MARKUP:
            assert mark not in doc.text, (doc.title, mark)
    anarchism = next(d for d in docs if d.title == "Anarchism")
    assert anarchism.text.startswith("Anarchism is a political philosophy")
    assert "Category:" not in anarchism.text and "thumb|" not in anarchism.text


def test_truncated_bz2_yields_what_it_can_then_a_reject(samples, tmp_path):
    data = (samples / "enwiki-sample-pages-articles.xml.bz2").read_bytes()
    cut = tmp_path / "cut.xml.bz2"
    cut.write_bytes(data[: len(data) // 3])
    docs, rejects = split(list(read_path(str(cut))))
    assert 0 < len(docs) < 106
    assert rejects[-1].reason == "truncated_input"
    assert "ends early" in rejects[-1].detail


PAGE = """  <page>
    <title>{title}</title>
    <ns>0</ns>
    <id>{id}</id>
    <revision><id>1</id><text xml:space="preserve">{text}</text></revision>
  </page>
"""


def write_xml(path, pages: str):
    path.write_text("<mediawiki>\n" + pages + "</mediawiki>\n", encoding="utf-8")


def test_malformed_page_is_rejected_and_the_file_goes_on(tmp_path):
    good1 = PAGE.format(title="Ada Lovelace", id=1, text="Ada Lovelace was a mathematician.")
    broken = "  <page>\n    <title>Broken</title><ns>0</ns><id>2<id>\n  </page>\n"
    good2 = PAGE.format(title="Alan Turing", id=3, text="'''Alan Turing''' was a [[logic]]ian.")
    empty = PAGE.format(title="Only a template", id=4, text="{{Infobox person|name=x}}")
    path = tmp_path / "dump.xml"
    write_xml(path, good1 + broken + good2 + empty)
    docs, rejects = split(list(read_path(str(path))))
    assert [d.title for d in docs] == ["Ada Lovelace", "Alan Turing"]
    assert docs[1].text == "Alan Turing was a logician."
    assert sorted(r.reason for r in rejects) == ["empty_document", "malformed_xml"]


def test_page_cut_off_at_end_of_file(tmp_path):
    path = tmp_path / "dump.xml"
    path.write_text(
        "<mediawiki>\n"
        + PAGE.format(title="A", id=1, text="Some text here.")
        + "  <page>\n    <title>B</title>\n",
        encoding="utf-8",
    )
    docs, rejects = split(list(read_path(str(path))))
    assert len(docs) == 1 and [r.reason for r in rejects] == ["truncated_page"]


def test_jsonl_bad_lines_become_rejects(tmp_path):
    path = tmp_path / "wiki.jsonl"
    lines = [
        json.dumps({"id": "1", "contents": '"Paris"\nParis is the capital of France.'}).encode(),
        b'{"id": "2", "contents": "\\"Bad\\"\\nbad \xff\xfe bytes"}',
        b"{not json",
        json.dumps({"id": "4", "title": "Empty", "text": "   "}).encode(),
        json.dumps({"title": "No id", "text": "x"}).encode(),
        b"",
        json.dumps({"id": "6", "title": "Lyon", "text": "Lyon is a city."}).encode(),
    ]
    path.write_bytes(b"\n".join(lines) + b"\n")
    docs, rejects = split(list(read_path(str(path))))
    assert [(d.id, d.title, d.text) for d in docs] == [
        ("1", "Paris", "Paris is the capital of France."),
        ("6", "Lyon", "Lyon is a city."),
    ]
    assert [r.reason for r in rejects] == [
        "invalid_utf8",
        "malformed_json",
        "empty_document",
        "missing_field",
    ]
    assert rejects[0].id.endswith("line2")


def test_wiki18_and_gzip_and_limit(samples):
    path = str(samples / "vital_articles_300.jsonl.gz")
    docs, rejects = split(list(read_path(path, limit=25)))
    assert len(docs) == 25 and not rejects
    assert not docs[0].text.startswith('"')  # the quoted title line is not text
    assert docs[0].title in gzip.open(path, "rt").readline()


def test_parquet_hf_layout(tmp_path):
    path = tmp_path / "train-00000.parquet"
    pq.write_table(
        pa.table({"id": ["12", "13"], "url": ["u", "u"], "title": ["A", "B"], "text": ["Alpha text.", ""]}),
        path,
    )
    docs, rejects = split(list(read_path(str(path))))
    assert [d.id for d in docs] == ["12"] and [r.reason for r in rejects] == ["empty_document"]


def test_formats_and_globs(tmp_path):
    assert detect_format("a/b.xml.bz2") == "xml"
    assert detect_format("x.jsonl.gz") == "jsonl"
    assert detect_format("x.parquet") == "parquet"
    with pytest.raises(InputError):
        detect_format("x.csv")
    for name in ("b.jsonl", "a.jsonl"):
        (tmp_path / name).write_text("")
    assert [p.rsplit("/", 1)[-1] for p in expand_inputs([str(tmp_path / "*.jsonl")])] == [
        "a.jsonl",
        "b.jsonl",
    ]
    with pytest.raises(InputError, match="no input file"):
        expand_inputs([str(tmp_path / "*.xml")])


def test_bz2_jsonl_is_transparent(tmp_path):
    path = tmp_path / "w.jsonl.bz2"
    path.write_bytes(bz2.compress(json.dumps({"id": "1", "title": "T", "text": "x y"}).encode()))
    docs, _ = split(list(read_path(str(path))))
    assert docs[0].text == "x y"


def test_wrong_typed_fields_are_named_not_called_missing(tmp_path):
    """D17: ``{"text": 42}`` or ``{"title": ["x"]}`` were rejected as "missing"."""
    path = tmp_path / "typed.jsonl"
    path.write_text(
        "\n".join(
            json.dumps(o)
            for o in [
                {"id": "1", "title": "T", "text": 42},
                {"id": "2", "title": ["x"], "text": "fine text"},
                {"id": {"a": 1}, "title": "T", "text": "fine text"},
                {"id": 7, "title": "Ok", "text": "An integer id is fine."},
            ]
        )
        + "\n"
    )
    docs, rejects = split(list(read_path(str(path))))
    assert [d.id for d in docs] == ["7"]
    assert [(r.reason, r.detail) for r in rejects] == [
        ("wrong_type", "'text' is int, not a string"),
        ("wrong_type", "'title' is list, not a string"),
        ("wrong_type", "'id' is dict, not a string or integer"),
    ]


def test_source_names_are_base_names_unless_two_inputs_share_one():
    from pipelines.readers import source_names

    assert source_names(["/d/x.jsonl", "/d/y.jsonl"]) == {"/d/x.jsonl": "x.jsonl", "/d/y.jsonl": "y.jsonl"}
    assert source_names(["/r/a/x.jsonl", "/r/b/x.jsonl", "/r/b/z.xml"]) == {
        "/r/a/x.jsonl": "a/x.jsonl",
        "/r/b/x.jsonl": "b/x.jsonl",
        "/r/b/z.xml": "z.xml",
    }
    assert source_names(["gs://b/p/x.jsonl", "gs://c/p/x.jsonl"]) == {
        "gs://b/p/x.jsonl": "b/p/x.jsonl",
        "gs://c/p/x.jsonl": "c/p/x.jsonl",
    }

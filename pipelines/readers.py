"""Readers: Wikipedia XML dumps, wiki-18 JSONL and {id,title,text} Parquet/JSONL.

Each reader is a plain generator over one file that yields a
:class:`~ramp.records.Document` or a :class:`~ramp.records.Reject` per input
record, so a bad record becomes a dead-letter row and the file goes on. Files
are opened through Beam's ``FileSystems`` (local paths, ``gs://``, ...);
``.gz``/``.bz2`` are decompressed transparently and streamed.
"""

from __future__ import annotations

import bz2
import gzip
import io
import json
import os
import xml.etree.ElementTree as ET
import zlib
from collections.abc import Iterator
from typing import BinaryIO

from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

from pipelines.wikitext import wikitext_to_text
from ramp.records import Document, Reject, excerpt

Record = Document | Reject


class InputError(ValueError):
    """An input path or glob that cannot be read at all."""


def expand_inputs(patterns: list[str]) -> list[str]:
    """Paths matching the globs, sorted and de-duplicated; an empty match is an error."""
    paths: set[str] = set()
    for pattern in patterns:
        matched = [m.path for r in FileSystems.match([pattern]) for m in r.metadata_list]
        if not matched:
            raise InputError(f"no input file matches {pattern!r}")
        paths.update(matched)
    return sorted(paths)


def source_names(paths: list[str]) -> dict[str, str]:
    """Each input's name in record and reject ids: its base name, or as many trailing path
    parts as it takes to tell it from the other inputs (``a/x.jsonl`` and ``b/x.jsonl``
    collided as ``x.jsonl``, giving two reject rows one id)."""
    parts = {p: p.replace("\\", "/").rstrip("/").split("/") for p in paths}
    names: dict[str, str] = {}
    for path, split in parts.items():
        depth = 1
        while depth < len(split):
            name = "/".join(split[-depth:])
            if not any(o != path and "/".join(parts[o][-depth:]) == name for o in paths):
                break
            depth += 1
        names[path] = "/".join(split[-depth:])
    return names


def detect_format(path: str) -> str:
    name = path.lower()
    for suffix in (".gz", ".bz2"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    if name.endswith(".xml"):
        return "xml"
    if name.endswith((".jsonl", ".json", ".ndjson")):
        return "jsonl"
    if name.endswith(".parquet"):
        return "parquet"
    raise InputError(f"{path}: unknown input format (expected .xml, .jsonl or .parquet)")


def open_binary(path: str) -> BinaryIO:
    raw = FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED)
    if path.endswith(".bz2"):
        return bz2.BZ2File(raw)  # handles multistream dumps
    if path.endswith(".gz"):
        return gzip.GzipFile(fileobj=raw)
    return raw


def _read_reject(source: str, where: str, reason: str, detail: str, raw: bytes | str) -> Reject:
    if isinstance(raw, bytes):
        raw = raw[:400].decode("utf-8", errors="replace")
    return Reject(
        id=f"{source}:{where}",
        stage="read",
        reason=reason,
        detail=detail,
        excerpt=excerpt(raw),
        source=source,
    )


def _lines(stream: BinaryIO, source: str) -> Iterator[tuple[int, bytes | Reject]]:
    """Numbered lines; a truncated or corrupt compressed stream ends with a reject."""
    line_no = 0
    try:
        for line_no, line in enumerate(stream, start=1):
            yield line_no, line
    except (EOFError, OSError, zlib.error) as exc:
        yield (
            line_no + 1,
            _read_reject(
                source,
                f"line{line_no + 1}",
                "truncated_input",
                f"input ends early or is corrupt after line {line_no}: {exc}",
                b"",
            ),
        )


def parse_page(chunk: bytes, source: str, where: str) -> Record:
    """One ``<page>...</page>`` element to a document or a reject."""
    try:
        xml_text = chunk.decode("utf-8")
    except UnicodeDecodeError as exc:
        return _read_reject(source, where, "invalid_utf8", f"page is not valid UTF-8: {exc}", chunk)
    try:
        page = ET.fromstring(xml_text)
    except ET.ParseError as exc:
        return _read_reject(source, where, "malformed_xml", f"page is not well-formed XML: {exc}", xml_text)
    page_id = (page.findtext("id") or "").strip()
    title = (page.findtext("title") or "").strip()
    where = f"page{page_id}" if page_id else where
    if not page_id or not title:
        return _read_reject(source, where, "missing_field", "page has no <id> or <title>", xml_text)
    if (page.findtext("ns") or "0").strip() != "0":
        return _read_reject(
            source,
            where,
            "non_article_namespace",
            f"namespace {page.findtext('ns')} is not an article",
            title,
        )
    if page.find("redirect") is not None:
        return _read_reject(source, where, "redirect", "redirect page, not an article", title)
    wikitext = page.findtext("revision/text") or ""
    try:
        text = wikitext_to_text(wikitext)
    except Exception as exc:  # mwparserfromhell on pathological markup
        return _read_reject(source, where, "wikitext_error", f"cannot clean wikitext: {exc!r}", wikitext)
    if not text.strip():
        return _read_reject(
            source, where, "empty_document", "no text after cleaning markup", wikitext or title
        )
    return Document(id=page_id, title=title, text=text, source=source)


def iter_xml(stream: BinaryIO, source: str) -> Iterator[Record]:
    """Stream ``<page>`` elements line by line; one bad page never stops the file."""
    chunk: list[bytes] = []
    start_line = 0
    for line_no, line in _lines(stream, source):
        if isinstance(line, Reject):
            if chunk:
                yield _read_reject(
                    source,
                    f"line{start_line}",
                    "truncated_page",
                    "the input ends inside this page",
                    b"".join(chunk),
                )
            yield line
            return
        if b"<page>" in line:
            if chunk:
                yield _read_reject(
                    source,
                    f"line{start_line}",
                    "malformed_xml",
                    "a new <page> starts before </page>",
                    b"".join(chunk),
                )
            chunk, start_line = [line[line.index(b"<page>") :]], line_no
            if b"</page>" not in line:
                continue
        elif chunk:
            chunk.append(line)
        if chunk and b"</page>" in line:
            yield parse_page(b"".join(chunk), source, f"line{start_line}")
            chunk = []
    if chunk:
        yield _read_reject(
            source, f"line{start_line}", "truncated_page", "the input ends inside this page", b"".join(chunk)
        )


def document_from_json(obj: object, source: str, where: str, raw: bytes | str) -> Record:
    """``{id, title, text}`` (HF wikipedia) or wiki-18 ``{id, contents}`` to a document."""
    if not isinstance(obj, dict):
        return _read_reject(source, where, "malformed_json", "line is not a JSON object", raw)
    doc_id = obj.get("id")
    if doc_id is None or doc_id == "":
        return _read_reject(source, where, "missing_field", "record has no 'id'", raw)
    if not isinstance(doc_id, (str, int)) or isinstance(doc_id, bool):
        return _read_reject(
            source, where, "wrong_type", f"'id' is {type(doc_id).__name__}, not a string or integer", raw
        )
    for key in ("title", "text", "contents"):  # present but not a string: say so, not "missing"
        if obj.get(key) is not None and not isinstance(obj[key], str):
            return _read_reject(
                source, where, "wrong_type", f"'{key}' is {type(obj[key]).__name__}, not a string", raw
            )
    title = obj.get("title")
    if isinstance(obj.get("text"), str):
        text = obj["text"]
    elif isinstance(obj.get("contents"), str):
        first, _, text = obj["contents"].partition("\n")
        if title is None:
            title = first.strip()
            if len(title) >= 2 and title[0] == title[-1] == '"':
                title = title[1:-1]
    else:
        return _read_reject(source, where, "missing_field", "record has no 'text' or 'contents'", raw)
    if not isinstance(title, str) or not title.strip():
        return _read_reject(source, where, "missing_field", "record has no title", raw)
    if not text.strip():
        return _read_reject(source, f"id{doc_id}", "empty_document", "the text is empty", raw)
    return Document(id=str(doc_id), title=title.strip(), text=text.strip(), source=source)


def iter_jsonl(stream: BinaryIO, source: str) -> Iterator[Record]:
    for line_no, line in _lines(stream, source):
        if isinstance(line, Reject):
            yield line
            return
        if not line.strip():
            continue
        where = f"line{line_no}"
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            yield _read_reject(source, where, "invalid_utf8", f"line is not valid UTF-8: {exc}", line)
            continue
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            yield _read_reject(source, where, "malformed_json", f"not JSON: {exc}", text)
            continue
        yield document_from_json(obj, source, where, text)


def iter_parquet(stream: BinaryIO, source: str) -> Iterator[Record]:
    import pyarrow.parquet as pq

    data = io.BytesIO(stream.read())
    try:
        parquet = pq.ParquetFile(data)
    except Exception as exc:  # pyarrow raises ArrowInvalid and friends
        yield _read_reject(source, "file", "malformed_parquet", f"cannot open Parquet: {exc}", b"")
        return
    row = 0
    for batch in parquet.iter_batches(batch_size=1024):
        for obj in batch.to_pylist():
            row += 1
            yield document_from_json(obj, source, f"row{row}", json.dumps(obj)[:400])


def read_path(path: str, source: str | None = None, limit: int | None = None) -> Iterator[Record]:
    """Every record of one input file (at most ``limit`` records), named ``source`` in ids
    (default: the base name; see :func:`source_names`)."""
    source = source or os.path.basename(path)
    fmt = detect_format(path)
    reader = {"xml": iter_xml, "jsonl": iter_jsonl, "parquet": iter_parquet}[fmt]
    with open_binary(path) as stream:
        for count, record in enumerate(reader(stream, source), start=1):
            yield record
            if limit is not None and count >= limit:
                return

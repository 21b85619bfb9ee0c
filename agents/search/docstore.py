"""Documents of an index as a memory-mapped Arrow file: row i = index document i."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.ipc as ipc

from ramp.search import Hit, split_contents

DOC_SCHEMA = pa.schema([("id", pa.string()), ("title", pa.string()), ("contents", pa.string())])


class CorpusError(ValueError):
    """A corpus line that cannot be indexed (with its line number)."""


def read_corpus(path: str | Path) -> Iterator[tuple[str, str, str]]:
    """``(id, title, contents)`` from wiki-18 ``{"id","contents"}`` or ``{"id","title","text"}``."""
    with open(path, encoding="utf-8") as f:
        for line_no, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
                doc_id = str(obj["id"])
                if "contents" in obj:
                    contents = obj["contents"]
                    title = obj.get("title") or split_contents(contents)[0]
                else:
                    title = obj["title"]
                    contents = f'"{title}"\n{obj["text"]}'
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise CorpusError(f"{path}:{line_no}: not a corpus record ({exc!r})") from None
            yield doc_id, title, contents


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def write_docs(path: Path, docs: list[tuple[str, str, str]]) -> None:
    ids, titles, contents = zip(*docs) if docs else ((), (), ())
    table = pa.table({"id": list(ids), "title": list(titles), "contents": list(contents)}, schema=DOC_SCHEMA)
    with ipc.new_file(str(path), DOC_SCHEMA) as writer:
        writer.write_table(table, max_chunksize=65536)


class DocStore:
    """Zero-copy access to the documents (the file is memory-mapped, not read)."""

    def __init__(self, path: Path):
        self._source = pa.memory_map(str(path), "r")
        table = ipc.open_file(self._source).read_all()
        self.table = table
        self.ids = table.column("id")
        self.titles = table.column("title")
        self.contents = table.column("contents")
        self._row_of: dict[str, int] | None = None

    def __len__(self) -> int:
        return len(self.ids)

    def hits(self, rows: list[int], scores: list[float]) -> list[Hit]:
        """Many hits with one vectorised lookup (the search hot path)."""
        if not rows:
            return []
        part = self.table.take(pa.array(rows, type=pa.int64()))
        ids, titles, contents = (part.column(c).to_pylist() for c in ("id", "title", "contents"))
        return [
            Hit(id=i, title=t, contents=c, score=float(s))
            for i, t, c, s in zip(ids, titles, contents, scores)
        ]

    def row_of(self, doc_id: str) -> int | None:
        if self._row_of is None:
            self._row_of = {d: i for i, d in enumerate(self.ids.to_pylist())}
        return self._row_of.get(doc_id)

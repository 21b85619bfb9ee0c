"""Deterministic sharded Parquet output: same records -> byte-identical files.

Records are assigned to a shard by a stable hash, grouped, sorted by id and
written with an explicit schema, so neither worker count nor bundle order can
change a byte. Every shard file exists even when empty.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

import apache_beam as beam
import pyarrow as pa
import pyarrow.parquet as pq
from apache_beam.io.filesystems import FileSystems

from ramp.passages import wiki18_contents
from ramp.records import PASSAGE_SCHEMA, Passage, to_table
from ramp.text import stable_hash


def shard_name(directory: str, prefix: str, index: int, total: int, ext: str) -> str:
    return FileSystems.join(directory, f"{prefix}-{index:05d}-of-{total:05d}.{ext}")


def write_parquet(path: str, table: pa.Table) -> None:
    with FileSystems.create(path) as out:
        pq.write_table(table, out, compression="zstd")


def write_corpus(path: str, passages: list[Passage]) -> None:
    """wiki-18 ``{"id", "contents"}`` lines, the format Search-R1's retrievers index."""
    with FileSystems.create(path) as out:
        for p in passages:
            line = json.dumps({"id": p.id, "contents": wiki18_contents(p.title, p.text)}, ensure_ascii=False)
            out.write(line.encode("utf-8") + b"\n")


class WriteShards(beam.PTransform):
    """Group records into ``prefixes x shards`` files and write each with ``writer``."""

    def __init__(
        self,
        directory: str,
        prefix_of: Callable[[Any], str],
        prefixes: Iterable[str],
        shards: int,
        shard_key: Callable[[Any], str],
        writer: Callable,
        sort_key,
    ):
        super().__init__()
        self.directory, self.prefix_of, self.prefixes = directory, prefix_of, sorted(prefixes)
        self.shards, self.shard_key, self.writer, self.sort_key = shards, shard_key, writer, sort_key

    def expand(self, pcoll):
        expected = [(p, i) for p in self.prefixes for i in range(self.shards)]
        keyed = pcoll | "Key" >> beam.Map(
            lambda r: ((self.prefix_of(r), stable_hash(self.shard_key(r)) % self.shards), r)
        )
        placeholders = pcoll.pipeline | "AllShards" >> beam.Create([(k, None) for k in expected])
        return (
            (keyed, placeholders)
            | "Merge" >> beam.Flatten()
            | "Group" >> beam.GroupByKey()
            | "Write" >> beam.MapTuple(self._write)
        )

    def _write(self, key: tuple[str, int], records: Iterable[Any]) -> str:
        prefix, index = key
        rows = sorted((r for r in records if r is not None), key=self.sort_key)
        return self.writer(self.directory, prefix, index, self.shards, rows)


def parquet_writer(schema: pa.Schema):
    def write(directory: str, prefix: str, index: int, total: int, rows: list) -> str:
        path = shard_name(directory, prefix, index, total, "parquet")
        write_parquet(path, to_table(rows, schema))
        return path

    return write


def passage_writer(passages_dir: str, corpus_dir: str):
    """Passages as Parquet and, from the same group, wiki-18 corpus JSONL shards."""

    def write(_directory: str, prefix: str, index: int, total: int, rows: list) -> str:
        path = shard_name(passages_dir, prefix, index, total, "parquet")
        write_parquet(path, to_table(rows, PASSAGE_SCHEMA))
        write_corpus(shard_name(corpus_dir, "corpus", index, total, "jsonl"), rows)
        return path

    return write

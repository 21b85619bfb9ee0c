"""Typed records at each stage boundary, with explicit pyarrow schemas.

Every record is a frozen dataclass; ``to_row`` gives the dict that matches the
schema exactly, so Parquet files never carry an inferred schema.
"""

from __future__ import annotations

import dataclasses
import glob
import os
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

MASK_TOKEN = "[mask]"  # the default mask token; a task carries its own (Task.mask_token)


@dataclass(frozen=True)
class Document:
    """One source article after reading and cleaning."""

    id: str
    title: str
    text: str
    source: str  # where it came from: file name (not the full path, to stay portable)


@dataclass(frozen=True)
class Passage:
    """A ~100-word window of a document (the wiki-18 convention)."""

    id: str
    source_id: str
    index: int
    title: str
    text: str
    num_words: int


@dataclass(frozen=True)
class Span:
    """A character span of ``Passage.text``; ``text == passage.text[start:end]``."""

    start: int
    end: int
    label: str
    text: str


@dataclass(frozen=True)
class Task:
    """A RAMP task: a passage with 1-4 salient spans replaced by the mask token."""

    id: str
    source_id: str
    passage_id: str
    title: str
    text: str
    masked_text: str
    answers: tuple[str, ...]
    spans: tuple[Span, ...]
    num_masks: int
    num_candidates: int
    strategy: str
    split: str
    mask_token: str = MASK_TOKEN  # what stands for each span in masked_text (masking.mask_token)
    # measured by `ramp answerability` (None before): per mask, whether a top-k passage other
    # than the task's own holds the answer, and the same with the whole source article hidden
    found_elsewhere: tuple[bool, ...] | None = None
    found_outside_article: tuple[bool, ...] | None = None
    num_found_elsewhere: int | None = None  # masks of found_elsewhere that are True


@dataclass(frozen=True)
class Reject:
    """Dead-letter row: an input that did not become an output, and why."""

    id: str
    stage: str  # read | passage | mask
    reason: str  # a short machine-readable code, e.g. "answer_leak"
    detail: str  # a human sentence
    excerpt: str  # the first characters of the offending input
    source: str


SPAN_TYPE = pa.struct(
    [
        pa.field("start", pa.int32(), nullable=False),
        pa.field("end", pa.int32(), nullable=False),
        pa.field("label", pa.string(), nullable=False),
        pa.field("text", pa.string(), nullable=False),
    ]
)

PASSAGE_SCHEMA = pa.schema(
    [
        pa.field("id", pa.string(), nullable=False),
        pa.field("source_id", pa.string(), nullable=False),
        pa.field("index", pa.int32(), nullable=False),
        pa.field("title", pa.string(), nullable=False),
        pa.field("text", pa.string(), nullable=False),
        pa.field("num_words", pa.int32(), nullable=False),
    ]
)

TASK_SCHEMA = pa.schema(
    [
        pa.field("id", pa.string(), nullable=False),
        pa.field("source_id", pa.string(), nullable=False),
        pa.field("passage_id", pa.string(), nullable=False),
        pa.field("title", pa.string(), nullable=False),
        pa.field("text", pa.string(), nullable=False),
        pa.field("masked_text", pa.string(), nullable=False),
        pa.field("answers", pa.list_(pa.string()), nullable=False),
        pa.field("spans", pa.list_(SPAN_TYPE), nullable=False),
        pa.field("num_masks", pa.int32(), nullable=False),
        pa.field("num_candidates", pa.int32(), nullable=False),
        pa.field("strategy", pa.string(), nullable=False),
        pa.field("split", pa.string(), nullable=False),
        pa.field("mask_token", pa.string(), nullable=False),
        pa.field("found_elsewhere", pa.list_(pa.bool_()), nullable=True),
        pa.field("found_outside_article", pa.list_(pa.bool_()), nullable=True),
        pa.field("num_found_elsewhere", pa.int32(), nullable=True),
    ]
)

REJECT_SCHEMA = pa.schema(
    [
        pa.field("id", pa.string(), nullable=False),
        pa.field("stage", pa.string(), nullable=False),
        pa.field("reason", pa.string(), nullable=False),
        pa.field("detail", pa.string(), nullable=False),
        pa.field("excerpt", pa.string(), nullable=False),
        pa.field("source", pa.string(), nullable=False),
    ]
)

SCHEMAS: dict[type, pa.Schema] = {
    Passage: PASSAGE_SCHEMA,
    Task: TASK_SCHEMA,
    Reject: REJECT_SCHEMA,
}


def to_row(record: Any) -> dict[str, Any]:
    """A record as a plain dict matching its schema (tuples become lists)."""
    row = dataclasses.asdict(record)
    for key, value in row.items():
        if isinstance(value, tuple):
            row[key] = list(value)
    return row


def task_from_row(row: dict[str, Any]) -> Task:
    return Task(
        id=row["id"],
        source_id=row["source_id"],
        passage_id=row["passage_id"],
        title=row["title"],
        text=row["text"],
        masked_text=row["masked_text"],
        answers=tuple(row["answers"]),
        spans=tuple(Span(**s) for s in row["spans"]),
        num_masks=row["num_masks"],
        num_candidates=row["num_candidates"],
        strategy=row["strategy"],
        split=row["split"],
        mask_token=row["mask_token"],
        found_elsewhere=_tuple(row.get("found_elsewhere")),
        found_outside_article=_tuple(row.get("found_outside_article")),
        num_found_elsewhere=row.get("num_found_elsewhere"),
    )


def _tuple(value: list | None) -> tuple | None:
    return None if value is None else tuple(value)


INCOMPLETE = "_INCOMPLETE"  # written by `ramp data` before it swaps results in, removed after


def check_complete(path: str) -> None:
    """Refuse a ``ramp data`` output (or a part of it, e.g. ``DIR/tasks``, ``DIR/corpus.jsonl``)
    whose final swap was interrupted: its tasks and corpus may come from two runs."""
    for where in (path, os.path.dirname(os.path.normpath(path))):
        if os.path.exists(os.path.join(where, INCOMPLETE)):
            raise ValueError(
                f"{where} is incomplete: a `ramp data` run stopped while writing it "
                f"({INCOMPLETE} is there); rerun that `ramp data` command"
            )


def read_task_rows(path: str) -> list[dict[str, Any]]:
    """Task rows from every ``*.parquet`` under ``path`` (a ``tasks/`` dir, a curriculum dir
    or one stage of it), read with ``TASK_SCHEMA``, one row per id, sorted by id."""
    check_complete(path)
    files = sorted(glob.glob(os.path.join(path, "**", "*.parquet"), recursive=True))
    if not files:
        raise FileNotFoundError(f"no task Parquet files under {path}")
    rows = {r["id"]: r for f in files for r in pq.read_table(f, schema=TASK_SCHEMA).to_pylist()}
    for r in rows.values():  # tasks written before the column existed used the default token
        r["mask_token"] = r["mask_token"] or MASK_TOKEN
    return [rows[k] for k in sorted(rows)]


def check_limit(limit: int | None) -> None:
    """``limit`` is a count or None: ``-1`` silently dropped the last task (``[:-1]``)."""
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
        raise ValueError(f"limit must be a count >= 0 (or null for all), not {limit!r}")


def read_tasks(path: str, split: str | None = None, limit: int | None = None) -> list[Task]:
    """:func:`read_task_rows` as :class:`Task` records, optionally one split, the first
    ``limit`` by id."""
    check_limit(limit)
    tasks = [task_from_row(r) for r in read_task_rows(path) if not split or r["split"] == split]
    return tasks[:limit] if limit is not None else tasks


def to_table(records: list[Any], schema: pa.Schema) -> pa.Table:
    """Rows to a table with ``schema`` (never inferred)."""
    return pa.Table.from_pylist([to_row(r) for r in records], schema=schema)


def excerpt(text: str, limit: int = 200) -> str:
    return text[:limit]


def write_parquet(path: str, rows: list[dict], schema: pa.Schema) -> None:
    """``rows`` as one Parquet file (zstd), written to a temporary name and renamed into place,
    so a killed writer never leaves a half file under ``path``."""
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    tmp = path + ".tmp"
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), tmp, compression="zstd")
    os.replace(tmp, path)


def write_text(path: str, text: str) -> None:
    """``text`` to ``path`` atomically (a temporary name, then a rename)."""
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)
